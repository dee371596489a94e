//! The `http` workload's axum `Router` over HTTP/2 (`serve_with` and `Http::Two`), called by a
//! hyper HTTP/2 client through `doppel::compat::hyper::Channel` as a tower service, in the
//! simulator under every random fault class: versioned writes, reads, several streams at once
//! on one connection.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use doppel::compat::hyper::{serve_with, Channel, Http, Options};
use doppel::net::TcpListener;
use doppel::sim::{check_seeds, FaultClass, FaultPlan, SimBuilder};
use doppel_scenarios::http::app::{router, Entry};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::service::TowerToHyperService;
use tower_service::Service;

/// One call on `channel`: the status and the entry answered.
async fn call(
    channel: &mut Channel<Full<Bytes>>,
    req: Request<Full<Bytes>>,
) -> io::Result<(StatusCode, Option<Entry>)> {
    futures::future::poll_fn(|cx| channel.poll_ready(cx))
        .await
        .map_err(io::Error::other)?;
    let resp = channel.call(req).await.map_err(io::Error::other)?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(io::Error::other)?
        .to_bytes();
    Ok((status, serde_json::from_slice(&body).ok()))
}

/// Client `id`: writes versions 1 to 6 of its key, reading each back, with three reads in
/// flight at once on the connection after each write; a lost connection ends the run (benign
/// faults never lose one).
async fn client(id: u64) -> io::Result<()> {
    let mut channel = Channel::connect("http://server:8080").await?;
    let path = format!("/kv/c{id}");
    for version in 1..=6u64 {
        let value = format!(
            "c{id}@{version}:{}",
            "x".repeat((version * 311 % 2000) as usize)
        );
        let body = serde_json::to_vec(&Entry {
            version,
            value: value.clone(),
        })?;
        let put = Request::builder()
            .method(Method::PUT)
            .uri(path.as_str())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(io::Error::other)?;
        let (status, wrote) = call(&mut channel, put).await?;
        assert_eq!(
            (status, wrote.as_ref().map(|e| e.version)),
            (StatusCode::OK, Some(version))
        );
        let reads = (0..3).map(|_| {
            let mut ch = channel.clone();
            let get = Request::get(path.as_str()).body(Full::new(Bytes::new()));
            async move { call(&mut ch, get.map_err(io::Error::other)?).await }
        });
        for read in futures::future::join_all(reads).await {
            let (status, entry) = read?;
            let want = Entry {
                version,
                value: value.clone(),
            };
            assert_eq!((status, entry), (StatusCode::OK, Some(want)));
        }
    }
    Ok(())
}

/// The router over HTTP/2 at host `server`, and three clients.
fn world(seed: u64) -> SimBuilder {
    let mut b = SimBuilder::new(seed).faults(FaultPlan::benign(0.05)).host(
        "server",
        "10.0.0.1",
        || async {
            let listener = TcpListener::bind("0.0.0.0:8080")?;
            let options = Options {
                http: Http::Two,
                ..Options::default()
            };
            serve_with(listener, options, TowerToHyperService::new(router())).await
        },
    );
    for id in 0..3u64 {
        b = b.client(
            &format!("c{id}"),
            &format!("10.0.1.{}", id + 1),
            move || client(id),
        );
    }
    b.time_limit(Duration::from_secs(60))
}

#[test]
fn the_axum_router_serves_http2_streams_under_faults() {
    let reports = check_seeds(0..200, world);
    for class in [
        FaultClass::ShortRead,
        FaultClass::ShortWrite,
        FaultClass::Stall,
    ] {
        let fired: u64 = reports.iter().map(|r| r.faults.get(class)).sum();
        assert!(fired > 0, "{class:?} never fired");
    }
}
