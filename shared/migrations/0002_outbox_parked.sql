-- Rows the relay cannot send (larger than the broker takes, refused by the broker as a record) are
-- parked rather than retried for ever: kept, with the error, until an operator replays them
-- (`programme outbox replay`). Later rows of the same topic and key wait behind a parked row,
-- so that a key's events are never published out of order (ADR 1).
ALTER TABLE outbox
    ADD COLUMN parked_at    timestamptz,
    ADD COLUMN parked_error text,
    ADD CONSTRAINT outbox_parked_unsent CHECK (parked_at IS NULL OR sent_at IS NULL),
    ADD CONSTRAINT outbox_parked_has_error CHECK ((parked_at IS NULL) = (parked_error IS NULL));

-- The relay's poll reads only what it may send. Parked rows are few: the poll compares each
-- candidate with all of them, so their index holds no key (a key may be longer than a B-tree
-- entry can be, and parking such a row must not fail).
DROP INDEX outbox_unsent;
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL AND parked_at IS NULL;
CREATE INDEX outbox_parked ON outbox (id) WHERE parked_at IS NOT NULL;
