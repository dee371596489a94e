//! Exact syscall counts of a server process: perf's syscall tracepoints on every thread of the
//! process, counted while the load runs a fixed number of round trips, broken down by call and
//! by thread, with the `write`s to the process's eventfds (the wake-ups that break another
//! thread's `epoll_wait`) counted apart through a tracepoint filter on `fd`.
//!
//! Two scopes: [`Scope::Every`] opens all of `syscalls:sys_enter_*` (about 360 tracepoints per
//! thread; perf then needs some 13 s to close them), [`Scope::Named`] opens
//! `raw_syscalls:sys_enter` for the exact total and a short list by name, the rest of the
//! total counted as `other` (perf is done at once).

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::load::{Load, Until};

/// What the server did while the load ran.
#[derive(Debug)]
pub struct Counts {
    /// Round trips the load completed while perf counted.
    pub rts: u64,
    /// Calls per syscall, summed over the threads, most frequent first.
    pub by_call: Vec<(String, u64)>,
    /// Calls per thread (`comm-tid`), most first.
    pub by_thread: Vec<(String, u64)>,
    /// `write`s to an eventfd, summed over the threads; `None` if the process has no eventfd.
    pub eventfd_writes: Option<u64>,
}

impl Counts {
    /// Every syscall per round trip.
    pub fn per_rt(&self) -> f64 {
        self.by_call.iter().map(|c| c.1).sum::<u64>() as f64 / self.rts.max(1) as f64
    }

    /// Calls of `name` per round trip (0 if it never ran).
    pub fn call_per_rt(&self, name: &str) -> f64 {
        let n = self.by_call.iter().find(|c| c.0 == name).map_or(0, |c| c.1);
        n as f64 / self.rts.max(1) as f64
    }

    /// The `top` most frequent calls, per round trip: `recvfrom 1.000, sendto 1.000, ...`.
    pub fn detail(&self, top: usize) -> String {
        let rt = self.rts.max(1) as f64;
        let list = |v: &[(String, u64)]| {
            v.iter()
                .take(top)
                .map(|(c, n)| format!("{c} {:.3}", *n as f64 / rt))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "{}; by thread: {}",
            list(&self.by_call),
            list(&self.by_thread)
        )
    }
}

/// Which tracepoints perf opens.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// Every `syscalls:sys_enter_*`: each call by name.
    Every,
    /// `raw_syscalls:sys_enter` for the total, these calls by name, the rest as `other`.
    Named(&'static [&'static str]),
}

/// The descriptors of `pid` that are eventfds.
fn eventfds(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let mut fds: Vec<u32> = dir
        .filter_map(Result::ok)
        .filter(|e| {
            std::fs::read_link(e.path())
                .is_ok_and(|l| l.to_string_lossy() == "anon_inode:[eventfd]")
        })
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    fds.sort_unstable();
    fds
}

