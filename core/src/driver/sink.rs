//! The direct path of runtime events to a collector: the event as it arrives, its field values,
//! and the trait the collector implements ([`super::set_sink`] installs one).

/// A runtime event's field value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// Unsigned.
    U(u64),
    /// Signed.
    I(i64),
    /// Text (a simulated fault's site; rare, so it takes the collector's slower path).
    S(&'a str),
}

macro_rules! field_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for FieldValue<'_> {
            fn from(x: $t) -> Self {
                FieldValue::$v(x as _)
            }
        }
    )*};
}

impl<'a> From<&'a str> for FieldValue<'a> {
    fn from(s: &'a str) -> Self {
        FieldValue::S(s)
    }
}
field_from!(u64 => U, u32 => U, u16 => U, u8 => U, usize => U, i64 => I, i32 => I);

/// A runtime event as the direct path delivers it: the same target, name and fields the
/// `tracing` event would carry.
#[derive(Clone, Copy, Debug)]
pub struct RuntimeEvent<'a> {
    /// The target (`doppel::net`, ...).
    pub target: &'static str,
    /// The event's name (`read`, ...).
    pub name: &'static str,
    /// Its fields, in order.
    pub fields: &'a [(&'static str, FieldValue<'a>)],
}

/// Receives runtime events directly (implemented by doppel's collector).
pub trait Sink {
    /// Records one event.
    fn record(&self, event: &RuntimeEvent<'_>);
}
