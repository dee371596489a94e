//! The fd layer, Go's pollDesc: per registered descriptor a read slot and a write slot, the
//! deadlines, the generation-tagged table, and the one retry loop every socket call goes through.

pub(crate) mod driver;
pub(crate) mod poll_desc;
pub(crate) mod registration;
pub(crate) mod retry;
pub(crate) mod table;
