-- The Lacework Edge long tail (accesses, apps, cards, connectors, devices, groups, users, ...):
-- every object is stored whole as JSON under its kind and key, validated against the vendor's
-- schema before it is written. See crates/core/src/response/catalog.rs.
CREATE TABLE catalog_objects (
    kind        TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    create_time INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX catalog_objects_by_time ON catalog_objects (kind, create_time, key);

-- Which users belong to which group (Group.user_count, "Query users by group", group: policy
-- terms). Groups named after a connection role hold the users seen with that role.
CREATE TABLE group_members (
    group_uuid TEXT NOT NULL,
    user_uuid  TEXT NOT NULL,
    PRIMARY KEY (group_uuid, user_uuid)
);
CREATE INDEX group_members_by_user ON group_members (user_uuid);

-- Lacework users by the connection user they stand for (source_user_id).
CREATE INDEX catalog_users_by_source ON catalog_objects (json_extract(body, '$.source_user_id'))
    WHERE kind = 'user';
