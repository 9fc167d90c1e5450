"""The fault suite in its short form: two replicas per service, kills, restarts, a pause, a rolling restart,
more demand than budget, seats and facilitators can meet, and a few grants taken on to payments."""

from __future__ import annotations

from bench.chaos import problems, run_chaos
from devkit.infra import Infrastructure

FOLLOWED_GRANTS = 6


async def test_chains_survive_kills_restarts_and_a_paused_consumer_with_every_invariant_kept(
    infrastructure: Infrastructure,
) -> None:
    result = await run_chaos(
        chains=40, duration=30.0, kills_per_service=1, seed=20261126, followed_grants=FOLLOWED_GRANTS
    )
    assert result["kills"] == 3
    assert result["pauses"] == 1
    assert result["rolling_restarts"] == 1
    assert result["broker_restarts"] == (1 if infrastructure.origin == "local" else 0)
    assert result["db_restarts"] == (0 if infrastructure.database is None else 1)
    # The contests were real: some chains were refused for want of budget, every contest was decided.
    assert 0 < result["grants"] < result["chains"]
    assert result["refused_for_budget"] == result["chains"] - result["grants"]
    assert result["seat_contests"] > 0
    assert result["facilitator_rounds"] > 0
    # Payments were made under the faults: grants accepted, payments resent and asked past the cap.
    assert result["grants_followed"] == result["grants_accepted"] == FOLLOWED_GRANTS
    assert result["payments_resent"] > 0
    assert result["payments_past_cap_sent"] == FOLLOWED_GRANTS
    broken = problems(result)
    assert not broken, "; ".join(broken)  # a string: pytest shows it whole
    print(
        f"\nfaults: {result['chains']} chains, {result['kills']} kills, {result['broker_restarts']} broker and "
        f"{result['db_restarts']} database restarts, {result['duplicates_delivered']} duplicates delivered, "
        f"{result['duplicates_absorbed']:.0f} absorbed, {result['lost']} lost; {result['grants']} grants for a "
        f"budget of {result['grants_expected']}, {result['refused_for_budget']} refused, "
        f"{result['seat_contests']} seat contests and {result['facilitator_rounds']} facilitator rounds; "
        f"{result['grants_accepted']} grants accepted, {result['payment_commands']} payment commands"
    )
