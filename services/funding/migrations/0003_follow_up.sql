-- The follow-up of a grant: acceptance within a deadline (or a lapse), payments against documented
-- costs, the final report's acceptance, and closing. The sum paid never exceeds the grant: payments
-- add to grants.paid_nok with a guarded UPDATE, and the CHECK below is the backstop.

ALTER TABLE funding_cases DROP CONSTRAINT funding_cases_status_check;
ALTER TABLE funding_cases ADD CONSTRAINT funding_cases_status_check
    CHECK (status IN ('open', 'granted', 'declined', 'closed', 'released', 'accepted', 'lapsed', 'completed'));

-- accept_by: the end of the acceptance period, fixed when the grant is made. A grant made before
-- this migration could not be accepted until now: it gets the contract's default period (30 days)
-- from the migration, not from its own time, so that deploying the follow-up lapses nothing at once.
-- released_at (0001) is now also set when a grant lapses or its case completes: whatever was not
-- paid went back to the budget then, and paid_nok is what the grant still holds.
ALTER TABLE grants
    ADD COLUMN accept_by                timestamptz,
    ADD COLUMN accepted_at              timestamptz,
    ADD COLUMN final_report_accepted_at timestamptz,
    ADD COLUMN paid_nok                 bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT grants_paid_within_grant CHECK (paid_nok BETWEEN 0 AND amount_nok);
UPDATE grants SET accept_by = greatest(granted_at, now()) + interval '30 days';
ALTER TABLE grants ALTER COLUMN accept_by SET NOT NULL;

-- What the lapse job polls: grants still waiting for acceptance, by deadline. Accepting, lapsing
-- or withdrawing takes a grant out of it, so the plan follows what it depends on by itself.
CREATE INDEX grants_awaiting_acceptance ON grants (accept_by) WHERE accepted_at IS NULL AND released_at IS NULL;

-- Every approved payment, once: its id is the case-handling tool's idempotency key.
CREATE TABLE payments (
    payment_id           uuid        PRIMARY KEY,
    application_id       uuid        NOT NULL REFERENCES grants,
    kind                 text        NOT NULL CHECK (kind IN ('interim', 'final')),
    documented_costs_nok bigint      NOT NULL CHECK (documented_costs_nok > 0),
    approved_by          text        NOT NULL,
    amount_nok           bigint      NOT NULL CHECK (amount_nok >= 0),
    paid_total_nok       bigint      NOT NULL CHECK (paid_total_nok >= 0),
    remaining_grant_nok  bigint      NOT NULL CHECK (remaining_grant_nok >= 0),
    command_id           text        NOT NULL,
    approved_at          timestamptz NOT NULL,
    CHECK (kind = 'final' OR amount_nok > 0)
);
CREATE INDEX payments_by_grant ON payments (application_id);
-- A case closes with its final payment: there is one.
CREATE UNIQUE INDEX payments_one_final ON payments (application_id) WHERE kind = 'final';

-- The applicant's contact, from applications.ApplicationSubmitted.v1: where the applicant's
-- notifications about the grant go.
CREATE TABLE applicant_contacts (
    application_id uuid PRIMARY KEY,
    contact_name   text NOT NULL,
    email          text NOT NULL
);

ALTER TABLE ledger DROP CONSTRAINT ledger_entry_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_entry_check
    CHECK (entry IN ('allocation', 'grant', 'decline', 'release', 'close', 'accept', 'payment'));
