//! The scenario specs that ship with doppel (`scenarios/specs/*.toml`), compiled in so the
//! command finds them by name from anywhere, and the `doppel` command over them and the
//! built-in workloads.

/// Every built-in spec: its name and its text.
pub const BUILTIN: [(&str, &str); 22] = [
    (
        "accept-abort-fatal",
        include_str!("../specs/accept-abort-fatal.toml"),
    ),
    ("chat", include_str!("../specs/chat.toml")),
    (
        "chat-write-departed",
        include_str!("../specs/chat-write-departed.toml"),
    ),
    ("dns", include_str!("../specs/dns.toml")),
    (
        "dns-first-reply",
        include_str!("../specs/dns-first-reply.toml"),
    ),
    ("echo", include_str!("../specs/echo.toml")),
    ("echo-crash", include_str!("../specs/echo-crash.toml")),
    ("echo-multi", include_str!("../specs/echo-multi.toml")),
    ("echo-tiny", include_str!("../specs/echo-tiny.toml")),
    ("grpc", include_str!("../specs/grpc.toml")),
    ("http", include_str!("../specs/http.toml")),
    ("http-conn-age", include_str!("../specs/http-conn-age.toml")),
    ("kv", include_str!("../specs/kv.toml")),
    (
        "kv-admission-race",
        include_str!("../specs/kv-admission-race.toml"),
    ),
    (
        "kv-deadline-close",
        include_str!("../specs/kv-deadline-close.toml"),
    ),
    ("kv-multi", include_str!("../specs/kv-multi.toml")),
    ("lock", include_str!("../specs/lock.toml")),
    (
        "lock-node-time",
        include_str!("../specs/lock-node-time.toml"),
    ),
    ("upper", include_str!("../specs/upper.toml")),
    (
        "upper-eintr-fatal",
        include_str!("../specs/upper-eintr-fatal.toml"),
    ),
    ("upper-framing", include_str!("../specs/upper-framing.toml")),
    (
        "upper-short-write",
        include_str!("../specs/upper-short-write.toml"),
    ),
];

/// The text of the built-in spec called `name`.
pub fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The `doppel` command: the built-in workloads and specs.
pub fn cli() -> doppel::cli::Cli {
    let mut cli = doppel::cli::Cli::new("doppel").workloads(crate::workload::all());
    for (name, text) in BUILTIN {
        cli = cli.spec(name, text);
    }
    cli
}

/// The built-in spec (or the spec at a path) `name_or_path` names, checked.
pub fn find(name_or_path: &str) -> Result<doppel::cli::Spec, doppel::cli::SpecError> {
    let path = std::path::Path::new(name_or_path);
    if name_or_path.ends_with(".toml") || path.components().count() > 1 {
        return doppel::cli::Spec::read(path, crate::workload::all());
    }
    match builtin(name_or_path) {
        Some(text) => doppel::cli::Spec::parse_with(
            &format!("builtin:{name_or_path}"),
            text,
            crate::workload::all(),
        ),
        None => Err(doppel::cli::SpecError {
            file: name_or_path.to_string(),
            line: None,
            key: None,
            message: format!(
                "no such scenario (built in: {}; or give a path to a .toml file)",
                BUILTIN.map(|(n, _)| n).join(", ")
            ),
        }),
    }
}
