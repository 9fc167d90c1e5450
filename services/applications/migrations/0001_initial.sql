-- The applications service's state: applications with their status, version and preconditions,
-- and the clarification workshops each organisation has attended.

-- One row per application. `content` is the application as it stands (amendments applied);
-- `submitted_content` is what was first sent, which a re-sent SubmitApplication is compared with.
CREATE TABLE applications (
    application_id             uuid        PRIMARY KEY,
    organisation_number        text        NOT NULL CHECK (organisation_number ~ '^[0-9]{9}$'),
    status                     text        NOT NULL
                                           CHECK (status IN ('submitted', 'ready_for_decision', 'approved',
                                                             'declined', 'withdrawn')),
    version                    integer     NOT NULL CHECK (version >= 1),
    content                    jsonb       NOT NULL CHECK (jsonb_typeof(content) = 'object'),
    submitted_content          jsonb       NOT NULL CHECK (jsonb_typeof(submitted_content) = 'object'),
    -- the three preconditions: when each first held
    plan_completed_at          timestamptz,
    commitment                 jsonb       CHECK (commitment IS NULL OR jsonb_typeof(commitment) = 'object'),
    commitment_confirmed_at    timestamptz,
    clarification_workshop_id  uuid,
    clarification_attended_at  timestamptz,
    ready_at                   timestamptz,
    -- the outcome
    approved_nok               bigint      CHECK (approved_nok > 0),
    decline_reason             text,
    withdrawal_reason          text,
    submit_command_id          text        NOT NULL,
    submitted_at               timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL,
    CHECK ((commitment IS NULL) = (commitment_confirmed_at IS NULL)),
    CHECK ((clarification_workshop_id IS NULL) = (clarification_attended_at IS NULL)),
    -- ready only with all three preconditions; never while submitted, always once decided or awaiting it
    CHECK (ready_at IS NULL OR (plan_completed_at IS NOT NULL
                                AND commitment_confirmed_at IS NOT NULL
                                AND clarification_attended_at IS NOT NULL)),
    CHECK (status <> 'submitted' OR ready_at IS NULL),
    CHECK (status NOT IN ('ready_for_decision', 'approved', 'declined') OR ready_at IS NOT NULL),
    CHECK (status <> 'approved' OR approved_nok IS NOT NULL),
    CHECK ((status = 'declined') = (decline_reason IS NOT NULL)),
    CHECK ((status = 'withdrawn') = (withdrawal_reason IS NOT NULL))
);

-- Attendance finds the open applications of an organisation.
CREATE INDEX applications_open_by_organisation ON applications (organisation_number) WHERE status = 'submitted';

-- Every clarification attendance reported for an organisation, remembered so that an application
-- submitted later counts it at once.
CREATE TABLE clarification_attendances (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_number text        NOT NULL,
    workshop_id         uuid        NOT NULL,
    registration_id     uuid,
    attended_at         timestamptz NOT NULL,
    message_id          text        NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clarification_attendances_by_organisation
    ON clarification_attendances (organisation_number, attended_at);
