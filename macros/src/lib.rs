//! doppel-macros: `#[doppel::test]`, re-exported by `doppel` as `doppel::test`.
//!
//! # Module map
//!
//! | module     | what                                                                  |
//! |------------|-----------------------------------------------------------------------|
//! | `args`     | the attribute's arguments: `seeds`, `faults`, `strategy`, `jobs`, ...  |
//! | `features` | the test crate's features, read from its `Cargo.toml` (replay lines)  |
//! | `expand`   | the generated `#[test]` that calls `doppel::sim::testing::run`         |
//!
//! The macro only checks and rearranges; what a test does at run time lives in
//! `doppel_sim::testing`, plain code with its own tests.

mod args;
mod expand;
mod features;

use proc_macro::TokenStream;

/// Turns `fn NAME(seed: u64) -> doppel::sim::SimBuilder { ... }` into a `#[test]` that sweeps
/// the world it builds over seeds, on one thread per core, each seed run twice and compared.
///
/// ```text
/// #[doppel::test(seeds = 0..200, faults = "benign=0.05")]
/// fn counts_survive_faults(seed: u64) -> doppel::sim::SimBuilder {
///     doppel::sim::SimBuilder::new(seed)
///         .host("server", "10.0.0.1", || counter::serve("0.0.0.0:7000"))
///         .client("c0", "10.0.0.2", || counter::check("10.0.0.1:7000"))
/// }
/// ```
///
/// Arguments, all optional: `seeds = A..B` (default `0..100`), `faults = "PLAN"` (over the
/// builder's own), `strategy = "random"` or `"pct:DEPTH"`, `jobs = N` (default one per core),
/// `shrink_time = "10s"` (per failing seed), `show = N` (failing seeds explained, default 3).
///
/// A second form writes the client inline: an `async fn` whose body is the client's main, with
/// `server = EXPR` the server's (a future, made afresh at each start). Host `server` is at
/// 10.0.0.1 and host `client` at 10.0.0.2; the function may take the seed (`seed: u64`):
///
/// ```text
/// #[doppel::test(seeds = 0..200, server = counter::bind_and_serve("0.0.0.0:7000"))]
/// async fn increments_add_up() -> std::io::Result<()> {
///     counter::check("10.0.0.1:7000".parse().unwrap(), "hits", 2, 10).await
/// }
/// ```
///
/// The function is called afresh for every run, the determinism re-run included: state a run
/// needs (a shared ledger, a counter) belongs inside it. A failure lists how many seeds failed,
/// and for the first few their error, the shrunk fault set, the replay command, and the trace.
/// `DOPPEL_SEED=N`, `DOPPEL_SEEDS=A..B`, `DOPPEL_FAULTS=PLAN` and `DOPPEL_ONLY=NAMES` narrow a
/// run; `DOPPEL_TEST=PATH` confines them to one test.
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::test(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
