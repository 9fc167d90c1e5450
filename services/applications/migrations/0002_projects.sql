-- The follow-up of a grant: an approved application becomes a running project once its grant is
-- accepted (or lapses), reports progress, submits its final report by a deadline, and completes.

ALTER TABLE applications DROP CONSTRAINT applications_status_check;
ALTER TABLE applications ADD CONSTRAINT applications_status_check
    CHECK (status IN ('submitted', 'ready_for_decision', 'approved', 'declined', 'withdrawn',
                      'running', 'lapsed', 'completed'));

ALTER TABLE applications
    -- the deadline, planned when the project starts: the reminder and the overdue notice are each
    -- settled once (`*_settled_at`), whether a message was sent or no longer needed
    ADD COLUMN final_report_due_at                timestamptz,
    ADD COLUMN final_report_reminder_at           timestamptz,
    ADD COLUMN final_report_reminder_settled_at   timestamptz,
    ADD COLUMN final_report_overdue_settled_at    timestamptz,
    -- the final report as last submitted (summary, results, effects, accepted_by) and its review
    ADD COLUMN final_report                       jsonb CHECK (final_report IS NULL OR jsonb_typeof(final_report) = 'object'),
    ADD COLUMN final_report_status                text CHECK (final_report_status IN ('submitted', 'returned', 'accepted')),
    ADD COLUMN final_report_submissions           integer NOT NULL DEFAULT 0 CHECK (final_report_submissions >= 0),
    ADD CONSTRAINT applications_project_planned
        CHECK ((final_report_due_at IS NULL) = (final_report_reminder_at IS NULL)),
    ADD CONSTRAINT applications_project_has_deadline
        CHECK (status NOT IN ('running', 'completed') OR final_report_due_at IS NOT NULL),
    ADD CONSTRAINT applications_final_report_whole
        CHECK ((final_report IS NULL) = (final_report_status IS NULL)
               AND (final_report IS NULL) = (final_report_submissions = 0)
               AND (final_report IS NULL OR final_report_due_at IS NOT NULL));

-- What the scheduler looks for: planned messages of running projects, by when they come due.
CREATE INDEX applications_final_report_reminders_due ON applications (final_report_reminder_at)
    WHERE status = 'running' AND final_report_reminder_settled_at IS NULL;
CREATE INDEX applications_final_report_overdue_due ON applications (final_report_due_at)
    WHERE status = 'running' AND final_report_overdue_settled_at IS NULL;

-- Progress reports as submitted; a report id is used once (a racing insert of the same id fails on
-- the primary key and the consumer retries it, then finds it).
CREATE TABLE progress_reports (
    report_id       uuid        PRIMARY KEY,
    application_id  uuid        NOT NULL REFERENCES applications (application_id),
    period_to       date        NOT NULL,
    summary         text        NOT NULL,
    indicators      jsonb       NOT NULL CHECK (jsonb_typeof(indicators) = 'array'),
    command_id      text        NOT NULL,
    submitted_at    timestamptz NOT NULL
);
CREATE INDEX progress_reports_by_application ON progress_reports (application_id, period_to);
