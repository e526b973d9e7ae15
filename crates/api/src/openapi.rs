//! The route table and its OpenAPI 3 document: both come from the same `routes!` list, so the
//! document cannot drift from what the listener serves.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password,
    Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::cybereason::{sensors as cr_sensors, session as cr_session};
use crate::lacework::alerts as lw_alerts;
use crate::lacework::lists as lw_lists;
use crate::lacework::policies as lw_policies;
use crate::lacework::tokens as lw_tokens;
use crate::lacework::workflows as lw_workflows;
use crate::state::ApiState;
use crate::{auth, privx, workbench};

/// Top of the document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "UEBA Workbench REST listener",
        description = "PrivX UEBA API (`/connection-manager/api/v1/ueba/...`), its OAuth2 token endpoint, \
the Lacework Edge API (`/api/v1/...`), the Cybereason sensor API (`/login.html`, `/rest/...`) and the workbench's own endpoints (`/workbench/api/v1/...`), served on loopback \
by a local UEBA Workbench. Errors use the PrivX shape `{error_code, error_message, property, details}`, except on the \
Lacework routes, which answer `{message}`, and the Cybereason routes, which answer `{status: FAILURE, message}` and redirect \
requests without a session to `/login.html`."
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "OAuth2 token endpoint (PrivX auth service)"),
        (name = "ueba-status", description = "PrivX ueba status"),
        (name = "ueba-train", description = "PrivX ueba train: datasets and training"),
        (name = "ueba-management", description = "PrivX ueba management: configuration, anomaly settings, analysis"),
        (name = "ueba-setup", description = "PrivX ueba setup script"),
        (name = "workbench", description = "UEBA Workbench: ingest, connections, anomalies, request journal"),
        (name = "lacework-alerts", description = "Lacework Edge: alerts and their investigation"),
        (name = "lacework-audit", description = "Lacework Edge: audit events"),
        (name = "lacework-policies", description = "Lacework Edge: response policies"),
        (name = "lacework-workflows", description = "Lacework Edge: workflows and their runs"),
        (name = "lacework-lists", description = "Lacework Edge: customer datasets (lists for policy filters)"),
        (name = "lacework-tokens", description = "Lacework Edge: API tokens, Login and TokenLogin"),
        (name = "cybereason", description = "Cybereason: form login (JSESSIONID), the simulated sensor fleet, sensor actions, isolation and abort"),
        (name = "lacework-catalog", description = "Lacework Edge: the long tail of resource kinds (accesses, apps, cards, connectors, devices, groups, users, ...), served from one table"),
    )
)]
struct ApiDoc;

