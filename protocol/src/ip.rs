//! IP literals for [`crate::HostPort`]: parsed and written in canonical form
//! by hand rather than with `std::net::IpAddr`, whose parser and `Display`
//! were about 5 KB of the web page's WebAssembly (the connect form
//! normalises its host with them). The language accepted is exactly
//! `IpAddr::from_str`'s and the text exactly its `Display`'s (RFC 5952:
//! lower-case hex, the longest run of two or more zero groups as `::`, the
//! first of equal runs, IPv4-mapped addresses as `::ffff:a.b.c.d`); the
//! tests below check both against std on random input.

/// An IP literal in canonical form.
pub(crate) struct Canonical {
    /// The address as `Display` writes it.
    pub text: String,
    /// An IPv6 address (and not IPv4).
    pub v6: bool,
}

/// `text` as an IP literal (IPv6 without brackets), or `None` when it is not one.
pub(crate) fn canonical(text: &str) -> Option<Canonical> {
    let bytes = text.as_bytes();
    let mut at = 0;
    if let Some(v4) = read_v4(bytes, &mut at) {
        // A string that starts with an IPv4 address is never an IPv6 one.
        return (at == bytes.len()).then(|| Canonical {
            text: v4_text(v4),
            v6: false,
        });
    }
    let mut at = 0;
    let groups = read_v6(bytes, &mut at).filter(|_| at == bytes.len())?;
    Some(Canonical {
        text: v6_text(groups),
        v6: true,
    })
}

/// A number of at most `max` digits in `radix` at `*at` (a longer run of
/// digits is none); leading zeros only if `zeros`. Moves `*at` past it only
/// on success.
fn read_number(bytes: &[u8], at: &mut usize, radix: u32, max: usize, zeros: bool) -> Option<u32> {
    let start = *at;
    let mut value = 0u32;
    let mut digits = 0;
    while let Some(digit) = bytes
        .get(start + digits)
        .and_then(|&b| char::from(b).to_digit(radix))
    {
        digits += 1;
        if digits > max {
            return None;
        }
        value = value * radix + digit;
    }
    if digits == 0 || (!zeros && digits > 1 && bytes[start] == b'0') {
        return None;
    }
    *at = start + digits;
    Some(value)
}

/// A dotted-quad IPv4 address at `*at`; moves `*at` past it only on success.
fn read_v4(bytes: &[u8], at: &mut usize) -> Option<[u8; 4]> {
    let mut pos = *at;
    let mut octets = [0u8; 4];
    for (i, octet) in octets.iter_mut().enumerate() {
        if i > 0 {
            if bytes.get(pos) != Some(&b'.') {
                return None;
            }
            pos += 1;
        }
        *octet = u8::try_from(read_number(bytes, &mut pos, 10, 3, false)?).ok()?;
    }
    *at = pos;
    Some(octets)
}

/// Colon-separated groups at `*at` into `groups`, maybe ending in an
/// embedded IPv4 address (which takes two groups): how many were read, and
/// whether the IPv4 address ended them.
fn read_groups(bytes: &[u8], at: &mut usize, groups: &mut [u16]) -> (usize, bool) {
    let limit = groups.len();
    for i in 0..limit {
        let mut pos = *at;
        if i > 0 {
            if bytes.get(pos) != Some(&b':') {
                return (i, false);
            }
            pos += 1;
        }
        if i + 1 < limit {
            let mut v4_at = pos;
            if let Some([a, b, c, d]) = read_v4(bytes, &mut v4_at) {
                groups[i] = u16::from_be_bytes([a, b]);
                groups[i + 1] = u16::from_be_bytes([c, d]);
                *at = v4_at;
                return (i + 2, true);
            }
        }
        match read_number(bytes, &mut pos, 16, 4, true) {
            // Four hex digits at most: always fits.
            Some(group) => groups[i] = group as u16,
            None => return (i, false),
        }
        *at = pos;
    }
    (limit, false)
}

