//! Users and groups of the Lacework surface. Every connection user appears as a Lacework user
//! (`source_user_id` is the connection's user name), and every connection role as a group
//! (tagged `role`) holding the users seen with it. Analysts add their own groups and members;
//! policy `group:` terms match the groups of the connection's user.

use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};

use super::{invalid, kind_named, not_found, read, write, Input, Kind};
use crate::response::audit::{self, Actor, Change};
use crate::response::{following, now_ms, ResponseError, ACCOUNT_NAME, NAMESPACE};
use crate::Store;

/// Where the last synchronisation with the connections stopped (the largest connection rowid).
const SYNC_MARK: &str = "catalog.directory_synced_rowid";

fn user_kind() -> Result<&'static Kind, ResponseError> {
    kind_named("user")
}

fn group_kind() -> Result<&'static Kind, ResponseError> {
    kind_named("group")
}

/// The uuid of the user discovered for a connection user name.
pub fn discovered_user_uuid(name: &str) -> String {
    uuid::Uuid::new_v5(&NAMESPACE, format!("user:{name}").as_bytes()).to_string()
}

/// The uuid of the group standing for a connection role.
pub fn role_group_uuid(role: &str) -> String {
    uuid::Uuid::new_v5(&NAMESPACE, format!("group:role:{role}").as_bytes()).to_string()
}

/// Brings users and role groups up to date with the connections imported since the last
/// call; a no-op read when nothing was imported.
pub fn sync(store: &Store) -> Result<(), ResponseError> {
    following::catch_up(store, SYNC_MARK, sync_on)
}

