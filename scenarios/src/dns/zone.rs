//! The zone the server is authoritative for, as a pure function both the server and the
//! checking client compute: `doppel.test`, with `www` and `host0` ... `host999`, each with one
//! A record. The client knows every right answer without asking anyone else.

use std::net::Ipv4Addr;

/// The zone's origin.
pub const ORIGIN: &str = "doppel.test";

/// How many `hostN` names the zone has.
pub const HOSTS: u32 = 1000;

/// What the zone says of a name (lower-cased, no trailing dot) and the type A.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The name's A record.
    Address(Ipv4Addr),
    /// The name exists and has no A record (the apex).
    NoData,
    /// In the zone, but no such name.
    NxDomain,
    /// Not in the zone: an authoritative-only server refuses it.
    Outside,
}

/// The answer for `name`.
pub fn lookup(name: &str) -> Lookup {
    let Some(label) = name.strip_suffix(ORIGIN) else {
        return Lookup::Outside;
    };
    if label.is_empty() {
        return Lookup::NoData;
    }
    let Some(label) = label.strip_suffix('.') else {
        return Lookup::Outside;
    };
    match label {
        "www" => Lookup::Address(Ipv4Addr::new(10, 53, 0, 1)),
        _ => match label
            .strip_prefix("host")
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(n) if n < HOSTS && label == format!("host{n}") => Lookup::Address(host(n)),
            _ => Lookup::NxDomain,
        },
    }
}

/// The address of `hostN`.
pub fn host(n: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 53, (n / 250 + 1) as u8, (n % 250 + 1) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_as_the_zone_says() {
        assert_eq!(
            lookup("www.doppel.test"),
            Lookup::Address(Ipv4Addr::new(10, 53, 0, 1))
        );
        assert_eq!(lookup("host999.doppel.test"), Lookup::Address(host(999)));
        assert_eq!(lookup("host1000.doppel.test"), Lookup::NxDomain);
        assert_eq!(lookup("host07.doppel.test"), Lookup::NxDomain);
        assert_eq!(lookup("doppel.test"), Lookup::NoData);
        assert_eq!(lookup("example.com"), Lookup::Outside);
        assert_eq!(lookup("xdoppel.test"), Lookup::Outside);
        assert_ne!(host(0), host(250));
    }
}
