//! Datatype formatting: turning the bytes a rule compares a register with
//! back into the text nft 1.0.6 prints for them (ports in decimal, addresses,
//! quoted interface names, marks in hex, symbolic protocol/type names, …).
//!
//! Values are the raw register bytes. Payload fields are in network byte
//! order; meta and ct keys are in host byte order (the kernel copies the
//! native integer into the register), which is why every integer type here
//! carries its byte order.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Byte order of an integer in a register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Network byte order (payload fields).
    Big,
    /// Host byte order (meta and ct keys).
    Host,
}

/// The nft datatype of a value, which decides how it is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Plain integer, printed in decimal.
    Int(Order),
    /// Integer printed in hex with one digit per nibble of its length
    /// (`meta mark 0x00000010`).
    Hex(Order),
    /// IPv4 address.
    Ipv4,
    /// IPv6 address.
    Ipv6,
    /// Ethernet address.
    Ether,
    /// Port number (`inet_service`), network order.
    Port,
    /// NUL-padded string, quoted; a string without its NUL is a prefix
    /// match and gets a trailing `*` (`oifname "eth*"`).
    Str,
    /// Interface index, printed as the interface's name in the current
    /// network namespace (`iif "lo"`), or the number if unknown.
    Ifindex,
    /// Interface group (`iifgroup "default"`).
    Devgroup,
    /// Layer-4 protocol number (`/etc/protocols` names).
    InetProto,
    /// Netfilter family (`ipv4`, `ipv6`).
    Nfproto,
    /// Ethertype (`ip`, `ip6`, `arp`, `vlan`).
    Ethertype,
    /// ICMP type.
    IcmpType,
    /// ICMP code.
    IcmpCode,
    /// ICMPv6 type.
    Icmpv6Type,
    /// ICMPv6 code.
    Icmpv6Code,
    /// Conntrack state bits.
    CtState,
    /// Conntrack status bits.
    CtStatus,
    /// Conntrack direction.
    CtDir,
    /// TCP flags.
    TcpFlags,
    /// Conntrack event bits (`ct event set new,related`).
    CtEvent,
    /// Packet type (`host`, `broadcast`, …).
    PktType,
    /// ARP hardware type (`meta iiftype ether`).
    ArpHrd,
    /// DSCP (6 bits).
    Dscp,
    /// ECN (2 bits).
    Ecn,
    /// fib address type (`local`, `unicast`, …).
    FibAddrType,
    /// Boolean (`exists`/`missing` for fib presence checks).
    Bool,
    /// Time in milliseconds, host order (`ct expiration 30s`).
    TimeMs,
    /// tc handle (`meta priority 1:2`).
    TcHandle,
    /// Conntrack label bit number.
    Label,
    /// ARP operation (`request`, `reply`, …).
    ArpOp,
    /// Raw payload bits, printed in hex without padding (`@th,64,32 0x5`).
    RawHex,
    /// Nanoseconds since the epoch (`meta time`), printed as a UTC date.
    TimeNs,
    /// Day of the week (`meta day "Monday"`).
    Day,
    /// Seconds since midnight (`meta hour "10:00"`).
    Hour,
}

impl Ty {
    /// Whether nft treats values of this type as a set of flag bits
    /// (printed as `a,b` or `a | b`, with the `flags / mask` forms).
    pub fn is_bitmask(self) -> bool {
        matches!(
            self,
            Ty::CtState | Ty::CtStatus | Ty::TcpFlags | Ty::CtEvent
        )
    }

    /// Whether the type is an address (prefix matches print as `a/len`).
    pub fn is_address(self) -> bool {
        matches!(self, Ty::Ipv4 | Ty::Ipv6 | Ty::Ether)
    }
}

/// Looks up the name of an interface index; `None` prints the number.
pub type IfResolver<'a> = &'a dyn Fn(u32) -> Option<String>;

/// Reads `bytes` as an unsigned integer in `order` (at most 16 bytes).
pub fn int_value(bytes: &[u8], order: Order) -> u128 {
    let mut v: u128 = 0;
    match order {
        Order::Big => {
            for b in bytes.iter().take(16) {
                v = (v << 8) | u128::from(*b);
            }
        }
        Order::Host => {
            if cfg!(target_endian = "little") {
                for b in bytes.iter().take(16).rev() {
                    v = (v << 8) | u128::from(*b);
                }
            } else {
                for b in bytes.iter().take(16) {
                    v = (v << 8) | u128::from(*b);
                }
            }
        }
    }
    v
}

