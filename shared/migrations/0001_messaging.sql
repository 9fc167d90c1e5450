-- The inbox and the outbox every service keeps in its own schema.

-- A consumed message's id, written in the same transaction as its effects: a second delivery
-- finds its row and is skipped.
CREATE TABLE inbox (
    consumer    text        NOT NULL,
    message_id  text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);

-- Events recorded in the same transaction as the state change that caused them, published by
-- the relay. A row carries everything a publish needs, so the relay knows nothing of the domain.
CREATE TABLE outbox (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    text        NOT NULL UNIQUE CHECK (event_id <> ''),
    topic       text        NOT NULL CHECK (topic <> ''),
    key         text        NOT NULL CHECK (key <> ''),
    ce_type     text        NOT NULL CHECK (ce_type <> ''),
    headers     jsonb       NOT NULL CHECK (jsonb_typeof(headers) = 'object'
                                            AND headers ->> 'ce_id' = event_id
                                            AND headers ->> 'ce_type' = ce_type),
    payload     bytea       NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz CHECK (sent_at IS NULL OR sent_at >= recorded_at)
);

CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;
