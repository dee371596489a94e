//! Generates the `grpc` workload's messages, server and client from `proto/ledger.proto`, with
//! the protoc that `protoc-bin-vendored` carries, so no system protoc is needed. Only tonic's
//! `codegen` is used: the generated code's `connect` needs tonic's transport, which runs on
//! tokio, so it is left out (`build_transport(false)`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .build_transport(false)
        .compile_with_config(config, &["proto/ledger.proto"], &["proto"])?;
    Ok(())
}
