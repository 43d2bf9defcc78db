//! The string formats of the schemas (`ipv4`, `ipv6-network`, `date-time`, ...): how each is
//! named in messages and checked, as Python's `ipaddress` and cfn-lint check them.

use crate::schema::Format;

pub(super) fn format_name(f: Format) -> &'static str {
    match f {
        Format::Ipv4 => "an IPv4 address",
        Format::Ipv4Network => "an IPv4 network in CIDR notation",
        Format::Ipv6 => "an IPv6 address",
        Format::Ipv6Network => "an IPv6 network in CIDR notation",
        Format::Date => "a date (YYYY-MM-DD)",
        Format::DateTime => "a date and time (RFC 3339)",
    }
}

pub(super) fn format_help(f: Format) -> &'static str {
    match f {
        Format::Ipv4 => "write four numbers from 0 to 255, such as `10.0.0.1`",
        Format::Ipv4Network => {
            "write the network's first address and a prefix length, such as `10.0.0.0/16`; the bits after the prefix must be zero"
        }
        Format::Ipv6 => "write an IPv6 address, such as `2001:db8::1`",
        Format::Ipv6Network => {
            "write the network's first address and a prefix length, such as `2001:db8::/32`; the bits after the prefix must be zero"
        }
        Format::Date => "write a date such as `2026-12-31`",
        Format::DateTime => "write a date and time such as `2026-12-31T23:59:00Z`",
    }
}

pub(super) fn format_ok(f: Format, s: &str) -> bool {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let network = |s: &str, bits: u32, parse: &dyn Fn(&str) -> Option<u128>| -> bool {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return false;
                }
                let Ok(p) = p.parse::<u32>() else {
                    return false;
                };
                if p > bits {
                    return false;
                }
                (a, p)
            }
            None => (s, bits),
        };
        let Some(value) = parse(addr) else {
            return false;
        };
        let host_bits = bits - prefix;
        // The bits after the prefix are zero.
        let host_mask = 1u128.checked_shl(host_bits).map_or(u128::MAX, |b| b - 1);
        value & host_mask == 0
    };
    let v4 = |a: &str| {
        a.parse::<Ipv4Addr>()
            .ok()
            .map(|ip| u128::from(u32::from(ip)))
    };
    let v6 = |a: &str| a.parse::<Ipv6Addr>().ok().map(u128::from);
    match f {
        Format::Ipv4 => s.parse::<Ipv4Addr>().is_ok(),
        Format::Ipv6 => s.parse::<Ipv6Addr>().is_ok(),
        Format::Ipv4Network => network(s, 32, &v4),
        Format::Ipv6Network => network(s, 128, &v6),
        Format::Date => date_ok(s),
        Format::DateTime => {
            let Some((date, time)) = s.split_once('T') else {
                return false;
            };
            date_ok(date) && time_ok(time)
        }
    }
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

fn date_ok(s: &str) -> bool {
    let mut parts = s.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Some(y), Some(m), Some(d)) = (digits(y, 4), digits(m, 2), digits(d, 2)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    (1..=12).contains(&m) && d >= 1 && d <= days[(m - 1) as usize]
}

/// `HH:MM:SS[.frac](Z|±HH:MM)`.
fn time_ok(s: &str) -> bool {
    let (clock, offset) = if let Some(c) = s.strip_suffix('Z') {
        (c, None)
    } else if let Some(i) = s.rfind(['+', '-']) {
        (&s[..i], Some(&s[i + 1..]))
    } else {
        return false;
    };
    let clock = clock.split_once('.').map_or(clock, |(c, frac)| {
        if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) {
            c
        } else {
            "x"
        }
    });
    let hms: Vec<&str> = clock.split(':').collect();
    let ok_clock = hms.len() == 3
        && digits(hms[0], 2).is_some_and(|h| h < 24)
        && digits(hms[1], 2).is_some_and(|m| m < 60)
        && digits(hms[2], 2).is_some_and(|s| s < 60);
    let ok_offset = offset.is_none_or(|o| {
        o.split_once(':').is_some_and(|(h, m)| {
            digits(h, 2).is_some_and(|h| h < 24) && digits(m, 2).is_some_and(|m| m < 60)
        })
    });
    ok_clock && ok_offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_python_ipaddress() {
        assert!(format_ok(Format::Ipv4Network, "10.0.0.0/8"));
        assert!(format_ok(Format::Ipv4Network, "10.0.0.1"));
        assert!(!format_ok(Format::Ipv4Network, "10.0.0.1/8"));
        assert!(!format_ok(Format::Ipv4Network, "192.168.1.0/0"));
        assert!(format_ok(Format::Ipv4Network, "0.0.0.0/0"));
        assert!(!format_ok(Format::Ipv4Network, "10.0.0.0/33"));
        assert!(format_ok(Format::Ipv6Network, "::/0"));
        assert!(format_ok(Format::Ipv6Network, "2001:db8::/32"));
        assert!(!format_ok(Format::Ipv6Network, "2001:db8::1/32"));
        assert!(format_ok(Format::DateTime, "2026-12-04T10:00:00Z"));
        assert!(format_ok(Format::DateTime, "2026-12-04T10:00:00.5+01:00"));
        assert!(!format_ok(Format::DateTime, "2026-13-04T10:00:00Z"));
        assert!(!format_ok(Format::Date, "2026-02-30"));
    }
}
