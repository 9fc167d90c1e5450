-- The ledger is history: the service's runtime role may add entries and read them, never change
-- or remove one. Its schema-wide data rights (default privileges, see shared/migrate.py) are
-- narrowed here, so the append-only trigger is the backstop rather than the only guard; only the
-- owner could disable that trigger, and the runtime role is not the owner.
DO $$
BEGIN
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON ledger FROM %I', current_setting('programme.runtime_role'));
END
$$;