/// The PrivX `oauth` scheme (password and client-credentials flows against the local token
/// endpoint) and HTTP Basic for the client on the token endpoint.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scopes = || {
            Scopes::from_iter(
                ueba_core::auth::Role::ALL
                    .iter()
                    .map(|r| (r.scope().to_owned(), format!("PrivX scope {}", r.scope()))),
            )
        };
        let token_url = "/auth/api/v1/oauth/token";
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "oauth",
            SecurityScheme::OAuth2(OAuth2::new([
                Flow::Password(Password::new(token_url, scopes())),
                Flow::ClientCredentials(ClientCredentials::new(token_url, scopes())),
            ])),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::cybereason::session::SESSION_COOKIE,
            ))),
        );
        components.add_security_scheme(
            "basicAuth",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

/// Every route the listener serves, with its documentation.
pub fn api_router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::token))
        .routes(routes!(privx::get_status))
        .routes(routes!(privx::get_internal_status))
        .routes(routes!(privx::list_datasets, privx::create_dataset))
        .routes(routes!(
            privx::get_dataset,
            privx::update_dataset,
            privx::delete_dataset
        ))
        .routes(routes!(privx::train_dataset))
        .routes(routes!(privx::query_connection_count))
        .routes(routes!(privx::get_configuration, privx::set_configuration))
        .routes(routes!(
            privx::get_anomaly_settings,
            privx::set_anomaly_settings
        ))
        .routes(routes!(privx::start_analyzing))
        .routes(routes!(privx::stop_analyzing))
        .routes(routes!(privx::create_setup_session))
        .routes(routes!(privx::download_setup_script))
        .routes(routes!(
            workbench::ingest_connections,
            workbench::list_connections
        ))
        .routes(routes!(workbench::list_anomalies))
        .routes(routes!(workbench::get_journal))
        .routes(routes!(lw_alerts::query_alerts, lw_alerts::promote_alert))
        .routes(routes!(lw_alerts::get_alert))
        .routes(routes!(lw_alerts::alert_history, lw_alerts::perform_action))
        .routes(routes!(lw_alerts::perform_actions))
        .routes(routes!(lw_alerts::query_audit_events))
        .routes(routes!(lw_alerts::get_audit_event))
        .routes(routes!(
            lw_policies::query_policies,
            lw_policies::create_policy
        ))
        .routes(routes!(lw_policies::get_policy, lw_policies::update_policy))
        .routes(routes!(lw_tokens::query_tokens, lw_tokens::create_token))
        .routes(routes!(lw_tokens::create_temporary_token))
        .routes(routes!(lw_tokens::update_token))
        .routes(routes!(lw_tokens::login))
        .routes(routes!(lw_tokens::token_login))
        .routes(routes!(lw_lists::query_lists, lw_lists::create_list))
        .routes(routes!(lw_lists::get_list))
        .routes(routes!(lw_workflows::query_runs, lw_workflows::create_run))
        .routes(routes!(lw_workflows::get_run))
        .routes(routes!(lw_workflows::answer_run))
        .routes(routes!(
            lw_workflows::query_workflows,
            lw_workflows::create_workflow
        ))
        .routes(routes!(
            lw_workflows::get_workflow,
            lw_workflows::update_workflow
        ))
        .routes(routes!(cr_session::login_page, cr_session::login))
        .routes(routes!(cr_session::logout))
        .routes(routes!(cr_sensors::query_sensors))
        .routes(routes!(cr_sensors::start_action))
        .routes(routes!(cr_sensors::isolate))
        .routes(routes!(cr_sensors::unisolate))
        .routes(routes!(cr_sensors::all_actions))
        .routes(routes!(cr_sensors::abort))
        .routes(routes!(openapi_json))
        .merge(catalog_routes())
}

/// The long tail's routes (documented by [`crate::lacework::catalog::openapi_parts`]).
fn catalog_routes() -> OpenApiRouter<ApiState> {
    crate::lacework::catalog::routes()
        .into_iter()
        .fold(OpenApiRouter::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
}

/// The OpenAPI document: the annotated routes, plus the long tail's operations and the vendor
/// schemas they use (components `lw.*`), which come from the contract as written (kept as JSON:
/// the vendor schemas use JSON Schema keywords the typed model does not carry).
pub fn document() -> &'static serde_json::Value {
    static VALUE: LazyLock<serde_json::Value> = LazyLock::new(|| {
        let annotated = api_router().split_for_parts().1;
        let mut value = serde_json::to_value(&annotated).unwrap_or_default();
        let (paths, components) = crate::lacework::catalog::openapi_parts();
        if let Some(all) = value.get_mut("paths").and_then(|p| p.as_object_mut()) {
            all.extend(paths);
        }
        if let Some(all) = value
            .pointer_mut("/components/schemas")
            .and_then(|p| p.as_object_mut())
        {
            all.extend(components);
        }
        value
    });
    &VALUE
}

/// The OpenAPI document as JSON (serialised once).
fn document_json() -> &'static str {
    static JSON: LazyLock<String> =
        LazyLock::new(|| serde_json::to_string_pretty(document()).unwrap_or_else(|_| "{}".into()));
    &JSON
}

/// OpenAPI 3 document of every route this listener serves (no credentials needed).
#[utoipa::path(get, path = "/openapi.json", tag = "workbench",
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document_json(),
    )
}
