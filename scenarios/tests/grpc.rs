//! tonic on doppel: the `grpc` workload's service and client in a simulated world whose client
//! reaches the server by host name (`http://server:50051`), under every random fault class; the
//! checker catching a history that loses a record; `Channel`'s errors for a bad origin and an
//! unknown host; and the same service and client on epoll through `localhost`.

use std::io;
use std::pin::Pin;
use std::time::Duration;

use doppel::compat::hyper::Channel;
use doppel::net::TcpListener;
use doppel::sim::{check_seeds, FaultClass, FaultPlan, SimBuilder, SimError};
use doppel_scenarios::grpc::pb::ledger_server::Ledger;
use doppel_scenarios::grpc::pb::{Appended, HistoryRequest, Record};
use doppel_scenarios::grpc::{client, service};
use doppel_scenarios::workload::Load;
use futures::{Stream, StreamExt};
use tonic::{Request, Response, Status};

/// Three keys per client, histories up to five records, values up to 2 KB.
fn load() -> Load {
    Load {
        clients: 3,
        rounds: 15,
        max_size: 2000,
        pipeline: 1,
        reconnects: 60,
        deadline: Some(Duration::from_secs(5)),
    }
}

/// A world of the server at `server` and three clients that name it.
fn world(seed: u64, wrong: bool) -> SimBuilder {
    let mut b = SimBuilder::new(seed).host("server", "10.0.0.1", move || async move {
        let listener = TcpListener::bind("0.0.0.0:50051")?;
        if wrong {
            service::serve_ledger(listener, Forgetful(service::Service::default())).await
        } else {
            service::serve(listener).await
        }
    });
    for id in 0..3u64 {
        b = b.client(
            &format!("c{id}"),
            &format!("10.0.1.{}", id + 1),
            move || client::run("http://server:50051".to_string(), id, load()),
        );
    }
    b.time_limit(Duration::from_secs(120))
}

#[test]
fn tonic_clients_pass_every_seed_under_every_fault_class() {
    let reports = check_seeds(0..300, |seed| {
        world(seed, false).faults(FaultPlan::all(0.02))
    });
    for class in [
        FaultClass::Reset,
        FaultClass::ShortRead,
        FaultClass::ShortWrite,
        FaultClass::Stall,
        FaultClass::AcceptAbort,
    ] {
        let fired: u64 = reports.iter().map(|r| r.faults.get(class)).sum();
        assert!(fired > 0, "{class:?} never fired");
    }
}

/// The ledger, but its histories leave out version 2.
#[derive(Debug)]
struct Forgetful(service::Service);

#[tonic::async_trait]
impl Ledger for Forgetful {
    async fn append(&self, req: Request<Record>) -> Result<Response<Appended>, Status> {
        self.0.append(req).await
    }

    type HistoryStream = Pin<Box<dyn Stream<Item = Result<Record, Status>> + Send>>;

    async fn history(
        &self,
        req: Request<HistoryRequest>,
    ) -> Result<Response<Self::HistoryStream>, Status> {
        let all = self.0.history(req).await?.into_inner();
        let kept = all.filter(|r| futures::future::ready(!matches!(r, Ok(r) if r.version == 2)));
        Ok(Response::new(Box::pin(kept)))
    }
}

#[test]
fn the_checker_catches_a_history_that_loses_a_record() {
    match world(0, true).run() {
        Err(SimError::Failed(f)) => {
            let text = f.to_string();
            assert!(
                text.contains("history has versions [1], not 1..=2"),
                "{text}"
            );
        }
        other => panic!("the forgetful ledger passed: {other:?}"),
    }
}

#[test]
fn a_bad_origin_and_an_unknown_host_are_named() {
    let world = SimBuilder::new(1)
        .host("server", "10.0.0.1", || async {
            let listener = TcpListener::bind("0.0.0.0:50051")?;
            service::serve(listener).await
        })
        .client("c0", "10.0.1.1", || async {
            let bad = Channel::<tonic::body::Body>::connect("server:50051")
                .await
                .expect_err("no scheme");
            assert_eq!(bad.kind(), io::ErrorKind::InvalidInput, "{bad}");
            assert!(bad.to_string().contains("\"server:50051\""), "{bad}");
            let unknown = Channel::<tonic::body::Body>::connect("http://nowhere:50051")
                .await
                .expect_err("no such host");
            assert!(
                unknown
                    .to_string()
                    .contains("nowhere: failed to lookup address information"),
                "{unknown}"
            );
            let ok = Channel::<tonic::body::Body>::connect("http://server:50051").await?;
            assert!(!ok.is_closed());
            Ok(())
        });
    world.run().expect("the named errors");
}

#[test]
fn the_service_and_client_run_on_epoll_through_localhost() {
    doppel::real::runtime()
        .unwrap()
        .block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let port = listener.local_addr()?.port();
            let server = doppel::spawn(service::serve(listener));
            let origin = format!("http://localhost:{port}");
            for id in 0..3 {
                client::run(origin.clone(), id, load()).await?;
            }
            drop(server);
            Ok::<(), io::Error>(())
        })
        .unwrap();
}
