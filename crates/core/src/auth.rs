//! Local accounts, OAuth clients and access tokens of the REST listener.
//!
//! Roles are the PrivX OAuth scopes: an account with role `admin` receives tokens with scope
//! `admin`, and so on. Nothing secret is stored: passwords are Argon2id hashes, client secrets
//! and token secrets are SHA-256 digests of 256-bit random values (a slow hash adds nothing to a
//! value that cannot be guessed), and every comparison is constant-time.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use ts_rs::TS;

use crate::store::{Store, StoreError};

/// Lifetime of an access token, in seconds.
pub const TOKEN_LIFETIME_SECS: u64 = 3600;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A role of a local account or OAuth client; each grants the PrivX scope of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum Role {
    /// Built-in administrator: every UEBA operation.
    Admin,
    /// Administrator with the connection-manage scope.
    ConnectionsManage,
    /// Administrator with the connections-playback scope.
    ConnectionsPlayback,
    /// Administrator with the connections-terminate scope.
    ConnectionsTerminate,
    /// Administrator with the connections-trail scope.
    ConnectionsTrail,
    /// Administrator with the connections-view scope: may read connections and stop analysis.
    ConnectionsView,
    /// Microservice scope, for automation.
    Service,
    /// Normal user.
    User,
}

impl Role {
    /// Every role, in documentation order.
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::ConnectionsManage,
        Role::ConnectionsPlayback,
        Role::ConnectionsTerminate,
        Role::ConnectionsTrail,
        Role::ConnectionsView,
        Role::Service,
        Role::User,
    ];

    /// The PrivX scope this role grants (also its name).
    pub fn scope(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ConnectionsManage => "connectionsManage",
            Role::ConnectionsPlayback => "connectionsPlayback",
            Role::ConnectionsTerminate => "connectionsTerminate",
            Role::ConnectionsTrail => "connectionsTrail",
            Role::ConnectionsView => "connectionsView",
            Role::Service => "service",
            Role::User => "user",
        }
    }

    /// Parses a role name (the scope name).
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.scope() == name)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.scope())
    }
}

/// A local account (a person or a script that logs in with a password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Account {
    /// Login name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Created (epoch ms).
    #[ts(type = "number")]
    pub created: i64,
}

/// An OAuth client (the application that asks for tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OAuthClient {
    /// The public client id.
    pub client_id: String,
    /// A name to recognise it by.
    pub name: String,
    /// The role `client_credentials` tokens get; without one the client may only pass on
    /// password grants.
    pub role: Option<Role>,
    /// Created (epoch ms).
    #[ts(type = "number")]
    pub created: i64,
}

/// A newly created client with its secret, which is shown this once and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NewClient {
    /// The client.
    pub client: OAuthClient,
    /// Its secret.
    pub client_secret: String,
}

/// Who made a request, as proven by a valid access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The account name, or `client:<client_id>` for a client_credentials token.
    pub subject: String,
    /// The role (and so the scope) granted.
    pub role: Role,
    /// The client the token was issued to.
    pub client_id: String,
    /// When the token expires (epoch ms).
    pub expires: i64,
}

impl Principal {
    /// Whether the token carries one of `scopes`.
    pub fn has_any_scope(&self, scopes: &[&str]) -> bool {
        scopes.contains(&self.role.scope())
    }
}

/// An access token as the OAuth token endpoint answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuedToken {
    /// The Bearer token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The scope granted (space-separated).
    pub scope: String,
}

