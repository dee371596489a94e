//! The async form of `#[doppel::test]`: the client written inline, the server named.

#[doppel::test(
    seeds = 0..100,
    faults = "benign=0.05",
    server = counter::bind_and_serve("0.0.0.0:7000")
)]
async fn two_connections_add_up() -> std::io::Result<()> {
    counter::check("10.0.0.1:7000".parse().unwrap(), "hits", 2, 10).await
}

#[doppel::test(seeds = 0..20, server = counter::bind_and_serve("0.0.0.0:7000"))]
async fn the_seed_is_there_if_asked_for(seed: u64) -> std::io::Result<()> {
    let key = format!("k{seed}");
    counter::check("10.0.0.1:7000".parse().unwrap(), &key, 1, 3).await
}
