//! Customer datasets (Lacework Edge `/api/v1/datasets...`): the named lists policy filters use
//! through `list:NAME`; thin doors onto `ueba_core::response::lists`.

use axum::extract::{Path, State};
use serde::Serialize;
use ueba_core::response::lists::{self, CreateListRequest, CustomerDataset, ListWithItems};

use super::auth::{Caller, ManagePolicies, ReadAlerts};
use super::error::{ErrorMessage, LaceworkError};
use super::extract::{LwJson, LwQuery, NoQuery};
use crate::privx::run_blocking;
use crate::state::ApiState;

/// `{customer_datasets}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListList {
    /// Every list, by name.
    pub customer_datasets: Vec<CustomerDataset>,
}

/// Query customer datasets.
#[utoipa::path(get, path = "/api/v1/datasets", tag = "lacework-lists",
    responses(
        (status = 200, description = "Every customer dataset, by name", body = ListList),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read lists", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn query_lists(
    _caller: Caller<ReadAlerts>,
    State(state): State<ApiState>,
    LwQuery(NoQuery {}): LwQuery<NoQuery>,
) -> Result<axum::Json<ListList>, LaceworkError> {
    let customer_datasets = run_blocking(&state.store, |s| {
        lists::list(s).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(ListList { customer_datasets }))
}

/// Creates a new customer dataset (e.g. list); posting an existing name replaces its items.
#[utoipa::path(post, path = "/api/v1/datasets", tag = "lacework-lists",
    request_body = CreateListRequest,
    responses(
        (status = 200, description = "The dataset (its current_version is raised when it replaced one)", body = CustomerDataset),
        (status = 400, description = "A bad name or item (named)", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not manage lists", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn create_list(
    caller: Caller<ManagePolicies>,
    State(state): State<ApiState>,
    LwJson(request): LwJson<CreateListRequest>,
) -> Result<axum::Json<CustomerDataset>, LaceworkError> {
    let list = run_blocking(&state.store, move |s| {
        lists::create(s, &caller.actor, &request).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(list))
}

/// Get a customer dataset and its items.
#[utoipa::path(get, path = "/api/v1/datasets/{name}", tag = "lacework-lists",
    params(("name" = String, Path, description = "The dataset's name")),
    responses(
        (status = 200, description = "The dataset and every item", body = ListWithItems),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read lists", body = ErrorMessage),
        (status = 404, description = "No dataset of that name", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn get_list(
    _caller: Caller<ReadAlerts>,
    State(state): State<ApiState>,
    LwQuery(NoQuery {}): LwQuery<NoQuery>,
    Path(name): Path<String>,
) -> Result<axum::Json<ListWithItems>, LaceworkError> {
    let list = run_blocking(&state.store, move |s| {
        lists::get(s, &name).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(list))
}