/// Counts the syscalls of process `pid` (every thread) while `load`, already connected and
/// warmed up, runs `rounds` round trips per connection. `None` if perf fails.
pub fn count(pid: u32, load: &mut Load, rounds: u64, scope: Scope) -> Option<Counts> {
    let out = std::env::temp_dir().join(format!("doppel-bench-perf-{pid}.csv"));
    let efds = eventfds(pid);
    let mut cmd = Command::new("perf");
    cmd.args(["stat", "--per-thread", "-x", ","]);
    if !efds.is_empty() {
        // Listed first, so each thread's first `sys_enter_write` line is the filtered one.
        let filter = efds
            .iter()
            .map(|fd| format!("fd == {fd}"))
            .collect::<Vec<_>>();
        cmd.args([
            "-e",
            "syscalls:sys_enter_write",
            "--filter",
            &filter.join(" || "),
        ]);
    }
    match scope {
        Scope::Every => {
            cmd.args(["-e", "syscalls:sys_enter_*"]);
        }
        Scope::Named(calls) => {
            cmd.args(["-e", "raw_syscalls:sys_enter"]);
            for c in calls {
                cmd.args(["-e", &format!("syscalls:sys_enter_{c}")]);
            }
        }
    }
    cmd.arg("-o")
        .arg(&out)
        .args(["-p", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut perf = cmd.spawn().ok()?;
    // perf opens a few hundred tracepoints per thread before it counts anything.
    std::thread::sleep(Duration::from_millis(1500));
    let (rts, _) = load.run(Until::Rounds(rounds));
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: sends SIGINT to the perf process we spawned (it then writes its counts).
    unsafe { libc::kill(perf.id() as i32, libc::SIGINT) };
    perf.wait().ok()?;
    let text = std::fs::read_to_string(&out).ok()?;
    let _ = std::fs::remove_file(&out);
    Some(parse(&text, rts, !efds.is_empty()))
}

/// Parses `perf stat --per-thread -x ,` output: `comm-tid,count,,event,...` per line. With a
/// `raw_syscalls:sys_enter` line (the [`Scope::Named`] run), the threads' totals come from it
/// and what the named calls leave of it is `other`.
fn parse(text: &str, rts: u64, filtered: bool) -> Counts {
    let mut by_call: Vec<(String, u64)> = Vec::new();
    let mut by_thread: Vec<(String, u64)> = Vec::new();
    let mut raw: Option<u64> = None;
    let mut eventfd_writes = filtered.then_some(0u64);
    let mut wrote: Vec<String> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(',').collect();
        let (Some(thread), Some(count), Some(event)) = (f.first(), f.get(1), f.get(3)) else {
            continue;
        };
        let Ok(count) = count.parse::<u64>() else {
            continue; // `<not counted>`
        };
        if *event == "raw_syscalls:sys_enter" {
            raw = Some(raw.unwrap_or(0) + count);
            if count > 0 {
                add(&mut by_thread, thread, count);
            }
            continue;
        }
        let Some(call) = event.strip_prefix("syscalls:sys_enter_") else {
            continue;
        };
        if filtered && call == "write" && !wrote.iter().any(|t| t == thread) {
            wrote.push(thread.to_string());
            eventfd_writes = eventfd_writes.map(|w| w + count);
            continue;
        }
        if count == 0 {
            continue;
        }
        add(&mut by_call, call, count);
        if raw.is_none() {
            add(&mut by_thread, thread, count);
        }
    }
    if let Some(total) = raw {
        let named: u64 = by_call.iter().map(|c| c.1).sum();
        if total > named {
            by_call.push(("other".to_string(), total - named));
        }
    }
    by_call.sort_by_key(|c| std::cmp::Reverse(c.1));
    by_thread.sort_by_key(|c| std::cmp::Reverse(c.1));
    Counts {
        rts,
        by_call,
        by_thread,
        eventfd_writes,
    }
}

/// Adds `n` to the entry named `name`.
fn add(list: &mut Vec<(String, u64)>, name: &str, n: u64) {
    match list.iter_mut().find(|e| e.0 == name) {
        Some(e) => e.1 += n,
        None => list.push((name.to_string(), n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filtered_write_line_comes_first_per_thread() {
        let text = "# started\n\n\
            sub-11,4,,syscalls:sys_enter_write,1,100.00,,\n\
            main-10,0,,syscalls:sys_enter_write,1,100.00,,\n\
            sub-11,1000,,syscalls:sys_enter_recvfrom,1,100.00,,\n\
            main-10,<not counted>,,syscalls:sys_enter_recvfrom,0,100.00,,\n\
            sub-11,5,,syscalls:sys_enter_write,1,100.00,,\n\
            main-10,1,,syscalls:sys_enter_write,1,100.00,,\n";
        let c = parse(text, 1000, true);
        assert_eq!(c.eventfd_writes, Some(4));
        assert_eq!(
            c.by_call,
            vec![("recvfrom".into(), 1000), ("write".into(), 6)]
        );
        assert_eq!(c.by_thread[0], ("sub-11".into(), 1005));
        assert!((c.per_rt() - 1.006).abs() < 1e-9);
        assert!((c.call_per_rt("write") - 0.006).abs() < 1e-9);
    }

    #[test]
    fn a_raw_total_gives_the_threads_and_the_rest_as_other() {
        let text = "w-1,2010,,raw_syscalls:sys_enter,1,100.00,,\n\
            w-2,7,,raw_syscalls:sys_enter,1,100.00,,\n\
            w-1,1000,,syscalls:sys_enter_recvfrom,1,100.00,,\n\
            w-1,1000,,syscalls:sys_enter_sendto,1,100.00,,\n\
            w-2,5,,syscalls:sys_enter_futex,1,100.00,,\n";
        let c = parse(text, 1000, false);
        assert_eq!(c.eventfd_writes, None);
        assert_eq!(c.by_thread, vec![("w-1".into(), 2010), ("w-2".into(), 7)]);
        assert_eq!(c.by_call.last(), Some(&("futex".into(), 5)));
        assert!(c.by_call.contains(&("other".into(), 12)));
        assert!((c.per_rt() - 2.017).abs() < 1e-9);
    }
}
