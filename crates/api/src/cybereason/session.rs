//! Cybereason sessions: `POST /login.html` with the form fields `username` and `password` checks
//! a local account and sets a `JSESSIONID` cookie (a credential stored hashed, for 8 hours);
//! `GET /logout` ends it. `/rest/` routes admit a session whose account's role allows the call.

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use ueba_core::auth::{self, Role, WEB_SESSION_CLIENT, WEB_SESSION_SECS};
use ueba_core::response::audit::Actor;

use super::error::{CybereasonError, LOGIN_PAGE};
use crate::auth::CallerSlot;
use crate::lacework::auth::{actor_of, Permission};
use crate::privx::run_blocking;
use crate::state::ApiState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "JSESSIONID";

/// Reading the fleet and the actions.
#[derive(Debug)]
pub struct ReadSensors;
impl Permission for ReadSensors {
    const ROLES: &'static [Role] = &[
        Role::Admin,
        Role::User,
        Role::ConnectionsView,
        Role::Service,
    ];
    const WHAT: &'static str = "reading sensors";
}

/// Starting and aborting sensor actions.
#[derive(Debug)]
pub struct ActOnSensors;
impl Permission for ActOnSensors {
    const ROLES: &'static [Role] = &[Role::Admin, Role::User];
    const WHAT: &'static str = "acting on sensors";
}

/// The session cookie of a request, if any.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

/// A caller with a valid session whose role allows `P`: without one, a redirect to the login
/// page (the vendor's answer); with another role, 403.
#[derive(Debug)]
pub struct Session<P: Permission> {
    /// Who is calling, ready for the audit trail.
    pub actor: Actor,
    _permission: PhantomData<P>,
}

impl<P: Permission> FromRequestParts<ApiState> for Session<P> {
    type Rejection = CybereasonError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let token = session_cookie(&parts.headers).ok_or(CybereasonError::NoSession)?;
        let principal = state
            .tokens
            .verify(&state.store, &token)
            .ok()
            .filter(|p| p.client_id == WEB_SESSION_CLIENT)
            .ok_or(CybereasonError::NoSession)?;
        if let Some(slot) = parts.extensions.get::<CallerSlot>() {
            if let Ok(mut caller) = slot.0.lock() {
                *caller = Some(principal.subject.clone());
            }
        }
        if !P::ROLES.contains(&principal.role) {
            return Err(CybereasonError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "{} needs the role {}; this account has {}",
                    P::WHAT,
                    P::ROLES
                        .iter()
                        .map(|r| r.scope())
                        .collect::<Vec<_>>()
                        .join(" or "),
                    principal.role.scope()
                ),
            ));
        }
        let mut actor = actor_of(&principal, parts);
        actor.auth_type = "session".into();
        Ok(Session {
            actor,
            _permission: PhantomData,
        })
    }
}

const LOGIN_FORM: &str = "<!doctype html><html><head><title>UEBA Workbench - Cybereason login</title></head>\
<body><form method=\"post\" action=\"/login.html\"><label>Username <input name=\"username\"></label> \
<label>Password <input name=\"password\" type=\"password\"></label> <button type=\"submit\">Login</button>\
</form></body></html>";

/// The login page (where failed logins and requests without a session land).
#[utoipa::path(get, path = "/login.html", tag = "cybereason",
    responses((status = 200, description = "The login form", content_type = "text/html", body = String)))]
pub async fn login_page() -> Html<&'static str> {
    Html(LOGIN_FORM)
}

fn failed_login() -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, "/login.html?error=true")],
    )
        .into_response()
}

/// Log in (form `username`, `password`): sets the `JSESSIONID` cookie; a failed login is
/// redirected to a URL containing `error`, as the vendor's server does.
#[utoipa::path(post, path = "/login.html", tag = "cybereason",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "username=<account>&password=<password>"),
    responses(
        (status = 200, description = "Logged in; the JSESSIONID cookie is set", content_type = "text/html", body = String),
        (status = 302, description = "Wrong or missing credentials: redirected to /login.html?error=true"),
    ))]
pub async fn login(State(state): State<ApiState>, body: Bytes) -> Response {
    let mut username = None;
    let mut password = None;
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "username" => username = Some(v.into_owned()),
            "password" => password = Some(v.into_owned()),
            _ => {}
        }
    }
    let (Some(username), Some(password)) = (username, password) else {
        return failed_login();
    };
    let opened = run_blocking(&state.store, move |s| {
        auth::open_web_session(s, &username, &password).map_err(CybereasonError::from_auth)
    })
    .await;
    match opened {
        Ok((token, _)) => (
            [(
                header::SET_COOKIE,
                format!(
                    "{SESSION_COOKIE}={token}; Path=/; Max-Age={WEB_SESSION_SECS}; HttpOnly; SameSite=Lax"
                ),
            )],
            Html("<!doctype html><html><body>Logged in.</body></html>"),
        )
            .into_response(),
        Err(CybereasonError::Failure { status, .. }) if status == StatusCode::UNAUTHORIZED => {
            failed_login()
        }
        Err(e) => e.into_response(),
    }
}

impl CybereasonError {
    /// Wrong credentials are a failed login (401 here, a redirect at the door); the rest is a
    /// server error.
    fn from_auth(e: auth::AuthError) -> Self {
        match e {
            auth::AuthError::InvalidGrant | auth::AuthError::InvalidToken => {
                Self::new(StatusCode::UNAUTHORIZED, "wrong username or password")
            }
            other => Self::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

/// Log out: the session ends at once and the cookie is cleared.
#[utoipa::path(get, path = "/logout", tag = "cybereason",
    responses(
        (status = 200, description = "Logged out", content_type = "text/html", body = String),
        (status = 302, description = "No valid session: redirected to /login.html"),
    ),
    security(("session" = [])))]
pub async fn logout(
    _session: Session<AnyRole>,
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Response, CybereasonError> {
    let token = session_cookie(&headers).ok_or(CybereasonError::NoSession)?;
    state.tokens.forget(&token);
    run_blocking(&state.store, move |s| {
        auth::close_session(s, &token).map_err(CybereasonError::from_auth)
    })
    .await?;
    Ok((
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
        )],
        Html(format!(
            "<!doctype html><html><body>Logged out. <a href=\"{LOGIN_PAGE}\">Log in</a></body></html>"
        )),
    )
        .into_response())
}

/// Any account with a session (logging out).
#[derive(Debug)]
pub struct AnyRole;
impl Permission for AnyRole {
    const ROLES: &'static [Role] = &Role::ALL;
    const WHAT: &'static str = "logging out";
}