/// Formats `bytes` of type `ty`, as nft prints a single value.
pub fn format(ty: Ty, bytes: &[u8], ifname: IfResolver<'_>) -> String {
    match ty {
        Ty::Int(o) => int_value(bytes, o).to_string(),
        Ty::Hex(o) => hex(int_value(bytes, o), bytes.len() * 2),
        Ty::Ipv4 => ipv4(bytes),
        Ty::Ipv6 => ipv6(bytes),
        Ty::Ether => bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
        Ty::Port => int_value(bytes, Order::Big).to_string(),
        Ty::Str => string(bytes),
        Ty::Ifindex => {
            let idx = int_value(bytes, Order::Host) as u32;
            match ifname(idx) {
                Some(n) => format!("\"{n}\""),
                None => idx.to_string(),
            }
        }
        Ty::Devgroup => {
            let g = int_value(bytes, Order::Host);
            // nft reads /etc/iproute2/group; Debian ships only "default".
            if g == 0 {
                "\"default\"".into()
            } else {
                g.to_string()
            }
        }
        Ty::InetProto => {
            let p = int_value(bytes, Order::Big);
            symbol(PROTOCOLS, p).map_or_else(|| p.to_string(), str::to_string)
        }
        Ty::Nfproto => {
            let p = int_value(bytes, Order::Host);
            symbol(NFPROTOS, p).map_or_else(|| p.to_string(), str::to_string)
        }
        Ty::Ethertype => {
            // The register holds the ethertype in network order, but nft's
            // ethertype is a host-order type over a big-endian load; either
            // way the printed number is the network-order value.
            let p = int_value(bytes, Order::Big);
            symbol(ETHERTYPES, p).map_or_else(|| hex(p, 4), str::to_string)
        }
        Ty::IcmpType => sym_or_int(ICMP_TYPES, bytes),
        Ty::IcmpCode => sym_or_int(ICMP_CODES, bytes),
        Ty::Icmpv6Type => sym_or_int(ICMPV6_TYPES, bytes),
        Ty::Icmpv6Code => sym_or_int(ICMPV6_CODES, bytes),
        Ty::CtDir => sym_or_int(CT_DIRS, bytes),
        Ty::PktType => sym_or_int(PKT_TYPES, bytes),
        Ty::ArpHrd => {
            let v = int_value(bytes, Order::Host);
            symbol(ARPHRD, v).map_or_else(|| v.to_string(), str::to_string)
        }
        Ty::Dscp => {
            let v = int_value(bytes, Order::Big);
            symbol(DSCP, v).map_or_else(|| hex(v, 2), str::to_string)
        }
        Ty::Ecn => {
            let v = int_value(bytes, Order::Big);
            symbol(ECN, v).map_or_else(|| hex(v, 2), str::to_string)
        }
        Ty::FibAddrType => {
            let v = int_value(bytes, Order::Host);
            symbol(FIB_ADDRTYPES, v).map_or_else(|| v.to_string(), str::to_string)
        }
        Ty::Bool => {
            if int_value(bytes, Order::Host) != 0 {
                "exists".into()
            } else {
                "missing".into()
            }
        }
        Ty::TimeMs => time_ms(int_value(bytes, Order::Host) as u64),
        Ty::TcHandle => tc_handle(int_value(bytes, Order::Host) as u32),
        Ty::Label => int_value(bytes, Order::Host).to_string(),
        Ty::RawHex => format!("0x{:x}", int_value(bytes, Order::Big)),
        Ty::TimeNs => format!(
            "\"{}\"",
            utc_date((int_value(bytes, Order::Host) / 1_000_000_000) as i64)
        ),
        Ty::Day => {
            let d = int_value(bytes, Order::Host);
            const DAYS: [&str; 7] = [
                "Sunday",
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
            ];
            match DAYS.get(d as usize) {
                Some(n) => format!("\"{n}\""),
                None => d.to_string(),
            }
        }
        Ty::Hour => {
            let secs = int_value(bytes, Order::Host) as u64;
            let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
            if s == 0 {
                format!("\"{h:02}:{m:02}\"")
            } else {
                format!("\"{h:02}:{m:02}:{s:02}\"")
            }
        }
        Ty::ArpOp => sym_or_int(ARP_OPS, bytes),
        Ty::CtState | Ty::CtStatus | Ty::TcpFlags | Ty::CtEvent => {
            flags(ty, int_value(bytes, byte_order(ty)), " | ")
        }
    }
}

