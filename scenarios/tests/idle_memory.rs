//! What an idle kv connection holds: its session's future, kept small (see `kv::server`'s
//! docs and the README's "What an idle kv connection holds"). A change that makes the future
//! hold its state twice over, or a read's future beside a write's, fails here.

use doppel_scenarios::kv::{self, Config, Variant};

/// The kv session's future at the time of writing was 320 bytes on x86_64; the bound leaves
/// room for small changes, not for a second copy of the session (168 bytes).
const MAX_SESSION_FUTURE: usize = 400;

#[test]
fn a_kv_sessions_future_stays_small() {
    let rt = doppel::real::runtime().expect("a runtime");
    let size = rt
        .block_on(async {
            let l = doppel::net::TcpListener::bind("127.0.0.1:0")?;
            let _client = doppel::net::TcpStream::connect(l.local_addr()?).await?;
            let (conn, _) = l.accept().await?;
            let fut = kv::server::handle(
                conn,
                kv::store::shared(),
                Config::default(),
                Variant::Correct,
            );
            std::io::Result::Ok(std::mem::size_of_val(&fut))
        })
        .expect("a connection over 127.0.0.1");
    assert!(
        size <= MAX_SESSION_FUTURE,
        "kv::server::handle's future is {size} bytes (at most {MAX_SESSION_FUTURE})"
    );
}
