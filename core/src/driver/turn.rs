//! What one reactor turn did, as the backend stepping it sees.

/// What one turn did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Turn {
    /// Task polls made.
    pub ran: usize,
    /// Whether the `block_on` future completed (always false outside `block_on`).
    pub main_done: bool,
}
