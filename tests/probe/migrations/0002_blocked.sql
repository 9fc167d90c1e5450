-- Items a test blocks: recording one fails until the block is lifted (a cause that gets fixed).
CREATE TABLE blocked (
    item_id uuid PRIMARY KEY
);
