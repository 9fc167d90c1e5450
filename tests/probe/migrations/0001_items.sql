CREATE TABLE items (
    item_id uuid PRIMARY KEY,
    n       integer NOT NULL,
    applied integer NOT NULL DEFAULT 1
);
