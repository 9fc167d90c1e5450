-- A decided case keeps the figures its decision used (the DecisionBasis its FundingGranted or
-- FundingDeclined carried), so that the decision can be explained later from funding's own schema:
-- the organisation's aid and the budget move on, and the figures cannot be computed again.
-- Null for a case not yet decided, and for one decided before this migration.
ALTER TABLE funding_cases ADD COLUMN decision_basis jsonb;
