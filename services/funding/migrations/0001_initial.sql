-- The funding service's state: budgets per programme year, funding cases, grants, and the ledger.
-- Money is bigint whole NOK. The database, not Python, keeps budgets from being overspent:
-- grants take money with a guarded UPDATE on the year's row, and CHECKs are the backstop.

-- One row per programme year: what was allocated in total, and what active grants leave.
CREATE TABLE budgets (
    programme_year integer PRIMARY KEY CHECK (programme_year BETWEEN 2000 AND 9999),
    total_nok      bigint  NOT NULL CHECK (total_nok > 0),
    remaining_nok  bigint  NOT NULL CHECK (remaining_nok >= 0),
    CHECK (remaining_nok <= total_nok)
);

-- Each allocation once: its id is the budget office's idempotency key.
CREATE TABLE allocations (
    allocation_id  uuid        PRIMARY KEY,
    programme_year integer     NOT NULL REFERENCES budgets DEFERRABLE INITIALLY DEFERRED,
    amount_nok     bigint      NOT NULL CHECK (amount_nok > 0),
    source         text        NOT NULL,
    command_id     text        NOT NULL,
    allocated_at   timestamptz NOT NULL
);
CREATE INDEX allocations_year ON allocations (programme_year);

-- A case opened by applications.ApplicationReadyForDecision.v1, with what a decision needs.
CREATE TABLE funding_cases (
    application_id      uuid        PRIMARY KEY,
    organisation_number text        NOT NULL,
    applicant_name      text        NOT NULL,
    size                text        NOT NULL,
    lead_cluster        text        NOT NULL,
    project_type        text        NOT NULL,
    title               text        NOT NULL,
    requested_nok       bigint      NOT NULL CHECK (requested_nok > 0),
    total_cost_nok      bigint      NOT NULL CHECK (total_cost_nok > 0),
    status              text        NOT NULL DEFAULT 'open'
                                    CHECK (status IN ('open', 'granted', 'declined', 'closed', 'released')),
    opened_at           timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);

-- One row per organisation that has ever been decided on: locked (FOR UPDATE) while its de
-- minimis total is summed and a grant added, so two cases of one organisation decided at once
-- are serialised.
CREATE TABLE organisations (
    organisation_number text PRIMARY KEY
);

-- A grant; released_at is set when the application is withdrawn and the money goes back.
CREATE TABLE grants (
    application_id      uuid        PRIMARY KEY REFERENCES funding_cases,
    organisation_number text        NOT NULL REFERENCES organisations,
    programme_year      integer     NOT NULL REFERENCES budgets,
    amount_nok          bigint      NOT NULL CHECK (amount_nok > 0),
    decided_by          text        NOT NULL,
    reason              text        NOT NULL,
    command_id          text        NOT NULL,
    granted_at          timestamptz NOT NULL,
    released_at         timestamptz CHECK (released_at IS NULL OR released_at >= granted_at)
);
CREATE INDEX grants_active_by_organisation ON grants (organisation_number, programme_year)
    WHERE released_at IS NULL;
CREATE INDEX grants_active_by_year ON grants (programme_year) WHERE released_at IS NULL;

-- Thresholds a year's budget has crossed: the primary key makes each one happen once.
CREATE TABLE budget_thresholds (
    programme_year integer     NOT NULL REFERENCES budgets,
    threshold      text        NOT NULL CHECK (threshold IN ('low', 'exhausted')),
    remaining_nok  bigint      NOT NULL CHECK (remaining_nok >= 0),
    crossed_at     timestamptz NOT NULL,
    PRIMARY KEY (programme_year, threshold)
);

-- The audit history: every allocation, grant, decline, release and close, with who and why.
-- amount_nok is the change to the year's remaining budget (+ allocation and release, - grant).
CREATE TABLE ledger (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry               text        NOT NULL CHECK (entry IN ('allocation', 'grant', 'decline', 'release', 'close')),
    programme_year      integer,
    application_id      uuid,
    organisation_number text,
    amount_nok          bigint      NOT NULL DEFAULT 0,
    actor               text        NOT NULL,
    reason              text        NOT NULL,
    command_id          text        NOT NULL,
    occurred_at         timestamptz NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (CASE entry
             WHEN 'allocation' THEN amount_nok > 0 AND programme_year IS NOT NULL
             WHEN 'grant'      THEN amount_nok < 0 AND programme_year IS NOT NULL AND application_id IS NOT NULL
             WHEN 'release'    THEN amount_nok > 0 AND programme_year IS NOT NULL AND application_id IS NOT NULL
             ELSE amount_nok = 0 AND application_id IS NOT NULL
           END)
);
CREATE INDEX ledger_year ON ledger (programme_year);
CREATE INDEX ledger_application ON ledger (application_id);

-- Append-only: history is never rewritten.
CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the funding ledger is append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_append_only();
