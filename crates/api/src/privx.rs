//! The PrivX UEBA surface (`/connection-manager/api/v1/ueba/...`): every handler checks the
//! caller's scope, reads its input and calls the core service the CLI and the desktop call.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use ueba_core::ueba::datasets::{self, ResultView, DEFAULT_BIN_COUNT, MAX_BIN_COUNT};
use ueba_core::ueba::status::{self, InternalStatus, ServiceStatus};
use ueba_core::ueba::training::{self, TrainOptions};
use ueba_core::ueba::{analysis, settings};
use ueba_core::ueba::{
    AnomalySettings, Dataset, DatasetInput, TimeRangeSettings, UebaConfiguration,
};
use ueba_core::Store;

use crate::auth::{AdminScope, Authorized, StopAnalyzingScope};
use crate::error::{ApiError, ErrorCode, PrivxError};
use crate::extract::{Json, Query};
use crate::state::ApiState;

/// A PrivX answer: JSON with every `null` member left out. The vendor's schemas declare nothing
/// nullable, and its clients expect an optional field without a value to be absent; the desktop
/// and the CLI keep seeing the same types with their nulls.
#[derive(Debug)]
pub struct PrivxJson<T>(pub T);

impl<T: Serialize> IntoResponse for PrivxJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_value(&self.0) {
            Ok(mut value) => {
                drop_nulls(&mut value);
                axum::Json(value).into_response()
            }
            Err(e) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::GeneralError,
                format!("the answer could not be written as JSON: {e}"),
            )
            .into_response(),
        }
    }
}

/// Removes the object members whose value is null, at every depth (array items stay).
fn drop_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(members) => {
            members.retain(|_, v| !v.is_null());
            members.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Runs blocking store work off the request threads.
pub(crate) async fn blocking<T, F>(store: &Arc<Store>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    run_blocking(store, f).await
}

/// The blocking task itself failed (it panicked): a 500 in each surface's shape.
#[derive(Debug)]
pub(crate) struct TaskFailed(pub String);

impl From<TaskFailed> for ApiError {
    fn from(e: TaskFailed) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::GeneralError,
            format!("internal error: {}", e.0),
        )
    }
}

/// [`blocking`] for any surface's error type.
pub(crate) async fn run_blocking<T, E, F>(store: &Arc<Store>, f: F) -> Result<T, E>
where
    F: FnOnce(&Store) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<TaskFailed> + Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| E::from(TaskFailed(e.to_string())))?
}

/// `{count, items}` of the dataset list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatasetList {
    /// Number of datasets.
    pub count: usize,
    /// The datasets.
    pub items: Vec<Dataset>,
}

/// `{id}` of a created object.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdResponse {
    /// Its id (UUID).
    pub id: String,
}

/// `{count}`: number of connections.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CountResponse {
    /// Number of connections to be used in training.
    pub count: u64,
}

/// Query of the dataset reads: how to present the training history.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DatasetView {
    /// Add the training log prints. Default false.
    pub logs: Option<bool>,
    /// How many bins from training history (1-10000). Default 50.
    #[param(minimum = 1, maximum = 10000)]
    pub bin_count: Option<i64>,
}

impl DatasetView {
    fn view(&self) -> Result<ResultView, ApiError> {
        let bins = self.bin_count.unwrap_or(DEFAULT_BIN_COUNT as i64);
        if !(1..=MAX_BIN_COUNT as i64).contains(&bins) {
            return Err(ApiError::invalid(
                ErrorCode::ValueOutOfBounds,
                "bin_count",
                format!("bin_count must be between 1 and {MAX_BIN_COUNT}, got {bins}"),
            ));
        }
        Ok(ResultView {
            logs: self.logs.unwrap_or(false),
            bin_count: bins as usize,
        })
    }
}

/// Query of the train route.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrainQuery {
    /// Start analyzing with this dataset when the training succeeds. Default false.
    pub set_active_after_training: Option<bool>,
}

fn empty_ok() -> Response {
    StatusCode::OK.into_response()
}

