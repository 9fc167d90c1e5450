-- An invitation lists the upcoming clarification workshops, the lead cluster's first
-- (repository.schedule.upcoming_clarification_workshops). Ordered by "lead cluster first" in one
-- ORDER BY, the query read every clarification workshop within the horizon before cutting to
-- the few it lists: at 10^5 pre-loaded workshops, ten times the rows per hop of 10^4
-- (`make bench-scale`, ADR 4). It now reads the lead cluster's share from this index and the
-- others' from workshops_upcoming_clarification, each in starts_at order and cut at the limit.
CREATE INDEX workshops_upcoming_clarification_by_cluster ON workshops (hosting_cluster, starts_at)
    WHERE kind = 'clarification' AND cancelled_at IS NULL;
