-- Exact row counts kept by the writers, so that status and overview read a total in O(1)
-- instead of walking an index (`count(*)` over millions of connections takes milliseconds).
-- Connections are only ever added by the connection writer, which adds what it inserted here
-- inside the same transaction.
CREATE TABLE row_counts (
    name TEXT    PRIMARY KEY,
    rows INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO row_counts (name, rows) VALUES ('connections', (SELECT count(*) FROM connections));
