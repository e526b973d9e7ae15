//! Lacework Edge API tokens and login sessions.
//!
//! An API token is a Bearer credential of the account that created it. Its secret is shown
//! once, at creation, and only its SHA-256 digest is stored, with the OAuth access tokens, so
//! that every surface checks it the same way, in constant time. A token carries a role (the
//! vendor's TokenRole) that cannot exceed its creator's. Suspending it (status SUSPENDED or
//! INIT) revokes it until it is made ACTIVE again; DELETED revokes it for good. `ttl_sec` gives
//! it a lifetime; without one it lasts ten years. Login (account password in HTTP Basic) and
//! TokenLogin (an API token) answer a `LoginSession` whose `token` is a one-hour Bearer token.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::audit::{self, Actor, Change};
use super::enums::{ENUM_STATUS, TOKEN_ROLE};
use super::{now_ms, stored, ResponseError, ACCOUNT_NAME};
use crate::auth::{self, Role, TOKEN_LIFETIME_SECS};
use crate::Store;

/// Lifetime of a token created without `ttl_sec`.
pub const DEFAULT_TTL_SEC: i64 = 10 * 365 * 86_400;
/// Default and longest lifetime of a temporary token.
pub const TEMPORARY_TTL_SEC: (i64, i64) = (3_600, 86_400);

/// The local role a TokenRole grants (documented in docs/lacework-enums.md).
pub fn local_role(token_role: i64) -> Option<Role> {
    Some(match token_role {
        1 | 10 => Role::Admin,
        2 | 12 => Role::User,
        4 | 16 => Role::Service,
        3 | 5 | 14 | 15 => Role::ConnectionsView,
        _ => return None,
    })
}

/// The TokenRole of a local role.
pub fn token_role(role: Role) -> i64 {
    match role {
        Role::Admin => 1,
        Role::User => 2,
        Role::Service => 4,
        _ => 3,
    }
}

/// Whether a caller with `caller` may hand out `wanted`: an admin any role, anyone else their
/// own role or read-only.
fn may_grant(caller: Role, wanted: Role) -> bool {
    caller == Role::Admin || wanted == caller || wanted == Role::ConnectionsView
}

/// A token: the seed's `Token` fields, plus its `role` (declared in
/// `spec/lacework/extensions.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(default)]
#[ts(export)]
pub struct Token {
    /// Empty.
    pub account_location: String,
    /// This workbench.
    pub account_name: String,
    /// Empty.
    pub account_shard: String,
    /// Empty.
    pub account_uuid: String,
    /// How the secret is kept: `SHA-256`.
    pub algo: String,
    /// Empty.
    pub backend_shard: String,
    /// Created (epoch ms).
    #[ts(type = "number")]
    pub create_time: i64,
    /// Who created it (the account it acts for).
    pub creator_display_name: String,
    /// Their TokenRole.
    pub creator_role: i64,
    /// Their uuid.
    pub creator_uuid: String,
    /// What it is for.
    pub description: String,
    /// When it expires (epoch seconds).
    pub expire_time_sec: i64,
    /// Where to log in with it (TokenLogin).
    pub login_url: String,
    /// Its name.
    pub name: String,
    /// The Bearer token: only in the answer that creates it.
    pub secret: String,
    /// EnumStatus: only ACTIVE tokens are accepted.
    pub status: i64,
    /// Last change (epoch ms).
    #[ts(type = "number")]
    pub update_time: i64,
    /// Who changed it last.
    pub updater_display_name: String,
    /// Their uuid.
    pub updater_uuid: String,
    /// Its uuid.
    pub uuid: String,
    /// Stored as false.
    pub view_pii_log_only: bool,
    /// Its TokenRole (a workbench addition: the vendor takes it on create and update only).
    pub role: i64,
}

/// "Create Token" body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct CreateTokenRequest {
    /// "" or this workbench.
    pub account_name: String,
    /// What it is for.
    pub description: String,
    /// Its name (not empty).
    pub name: String,
    /// TokenRole (0: the creator's role).
    pub role: i64,
    /// EnumStatus (0: ACTIVE).
    pub status: i64,
    /// Lifetime in seconds (0: ten years).
    pub ttl_sec: i64,
    /// Must be empty or the caller's own uuid: a token acts for its creator.
    pub user_uuid: String,
}

/// "Update a token" body: only the fields to change are set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct UpdateTokenRequest {
    /// Ignored.
    pub account_name: String,
    /// `description` or `name` to clear.
    pub attributes_to_delete: Vec<String>,
    /// New description.
    pub description: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New TokenRole (not above the caller's).
    pub role: Option<i64>,
    /// New EnumStatus.
    pub status: Option<i64>,
    /// Ignored: the path names the token.
    pub uuid: String,
}

