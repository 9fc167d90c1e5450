-- The workshops service's state: workshops, facilitator bookings, registrations, reminders.
-- Every invariant that two racing replicas could break is a constraint here; the Python checks
-- before it only give the better message.

CREATE TABLE workshops (
    workshop_id      uuid        PRIMARY KEY,
    kind             text        NOT NULL CHECK (kind IN ('clarification', 'competence', 'cluster_meeting')),
    title            text        NOT NULL,
    hosting_cluster  text        NOT NULL,
    town             text        NOT NULL,
    venue            text        NOT NULL,
    town_key         text        NOT NULL,  -- case and spacing folded: how places compare
    venue_key        text        NOT NULL,
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    capacity         integer     NOT NULL CHECK (capacity BETWEEN 1 AND 1000),
    -- Confirmed registrations, kept with every change under the row's lock: a seat is never
    -- given twice, whatever races the code loses.
    seats_taken      integer     NOT NULL DEFAULT 0 CHECK (seats_taken >= 0),
    facilitators     text[]      NOT NULL,
    cancelled_at     timestamptz,
    cancel_reason    text,
    schedule_version integer     NOT NULL DEFAULT 1 CHECK (schedule_version >= 1),
    CONSTRAINT workshop_times CHECK (ends_at > starts_at),
    CONSTRAINT workshop_seats CHECK (seats_taken <= capacity),
    -- No venue twice at overlapping times ([) ranges: touching ends do not overlap).
    CONSTRAINT venue_double_booked EXCLUDE USING gist (
        town_key WITH =, venue_key WITH =, tstzrange(starts_at, ends_at) WITH &&
    ) WHERE (cancelled_at IS NULL)
);

CREATE INDEX workshops_upcoming_clarification ON workshops (starts_at)
    WHERE kind = 'clarification' AND cancelled_at IS NULL;

-- One row per facilitator of a workshop. `travel` is the workshop's time extended at its end by
-- the travel buffer in force when it was booked: two workshops in different towns clash when
-- either's travel range overlaps the other's, i.e. when less than the buffer lies between them.
CREATE TABLE facilitator_bookings (
    workshop_id uuid      NOT NULL REFERENCES workshops ON DELETE CASCADE,
    facilitator text      NOT NULL,  -- the facilitator's e-mail, case folded
    town_key    text      NOT NULL,
    during      tstzrange NOT NULL,
    travel      tstzrange NOT NULL,
    active      boolean   NOT NULL DEFAULT true,
    PRIMARY KEY (workshop_id, facilitator),
    CONSTRAINT travel_covers_during CHECK (lower(travel) = lower(during) AND upper(travel) >= upper(during)),
    CONSTRAINT facilitator_double_booked EXCLUDE USING gist (
        facilitator WITH =, during WITH &&
    ) WHERE (active),
    CONSTRAINT facilitator_travel_buffer EXCLUDE USING gist (
        facilitator WITH =, town_key WITH <>, travel WITH &&
    ) WHERE (active)
);

CREATE TABLE registrations (
    registration_id     uuid        PRIMARY KEY,
    workshop_id         uuid        NOT NULL REFERENCES workshops,
    -- Order of arrival, for the first-come waitlist (arrivals for one workshop are serialised by
    -- its row lock, so this order is the order of commit too).
    line                bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    name                text        NOT NULL,
    email               text        NOT NULL,
    email_key           text        NOT NULL,
    organisation_number text,
    status              text        NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    registered_at       timestamptz NOT NULL,
    confirmed_at        timestamptz,
    cancelled_at        timestamptz,
    attended_at         timestamptz,
    erased_at           timestamptz,
    CONSTRAINT confirmed_has_time CHECK (status <> 'confirmed' OR confirmed_at IS NOT NULL),
    CONSTRAINT attended_was_confirmed CHECK (attended_at IS NULL OR confirmed_at IS NOT NULL)
);

-- One active registration or waitlist place per e-mail and workshop.
CREATE UNIQUE INDEX already_registered ON registrations (workshop_id, email_key) WHERE status <> 'cancelled';
CREATE INDEX registrations_waitlist ON registrations (workshop_id, line) WHERE status = 'waitlisted';
CREATE INDEX registrations_by_workshop ON registrations (workshop_id) WHERE status = 'confirmed';
CREATE INDEX registrations_by_email ON registrations (email_key);
CREATE INDEX registrations_attendance ON registrations (organisation_number) WHERE attended_at IS NOT NULL;

-- A reminder per confirmed registration and schedule version; `planned` ones are sent by the
-- service's scheduler when due, `withdrawn` when the registration, the workshop or its time
-- changed first. Sending marks the row in the transaction that records the notification.
CREATE TABLE reminders (
    registration_id uuid        NOT NULL REFERENCES registrations,
    plan_version    integer     NOT NULL,
    workshop_id     uuid        NOT NULL REFERENCES workshops,
    due_at          timestamptz NOT NULL,
    status          text        NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'sent', 'withdrawn')),
    settled_at      timestamptz,
    PRIMARY KEY (registration_id, plan_version),
    CONSTRAINT settled_has_time CHECK ((status = 'planned') = (settled_at IS NULL))
);

CREATE INDEX reminders_due ON reminders (due_at) WHERE status = 'planned';
CREATE INDEX reminders_by_workshop ON reminders (workshop_id) WHERE status = 'planned';