/// An IPv6 address (without brackets) at `*at`.
fn read_v6(bytes: &[u8], at: &mut usize) -> Option<[u16; 8]> {
    let mut head = [0u16; 8];
    let (head_len, head_v4) = read_groups(bytes, at, &mut head);
    if head_len == 8 {
        return Some(head);
    }
    // An embedded IPv4 address only at the end, and `::` stands for at least one group.
    if head_v4 || bytes.get(*at..*at + 2) != Some(b"::") {
        return None;
    }
    *at += 2;
    let mut tail = [0u16; 7];
    let (tail_len, _) = read_groups(bytes, at, &mut tail[..7 - head_len]);
    head[8 - tail_len..].copy_from_slice(&tail[..tail_len]);
    Some(head)
}

/// `a.b.c.d`.
fn v4_text(octets: [u8; 4]) -> String {
    let mut text = String::new();
    for (i, octet) in octets.into_iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        push_number(&mut text, u32::from(octet), 10);
    }
    text
}

/// The RFC 5952 text of an IPv6 address, as std's `Display` writes it.
fn v6_text(groups: [u16; 8]) -> String {
    if let [0, 0, 0, 0, 0, 0xffff, high, low] = groups {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        return "::ffff:".to_owned() + &v4_text([a, b, c, d]);
    }
    // The first longest run of zero groups, if two or more long.
    let (mut run_start, mut run_len) = (0, 0);
    let mut i = 0;
    while i < 8 {
        let start = i;
        while i < 8 && groups[i] == 0 {
            i += 1;
        }
        if i - start > run_len {
            (run_start, run_len) = (start, i - start);
        }
        i += 1;
    }
    let mut text = String::new();
    let mut i = 0;
    while i < 8 {
        if run_len > 1 && i == run_start {
            text.push_str("::");
            i += run_len;
            continue;
        }
        if i > 0 && !text.ends_with(':') {
            text.push(':');
        }
        push_number(&mut text, u32::from(groups[i]), 16);
        i += 1;
    }
    text
}

/// `value` in `radix` (10 or 16, lower-case), without leading zeros.
fn push_number(text: &mut String, value: u32, radix: u32) {
    if value >= radix {
        push_number(text, value / radix, radix);
    }
    text.push(char::from_digit(value % radix, radix).unwrap_or('0'));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::IpAddr;

    /// What std makes of `text`, in the same terms.
    fn by_std(text: &str) -> Option<(String, bool)> {
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| (ip.to_string(), ip.is_ipv6()))
    }

    fn ours(text: &str) -> Option<(String, bool)> {
        canonical(text).map(|ip| (ip.text, ip.v6))
    }

    #[test]
    fn known_literals() {
        for text in [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "01.2.3.4",
            "1.2.3.256",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.0004",
            "::",
            "::1",
            "1::",
            "0:0:0:0:0:0:0:1",
            "1:0:0:2:0:0:0:3",
            "1:0:0:2:0:0:3:4",
            "1:0:2:3:4:5:6:7",
            "::ffff:1.2.3.4",
            "::ffff:102:304",
            "::1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1.2.3.4::",
            "::1.2.3.4:5",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7::",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7",
            "::1:2:3:4:5:6:7:8",
            "00000::",
            "0000::",
            "ABCD::EF",
            ":::",
            "1:::2",
            ":1::",
            "1::2::3",
            "",
            ":",
            "+1.2.3.4",
            "1.2.3.4 ",
            "١.2.3.4",
        ] {
            assert_eq!(ours(text), by_std(text), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn parses_like_std(text in "[0-9a-fA-F.:]{0,24}") {
            prop_assert_eq!(ours(&text), by_std(&text));
        }

        #[test]
        fn parses_short_groups_like_std(text in "(([0-9a-f]{0,5}|[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}):{1,2}){0,9}[0-9a-f.]{0,8}") {
            prop_assert_eq!(ours(&text), by_std(&text));
        }

        #[test]
        fn writes_v6_like_std(groups in proptest::array::uniform8(prop_oneof![Just(0u16), Just(0xffff), any::<u16>()])) {
            let ip = std::net::Ipv6Addr::from(groups);
            prop_assert_eq!(v6_text(groups), ip.to_string());
            prop_assert_eq!(ours(&ip.to_string()), Some((ip.to_string(), true)));
        }

        #[test]
        fn writes_v4_like_std(octets in any::<[u8; 4]>()) {
            let ip = std::net::Ipv4Addr::from(octets);
            prop_assert_eq!(ours(&ip.to_string()), Some((ip.to_string(), false)));
        }
    }
}
