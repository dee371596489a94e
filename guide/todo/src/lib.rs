//! A to-do API on axum, served by doppel: the same `app()` runs on epoll (`src/main.rs`) and
//! in the simulator under faults (`tests/sim.rs`), and curl talks to it (`tests/curl.rs`).
//!
//! | item      | what                                                            |
//! |-----------|-----------------------------------------------------------------|
//! | [`app`]   | the axum `Router`: `POST /todos`, `GET /todos`, `PUT /todos/{id}/done` |
//! | [`serve`] | the router through hyper on doppel, on every connection accepted |

use std::io;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

/// A to-do item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Todo {
    /// Its number, from 1, in the order they were made.
    pub id: u64,
    /// What to do.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
}

/// What `POST /todos` takes.
#[derive(Debug, Serialize, Deserialize)]
pub struct NewTodo {
    /// What to do.
    pub title: String,
}

/// The items, shared by every connection.
type Todos = Arc<Mutex<Vec<Todo>>>;

/// `POST /todos`: a new item, `201 Created`.
async fn create(State(todos): State<Todos>, Json(new): Json<NewTodo>) -> (StatusCode, Json<Todo>) {
    let mut todos = todos.lock().unwrap();
    let todo = Todo {
        id: todos.len() as u64 + 1,
        title: new.title,
        done: false,
    };
    todos.push(todo.clone());
    (StatusCode::CREATED, Json(todo))
}

/// `GET /todos`: every item.
async fn list(State(todos): State<Todos>) -> Json<Vec<Todo>> {
    Json(todos.lock().unwrap().clone())
}

/// `PUT /todos/{id}/done`: marks an item done, or `404`.
async fn finish(State(todos): State<Todos>, Path(id): Path<u64>) -> Result<Json<Todo>, StatusCode> {
    let mut todos = todos.lock().unwrap();
    let todo = todos
        .iter_mut()
        .find(|t| t.id == id)
        .ok_or(StatusCode::NOT_FOUND)?;
    todo.done = true;
    Ok(Json(todo.clone()))
}

/// The application: an ordinary axum `Router`, nothing doppel-specific in it.
pub fn app() -> Router {
    Router::new()
        .route("/todos", get(list).post(create))
        .route("/todos/{id}/done", put(finish))
        .with_state(Todos::default())
}

/// Serves [`app`] over HTTP/1.1 on every connection `listener` accepts, on whichever backend
/// runs it: epoll/kqueue in `main`, the simulator in the tests.
pub async fn serve(listener: doppel::net::TcpListener) -> io::Result<()> {
    let service = hyper_util::service::TowerToHyperService::new(app());
    doppel::compat::hyper::serve(listener, service).await
}
