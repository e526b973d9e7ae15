//! The shared JSON and query extractors, answering in the Lacework shape.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::LaceworkError;
use crate::extract::{Json, Query};

/// A JSON request body (see [`crate::extract::Json`]); errors as `{"message": ...}`.
#[derive(Debug)]
pub struct LwJson<T>(pub T);

impl<S, T> FromRequest<S> for LwJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = LaceworkError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(value)| LwJson(value))
            .map_err(LaceworkError::from)
    }
}

/// Query parameters (see [`crate::extract::Query`]); errors as `{"message": ...}`.
#[derive(Debug)]
pub struct LwQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for LwQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = LaceworkError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| LwQuery(value))
            .map_err(LaceworkError::from)
    }
}

/// The query of a route the contract gives no parameters: any parameter is refused by name, as
/// the routes with documented parameters refuse the undocumented ones.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}
