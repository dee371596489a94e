//! The `Ledger` service and `serve`, which runs it over HTTP/2 on every connection a listener
//! accepts.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use doppel::compat::hyper::{serve_with, Http, Options};
use doppel::net::TcpListener;
use futures::Stream;
use hyper_util::service::TowerToHyperService;
use tonic::{Request, Response, Status};

use super::pb::ledger_server::{Ledger, LedgerServer};
use super::pb::{Appended, HistoryRequest, Record};

/// Every key's records, shared by the connections (on a group of reactors, across threads).
#[derive(Clone, Debug, Default)]
pub struct Service {
    /// Each key's records, version 1 first.
    keys: Arc<Mutex<BTreeMap<String, Vec<Record>>>>,
}

/// Stores `r` in `held` if it is the next version; a stored version is answered again if it
/// wrote the same value.
fn append(held: &mut Vec<Record>, r: Record) -> Result<Appended, Status> {
    let (count, version) = (held.len() as u64, r.version);
    if r.version == count + 1 {
        held.push(r);
    } else if r.version == 0 || r.version > count {
        return Err(Status::failed_precondition(format!(
            "{}: holds {count} versions, so version {} is not next",
            r.key, r.version
        )));
    } else if held[(r.version - 1) as usize].value != r.value {
        return Err(Status::failed_precondition(format!(
            "{}: version {} holds another value",
            r.key, r.version
        )));
    }
    Ok(Appended {
        version,
        records: held.len() as u64,
    })
}

#[tonic::async_trait]
impl Ledger for Service {
    async fn append(&self, req: Request<Record>) -> Result<Response<Appended>, Status> {
        let r = req.into_inner();
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        append(keys.entry(r.key.clone()).or_default(), r).map(Response::new)
    }

    type HistoryStream = Pin<Box<dyn Stream<Item = Result<Record, Status>> + Send>>;

    async fn history(
        &self,
        req: Request<HistoryRequest>,
    ) -> Result<Response<Self::HistoryStream>, Status> {
        let key = req.into_inner().key;
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let records = keys.get(&key).cloned().unwrap_or_default();
        let stream = futures::stream::iter(records.into_iter().map(Ok));
        Ok(Response::new(Box::pin(stream)))
    }
}

/// Serves the ledger on `listener`, HTTP/2 with prior knowledge (what gRPC clients speak).
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    serve_ledger(listener, Service::default()).await
}

/// Serves any implementation of the `Ledger` service on `listener` (a test's wrong one, say).
pub async fn serve_ledger<L: Ledger>(listener: TcpListener, ledger: L) -> io::Result<()> {
    let service = TowerToHyperService::new(LedgerServer::new(ledger));
    let options = Options {
        http: Http::Two,
        ..Options::default()
    };
    serve_with(listener, options, service).await
}
