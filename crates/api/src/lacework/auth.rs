//! Who may call the Lacework Edge surface: a Bearer token from the OAuth token endpoint, for a
//! local account or client whose role allows the call, so one account serves every surface.

use std::marker::PhantomData;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::StatusCode;
use ueba_core::auth::{Principal, Role};
use ueba_core::response::audit::{account_uuid, Actor, Door};

use super::error::LaceworkError;
use crate::auth::authenticate;
use crate::state::ApiState;

/// What a route needs: the local roles allowed to call it.
pub trait Permission: Send + Sync + 'static {
    /// The roles (PrivX scope names) allowed.
    const ROLES: &'static [Role];
    /// What the permission is, for the 403 message.
    const WHAT: &'static str;
}

/// Reading alerts and their history.
#[derive(Debug)]
pub struct ReadAlerts;
impl Permission for ReadAlerts {
    const ROLES: &'static [Role] = &[
        Role::Admin,
        Role::User,
        Role::ConnectionsView,
        Role::Service,
    ];
    const WHAT: &'static str = "reading alerts";
}

/// Triage: promoting events and investigation actions.
#[derive(Debug)]
pub struct Triage;
impl Permission for Triage {
    const ROLES: &'static [Role] = &[Role::Admin, Role::User];
    const WHAT: &'static str = "investigating alerts";
}

/// Creating and changing policies.
#[derive(Debug)]
pub struct ManagePolicies;
impl Permission for ManagePolicies {
    const ROLES: &'static [Role] = &[Role::Admin];
    const WHAT: &'static str = "managing policies";
}

/// Any local account: its own tokens.
#[derive(Debug)]
pub struct AnyAccount;
impl Permission for AnyAccount {
    const ROLES: &'static [Role] = &Role::ALL;
    const WHAT: &'static str = "managing one's tokens";
}

/// Reading the audit trail.
#[derive(Debug)]
pub struct ReadAudit;
impl Permission for ReadAudit {
    const ROLES: &'static [Role] = &[Role::Admin];
    const WHAT: &'static str = "reading audit events";
}

/// A caller allowed `P`: 401 without a valid Bearer token, 403 when its role is not allowed;
/// both as `{"message": ...}`.
#[derive(Debug)]
pub struct Caller<P: Permission> {
    /// Who is calling, ready for the audit trail.
    pub actor: Actor,
    /// Their local role.
    pub role: Role,
    _permission: PhantomData<P>,
}

impl<P: Permission> FromRequestParts<ApiState> for Caller<P> {
    type Rejection = LaceworkError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let (actor, role) = admit(parts, state, P::ROLES, P::WHAT)?;
        Ok(Caller {
            actor,
            role,
            _permission: PhantomData,
        })
    }
}

/// Admits a caller whose role is one of `roles` (for `what`, named in the 403 message): 401
/// without a valid Bearer token, 403 for another role; both as `{"message": ...}`.
pub fn admit(
    parts: &Parts,
    state: &ApiState,
    roles: &[Role],
    what: &str,
) -> Result<(Actor, Role), LaceworkError> {
    let principal = authenticate(parts, state).map_err(|e| {
        if e.status == StatusCode::UNAUTHORIZED {
            LaceworkError::new(
                StatusCode::UNAUTHORIZED,
                "missing or invalid token: send Authorization: Bearer <token> with a token from POST /auth/api/v1/oauth/token",
            )
        } else {
            LaceworkError::from(e)
        }
    })?;
    if !roles.contains(&principal.role) {
        return Err(LaceworkError::new(
            StatusCode::FORBIDDEN,
            format!(
                "{what} needs the role {}; this token has {}",
                roles
                    .iter()
                    .map(|r| r.scope())
                    .collect::<Vec<_>>()
                    .join(" or "),
                principal.role.scope()
            ),
        ));
    }
    Ok((actor_of(&principal, parts), principal.role))
}

pub(crate) fn actor_of(principal: &Principal, parts: &Parts) -> Actor {
    let client_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_default();
    Actor {
        uuid: account_uuid(&principal.subject),
        login: principal.subject.clone(),
        display_name: principal.subject.clone(),
        role: ueba_core::response::tokens::token_role(principal.role),
        door: Door::Rest,
        auth_type: "oauth".into(),
        client_ip,
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
    }
}