/// Get Ueba microservice status.
#[utoipa::path(get, path = "/connection-manager/api/v1/ueba/status", tag = "ueba-status",
    responses(
        (status = 200, description = "Microservice status OK", body = ServiceStatus),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn get_status(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
) -> Result<PrivxJson<Arc<ServiceStatus>>, ApiError> {
    // Polled status is answered from the last computation while nothing was written through
    // the store (and for at most 250 ms), without touching the database.
    if let Some(recent) = status::recent_service(&state.store) {
        return Ok(PrivxJson(recent));
    }
    blocking(&state.store, |s| Ok(status::service_shared(s)?))
        .await
        .map(PrivxJson)
}

/// Get Ueba microservice internal status.
#[utoipa::path(get, path = "/connection-manager/api/v1/ueba/status/internal", tag = "ueba-status",
    responses(
        (status = 200, description = "Ueba microservice detailed status", body = InternalStatus),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn get_internal_status(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
) -> Result<PrivxJson<InternalStatus>, ApiError> {
    blocking(&state.store, |s| Ok(status::internal(s)?))
        .await
        .map(PrivxJson)
}

/// Get dataset object list, possibility to filter training history.
#[utoipa::path(get, path = "/connection-manager/api/v1/ueba/datasets", tag = "ueba-train",
    params(DatasetView),
    responses(
        (status = 200, description = "Successful request, returns dataset list", body = DatasetList),
        (status = 400, description = "Bad request", body = PrivxError),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn list_datasets(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Query(query): Query<DatasetView>,
) -> Result<PrivxJson<DatasetList>, ApiError> {
    let view = query.view()?;
    let items = blocking(&state.store, move |s| Ok(datasets::list(s, view)?)).await?;
    Ok(PrivxJson(DatasetList {
        count: items.len(),
        items,
    }))
}

/// Save new dataset definition. Note training requires separate action.
#[utoipa::path(post, path = "/connection-manager/api/v1/ueba/datasets", tag = "ueba-train",
    request_body = DatasetInput,
    responses(
        (status = 201, description = "Dataset created", body = IdResponse),
        (status = 400, description = "Bad request", body = PrivxError),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 413, description = "Request body too large", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn create_dataset(
    auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Json(input): Json<DatasetInput>,
) -> Result<(StatusCode, PrivxJson<IdResponse>), ApiError> {
    let actor = auth.principal.subject;
    let id = blocking(&state.store, move |s| {
        Ok(datasets::create(s, &input, Some(&actor))?)
    })
    .await?;
    Ok((StatusCode::CREATED, PrivxJson(IdResponse { id })))
}

/// Get dataset by id, possibility to filter training history.
#[utoipa::path(get, path = "/connection-manager/api/v1/ueba/datasets/{dataset_id}", tag = "ueba-train",
    params(("dataset_id" = String, Path, description = "Dataset id"), DatasetView),
    responses(
        (status = 200, description = "Successful request, returns the dataset", body = Dataset),
        (status = 400, description = "Bad request", body = PrivxError),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 404, description = "Resource not found", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn get_dataset(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Path(dataset_id): Path<String>,
    Query(query): Query<DatasetView>,
) -> Result<PrivxJson<Dataset>, ApiError> {
    let view = query.view()?;
    blocking(&state.store, move |s| {
        Ok(datasets::get(s, &dataset_id, view)?)
    })
    .await
    .map(PrivxJson)
}

/// Update dataset. Empties its training history and deletes its trained weights; does not train.
#[utoipa::path(put, path = "/connection-manager/api/v1/ueba/datasets/{dataset_id}", tag = "ueba-train",
    params(("dataset_id" = String, Path, description = "Dataset id")),
    request_body = DatasetInput,
    responses(
        (status = 200, description = "Dataset updated"),
        (status = 400, description = "Bad request", body = PrivxError),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 404, description = "Resource not found", body = PrivxError),
        (status = 409, description = "The dataset is active (used for inference)", body = PrivxError),
        (status = 413, description = "Request body too large", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn update_dataset(
    auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Path(dataset_id): Path<String>,
    Json(input): Json<DatasetInput>,
) -> Result<Response, ApiError> {
    let actor = auth.principal.subject;
    blocking(&state.store, move |s| {
        datasets::update(s, &dataset_id, &input, Some(&actor), ResultView::default())?;
        Ok(())
    })
    .await?;
    Ok(empty_ok())
}

/// Delete dataset.
#[utoipa::path(delete, path = "/connection-manager/api/v1/ueba/datasets/{dataset_id}", tag = "ueba-train",
    params(("dataset_id" = String, Path, description = "Dataset id")),
    responses(
        (status = 200, description = "Dataset deleted"),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 404, description = "Resource not found", body = PrivxError),
        (status = 409, description = "The dataset is active (used for inference)", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn delete_dataset(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Path(dataset_id): Path<String>,
) -> Result<Response, ApiError> {
    blocking(&state.store, move |s| Ok(datasets::delete(s, &dataset_id)?)).await?;
    Ok(empty_ok())
}

/// Train or retrain a saved dataset. Answers at once with the number of connections the
/// training uses; the training runs in the background (watch `status/internal`).
#[utoipa::path(post, path = "/connection-manager/api/v1/ueba/train/{dataset_id}", tag = "ueba-train",
    params(("dataset_id" = String, Path, description = "Dataset id"), TrainQuery),
    responses(
        (status = 200, description = "Training initiated", body = CountResponse),
        (status = 400, description = "Bad request", body = PrivxError),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 404, description = "Resource not found", body = PrivxError),
        (status = 409, description = "Training is already on-going", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn train_dataset(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Path(dataset_id): Path<String>,
    Query(query): Query<TrainQuery>,
) -> Result<PrivxJson<CountResponse>, ApiError> {
    let options = TrainOptions {
        set_active_after_training: query.set_active_after_training.unwrap_or(false),
        ..TrainOptions::default()
    };
    let keeper = state.clone();
    let count = blocking(&state.store, move |s| {
        let window = datasets::time_range_settings(s, &dataset_id)?;
        let count = datasets::count_connections(s, &window)?;
        let run = training::start(
            Arc::clone(&keeper.store),
            &dataset_id,
            options,
            Box::new(|_| {}),
        )?;
        keeper.keep_training(run);
        Ok(count)
    })
    .await?;
    Ok(PrivxJson(CountResponse { count }))
}

/// Get number of connections for dataset with given parameters. All connections, if json
/// empty in body.
#[utoipa::path(post, path = "/connection-manager/api/v1/ueba/query-connection-count", tag = "ueba-train",
    request_body = TimeRangeSettings,
    responses(
        (status = 200, description = "Connection count for specified filters", body = CountResponse),
        (status = 400, description = "Bad request", body = PrivxError),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 413, description = "Request body too large", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn query_connection_count(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Json(range): Json<TimeRangeSettings>,
) -> Result<PrivxJson<CountResponse>, ApiError> {
    let count = blocking(&state.store, move |s| {
        datasets::count_connections(s, &range).map_err(|e| {
            // This body is the time range itself, not a dataset: name its own property.
            let mut error = ApiError::from(e);
            if let Some(p) = error.body.property.clone() {
                let own = p
                    .strip_prefix("time_range_settings.")
                    .unwrap_or(&p)
                    .to_owned();
                error.body.error_message =
                    error.body.error_message.replace("time_range_settings.", "");
                error.body.property = Some(own);
            }
            error
        })
    })
    .await?;
    Ok(PrivxJson(CountResponse { count }))
}

/// Get Ueba configurations.
#[utoipa::path(get, path = "/connection-manager/api/v1/ueba/configure", tag = "ueba-management",
    responses(
        (status = 200, description = "Configuration file for UEBA install script", body = UebaConfiguration),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn get_configuration(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
) -> Result<PrivxJson<UebaConfiguration>, ApiError> {
    blocking(&state.store, |s| Ok(settings::configuration(s)?))
        .await
        .map(PrivxJson)
}

/// Set Ueba configurations.
#[utoipa::path(post, path = "/connection-manager/api/v1/ueba/configure", tag = "ueba-management",
    request_body = UebaConfiguration,
    responses(
        (status = 200, description = "Successfully set given Ueba configurations"),
        (status = 400, description = "Bad request", body = PrivxError),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 413, description = "Request body too large", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn set_configuration(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Json(configuration): Json<UebaConfiguration>,
) -> Result<Response, ApiError> {
    blocking(&state.store, move |s| {
        Ok(settings::save_configuration(s, &configuration)?)
    })
    .await?;
    Ok(empty_ok())
}

/// Anomaly settings (get).
#[utoipa::path(get, path = "/connection-manager/api/v1/ueba/anomaly-settings", tag = "ueba-management",
    responses(
        (status = 200, description = "Returns anomaly settings", body = AnomalySettings),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn get_anomaly_settings(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
) -> Result<PrivxJson<AnomalySettings>, ApiError> {
    blocking(&state.store, |s| Ok(settings::anomaly_settings(s)?))
        .await
        .map(PrivxJson)
}

/// Anomaly settings (set): `action` BLOCK or AUDIT, `threshold` between 0.0 (loose) and 1.0
/// (strict); both required.
#[utoipa::path(post, path = "/connection-manager/api/v1/ueba/anomaly-settings", tag = "ueba-management",
    request_body = AnomalySettings,
    responses(
        (status = 200, description = "Anomaly settings saved"),
        (status = 400, description = "Bad request", body = PrivxError),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 413, description = "Request body too large", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn set_anomaly_settings(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Json(new_settings): Json<AnomalySettings>,
) -> Result<Response, ApiError> {
    blocking(&state.store, move |s| {
        Ok(settings::save_anomaly_settings(s, &new_settings)?)
    })
    .await?;
    Ok(empty_ok())
}

/// Start analyzing connections with a saved dataset. Fails if training not done, has not
/// finished or failed.
#[utoipa::path(post, path = "/connection-manager/api/v1/ueba/start-analyzing/{dataset_id}", tag = "ueba-management",
    params(("dataset_id" = String, Path, description = "dataset_id to run")),
    responses(
        (status = 200, description = "successful response"),
        (status = 400, description = "Bad request: the dataset is not trained or its training failed", body = PrivxError),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 404, description = "Resource not found", body = PrivxError),
        (status = 409, description = "Its training has not finished", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn start_analyzing(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Path(dataset_id): Path<String>,
) -> Result<Response, ApiError> {
    blocking(&state.store, move |s| {
        analysis::start(s, &dataset_id)?;
        Ok(())
    })
    .await?;
    Ok(empty_ok())
}

/// Stop analyzing connection anomalies.
#[utoipa::path(post, path = "/connection-manager/api/v1/ueba/stop-analyzing", tag = "ueba-management",
    responses(
        (status = 200, description = "anomaly analysis stopped"),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 500, description = "Internal server error", body = PrivxError),
    ),
    security(("oauth" = ["admin", "connectionsView", "service", "user"])))]
pub async fn stop_analyzing(
    _auth: Authorized<StopAnalyzingScope>,
    State(state): State<ApiState>,
) -> Result<Response, ApiError> {
    blocking(&state.store, |s| {
        analysis::stop(s)?;
        Ok(())
    })
    .await?;
    Ok(empty_ok())
}

/// Create session ID for Ueba setup script.
#[utoipa::path(post, path = "/connection-manager/api/v1/ueba/setup-script", tag = "ueba-setup",
    responses(
        (status = 200, description = "Session ID", body = IdResponse),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn create_setup_session(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
) -> PrivxJson<IdResponse> {
    PrivxJson(IdResponse {
        id: state.new_setup_session(),
    })
}

/// Download Ueba setup script: a shell script that saves this workbench's CA certificate (when
/// TLS is on), checks the listener and prints how to point the PrivX SDKs and scripts at it.
#[utoipa::path(get, path = "/connection-manager/api/v1/ueba/setup-script/{session_id}", tag = "ueba-setup",
    params(("session_id" = String, Path, description = "Session id from POST setup-script (valid 10 minutes)")),
    responses(
        (status = 200, description = "The setup script", content_type = "text/x-shellscript", body = String),
        (status = 401, description = "Unauthorized request, OAuth2 authorization missing or invalid", body = PrivxError),
        (status = 403, description = "Unauthorized request, OAuth2 authorization OK but scope insufficient", body = PrivxError),
        (status = 404, description = "Unknown or expired session id", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn download_setup_script(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Path(session_id): Path<String>,
) -> Result<Response, ApiError> {
    if !state.setup_session_valid(&session_id) {
        return Err(ApiError::not_found(format!(
            "setup-script session {session_id} is unknown or expired; create one with POST /connection-manager/api/v1/ueba/setup-script"
        )));
    }
    let script = crate::setup_script::render(&state.public_url, state.ca_pem.as_deref());
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/x-shellscript; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"ueba-{session_id}-startup.sh\""),
            ),
        ],
        script,
    )
        .into_response())
}
