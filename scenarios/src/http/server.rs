//! Serving the application: the correct server through `doppel::compat::hyper::serve_with`,
//! and the `conn-age` twin, which arms a connection-age write deadline at accept.

use std::io;
use std::time::Duration;

use doppel::compat::hyper::{serve_with, Options, Timer};
use doppel::net::{TcpListener, TcpStream};
use hyper_util::service::TowerToHyperService;

/// The twin's cap on a connection's age.
pub const MAX_AGE: Duration = Duration::from_millis(300);

/// Serves the application on `listener`; `twin` serves the `conn-age` twin.
pub async fn serve(listener: TcpListener, twin: bool) -> io::Result<()> {
    let service = TowerToHyperService::new(super::app::router());
    if !twin {
        return serve_with(listener, Options::default(), service).await;
    }
    doppel::net::serve(listener, move |conn: TcpStream| {
        let service = service.clone();
        async move {
            // The bug: the age cap is a write deadline on the whole connection, so the response
            // to a request that arrives shortly before it cannot be written.
            conn.set_write_deadline(Some(doppel::time::Instant::now() + MAX_AGE))?;
            let _ = conn.set_nodelay(true);
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(Timer)
                .auto_date_header(false)
                .serve_connection(conn, service)
                .await;
            Ok(())
        }
    })
    .await
}
