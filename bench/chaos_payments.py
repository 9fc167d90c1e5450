"""The grant follow-up in the chaos run: granted chains go on to payments while services are killed.

Each followed chain, once its application is approved, has its grant accepted; once the grant is
accepted, staff approve interim payments, sent back to back on the grant's key (so in order):

- an instalment against a quarter of the project's total cost;
- in every other chain, that payment sent again with the same ``payment_id`` and content: the
  case-handling tool's resend, a new command that must be answered as before and pay nothing;
- an instalment against the whole total cost: more than the interim cap allows, so the cap, not
  the costs, sets what it pays;
- in every third chain, one more against the whole cost: nothing is left under the cap, refused.

Then, from the topics and the funding service's tables: every follow-up command answered exactly
once and as planned, no payment ordered from finance twice, no payment_id paid twice (the sum of
a grant's payments is its ``paid_nok``), no grant paid past its interim cap or its amount.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from funding.domain.policy import DEFAULT_INTERIM_CAP_PCT

from bench.chain import Chain, Driver
from devkit import payloads
from devkit.driver import Record, TopicLog
from shared.topics import FUNDING_COMMANDS, FUNDING_EVENTS, NOTIFICATIONS

TOTAL_COST_NOK = payloads.submit_application()["budget"]["total_cost_nok"]
ACCEPT = "funding.AcceptGrant.v1"
APPROVE = "funding.ApprovePayment.v1"
ACCEPTED = "funding.GrantAccepted.v1"
APPROVED = "funding.PaymentApproved.v1"
REJECTED = "funding.CommandRejected.v1"
PAYMENT_ORDER = "funding.payment_order"
# The share of a grant interim payments may pay together: the services run on the contract's default.
CAP_PCT = DEFAULT_INTERIM_CAP_PCT


@dataclass
class Command:
    """A follow-up command sent, the answer it must get, and the answers (distinct ce_ids) it got."""

    ce_type: str
    expected: str
    answers: set[str] = field(default_factory=set)
    answered_with: set[str] = field(default_factory=set)  # the answers' types


@dataclass
class Payments:
    """The followed grants (at most ``limit``), the commands sent for them, and what finance was told to pay."""

    driver: Driver
    limit: int
    followed: list[str] = field(default_factory=list)  # application ids, in the order their chains completed
    accepted: set[str] = field(default_factory=set)
    commands: dict[str, Command] = field(default_factory=dict)  # command ce_id -> command
    orders: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # payment id -> notification ids
    # payment id -> what its approvals said (amount, paid total): a resend is answered as the first send was
    approvals: dict[str, set[tuple[int, int]]] = field(default_factory=lambda: defaultdict(set))
    _log: TopicLog | None = None
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._log = TopicLog(self.driver.bootstrap, (FUNDING_EVENTS, NOTIFICATIONS), on_record=self._seen)
        await self._log.start()

    async def stop(self) -> None:
        await asyncio.gather(*self._pending, return_exceptions=True)
        if self._log is not None:
            await self._log.stop()

    def follow(self, chain: Chain) -> None:
        """The driver's ``on_complete``: an approved application (so a granted one) is followed while there is room."""
        if len(self.followed) < self.limit:
            self.followed.append(chain.application_id)
            self._later(self._accept(chain.application_id))

    async def wait_all(self, timeout: float) -> bool:
        """Until every followed grant's commands are all answered (or the deadline): False if some are not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # A command's answer is what sends the next ones: no task left and nothing unanswered is the end.
            if not self._pending and self._unanswered() == 0:
                return True
            await asyncio.sleep(0.2)
        return False

    def _unanswered(self) -> int:
        return sum(1 for c in self.commands.values() if not c.answers)

    # reactions

    def _seen(self, record: Record) -> None:
        if record.topic == NOTIFICATIONS:
            data = record.data
            if data.get("template") == PAYMENT_ORDER:
                self.orders[str(data["params"]["payment_id"])].add(str(data["notification_id"]))
            return
        command = self.commands.get(record.causation_id or "")
        if command is None or record.ce_type not in (ACCEPTED, APPROVED, REJECTED):
            return
        command.answers.add(record.ce_id)
        command.answered_with.add(record.ce_type)
        data = record.data
        if record.ce_type == APPROVED:
            self.approvals[str(data["payment_id"])].add((int(data["amount_nok"]), int(data["paid_total_nok"])))
        application_id = str(data.get("application_id", ""))
        if record.ce_type == ACCEPTED and application_id not in self.accepted:
            self.accepted.add(application_id)
            self._later(self._pay(application_id, len(self.accepted)))

    def _later(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, ce_type: str, application_id: str, data: dict[str, Any], *, expected: str) -> None:
        ce_id = await self.driver.send(FUNDING_COMMANDS, ce_type, application_id, data)
        # Recorded once the id is known; an answer read before that is found by `_late_answers`.
        self.commands[ce_id] = Command(ce_type, expected)
        self._late_answers(ce_id)

    def _late_answers(self, ce_id: str) -> None:
        if self._log is None:
            return
        for record in self._log.caused_by(ce_id, FUNDING_EVENTS):
            self._seen(record)

    async def _accept(self, application_id: str) -> None:
        await self._send(ACCEPT, application_id, payloads.accept_grant(application_id), expected=ACCEPTED)

    async def _pay(self, application_id: str, n: int) -> None:
        first = payloads.approve_payment(application_id, kind="interim", documented_costs_nok=TOTAL_COST_NOK // 4)
        await self._send(APPROVE, application_id, first, expected=APPROVED)
        if n % 2 == 0:
            await self._send(APPROVE, application_id, dict(first), expected=APPROVED)
        over_cap = payloads.approve_payment(application_id, kind="interim", documented_costs_nok=TOTAL_COST_NOK)
        await self._send(APPROVE, application_id, over_cap, expected=APPROVED)
        if n % 3 == 0:
            spent = payloads.approve_payment(application_id, kind="interim", documented_costs_nok=TOTAL_COST_NOK)
            await self._send(APPROVE, application_id, spent, expected=REJECTED)
        await self.driver.flush()

    # the verdict

    async def verdict(self, conn: asyncpg.Connection) -> dict[str, int]:
        """Broken promises of the follow-up, from the answers seen and from the run's grants and payments.

        Only this run's grants: a database that earlier runs used keeps their rows, and their verdict was theirs.
        """
        rows = await conn.fetch(
            """SELECT g.application_id::text AS application_id, g.amount_nok, g.paid_nok,
                      count(p.payment_id) AS payments, count(DISTINCT p.payment_id) AS payment_ids,
                      count(p.payment_id) FILTER (WHERE p.kind = 'final') AS finals,
                      coalesce(sum(p.amount_nok), 0)::bigint AS paid_by_payments,
                      coalesce(sum(p.amount_nok) FILTER (WHERE p.kind = 'interim'), 0)::bigint AS interim_paid
                 FROM funding.grants g LEFT JOIN funding.payments p ON p.application_id = g.application_id
                WHERE g.application_id = ANY($1::uuid[])
                GROUP BY g.application_id""",
            list(self.driver.chains),
        )
        by_grant = {row["application_id"]: row for row in rows}
        commands = [c for c in self.commands.values() if c.ce_type == APPROVE]
        return {
            "grants_followed": len(self.followed),
            "grants_accepted": len(self.accepted),
            "payment_commands": len(commands),
            "payments_resent": sum(1 for n in range(1, len(self.accepted) + 1) if n % 2 == 0),
            "payments_past_cap_sent": len(self.accepted),
            "paid_nok": sum(int(row["paid_nok"]) for row in rows),
            # Every follow-up command has exactly one answer, of the kind its plan says.
            "follow_ups_unanswered": self._unanswered(),
            "follow_ups_answered_twice": sum(1 for c in self.commands.values() if len(c.answers) > 1),
            "follow_ups_answered_wrong": sum(
                1 for c in self.commands.values() if c.answers and c.answered_with != {c.expected}
            ),
            "resends_answered_differently": sum(1 for said in self.approvals.values() if len(said) > 1),
            # Never paid twice: one order to finance per payment, one row per payment_id, rows adding up to paid_nok.
            "payment_orders_twice": sum(len(ids) - 1 for ids in self.orders.values() if len(ids) > 1),
            "paid_twice": sum(
                int(row["payments"]) - int(row["payment_ids"]) + (row["paid_by_payments"] != row["paid_nok"])
                for row in rows
            ),
            # Never paid past the grant or the cap: and a followed grant ends at the cap exactly (its last
            # instalment's costs were over it), so a guard that pays too little shows too.
            "paid_past_cap": sum(1 for row in rows if _past_cap(row)),
            "followed_grants_paid_wrong": sum(
                1
                for a in self.accepted
                if a not in by_grant or by_grant[a]["paid_nok"] != by_grant[a]["amount_nok"] * CAP_PCT // 100
            ),
        }


def _past_cap(grant: asyncpg.Record) -> bool:
    """Paid more than the grant, or by interim payments (all that a grant without its final one paid) past the cap."""
    cap = grant["amount_nok"] * CAP_PCT // 100
    interim_only = grant["finals"] == 0
    return bool(
        grant["paid_nok"] > grant["amount_nok"]
        or grant["interim_paid"] > cap
        or (interim_only and grant["paid_nok"] > cap)
    )


def _paid_to_the_cap(grant: asyncpg.Record | None) -> bool:
    return grant is not None and grant["paid_nok"] == grant["amount_nok"] * CAP_PCT // 100
