//! The axum application: a versioned key-value store. `PUT /kv/{key}` with `{"version": v,
//! "value": s}` stores it if `v` is newer than what the key holds and answers what the key
//! holds now; `GET /kv/{key}` answers it, or 404. A request that takes longer than the
//! request timeout is answered `503`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

/// What a key holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The newest version written.
    pub version: u64,
    /// What that version wrote.
    pub value: String,
}

/// Every key, shared by the connections (on a group of reactors, across threads).
#[derive(Clone, Debug, Default)]
pub struct Store(Arc<Mutex<BTreeMap<String, Entry>>>);

/// How long a request may take before it is answered `503`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// `PUT /kv/{key}`: keeps the newer of what the key holds and what is written.
async fn write(
    State(store): State<Store>,
    Path(key): Path<String>,
    Json(e): Json<Entry>,
) -> Json<Entry> {
    let mut map = store.0.lock().unwrap_or_else(PoisonError::into_inner);
    let held = map.entry(key).or_default();
    if e.version > held.version {
        *held = e;
    }
    Json(held.clone())
}

/// `GET /kv/{key}`.
async fn read(
    State(store): State<Store>,
    Path(key): Path<String>,
) -> Result<Json<Entry>, StatusCode> {
    let map = store.0.lock().unwrap_or_else(PoisonError::into_inner);
    map.get(&key)
        .cloned()
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}

/// Answers `503` when the rest of the stack takes longer than [`REQUEST_TIMEOUT`]. axum wants
/// `Send` futures, so the timer is a `doppel::time::SendSleep`.
async fn request_timeout(req: Request, next: Next) -> Response {
    let run = Box::pin(next.run(req));
    let timer = doppel::time::sleep_send(REQUEST_TIMEOUT);
    match futures::future::select(run, timer).await {
        futures::future::Either::Left((resp, _)) => resp,
        futures::future::Either::Right(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// The application.
pub fn router() -> Router {
    Router::new()
        .route("/kv/{key}", put(write).get(read))
        .with_state(Store::default())
        .layer(axum::middleware::from_fn(request_timeout))
}
