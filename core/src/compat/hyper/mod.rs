//! hyper 1.x on doppel (feature `hyper`): hyper's `Read` and `Write` on [`TcpStream`] itself (no
//! wrapper), an [`Executor`] that spawns on the current reactor (HTTP/2 needs one), a [`Timer`]
//! on the scheduler's clock (virtual in the simulator, so hyper's header-read and keep-alive
//! timeouts fire on virtual time), and [`serve`], an accept loop for a hyper service through
//! `doppel::net::serve`, so it also runs on a group of reactors; and [`Channel`], one HTTP/2
//! client connection as a tower service, for tonic's generated clients.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use hyper::{body::Incoming, Request, Response};
//!
//! async fn hello(_req: Request<Incoming>) -> Result<Response<String>, Infallible> {
//!     Ok(Response::new("hello\n".to_string()))
//! }
//!
//! /// Serves `hello` on port 8080; run it with `doppel::real::runtime()?.block_on(..)`, or as a
//! /// host of a simulated world.
//! async fn server() -> std::io::Result<()> {
//!     let listener = doppel_core::net::TcpListener::bind("127.0.0.1:8080")?;
//!     let service = hyper::service::service_fn(hello);
//!     doppel_core::compat::hyper::serve(listener, service).await
//! }
//! ```
//!
//! [`TcpStream`]: crate::net::TcpStream

mod channel;
mod executor;
mod io;
mod serve;
mod timer;

pub use channel::{Channel, ResponseFuture};
pub use executor::Executor;
pub use serve::{serve, serve_with, Http, Options};
pub use timer::Timer;