/// "Create Temporary Access Token" body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct TemporaryTokenRequest {
    /// Ignored.
    pub account_name: String,
    /// Lifetime in seconds (0: one hour; at most a day).
    pub ttl_sec: i64,
    /// Must be empty or the caller's own uuid: a token acts for its creator.
    pub user_uuid: String,
}

/// The seed's `LoginSession`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct LoginSession {
    /// Empty.
    pub account_location: String,
    /// This workbench.
    pub account_name: String,
    /// Empty.
    pub account_shard: String,
    /// Empty.
    pub account_uuid: String,
    /// Empty.
    pub backend_shard: String,
    /// The caller's address.
    pub client_ip: String,
    /// Started (epoch ms).
    #[ts(type = "number")]
    pub create_time: i64,
    /// Empty.
    pub device_uuid: String,
    /// When the token expires (epoch ms).
    #[ts(type = "number")]
    pub end_time: i64,
    /// Started (epoch seconds).
    pub expire_start_time: i64,
    /// When the token expires (epoch seconds).
    pub expire_time_sec: i64,
    /// 0.
    pub generation_id: i64,
    /// Empty.
    pub geo_location: String,
    /// 1: password; 2: API token.
    pub login_type: i64,
    /// ACTIVE.
    pub status: i64,
    /// Empty.
    pub tags: Vec<String>,
    /// Empty.
    pub time_id_token: String,
    /// The session's Bearer token.
    pub token: String,
    /// Its lifetime (seconds).
    pub ttl_sec: i64,
    /// Started (epoch ms).
    #[ts(type = "number")]
    pub update_time: i64,
    /// The account's TokenRole.
    pub user_role: i64,
    /// The account's uuid.
    pub user_uuid: String,
    /// The session's uuid.
    pub uuid: String,
}