/// Why an account, client or token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A value is invalid.
    #[error("{property}: {reason}")]
    Invalid {
        /// The property at fault (`name`, `password`, `role`).
        property: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The name is taken.
    #[error("{what} {name} already exists")]
    Duplicate {
        /// `account` or `client`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// No such account or client.
    #[error("{what} {name} not found")]
    NotFound {
        /// `account` or `client`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// The client id or secret is wrong (OAuth `invalid_client`).
    #[error("client authentication failed")]
    InvalidClient,
    /// The user name or password is wrong (OAuth `invalid_grant`).
    #[error("invalid user name or password")]
    InvalidGrant,
    /// The client may not use this grant (OAuth `unauthorized_client`).
    #[error("this client has no role of its own and may not use the client_credentials grant")]
    UnauthorizedClient,
    /// The token is missing, malformed, unknown or expired.
    #[error("access token is invalid or expired")]
    InvalidToken,
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for AuthError {
    fn from(e: rusqlite::Error) -> Self {
        AuthError::Store(StoreError::Sqlite(e))
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

fn sha256(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

fn check_name(name: &str) -> Result<(), AuthError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::Invalid {
            property: "name",
            reason: format!(
                "{name:?} must be 1-64 characters of letters, digits, '.', '_', '-' or '@'"
            ),
        })
    }
}

fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// A hash of no one's password, verified when the account does not exist so that an unknown
/// name takes as long as a wrong password.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("no account has this password").unwrap_or_default());

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

fn role_column(text: &str) -> Role {
    // Roles are written only by this module; an unknown one (a newer version's) grants the
    // least.
    Role::parse(text).unwrap_or(Role::User)
}

/// Creates an account. The password must have at least [`MIN_PASSWORD_CHARS`] characters.
pub fn add_account(
    store: &Store,
    name: &str,
    role: Role,
    password: &str,
) -> Result<Account, AuthError> {
    check_name(name)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::Invalid {
            property: "password",
            reason: format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        });
    }
    let hash = hash_password(password)?;
    let created = now_ms();
    store.write(|c| {
        let inserted = c.execute(
            "INSERT INTO accounts (name, role, password_hash, created) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO NOTHING",
            params![name, role.scope(), hash, created],
        )?;
        if inserted == 0 {
            return Err(AuthError::Duplicate {
                what: "account",
                name: name.to_owned(),
            });
        }
        Ok(())
    })?;
    Ok(Account {
        name: name.to_owned(),
        role,
        created,
    })
}

/// Every account, by name.
pub fn list_accounts(store: &Store) -> Result<Vec<Account>, AuthError> {
    store.read(|c| {
        let mut stmt = c.prepare("SELECT name, role, created FROM accounts ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(Account {
                name: r.get(0)?,
                role: role_column(&r.get::<_, String>(1)?),
                created: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}

/// Deletes an account and revokes its tokens.
pub fn remove_account(store: &Store, name: &str) -> Result<(), AuthError> {
    store.write(|c| {
        let tx = c.transaction()?;
        let removed = tx.execute("DELETE FROM accounts WHERE name = ?1", [name])?;
        if removed == 0 {
            return Err(AuthError::NotFound {
                what: "account",
                name: name.to_owned(),
            });
        }
        tx.execute("DELETE FROM access_tokens WHERE subject = ?1", [name])?;
        tx.commit()?;
        Ok(())
    })
}

/// Creates an OAuth client; its secret is in the answer and nowhere else.
pub fn add_client(store: &Store, name: &str, role: Option<Role>) -> Result<NewClient, AuthError> {
    check_name(name)?;
    let client_id = uuid::Uuid::new_v4().to_string();
    let client_secret = random_token(32);
    let created = now_ms();
    store.write(|c| {
        let inserted = c.execute(
            "INSERT INTO oauth_clients (client_id, name, secret_sha256, role, created)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
            params![
                client_id,
                name,
                sha256(&client_secret),
                role.map(Role::scope),
                created
            ],
        )?;
        if inserted == 0 {
            return Err(AuthError::Duplicate {
                what: "client",
                name: name.to_owned(),
            });
        }
        Ok(())
    })?;
    Ok(NewClient {
        client: OAuthClient {
            client_id,
            name: name.to_owned(),
            role,
            created,
        },
        client_secret,
    })
}

/// Every OAuth client, by name.
pub fn list_clients(store: &Store) -> Result<Vec<OAuthClient>, AuthError> {
    store.read(|c| {
        let mut stmt =
            c.prepare("SELECT client_id, name, role, created FROM oauth_clients ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(OAuthClient {
                client_id: r.get(0)?,
                name: r.get(1)?,
                role: r.get::<_, Option<String>>(2)?.map(|t| role_column(&t)),
                created: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}

/// Deletes an OAuth client (by name or id) and revokes the tokens issued to it.
pub fn remove_client(store: &Store, name_or_id: &str) -> Result<(), AuthError> {
    store.write(|c| {
        let tx = c.transaction()?;
        let id: Option<String> = tx
            .query_row(
                "SELECT client_id FROM oauth_clients WHERE name = ?1 OR client_id = ?1",
                [name_or_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else {
            return Err(AuthError::NotFound {
                what: "client",
                name: name_or_id.to_owned(),
            });
        };
        tx.execute("DELETE FROM oauth_clients WHERE client_id = ?1", [&id])?;
        tx.execute("DELETE FROM access_tokens WHERE client_id = ?1", [&id])?;
        tx.commit()?;
        Ok(())
    })
}

/// Checks a client's id and secret.
pub fn authenticate_client(
    store: &Store,
    client_id: &str,
    client_secret: &str,
) -> Result<OAuthClient, AuthError> {
    let row = store.read(|c| {
        c.query_row(
            "SELECT client_id, name, role, created, secret_sha256 FROM oauth_clients
             WHERE client_id = ?1",
            [client_id],
            |r| {
                Ok((
                    OAuthClient {
                        client_id: r.get(0)?,
                        name: r.get(1)?,
                        role: r.get::<_, Option<String>>(2)?.map(|t| role_column(&t)),
                        created: r.get(3)?,
                    },
                    r.get::<_, Vec<u8>>(4)?,
                ))
            },
        )
        .optional()
        .map_err(AuthError::from)
    })?;
    // Compare against a digest either way, so an unknown id costs the same as a wrong secret.
    let presented = sha256(client_secret);
    let (client, stored) = match row {
        Some((client, stored)) => (Some(client), stored),
        None => (None, vec![0u8; 32]),
    };
    let equal: bool = presented.ct_eq(&stored).into();
    match client {
        Some(client) if equal => Ok(client),
        _ => Err(AuthError::InvalidClient),
    }
}

fn issue(
    store: &Store,
    subject: &str,
    role: Role,
    client_id: &str,
) -> Result<IssuedToken, AuthError> {
    issue_for(store, subject, role, client_id, TOKEN_LIFETIME_SECS)
}

fn issue_for(
    store: &Store,
    subject: &str,
    role: Role,
    client_id: &str,
    lifetime_secs: u64,
) -> Result<IssuedToken, AuthError> {
    let token_id = random_token(16);
    let secret = random_token(32);
    let issued = now_ms();
    let expires = issued + lifetime_secs as i64 * 1000;
    store.write(|c| {
        let tx = c.transaction()?;
        // Expired tokens are useless; dropping them here keeps the table small. Suspended API
        // tokens (expires 0) stay, so that they can be reactivated.
        tx.execute(
            "DELETE FROM access_tokens WHERE expires < ?1 AND client_id NOT LIKE 'api-token:%'",
            [issued],
        )?;
        tx.execute(
            "INSERT INTO access_tokens
                 (token_id, secret_sha256, subject, role, client_id, issued, expires)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                token_id,
                sha256(&secret),
                subject,
                role.scope(),
                client_id,
                issued,
                expires
            ],
        )?;
        tx.commit()?;
        Ok::<_, AuthError>(())
    })?;
    Ok(IssuedToken {
        access_token: format!("{token_id}.{secret}"),
        token_type: "Bearer".into(),
        expires_in: lifetime_secs,
        scope: role.scope().into(),
    })
}

/// A Bearer credential stored hashed in `access_tokens`, inside the caller's transaction: the
/// token text (`<id>.<secret>`, to show once) and its id.
pub(crate) fn store_credential(
    tx: &rusqlite::Connection,
    subject: &str,
    role: Role,
    client_id: &str,
    expires: i64,
) -> rusqlite::Result<(String, String)> {
    let token_id = random_token(16);
    let secret = random_token(32);
    tx.execute(
        "INSERT INTO access_tokens
             (token_id, secret_sha256, subject, role, client_id, issued, expires)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            token_id,
            sha256(&secret),
            subject,
            role.scope(),
            client_id,
            now_ms(),
            expires
        ],
    )?;
    Ok((format!("{token_id}.{secret}"), token_id))
}

/// Changes a stored credential's role and expiry (0 revokes it), inside the caller's
/// transaction.
pub(crate) fn amend_credential(
    tx: &rusqlite::Connection,
    token_id: &str,
    role: Role,
    expires: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE access_tokens SET role = ?2, expires = ?3 WHERE token_id = ?1",
        params![token_id, role.scope(), expires],
    )?;
    Ok(())
}

/// Checks an account's password (in constant time whether or not the account exists) and
/// returns its role.
pub fn check_password(store: &Store, username: &str, password: &str) -> Result<Role, AuthError> {
    let row: Option<(String, String)> = store.read(|c| {
        c.query_row(
            "SELECT role, password_hash FROM accounts WHERE name = ?1",
            [username],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(AuthError::from)
    })?;
    let (role, hash) = match &row {
        Some((role, hash)) => (Some(role_column(role)), hash.as_str()),
        None => (None, DUMMY_HASH.as_str()),
    };
    let valid = verify_password(password, hash);
    match role {
        Some(role) if valid => Ok(role),
        _ => Err(AuthError::InvalidGrant),
    }
}

/// A session token for `subject` (Lacework Login and TokenLogin), lasting
/// [`TOKEN_LIFETIME_SECS`].
pub fn issue_session(store: &Store, subject: &str, role: Role) -> Result<IssuedToken, AuthError> {
    issue(store, subject, role, "lacework-login")
}

/// The client id of Cybereason web sessions (`JSESSIONID` cookies).
pub const WEB_SESSION_CLIENT: &str = "cybereason-session";
/// How long a web session lasts (the vendor's last about 8 hours).
pub const WEB_SESSION_SECS: u64 = 8 * 3600;

/// A Cybereason form login: the account's password checked, a web session for it (the
/// `JSESSIONID` value, stored hashed like every credential) and the account's role.
pub fn open_web_session(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<(String, Role), AuthError> {
    let role = check_password(store, username, password)?;
    let issued = issue_for(store, username, role, WEB_SESSION_CLIENT, WEB_SESSION_SECS)?;
    Ok((issued.access_token, role))
}

/// Ends a session or token at once (logout): it is refused from now on.
pub fn close_session(store: &Store, token: &str) -> Result<(), AuthError> {
    let (token_id, _) = token.split_once('.').ok_or(AuthError::InvalidToken)?;
    verify_token(store, token)?;
    store.write(|c| {
        c.execute(
            "UPDATE access_tokens SET expires = 0 WHERE token_id = ?1",
            [token_id],
        )?;
        Ok::<_, AuthError>(())
    })
}

/// OAuth `password` grant: an account's token, requested through an authenticated client.
pub fn password_grant(
    store: &Store,
    client: &OAuthClient,
    username: &str,
    password: &str,
) -> Result<IssuedToken, AuthError> {
    let role = check_password(store, username, password)?;
    issue(store, username, role, &client.client_id)
}

/// OAuth `client_credentials` grant: a token for the client itself, with its own role.
pub fn client_credentials_grant(
    store: &Store,
    client: &OAuthClient,
) -> Result<IssuedToken, AuthError> {
    let role = client.role.ok_or(AuthError::UnauthorizedClient)?;
    issue(
        store,
        &format!("client:{}", client.client_id),
        role,
        &client.client_id,
    )
}

/// Checks a Bearer token: known, secret matching in constant time, not expired.
pub fn verify_token(store: &Store, token: &str) -> Result<Principal, AuthError> {
    let (token_id, secret) = token.split_once('.').ok_or(AuthError::InvalidToken)?;
    let row = store.read(|c| {
        c.query_row(
            "SELECT secret_sha256, subject, role, client_id, expires FROM access_tokens
             WHERE token_id = ?1",
            [token_id],
            |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    Principal {
                        subject: r.get(1)?,
                        role: role_column(&r.get::<_, String>(2)?),
                        client_id: r.get(3)?,
                        expires: r.get(4)?,
                    },
                ))
            },
        )
        .optional()
        .map_err(AuthError::from)
    })?;
    let Some((stored, principal)) = row else {
        return Err(AuthError::InvalidToken);
    };
    let equal: bool = sha256(secret).ct_eq(&stored).into();
    if !equal || principal.expires <= now_ms() {
        return Err(AuthError::InvalidToken);
    }
    Ok(principal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("w.db")).expect("open");
        (dir, store)
    }

    #[test]
    fn password_grant_issues_a_token_with_the_account_role() {
        let (_d, store) = store();
        add_account(&store, "alice", Role::Admin, "correct horse").expect("account");
        let client = add_client(&store, "sdk", None).expect("client");
        let authed = authenticate_client(&store, &client.client.client_id, &client.client_secret)
            .expect("client auth");
        let token = password_grant(&store, &authed, "alice", "correct horse").expect("token");
        assert_eq!(token.token_type, "Bearer");
        assert_eq!(token.scope, "admin");
        let who = verify_token(&store, &token.access_token).expect("valid");
        assert_eq!(who.subject, "alice");
        assert!(who.has_any_scope(&["admin"]));
        assert!(!who.has_any_scope(&["user"]));
    }

    #[test]
    fn wrong_secrets_passwords_and_tokens_are_refused() {
        let (_d, store) = store();
        add_account(&store, "bob", Role::User, "password1").expect("account");
        let client = add_client(&store, "sdk", None).expect("client");
        assert!(matches!(
            authenticate_client(&store, &client.client.client_id, "wrong"),
            Err(AuthError::InvalidClient)
        ));
        assert!(matches!(
            authenticate_client(&store, "no-such-client", &client.client_secret),
            Err(AuthError::InvalidClient)
        ));
        let authed = client.client.clone();
        assert!(matches!(
            password_grant(&store, &authed, "bob", "password2"),
            Err(AuthError::InvalidGrant)
        ));
        assert!(matches!(
            password_grant(&store, &authed, "nobody", "password1"),
            Err(AuthError::InvalidGrant)
        ));
        let token = password_grant(&store, &authed, "bob", "password1").expect("token");
        let tampered = format!("{}x", token.access_token);
        assert!(matches!(
            verify_token(&store, &tampered),
            Err(AuthError::InvalidToken)
        ));
        assert!(matches!(
            verify_token(&store, "garbage"),
            Err(AuthError::InvalidToken)
        ));
    }

    #[test]
    fn secrets_are_not_stored() {
        let (_d, store) = store();
        add_account(&store, "carol", Role::Admin, "s3cret-pass").expect("account");
        let client = add_client(&store, "tool", Some(Role::Service)).expect("client");
        let token = client_credentials_grant(&store, &client.client).expect("token");
        let raw = std::fs::read(store.path()).expect("read db");
        let wal = std::fs::read(store.path().with_extension("db-wal")).unwrap_or_default();
        for secret in ["s3cret-pass", &client.client_secret, &token.access_token] {
            for bytes in [&raw, &wal] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret} found in the database file"
                );
            }
        }
    }

    #[test]
    fn client_credentials_needs_a_client_role() {
        let (_d, store) = store();
        let bare = add_client(&store, "bare", None).expect("client");
        assert!(matches!(
            client_credentials_grant(&store, &bare.client),
            Err(AuthError::UnauthorizedClient)
        ));
        let svc = add_client(&store, "svc", Some(Role::Service)).expect("client");
        let token = client_credentials_grant(&store, &svc.client).expect("token");
        let who = verify_token(&store, &token.access_token).expect("valid");
        assert_eq!(who.role, Role::Service);
        assert_eq!(who.subject, format!("client:{}", svc.client.client_id));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let (_d, store) = store();
        add_account(&store, "dave", Role::Admin, "password1").expect("account");
        let client = add_client(&store, "sdk", None).expect("client");
        let token = password_grant(&store, &client.client, "dave", "password1").expect("token");
        store
            .write(|c| c.execute("UPDATE access_tokens SET expires = 0", []))
            .expect("expire");
        assert!(matches!(
            verify_token(&store, &token.access_token),
            Err(AuthError::InvalidToken)
        ));
    }

    #[test]
    fn removing_an_account_revokes_its_tokens_and_names_are_checked() {
        let (_d, store) = store();
        add_account(&store, "erin", Role::Admin, "password1").expect("account");
        assert!(matches!(
            add_account(&store, "erin", Role::Admin, "password1"),
            Err(AuthError::Duplicate { .. })
        ));
        assert!(matches!(
            add_account(&store, "bad name", Role::Admin, "password1"),
            Err(AuthError::Invalid {
                property: "name",
                ..
            })
        ));
        assert!(matches!(
            add_account(&store, "short", Role::Admin, "pw"),
            Err(AuthError::Invalid {
                property: "password",
                ..
            })
        ));
        let client = add_client(&store, "sdk", None).expect("client");
        let token = password_grant(&store, &client.client, "erin", "password1").expect("token");
        remove_account(&store, "erin").expect("remove");
        assert!(verify_token(&store, &token.access_token).is_err());
        assert_eq!(Role::parse("connectionsView"), Some(Role::ConnectionsView));
        assert_eq!(Role::parse("root"), None);
    }
}
