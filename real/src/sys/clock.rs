//! The monotonic clock, read with `clock_gettime(CLOCK_MONOTONIC)` itself: about 85 instructions
//! a read with the vDSO's, where `std::time::Instant::now` and `saturating_duration_since` took
//! about 145 (callgrind; a server that stamps every request reads it each time).

/// Nanoseconds of `CLOCK_MONOTONIC`, or `None` if the kernel refuses (it never does for this
/// clock on the systems doppel supports).
pub(crate) fn monotonic_ns() -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec` for the duration of the call, and
    // `CLOCK_MONOTONIC` is a clock id every supported system defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return None;
    }
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u64::try_from(ts.tv_nsec).ok()?;
    Some(secs.wrapping_mul(1_000_000_000).wrapping_add(nanos))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_clock_reads_and_never_goes_back() {
        let a = super::monotonic_ns().expect("CLOCK_MONOTONIC");
        let b = super::monotonic_ns().expect("CLOCK_MONOTONIC");
        assert!(a > 0 && b >= a, "{a} then {b}");
    }
}