/// [`sync`] inside the caller's transaction.
pub(crate) fn sync_on(c: &rusqlite::Connection) -> Result<(), ResponseError> {
    let Some(pending) = following::pending(c, SYNC_MARK)? else {
        return Ok(());
    };
    let seen: Vec<(String, String, i64)> = c
        .prepare(
            "SELECT user, coalesce(user_roles, ''), min(connected) FROM connections
             WHERE rowid > ?1 GROUP BY user, user_roles",
        )?
        .query_map([pending.after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let now = now_ms();
    let (mut users_added, mut groups_added, mut members_added) = (0, 0, 0);
    for (name, roles, first_seen) in &seen {
        let user_uuid = match user_by_source(c, name)? {
            Some(uuid) => uuid,
            None => {
                let uuid = discovered_user_uuid(name);
                let user = json!({
                    "account_name": ACCOUNT_NAME,
                    "uuid": uuid,
                    "display_name": name,
                    "source_user_id": name,
                    "status": 2,
                    "tags": ["connections"],
                    "create_time": first_seen,
                    "update_time": now,
                    "record_update_time": now,
                });
                write(c, user_kind()?, &uuid, &user, *first_seen)?;
                users_added += 1;
                uuid
            }
        };
        for role in roles.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            let group_uuid = role_group_uuid(role);
            if read(c, group_kind()?, &group_uuid)?.is_none() {
                let group = json!({
                    "account_name": ACCOUNT_NAME,
                    "uuid": group_uuid,
                    "name": role,
                    "description": format!("Users seen in connections with the role {role}"),
                    "status": 2,
                    "tags": ["role"],
                    "create_time": first_seen,
                    "update_time": now,
                    "profile_update_time": now,
                    "membership_update_time": now,
                });
                write(c, group_kind()?, &group_uuid, &group, *first_seen)?;
                groups_added += 1;
            }
            members_added += c
                .prepare_cached(
                    "INSERT OR IGNORE INTO group_members (group_uuid, user_uuid) VALUES (?1, ?2)",
                )?
                .execute(params![group_uuid, user_uuid])?;
        }
    }
    following::taken_in(c, SYNC_MARK, &pending)?;
    if users_added + groups_added + members_added > 0 {
        let after = json!({
            "users_added": users_added,
            "groups_added": groups_added,
            "memberships_added": members_added,
        });
        audit::record(
            c,
            &Actor::engine(),
            &Change {
                op: "directory.sync",
                object_type: "directory",
                object_uuid: "",
                request: None,
                before: None,
                after: Some(&after),
            },
        )?;
    }
    Ok(())
}

/// The Lacework user standing for a connection user name, if any.
fn user_by_source(c: &rusqlite::Connection, name: &str) -> rusqlite::Result<Option<String>> {
    c.prepare_cached(
        "SELECT key FROM catalog_objects
         WHERE kind = 'user' AND json_extract(body, '$.source_user_id') = ?1 LIMIT 1",
    )?
    .query_row([name], |r| r.get(0))
    .optional()
}

/// Names of the groups of the user standing for a connection user name (policy `group:` terms).
pub fn group_names_of(
    c: &rusqlite::Connection,
    connection_user: &str,
) -> rusqlite::Result<Vec<String>> {
    c.prepare_cached(
        "SELECT json_extract(g.body, '$.name') FROM catalog_objects u
         JOIN group_members m ON m.user_uuid = u.key
         JOIN catalog_objects g ON g.kind = 'group' AND g.key = m.group_uuid
         WHERE u.kind = 'user' AND json_extract(u.body, '$.source_user_id') = ?1",
    )?
    .query_map([connection_user], |r| r.get::<_, Option<String>>(0))?
    .filter_map(|r| r.transpose())
    .collect()
}

/// Checks made before a user or group is created: a user's `source_user_id` names one user
/// only; a group needs a name.
pub(crate) fn before_create(
    c: &rusqlite::Connection,
    kind: &Kind,
    object: &Value,
) -> Result<(), ResponseError> {
    match kind.name {
        "user" => {
            let source = object
                .get("source_user_id")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !source.is_empty() {
                if let Some(existing) = user_by_source(c, source)? {
                    return Err(invalid(
                        "user.source_user_id",
                        format!("user {existing} already stands for {source:?}"),
                    ));
                }
            }
        }
        "group" => {
            let name = object.get("name").and_then(Value::as_str).unwrap_or("");
            if name.trim().is_empty() {
                return Err(invalid("name", "required: the group's name"));
            }
        }
        _ => {}
    }
    Ok(())
}

/// Adds what is derived rather than stored: a group's `user_count`.
pub(crate) fn decorate(
    c: &rusqlite::Connection,
    kind: &Kind,
    mut object: Value,
) -> Result<Value, ResponseError> {
    if kind.name == "group" {
        let uuid = object.get("uuid").and_then(Value::as_str).unwrap_or("");
        let count: i64 = c
            .prepare_cached("SELECT count(*) FROM group_members WHERE group_uuid = ?1")?
            .query_row([uuid], |r| r.get(0))?;
        object["user_count"] = count.into();
    }
    Ok(object)
}

/// The users of a group ("Query users by group", `{users}`).
pub fn users_of_group(
    store: &Store,
    _actor: &Actor,
    kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    sync(store)?;
    let group = input.key.clone().unwrap_or_default();
    store.read(|c| {
        read(c, kind, &group)?.ok_or_else(|| not_found(kind, &group))?;
        let keys: Vec<String> = c
            .prepare_cached(
                "SELECT user_uuid FROM group_members WHERE group_uuid = ?1 ORDER BY user_uuid",
            )?
            .query_map([&group], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let users = user_kind()?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(user) = read(c, users, &key)? {
                out.push(super::redacted(users, user));
            }
        }
        Ok(json!({ "users": out }))
    })
}

/// The devices registered for a user ("Get the user's devices").
pub fn devices_of_user(
    store: &Store,
    _actor: &Actor,
    kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    sync(store)?;
    let user = input.key.clone().unwrap_or_default();
    let devices = kind_named("device")?;
    store.read(|c| {
        read(c, kind, &user)?.ok_or_else(|| not_found(kind, &user))?;
        let bodies: Vec<String> = c
            .prepare_cached(
                "SELECT body FROM catalog_objects
                 WHERE kind = 'device' AND json_extract(body, '$.user_uuid') = ?1
                 ORDER BY create_time, key",
            )?
            .query_map([&user], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let out: Vec<Value> = bodies
            .iter()
            .filter_map(|b| serde_json::from_str(b).ok())
            .map(|d| super::redacted(devices, d))
            .collect();
        Ok(json!({ "continuation_token": "", "devices": out }))
    })
}

/// Adds a user to a group, or removes them (`member` false); audited. Returns the group.
pub fn set_member(
    store: &Store,
    actor: &Actor,
    group_uuid: &str,
    user_uuid: &str,
    member: bool,
) -> Result<Value, ResponseError> {
    sync(store)?;
    let (groups, users) = (group_kind()?, user_kind()?);
    store.write(|c| {
        let tx = c.transaction()?;
        let before = read(&tx, groups, group_uuid)?.ok_or_else(|| not_found(groups, group_uuid))?;
        read(&tx, users, user_uuid)?.ok_or_else(|| not_found(users, user_uuid))?;
        let changed = if member {
            tx.execute(
                "INSERT OR IGNORE INTO group_members (group_uuid, user_uuid) VALUES (?1, ?2)",
                params![group_uuid, user_uuid],
            )?
        } else {
            tx.execute(
                "DELETE FROM group_members WHERE group_uuid = ?1 AND user_uuid = ?2",
                params![group_uuid, user_uuid],
            )?
        };
        let mut after = before.clone();
        if changed > 0 {
            after["membership_update_time"] = now_ms().into();
            let create_time = before
                .get("create_time")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            write(&tx, groups, group_uuid, &after, create_time)?;
            let request = json!({ "user_uuid": user_uuid, "member": member });
            super::audit_change(
                &tx,
                actor,
                groups,
                if member {
                    "add_member"
                } else {
                    "remove_member"
                },
                group_uuid,
                (Some(&request), Some(&before), Some(&after)),
            )?;
        }
        let answer = decorate(&tx, groups, after)?;
        tx.commit()?;
        Ok(answer)
    })
}
