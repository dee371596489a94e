//! Workloads: a server (correct, or one of its buggy twins) and the checking client that drives
//! it, by name. Specs name a workload, the command lists and runs them, and both backends run
//! the very same server and client code. A user's crate implements [`Workload`] for its own
//! server and hands it to [`crate::Cli::workload`]; its TOML specs then name it.
//!
//! A client checks the workload's invariants as it goes and returns an error naming the one
//! that broke (a byte lost, duplicated or reordered; a request answered twice or not at all; an
//! acknowledged write not visible to a later read). A run fails when any client fails.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use doppel_core::net::{TcpListener, UdpSocket};

/// A server's or client's main, boxed so workloads of different types share one registry.
pub type Task = Pin<Box<dyn Future<Output = io::Result<()>>>>;

/// How hard the clients push: a spec's `[load]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Load {
    /// How many clients (each its own host in the simulator, its own connection on loopback).
    pub clients: u32,
    /// Requests (round trips, commands, messages) per client.
    pub rounds: u32,
    /// The largest message or value, in bytes.
    pub max_size: usize,
    /// Requests a client sends before reading replies (1: one at a time; more: pipelining).
    pub pipeline: u32,
    /// How many times a client may reconnect after a reset, refusal or timeout: a correct
    /// server's clients survive the faults that end connections.
    pub reconnects: u32,
    /// How long a client waits for each reply before it calls the server stuck.
    pub deadline: Option<Duration>,
}

impl Default for Load {
    fn default() -> Self {
        Load {
            clients: 4,
            rounds: 20,
            max_size: 4096,
            pipeline: 1,
            reconnects: 0,
            deadline: Some(Duration::from_secs(5)),
        }
    }
}

/// One server a workload can run: the correct one, or a buggy twin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    /// The name specs and the command use (`correct`, `framing`, ...).
    pub name: &'static str,
    /// What it does wrong, and the public bug it mirrors (empty for the correct server).
    pub about: &'static str,
}

/// What a workload's server listens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A TCP listener: [`Workload::server`].
    Tcp,
    /// A bound UDP socket: [`Workload::server_udp`].
    Udp,
}

/// The variant every workload has first.
pub const CORRECT: Variant = Variant {
    name: "correct",
    about: "",
};

/// A server and its checking client, as specs name them.
///
/// ```
/// use std::net::SocketAddr;
/// use doppel_cli::{Load, Task, Variant, Workload, CORRECT};
/// use doppel_core::net::TcpListener;
///
/// struct Hello;
/// impl Workload for Hello {
///     fn name(&self) -> &'static str { "hello" }
///     fn about(&self) -> &'static str { "says hello once per connection" }
///     fn variants(&self) -> &'static [Variant] { &[CORRECT] }
///     fn server(&self, _variant: usize, listener: TcpListener) -> Task {
///         Box::pin(async move {
///             loop {
///                 let (conn, _) = listener.accept().await?;
///                 conn.write_all(b"hello\n").await?;
///             }
///         })
///     }
///     fn client(&self, server: SocketAddr, _id: u64, _load: &Load) -> Task {
///         Box::pin(async move {
///             let conn = doppel_core::net::TcpStream::connect(server).await?;
///             let mut buf = [0u8; 6];
///             let mut got = 0;
///             while got < 6 {
///                 match conn.read(&mut buf[got..]).await? {
///                     0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
///                     n => got += n,
///                 }
///             }
///             if &buf != b"hello\n" {
///                 return Err(std::io::Error::other("not a hello"));
///             }
///             Ok(())
///         })
///     }
/// }
/// let spec = doppel_cli::Spec::parse_with("hello.toml", "workload = \"hello\"", &[&Hello]).unwrap();
/// assert_eq!(spec.world(1).run().unwrap().clients.len(), 4);
/// ```
pub trait Workload: Sync {
    /// The name specs and the command use.
    fn name(&self) -> &'static str;
    /// One line on what it exercises.
    fn about(&self) -> &'static str;
    /// Its servers: [`CORRECT`] first, then the buggy twins.
    fn variants(&self) -> &'static [Variant];
    /// The port its server listens on in the simulator (the real backend picks a free one).
    fn port(&self) -> u16 {
        7000
    }
    /// What its server listens on: TCP (the default) or UDP.
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    /// The server's main for `variant` (an index into [`Workload::variants`]) on a bound
    /// listener. It runs until the run ends. A UDP workload leaves the default, which fails.
    fn server(&self, variant: usize, listener: TcpListener) -> Task {
        let _ = (variant, listener);
        no_server(self.name(), "TCP")
    }
    /// The server's main for `variant` on a bound UDP socket, for a workload whose
    /// [`Workload::transport`] is [`Transport::Udp`]. The default fails.
    fn server_udp(&self, variant: usize, socket: UdpSocket) -> Task {
        let _ = (variant, socket);
        no_server(self.name(), "UDP")
    }
    /// Client `id`'s main: drives the server at `server` as `load` says, checking the
    /// invariants; an error names what broke.
    fn client(&self, server: SocketAddr, id: u64, load: &Load) -> Task;
    /// The modules (`module_path!()` prefixes) whose `always!`, `sometimes!` and `reachable!`
    /// assertions a sweep of this workload must see covered. The default, none, takes every
    /// assertion linked into the binary; a binary with several workloads names each one's own
    /// (`&["my_server::cache"]`), so one workload's sweep does not report another's as unrun.
    fn coverage_scope(&self) -> &'static [&'static str] {
        &[]
    }
}

/// The main of a server a workload does not have on `transport`: it fails, saying so.
fn no_server(name: &'static str, transport: &'static str) -> Task {
    Box::pin(async move {
        Err(io::Error::other(format!(
            "workload {name} has no {transport} server"
        )))
    })
}

/// Binds `workload`'s server at `addr` on its transport: its main, and where it listens.
pub fn bind_server(
    workload: &'static dyn Workload,
    variant: usize,
    addr: SocketAddr,
) -> io::Result<(Task, SocketAddr)> {
    match workload.transport() {
        Transport::Tcp => {
            let listener = TcpListener::bind(addr)?;
            let at = listener.local_addr()?;
            Ok((workload.server(variant, listener), at))
        }
        Transport::Udp => {
            let socket = UdpSocket::bind(addr)?;
            let at = socket.local_addr()?;
            Ok((workload.server_udp(variant, socket), at))
        }
    }
}

/// The workload called `name` among `known`; the error lists the known ones.
pub fn find(known: &[&'static dyn Workload], name: &str) -> Result<&'static dyn Workload, String> {
    known
        .iter()
        .copied()
        .find(|w| w.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = known.iter().map(|w| w.name()).collect();
            format!("unknown workload {name:?} (known: {})", names.join(", "))
        })
}

/// The index of `workload`'s variant called `name`; the error lists the known ones.
pub fn variant(workload: &dyn Workload, name: &str) -> Result<usize, String> {
    let vs = workload.variants();
    vs.iter().position(|v| v.name == name).ok_or_else(|| {
        let known: Vec<&str> = vs.iter().map(|v| v.name).collect();
        format!(
            "workload {} has no variant {name:?} (known: {})",
            workload.name(),
            known.join(", ")
        )
    })
}
