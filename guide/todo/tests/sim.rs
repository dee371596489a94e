//! The to-do API in the simulator, under faults: a hyper client on host `client` reaches host
//! `server` by name, makes five items, finishes two, and checks the list; every seed runs twice
//! and must give the same run.

use std::io;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use todo::{NewTodo, Todo};

/// One request on `sender`; the answer's status and JSON body.
async fn call<T: serde::de::DeserializeOwned>(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    method: Method,
    path: &str,
    body: Vec<u8>,
) -> io::Result<(StatusCode, T)> {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "server")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(io::Error::other)?;
    let resp = sender.send_request(req).await.map_err(io::Error::other)?;
    let status = resp.status();
    let body = resp.into_body().collect().await.map_err(io::Error::other)?;
    let value = serde_json::from_slice(&body.to_bytes()).map_err(io::Error::other)?;
    Ok((status, value))
}

#[doppel::test(
    seeds = 0..300,
    faults = "benign=0.05",
    server = async { todo::serve(doppel::net::TcpListener::bind("0.0.0.0:3000")?).await }
)]
async fn todos_survive_benign_faults() -> io::Result<()> {
    let conn = doppel::net::TcpStream::connect("server:3000").await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(conn)
        .await
        .map_err(io::Error::other)?;
    drop(doppel::spawn(connection));
    for i in 1..=5u64 {
        let new = serde_json::to_vec(&NewTodo {
            title: format!("task {i}"),
        })?;
        let (status, todo): (_, Todo) = call(&mut sender, Method::POST, "/todos", new).await?;
        assert_eq!((status, todo.id), (StatusCode::CREATED, i));
    }
    for id in [2, 4] {
        let (status, todo): (_, Todo) = call(
            &mut sender,
            Method::PUT,
            &format!("/todos/{id}/done"),
            Vec::new(),
        )
        .await?;
        assert!(status == StatusCode::OK && todo.done);
    }
    let (_, todos): (_, Vec<Todo>) = call(&mut sender, Method::GET, "/todos", Vec::new()).await?;
    let done: Vec<u64> = todos.iter().filter(|t| t.done).map(|t| t.id).collect();
    assert_eq!((todos.len(), done), (5, vec![2, 4]));
    Ok(())
}
