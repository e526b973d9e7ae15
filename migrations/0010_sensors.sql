-- The simulated Cybereason sensor fleet: one sensor per target host seen in the connections
-- (plus the ones analysts add), and the sensor actions (batches) with their per-sensor plans.
CREATE TABLE sensors (
    sensor_id    TEXT PRIMARY KEY,
    pylum_id     TEXT NOT NULL UNIQUE,
    machine_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    body         TEXT NOT NULL            -- the Sensor as JSON
) WITHOUT ROWID;

CREATE TABLE sensor_actions (
    batch_id    INTEGER PRIMARY KEY,
    body        TEXT    NOT NULL,         -- the action and its per-sensor plan, as JSON
    final       INTEGER NOT NULL,         -- 1 once every sensor reached a final state
    start_time  INTEGER NOT NULL,
    alert_uuid  TEXT                      -- the alert whose response started it, if any
);
CREATE INDEX sensor_actions_open ON sensor_actions (final, start_time);
CREATE INDEX sensor_actions_by_alert ON sensor_actions (alert_uuid);

-- A policy's or workflow's request now names the action that carries it out.
ALTER TABLE sensor_requests ADD COLUMN batch_id INTEGER;
