-- The invitation's two reads (repository.schedule.upcoming_clarification_workshops) order by
-- starts_at and then workshop_id; indexes on starts_at alone left every workshop starting at the
-- same moment to be read and sorted before the first 20 were kept. Workshops start on the hour,
-- so that group grows with the calendar: at 10^6 pre-loaded workshops an invitation read some
-- 350 index entries (`make bench-scale`, ADR 4). In full order, it reads what it keeps.
CREATE INDEX workshops_upcoming_clarification_ordered ON workshops (starts_at, workshop_id)
    WHERE kind = 'clarification' AND cancelled_at IS NULL;
CREATE INDEX workshops_upcoming_clarification_by_cluster_ordered ON workshops (hosting_cluster, starts_at, workshop_id)
    WHERE kind = 'clarification' AND cancelled_at IS NULL;
DROP INDEX workshops_upcoming_clarification;
DROP INDEX workshops_upcoming_clarification_by_cluster;
