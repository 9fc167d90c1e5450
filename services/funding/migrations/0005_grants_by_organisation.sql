-- A decision sums the organisation's aid over three programme years from every grant it has had:
-- active ones whole, ended ones (lapsed, withdrawn, completed) by what they paid
-- (repository.active_aid_by_year). The index of 0001 holds active grants only, so the planner
-- could not use it for that sum and read the whole table at every decision: at 10^5 grants the
-- chain's hop rate had halved (`make bench-scale`, ADR 4). This one holds every grant.
DROP INDEX grants_active_by_organisation;
CREATE INDEX grants_by_organisation ON grants (organisation_number, programme_year);
