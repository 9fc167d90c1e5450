"""The fault suite in its short form: two replicas per service, kills, restarts, a pause, a rolling restart."""

from __future__ import annotations

from bench.chaos import problems, run_chaos
from devkit.infra import Infrastructure


async def test_chains_survive_kills_restarts_and_a_paused_consumer_with_every_invariant_kept(
    infrastructure: Infrastructure,
) -> None:
    result = await run_chaos(chains=40, duration=30.0, kills_per_service=1, seed=20261126)
    assert result["kills"] == 3
    assert result["pauses"] == 1
    assert result["rolling_restarts"] == 1
    if infrastructure.origin == "local":
        assert (result["broker_restarts"], result["db_restarts"]) == (1, 1)
    assert problems(result) == [], result
    print(
        f"\nfaults: {result['chains']} chains, {result['kills']} kills, {result['broker_restarts']} broker and "
        f"{result['db_restarts']} database restarts, {result['duplicates_delivered']} duplicates delivered, "
        f"{result['duplicates_absorbed']:.0f} absorbed, {result['lost']} lost"
    )
