-- Validation scores (hundreds of thousands of f64s per training result) move to their own table:
-- inside `training_results` the blob sat before `created`, so every read of a result row walked
-- the blob's overflow pages (milliseconds per dataset read).
CREATE TABLE validation_scores (
    result_id TEXT PRIMARY KEY REFERENCES training_results (id) ON DELETE CASCADE,
    scores    BLOB NOT NULL      -- sorted little-endian f64s, re-binned on request
);  -- a rowid table: its key index answers "has scores?" without touching the blob
INSERT INTO validation_scores (result_id, scores)
    SELECT id, validation_scores FROM training_results WHERE validation_scores IS NOT NULL;
UPDATE training_results SET validation_scores = NULL WHERE validation_scores IS NOT NULL;
