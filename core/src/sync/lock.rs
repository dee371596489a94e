//! The one way the primitives take their mutexes.

/// Locks a primitive's state. A panic while holding it can only come from user code run under
/// no lock of ours (we never call out while locked), so a poisoned state is still consistent.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
