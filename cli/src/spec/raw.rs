//! The spec file as TOML gives it: every table and key a spec may hold, nothing else (an unknown
//! key is an error that lists the known ones). Values that need checking beyond their type keep
//! their position, so the error names the line. `mod.rs` turns this into a checked [`super::Spec`].

use doppel_sim::FaultClass;
use serde::Deserialize;
use toml::Spanned;

/// A string with its place in the file.
pub(crate) type Text = Spanned<String>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSpec {
    /// The scenario's name (default: the file's stem).
    pub(crate) name: Option<String>,
    /// One line on what it shows.
    pub(crate) about: Option<String>,
    /// The workload, by name.
    pub(crate) workload: Text,
    /// The server variant (default `correct`).
    pub(crate) variant: Option<Text>,
    /// The seeds `explore` sweeps by default.
    pub(crate) seeds: Option<Text>,
    /// Virtual time a simulated run may take.
    pub(crate) time_limit: Option<Text>,
    /// Wall time a `--real` run may take.
    pub(crate) real_time_limit: Option<Text>,
    /// The clients' load.
    #[serde(default)]
    pub(crate) load: RawLoad,
    /// Links and kernel limits.
    #[serde(default)]
    pub(crate) network: RawNetwork,
    /// The fault plan.
    #[serde(default)]
    pub(crate) faults: RawFaults,
    /// The server's group of reactors (absent: one reactor).
    pub(crate) server: Option<RawServer>,
    /// The liveness phase (absent: none).
    pub(crate) liveness: Option<RawLiveness>,
}

/// `[liveness]`: when faults stop, and how long the clients then have to finish.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLiveness {
    /// Virtual time at which faults stop.
    pub(crate) after: Text,
    /// How long the clients then have.
    pub(crate) within: Text,
}

/// `[server]`: run the server on a group of reactors shaped like this.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    /// Reactors that serve connections.
    pub(crate) sub_reactors: Option<Spanned<u64>>,
    /// Reactors that run CPU-bound work.
    pub(crate) workers: Option<Spanned<u64>>,
    /// Live connections beyond which new ones are refused.
    pub(crate) max_connections: Option<Spanned<u64>>,
    /// CPU-bound jobs queued or running at most.
    pub(crate) worker_queue: Option<Spanned<u64>>,
    /// `round-robin` or `least-loaded`.
    pub(crate) placement: Option<Text>,
}

/// `[load]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoad {
    /// How many clients.
    pub(crate) clients: Option<Spanned<u32>>,
    /// Requests per client.
    pub(crate) rounds: Option<Spanned<u32>>,
    /// The largest message, bytes.
    pub(crate) max_size: Option<Spanned<u64>>,
    /// Requests in flight per client.
    pub(crate) pipeline: Option<Spanned<u32>>,
    /// Reconnects a client may make.
    pub(crate) reconnects: Option<Spanned<u32>>,
    /// How long a client waits for a reply (`none`: forever).
    pub(crate) deadline: Option<Text>,
}

/// `[network]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetwork {
    /// One-way latency of every link.
    pub(crate) latency: Option<Text>,
    /// Jitter of every link.
    pub(crate) jitter: Option<Text>,
    /// Receive window per connection direction, bytes.
    pub(crate) window: Option<Spanned<u64>>,
    /// Listen backlog cap.
    pub(crate) backlog: Option<Spanned<u32>>,
    /// Cut writes into segments at seeded boundaries.
    pub(crate) split: Option<bool>,
    /// `random` or `pct:DEPTH`.
    pub(crate) strategy: Option<Text>,
    /// The largest wall-clock offset of a skewed host (`clock-skew`).
    pub(crate) clock_offset: Option<Text>,
    /// The largest drift of a skewed host's clocks, ppm.
    pub(crate) clock_drift_ppm: Option<Spanned<u32>>,
    /// Links with their own latency.
    #[serde(default)]
    pub(crate) link: Vec<RawLink>,
}

/// `[[network.link]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLink {
    /// One end (host name).
    pub(crate) a: Text,
    /// The other end.
    pub(crate) b: Text,
    /// Its one-way latency.
    pub(crate) latency: Option<Text>,
    pub(crate) jitter: Option<Text>,
}

/// `[faults]` and its per-class keys, from the fault class table (one `Option<Spanned<f64>>`
/// key per random class, named as the class is), so a new class needs no edit here.
macro_rules! raw_faults {
    (
        random { $( $(#[$doc:meta])* $v:ident, $key:ident, $name:literal, $group:ident; )* }
        scheduled { $( $(#[$sdoc:meta])* $sv:ident, $skey:ident, $sname:literal; )* }
    ) => {
        /// `[faults]`: a plan string and/or one key per random class.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub(crate) struct RawFaults {
            /// A plan as `--faults` takes it (`all=0.02`, `benign=0.05`, `swarm`, `eintr=0.1,...`).
            pub(crate) plan: Option<Text>,
            /// Swarm mode.
            pub(crate) swarm: Option<bool>,
            /// Longest run of injected EINTRs.
            #[serde(rename = "max_eintr_streak")]
            pub(crate) max_eintr_streak: Option<Spanned<u32>>,
            /// Longest stall.
            #[serde(rename = "stall_max")]
            pub(crate) stall_max: Option<Text>,
            $(
                $(#[$doc])*
                #[serde(rename = $name)]
                pub(crate) $key: Option<Spanned<f64>>,
            )*
            /// Scheduled partitions.
            #[serde(default)]
            pub(crate) partition: Vec<RawPartition>,
            /// Scheduled crashes.
            #[serde(default)]
            pub(crate) crash: Vec<RawCrash>,
        }

        impl RawFaults {
            /// Each random class with its key's value, in the table's order.
            pub(crate) fn classes(&self) -> Vec<(FaultClass, &Option<Spanned<f64>>)> {
                vec![$( (FaultClass::$v, &self.$key), )*]
            }
        }
    };
}

doppel_sim::fault_class_table!(raw_faults);

/// `[[faults.partition]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPartition {
    /// One side.
    pub(crate) a: Text,
    /// The other side.
    pub(crate) b: Text,
    /// When it starts.
    pub(crate) from: Text,
    /// When it heals.
    pub(crate) until: Text,
    /// Only `a -> b` is cut.
    pub(crate) one_way: Option<bool>,
}

/// `[[faults.crash]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCrash {
    pub(crate) host: Text,
    /// When.
    pub(crate) at: Text,
    /// Restart after this long (absent: stays down).
    pub(crate) restart_after: Option<Text>,
}