/// The byte order of a bitmask type's register value.
pub fn byte_order(ty: Ty) -> Order {
    match ty {
        Ty::TcpFlags => Order::Big,
        _ => Order::Host,
    }
}

/// Formats the bits of `v` by name, joined with `sep` (`,` in the implicit
/// and `/` forms, ` | ` after an explicit operator), unknown bits in hex.
pub fn flags(ty: Ty, v: u128, sep: &str) -> String {
    let table = symbols(ty);
    if v == 0 {
        return "0x0".into();
    }
    let mut parts = Vec::new();
    let mut rest = v;
    for (bit, name) in table {
        if v & bit != 0 {
            parts.push((*name).to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        parts.push(format!("0x{rest:x}"));
    }
    parts.join(sep)
}

fn hex(v: u128, width: usize) -> String {
    format!("0x{v:0width$x}")
}

fn sym_or_int(table: &[(u128, &'static str)], bytes: &[u8]) -> String {
    let v = int_value(bytes, Order::Big);
    symbol(table, v).map_or_else(|| v.to_string(), str::to_string)
}

fn symbol(table: &[(u128, &'static str)], v: u128) -> Option<&'static str> {
    table.iter().find(|(n, _)| *n == v).map(|(_, s)| *s)
}

/// An IPv4 address from (up to) 4 bytes, zero-padded.
pub fn ipv4(bytes: &[u8]) -> String {
    let mut b = [0u8; 4];
    for (d, s) in b.iter_mut().zip(bytes) {
        *d = *s;
    }
    Ipv4Addr::from(b).to_string()
}

/// An IPv6 address from (up to) 16 bytes, zero-padded, in the RFC 5952
/// form nft (inet_ntop) prints.
pub fn ipv6(bytes: &[u8]) -> String {
    let mut b = [0u8; 16];
    for (d, s) in b.iter_mut().zip(bytes) {
        *d = *s;
    }
    Ipv6Addr::from(b).to_string()
}

/// A quoted string up to its first NUL; without a NUL the match is on a
/// prefix, which nft writes as a trailing `*`.
pub fn string(bytes: &[u8]) -> String {
    let (text, wildcard) = match bytes.iter().position(|b| *b == 0) {
        Some(n) => (&bytes[..n], false),
        None => (bytes, true),
    };
    let mut s = String::from("\"");
    s.push_str(&String::from_utf8_lossy(text));
    if wildcard {
        s.push('*');
    }
    s.push('"');
    s
}

/// `1d2h3m4s5ms` as nft prints a time in milliseconds.
pub fn time_ms(ms: u64) -> String {
    let (d, rest) = (ms / 86_400_000, ms % 86_400_000);
    let (h, rest) = (rest / 3_600_000, rest % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    let mut out = String::new();
    for (v, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s"), (ms, "ms")] {
        if v > 0 {
            out.push_str(&format!("{v}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// `YYYY-MM-DD HH:MM:SS` in UTC. nft prints local time; on a host whose
/// time zone is UTC (as here) the two agree.
pub fn utc_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// A tc handle: `root`, `none`, or `major:minor` in hex.
pub fn tc_handle(h: u32) -> String {
    match h {
        0xffff_ffff => "root".into(),
        0 => "none".into(),
        h => format!("{:x}:{:x}", h >> 16, h & 0xffff),
    }
}

/// Bytes with the largest binary unit that divides them (`5 kbytes`); nft
/// 1.0.6 knows no unit above mbytes.
pub fn byte_units(mut v: u64) -> (u64, &'static str) {
    let units = ["bytes", "kbytes", "mbytes"];
    let mut i = 0;
    while v != 0 && v.is_multiple_of(1024) && i + 1 < units.len() {
        v /= 1024;
        i += 1;
    }
    (v, units[i])
}

/// Layer-4 protocol names as `getprotobynumber` returns them from Debian's
/// `/etc/protocols` (netbase), which is what nft 1.0.6 prints.
pub const PROTOCOLS: &[(u128, &str)] = &[
    (0, "ip"),
    (1, "icmp"),
    (2, "igmp"),
    (3, "ggp"),
    (4, "ipencap"),
    (5, "st"),
    (6, "tcp"),
    (8, "egp"),
    (9, "igp"),
    (12, "pup"),
    (17, "udp"),
    (20, "hmp"),
    (22, "xns-idp"),
    (27, "rdp"),
    (29, "iso-tp4"),
    (33, "dccp"),
    (36, "xtp"),
    (37, "ddp"),
    (38, "idpr-cmtp"),
    (41, "ipv6"),
    (43, "ipv6-route"),
    (44, "ipv6-frag"),
    (45, "idrp"),
    (46, "rsvp"),
    (47, "gre"),
    (50, "esp"),
    (51, "ah"),
    (57, "skip"),
    (58, "ipv6-icmp"),
    (59, "ipv6-nonxt"),
    (60, "ipv6-opts"),
    (73, "rspf"),
    (81, "vmtp"),
    (88, "eigrp"),
    (89, "ospf"),
    (93, "ax.25"),
    (94, "ipip"),
    (97, "etherip"),
    (98, "encap"),
    (103, "pim"),
    (108, "ipcomp"),
    (112, "vrrp"),
    (115, "l2tp"),
    (124, "isis"),
    (132, "sctp"),
    (133, "fc"),
    (135, "mobility-header"),
    (136, "udplite"),
    (137, "mpls-in-ip"),
    (138, "manet"),
    (139, "hip"),
    (140, "shim6"),
    (141, "wesp"),
    (142, "rohc"),
    (143, "ethernet"),
];

/// nft's names of values of the symbolic datatypes, by type: the one
/// table both renderers (and the JSON loader) use. Empty for types
/// without names.
pub fn symbols(ty: Ty) -> &'static [(u128, &'static str)] {
    match ty {
        Ty::InetProto => PROTOCOLS,
        Ty::Nfproto => NFPROTOS,
        Ty::Ethertype => ETHERTYPES,
        Ty::IcmpType => ICMP_TYPES,
        Ty::IcmpCode => ICMP_CODES,
        Ty::Icmpv6Type => ICMPV6_TYPES,
        Ty::Icmpv6Code => ICMPV6_CODES,
        Ty::CtState => CT_STATE,
        Ty::CtStatus => CT_STATUS,
        Ty::CtDir => CT_DIRS,
        Ty::TcpFlags => TCP_FLAGS,
        Ty::CtEvent => CT_EVENTS,
        Ty::PktType => PKT_TYPES,
        Ty::ArpHrd => ARPHRD,
        Ty::Dscp => DSCP,
        Ty::Ecn => ECN,
        Ty::FibAddrType => FIB_ADDRTYPES,
        Ty::ArpOp => ARP_OPS,
        _ => &[],
    }
}

const NFPROTOS: &[(u128, &str)] = &[(2, "ipv4"), (10, "ipv6")];

const CT_DIRS: &[(u128, &str)] = &[(0, "original"), (1, "reply")];

const PKT_TYPES: &[(u128, &str)] = &[
    (0, "host"),
    (1, "broadcast"),
    (2, "multicast"),
    (3, "other"),
];

const ECN: &[(u128, &str)] = &[(0, "not-ect"), (1, "ect1"), (2, "ect0"), (3, "ce")];

const ARP_OPS: &[(u128, &str)] = &[
    (1, "request"),
    (2, "reply"),
    (3, "rrequest"),
    (4, "rreply"),
    (8, "inrequest"),
    (9, "inreply"),
    (10, "nak"),
];

const ETHERTYPES: &[(u128, &str)] = &[
    (0x0800, "ip"),
    (0x0806, "arp"),
    (0x86dd, "ip6"),
    (0x8100, "8021q"),
    (0x88a8, "8021ad"),
];

const ICMP_TYPES: &[(u128, &str)] = &[
    (0, "echo-reply"),
    (3, "destination-unreachable"),
    (4, "source-quench"),
    (5, "redirect"),
    (8, "echo-request"),
    (9, "router-advertisement"),
    (10, "router-solicitation"),
    (11, "time-exceeded"),
    (12, "parameter-problem"),
    (13, "timestamp-request"),
    (14, "timestamp-reply"),
    (15, "info-request"),
    (16, "info-reply"),
    (17, "address-mask-request"),
    (18, "address-mask-reply"),
];

/// ICMP unreachable codes (also `reject with icmp …`).
pub const ICMP_CODES: &[(u128, &str)] = &[
    (0, "net-unreachable"),
    (1, "host-unreachable"),
    (2, "prot-unreachable"),
    (3, "port-unreachable"),
    (4, "frag-needed"),
    (9, "net-prohibited"),
    (10, "host-prohibited"),
    (13, "admin-prohibited"),
];

const ICMPV6_TYPES: &[(u128, &str)] = &[
    (1, "destination-unreachable"),
    (2, "packet-too-big"),
    (3, "time-exceeded"),
    (4, "parameter-problem"),
    (128, "echo-request"),
    (129, "echo-reply"),
    (130, "mld-listener-query"),
    (131, "mld-listener-report"),
    (132, "mld-listener-done"),
    (133, "nd-router-solicit"),
    (134, "nd-router-advert"),
    (135, "nd-neighbor-solicit"),
    (136, "nd-neighbor-advert"),
    (137, "nd-redirect"),
    (138, "router-renumbering"),
    (141, "ind-neighbor-solicit"),
    (142, "ind-neighbor-advert"),
    (143, "mld2-listener-report"),
];

/// ICMPv6 unreachable codes (also `reject with icmpv6 …`).
pub const ICMPV6_CODES: &[(u128, &str)] = &[
    (0, "no-route"),
    (1, "admin-prohibited"),
    (3, "addr-unreachable"),
    (4, "port-unreachable"),
    (5, "policy-fail"),
    (6, "reject-route"),
];

/// Family-independent unreachable codes (`reject with icmpx …`).
pub const ICMPX_CODES: &[(u128, &str)] = &[
    (0, "no-route"),
    (1, "port-unreachable"),
    (2, "host-unreachable"),
    (3, "admin-prohibited"),
];

const CT_STATE: &[(u128, &str)] = &[
    (1, "invalid"),
    (2, "established"),
    (4, "related"),
    (8, "new"),
    (64, "untracked"),
];

const CT_STATUS: &[(u128, &str)] = &[
    (1, "expected"),
    (2, "seen-reply"),
    (4, "assured"),
    (8, "confirmed"),
    (16, "snat"),
    (32, "dnat"),
    (512, "dying"),
];

const CT_EVENTS: &[(u128, &str)] = &[
    (1, "new"),
    (2, "related"),
    (4, "destroy"),
    (8, "reply"),
    (16, "assured"),
    (32, "protoinfo"),
    (64, "helper"),
    (128, "mark"),
    (256, "seqadj"),
    (512, "secmark"),
    (1024, "label"),
];

const TCP_FLAGS: &[(u128, &str)] = &[
    (0x01, "fin"),
    (0x02, "syn"),
    (0x04, "rst"),
    (0x08, "psh"),
    (0x10, "ack"),
    (0x20, "urg"),
    (0x40, "ecn"),
    (0x80, "cwr"),
];

const ARPHRD: &[(u128, &str)] = &[
    (1, "ether"),
    (512, "ppp"),
    (768, "ipip"),
    (769, "ipip6"),
    (772, "loopback"),
    (776, "sit"),
    (778, "ipgre"),
];

const DSCP: &[(u128, &str)] = &[
    (0x00, "cs0"),
    (0x08, "cs1"),
    (0x10, "cs2"),
    (0x18, "cs3"),
    (0x20, "cs4"),
    (0x28, "cs5"),
    (0x30, "cs6"),
    (0x38, "cs7"),
    (0x01, "lephb"),
    (0x0a, "af11"),
    (0x0c, "af12"),
    (0x0e, "af13"),
    (0x12, "af21"),
    (0x14, "af22"),
    (0x16, "af23"),
    (0x1a, "af31"),
    (0x1c, "af32"),
    (0x1e, "af33"),
    (0x22, "af41"),
    (0x24, "af42"),
    (0x26, "af43"),
    (0x2c, "va"),
    (0x2e, "ef"),
];

const FIB_ADDRTYPES: &[(u128, &str)] = &[
    (0, "unspec"),
    (1, "unicast"),
    (2, "local"),
    (3, "broadcast"),
    (4, "anycast"),
    (5, "multicast"),
    (6, "blackhole"),
    (7, "unreachable"),
    (8, "prohibit"),
];

/// The code named `name` in `table`.
pub fn code_of(table: &[(u128, &'static str)], name: &str) -> Option<u8> {
    table
        .iter()
        .find(|(_, n)| *n == name)
        .and_then(|(c, _)| u8::try_from(*c).ok())
}

/// The name of a code in `table`, or its number.
pub fn code_name(table: &[(u128, &'static str)], code: u8) -> String {
    symbol(table, u128::from(code)).map_or_else(|| code.to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_if(_: u32) -> Option<String> {
        None
    }

    fn f(ty: Ty, b: &[u8]) -> String {
        format(ty, b, &no_if)
    }

    #[test]
    fn integers_and_ports() {
        assert_eq!(f(Ty::Port, &[0, 22]), "22");
        assert_eq!(f(Ty::Int(Order::Big), &[0x03, 0xe8]), "1000");
        assert_eq!(
            f(Ty::Hex(Order::Host), &0x10u32.to_ne_bytes()),
            "0x00000010"
        );
        assert_eq!(f(Ty::Int(Order::Host), &1000u32.to_ne_bytes()), "1000");
    }

    #[test]
    fn addresses() {
        assert_eq!(f(Ty::Ipv4, &[10, 1, 2, 3]), "10.1.2.3");
        assert_eq!(ipv4(&[10]), "10.0.0.0");
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(f(Ty::Ipv6, &v6), "::1");
        assert_eq!(ipv6(&[0x20, 0x01, 0x0d, 0xb8]), "2001:db8::");
        assert_eq!(
            f(Ty::Ether, &[0, 0x11, 0x22, 0x33, 0x44, 0x55]),
            "00:11:22:33:44:55"
        );
    }

    #[test]
    fn strings_and_interfaces() {
        assert_eq!(f(Ty::Str, b"eth0\0\0\0\0"), "\"eth0\"");
        assert_eq!(f(Ty::Str, b"eth"), "\"eth*\"");
        assert_eq!(f(Ty::Ifindex, &7u32.to_ne_bytes()), "7");
        let lo = |i: u32| (i == 1).then(|| "lo".to_string());
        assert_eq!(format(Ty::Ifindex, &1u32.to_ne_bytes(), &lo), "\"lo\"");
        assert_eq!(f(Ty::Devgroup, &0u32.to_ne_bytes()), "\"default\"");
    }

    #[test]
    fn symbols() {
        assert_eq!(f(Ty::InetProto, &[6]), "tcp");
        assert_eq!(f(Ty::InetProto, &[58]), "ipv6-icmp");
        assert_eq!(f(Ty::InetProto, &[99]), "99");
        assert_eq!(f(Ty::Nfproto, &[10]), "ipv6");
        assert_eq!(f(Ty::Ethertype, &[0x86, 0xdd]), "ip6");
        assert_eq!(f(Ty::Ethertype, &[0x12, 0x34]), "0x1234");
        assert_eq!(f(Ty::IcmpType, &[8]), "echo-request");
        assert_eq!(f(Ty::IcmpType, &[200]), "200");
        assert_eq!(f(Ty::Icmpv6Type, &[135]), "nd-neighbor-solicit");
        assert_eq!(f(Ty::Dscp, &[8]), "cs1");
        assert_eq!(f(Ty::Dscp, &[5]), "0x05");
        assert_eq!(f(Ty::Ecn, &[2]), "ect0");
        assert_eq!(f(Ty::PktType, &[1]), "broadcast");
        assert_eq!(f(Ty::ArpHrd, &1u16.to_ne_bytes()), "ether");
    }

    #[test]
    fn flag_sets() {
        assert_eq!(flags(Ty::CtState, 6, ","), "established,related");
        assert_eq!(flags(Ty::CtState, 6, " | "), "established | related");
        assert_eq!(flags(Ty::TcpFlags, 0x17, ","), "fin,syn,rst,ack");
        assert_eq!(flags(Ty::CtStatus, 0x400, ","), "0x400");
        assert_eq!(f(Ty::CtState, &8u32.to_ne_bytes()), "new");
    }

    #[test]
    fn times_handles_units() {
        assert_eq!(time_ms(30_000), "30s");
        assert_eq!(time_ms(90_500), "1m30s500ms");
        assert_eq!(time_ms(86_400_000 + 3_600_000), "1d1h");
        assert_eq!(tc_handle(0x0001_0002), "1:2");
        assert_eq!(utc_date(1000), "1970-01-01 00:16:40");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(tc_handle(0), "none");
        assert_eq!(byte_units(104_857_600), (100, "mbytes"));
        assert_eq!(byte_units(1500), (1500, "bytes"));
        assert_eq!(byte_units(0), (0, "bytes"));
    }
}