fn invalid(field: &str, reason: impl Into<String>) -> ResponseError {
    ResponseError::Invalid {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

fn role_for(caller: Role, token_role: i64, field: &str) -> Result<(i64, Role), ResponseError> {
    if token_role == 0 {
        return Ok((self::token_role(caller), caller));
    }
    let role = local_role(token_role).ok_or_else(|| {
        invalid(
            field,
            format!(
                "{token_role} is not a token role; use {}",
                TOKEN_ROLE.names()
            ),
        )
    })?;
    if !may_grant(caller, role) {
        return Err(ResponseError::Conflict(format!(
            "role {} exceeds the caller's role {}",
            TOKEN_ROLE.name_of(token_role).unwrap_or("UNKNOWN"),
            caller.scope()
        )));
    }
    Ok((token_role, role))
}

fn check_status(status: i64) -> Result<i64, ResponseError> {
    match status {
        0 => Ok(2),
        s if ENUM_STATUS.contains(s) => Ok(s),
        s => Err(invalid(
            "status",
            format!("{s} is not a status; use {}", ENUM_STATUS.names()),
        )),
    }
}

/// The credential's expiry for a token in `status` (0 revokes it).
fn credential_expiry(t: &Token) -> i64 {
    if t.status == 2 {
        t.expire_time_sec * 1000
    } else {
        0
    }
}

fn store_token(c: &rusqlite::Connection, t: &Token, token_id: &str) -> rusqlite::Result<()> {
    let mut kept = t.clone();
    kept.secret.clear();
    c.execute(
        "INSERT INTO lacework_tokens (uuid, token_id, owner, status, body, create_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (uuid) DO UPDATE SET status = excluded.status, body = excluded.body",
        params![
            t.uuid,
            token_id,
            t.creator_display_name,
            t.status,
            serde_json::to_string(&kept).unwrap_or_default(),
            t.create_time
        ],
    )?;
    Ok(())
}

fn read_token(
    c: &rusqlite::Connection,
    uuid: &str,
) -> Result<Option<(Token, String)>, ResponseError> {
    let row: Option<(String, String)> = c
        .prepare_cached("SELECT body, token_id FROM lacework_tokens WHERE uuid = ?1")?
        .query_row([uuid], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(body, id)| {
        serde_json::from_str(&body)
            .map(|t| (t, id))
            .map_err(|e| ResponseError::Conflict(format!("stored token {uuid} is unreadable: {e}")))
    })
    .transpose()
}

/// What a new token is made of.
struct NewToken<'a> {
    name: String,
    description: String,
    token_role: i64,
    status: i64,
    ttl_sec: i64,
    op: &'static str,
    request: Option<&'a serde_json::Value>,
}

fn new_token(
    store: &Store,
    actor: &Actor,
    caller: Role,
    new: NewToken<'_>,
) -> Result<Token, ResponseError> {
    let NewToken {
        name,
        description,
        token_role,
        status,
        ttl_sec,
        op,
        request,
    } = new;
    let (token_role, role) = role_for(caller, token_role, "role")?;
    let now = now_ms();
    let mut t = Token {
        account_name: ACCOUNT_NAME.into(),
        algo: "SHA-256".into(),
        create_time: now,
        update_time: now,
        creator_display_name: actor.login.clone(),
        creator_uuid: actor.uuid.clone(),
        creator_role: self::token_role(caller),
        updater_display_name: actor.login.clone(),
        updater_uuid: actor.uuid.clone(),
        description,
        name,
        status,
        role: token_role,
        expire_time_sec: now / 1000 + ttl_sec,
        login_url: "/api/v1/token_login".into(),
        uuid: uuid::Uuid::new_v4().to_string(),
        ..Token::default()
    };
    store.write(|c| {
        let tx = c.transaction()?;
        let (secret, token_id) = auth::store_credential(
            &tx,
            &actor.login,
            role,
            &format!("api-token:{}", t.uuid),
            credential_expiry(&t),
        )?;
        store_token(&tx, &t, &token_id)?;
        let after = serde_json::to_value(&t).ok();
        audit::record(
            &tx,
            actor,
            &Change {
                op,
                object_type: "token",
                object_uuid: &t.uuid,
                request,
                before: None,
                after: after.as_ref(),
            },
        )?;
        tx.commit()?;
        t.secret = secret;
        Ok(t)
    })
}

/// A token acts for its creator: `user_uuid` may only be empty or the caller's own uuid.
fn check_own_uuid(actor: &Actor, user_uuid: &str) -> Result<(), ResponseError> {
    if user_uuid.is_empty() || user_uuid == actor.uuid {
        return Ok(());
    }
    Err(invalid(
        "user_uuid",
        "a token acts for its creator: leave user_uuid empty or give your own uuid",
    ))
}

/// Creates an API token for the calling account; the answer holds its secret, once.
pub fn create(
    store: &Store,
    actor: &Actor,
    caller: Role,
    request: &CreateTokenRequest,
) -> Result<Token, ResponseError> {
    if request.name.trim().is_empty() {
        return Err(invalid("name", "a token needs a name"));
    }
    if !request.account_name.is_empty() && request.account_name != ACCOUNT_NAME {
        return Err(invalid(
            "account_name",
            format!(
                "tokens are made for this workbench's account {ACCOUNT_NAME:?} (or leave it empty)"
            ),
        ));
    }
    if request.ttl_sec < 0 {
        return Err(invalid("ttl_sec", "a lifetime cannot be negative"));
    }
    check_own_uuid(actor, &request.user_uuid)?;
    let status = check_status(request.status)?;
    let ttl = if request.ttl_sec == 0 {
        DEFAULT_TTL_SEC
    } else {
        request.ttl_sec
    };
    let asked = serde_json::to_value(request).ok();
    new_token(
        store,
        actor,
        caller,
        NewToken {
            name: request.name.trim().to_owned(),
            description: request.description.clone(),
            token_role: request.role,
            status,
            ttl_sec: ttl,
            op: "token.create",
            request: asked.as_ref(),
        },
    )
}

/// A short-lived token for the caller.
pub fn temporary(
    store: &Store,
    actor: &Actor,
    caller: Role,
    request: &TemporaryTokenRequest,
) -> Result<Token, ResponseError> {
    check_own_uuid(actor, &request.user_uuid)?;
    let (default, max) = TEMPORARY_TTL_SEC;
    let ttl = match request.ttl_sec {
        0 => default,
        t if (1..=max).contains(&t) => t,
        t => {
            return Err(invalid(
                "ttl_sec",
                format!("{t} is not between 1 and {max} seconds"),
            ))
        }
    };
    let asked = serde_json::to_value(request).ok();
    new_token(
        store,
        actor,
        caller,
        NewToken {
            name: "temporary".into(),
            description: format!("temporary token of {}", actor.login),
            token_role: 0,
            status: 2,
            ttl_sec: ttl,
            op: "token.temporary",
            request: asked.as_ref(),
        },
    )
}

/// The caller's tokens (every account's for an admin); ACTIVE only unless `all`. No secrets.
pub fn list(
    store: &Store,
    actor: &Actor,
    caller: Role,
    all: bool,
) -> Result<Vec<Token>, ResponseError> {
    store.read(|c| {
        stored::all(
            c,
            "SELECT body FROM lacework_tokens
             WHERE (?1 OR owner = ?2) AND (?3 OR status = 2) AND status != 4
             ORDER BY create_time, uuid",
            params![caller == Role::Admin, actor.login, all],
        )
    })
}

/// Changes a token's name, description, role or status (its owner, or an admin).
pub fn update(
    store: &Store,
    actor: &Actor,
    caller: Role,
    uuid: &str,
    request: &UpdateTokenRequest,
) -> Result<Token, ResponseError> {
    store.write(|c| {
        let tx = c.transaction()?;
        let not_found = || ResponseError::NotFound {
            kind: "token",
            id: uuid.to_owned(),
        };
        let (before, token_id) = read_token(&tx, uuid)?.ok_or_else(not_found)?;
        if before.status == 4
            || (caller != Role::Admin && before.creator_display_name != actor.login)
        {
            return Err(not_found());
        }
        let mut after = before.clone();
        for field in &request.attributes_to_delete {
            match field.as_str() {
                "description" => after.description.clear(),
                "name" => return Err(invalid("attributes_to_delete", "a token keeps its name")),
                other => {
                    return Err(invalid(
                        "attributes_to_delete",
                        format!("{other} cannot be deleted; use description"),
                    ))
                }
            }
        }
        if let Some(name) = &request.name {
            if name.trim().is_empty() {
                return Err(invalid("name", "a token needs a name"));
            }
            after.name = name.trim().to_owned();
        }
        if let Some(d) = &request.description {
            after.description = d.clone();
        }
        let role = match request.role {
            Some(r) => {
                let (value, role) = role_for(caller, r, "role")?;
                after.role = value;
                role
            }
            None => local_role(before.role).unwrap_or(Role::ConnectionsView),
        };
        if let Some(s) = request.status {
            after.status = check_status(s)?;
        }
        after.update_time = now_ms().max(before.update_time + 1);
        after.updater_display_name = actor.login.clone();
        after.updater_uuid = actor.uuid.clone();
        auth::amend_credential(&tx, &token_id, role, credential_expiry(&after))?;
        if after.status == 4 {
            tx.execute("DELETE FROM access_tokens WHERE token_id = ?1", [&token_id])?;
        }
        store_token(&tx, &after, &token_id)?;
        let (b, a, asked) = (
            serde_json::to_value(&before).ok(),
            serde_json::to_value(&after).ok(),
            serde_json::to_value(request).ok(),
        );
        audit::record(
            &tx,
            actor,
            &Change {
                op: "token.update",
                object_type: "token",
                object_uuid: uuid,
                request: asked.as_ref(),
                before: b.as_ref(),
                after: a.as_ref(),
            },
        )?;
        tx.commit()?;
        Ok(after)
    })
}

fn session(
    store: &Store,
    subject: &str,
    role: Role,
    login_type: i64,
    client_ip: &str,
) -> Result<LoginSession, ResponseError> {
    let issued = auth::issue_session(store, subject, role).map_err(|e| match e {
        auth::AuthError::Store(s) => ResponseError::Store(s),
        other => ResponseError::Conflict(other.to_string()),
    })?;
    let now = now_ms();
    let ttl = TOKEN_LIFETIME_SECS as i64;
    Ok(LoginSession {
        account_name: ACCOUNT_NAME.into(),
        client_ip: client_ip.to_owned(),
        create_time: now,
        update_time: now,
        end_time: now + ttl * 1000,
        expire_start_time: now / 1000,
        expire_time_sec: now / 1000 + ttl,
        login_type,
        status: 2,
        token: issued.access_token,
        ttl_sec: ttl,
        user_role: token_role(role),
        user_uuid: audit::account_uuid(subject),
        uuid: uuid::Uuid::now_v7().to_string(),
        ..LoginSession::default()
    })
}

/// Why a login was refused (the vendor answers 403).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LoginRefused(pub String);

/// Login: an account's name and password → a session.
pub fn login(
    store: &Store,
    username: &str,
    password: &str,
    client_ip: &str,
) -> Result<Result<LoginSession, LoginRefused>, ResponseError> {
    match auth::check_password(store, username, password) {
        Ok(role) => session(store, username, role, 1, client_ip).map(Ok),
        Err(auth::AuthError::Store(s)) => Err(ResponseError::Store(s)),
        Err(_) => Ok(Err(LoginRefused("wrong account name or password".into()))),
    }
}

/// TokenLogin: an API token (or any valid Bearer token) → a session of its account.
pub fn token_login(
    store: &Store,
    token: &str,
    client_ip: &str,
) -> Result<Result<LoginSession, LoginRefused>, ResponseError> {
    match auth::verify_token(store, token) {
        Ok(p) => session(store, &p.subject, p.role, 2, client_ip).map(Ok),
        Err(auth::AuthError::Store(s)) => Err(ResponseError::Store(s)),
        Err(_) => Ok(Err(LoginRefused(
            "the token is not valid, suspended or expired".into(),
        ))),
    }
}
