//! Header fields (`payload` protocol/field names with their place in the
//! packet), and the datatypes of `meta` and `ct` keys.

use super::types::Dtype;
use crate::nft::expr::{CtKey, MetaKey, PayloadBase};

/// One named header field: byte-aligned fields only (nft's bit fields
/// such as `ip version` are rendered as raw payloads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Protocol name (`ip`, `tcp`, …).
    pub proto: &'static str,
    /// Field name (`saddr`, …).
    pub name: &'static str,
    /// Header the offset is relative to.
    pub base: PayloadBase,
    /// Offset in bytes.
    pub offset: u32,
    /// Length in bytes.
    pub len: u32,
    /// Datatype of the field.
    pub dtype: Dtype,
}

const fn f(
    proto: &'static str,
    name: &'static str,
    base: PayloadBase,
    offset: u32,
    len: u32,
    dtype: Dtype,
) -> Field {
    Field {
        proto,
        name,
        base,
        offset,
        len,
        dtype,
    }
}

use Dtype as D;
use PayloadBase::{LinkLayer as LL, Network as NH, Transport as TH};

/// The fields nftguard names.
pub const FIELDS: &[Field] = &[
    f("ether", "daddr", LL, 0, 6, D::Ether),
    f("ether", "saddr", LL, 6, 6, D::Ether),
    f("ether", "type", LL, 12, 2, D::EtherType),
    f("arp", "htype", NH, 0, 2, D::IntBe),
    f("arp", "ptype", NH, 2, 2, D::EtherType),
    f("arp", "hlen", NH, 4, 1, D::IntBe),
    f("arp", "plen", NH, 5, 1, D::IntBe),
    f("arp", "operation", NH, 6, 2, D::ArpOp),
    f("arp", "saddr ether", NH, 8, 6, D::Ether),
    f("arp", "saddr ip", NH, 14, 4, D::Ipv4),
    f("arp", "daddr ether", NH, 18, 6, D::Ether),
    f("arp", "daddr ip", NH, 24, 4, D::Ipv4),
    f("ip", "length", NH, 2, 2, D::IntBe),
    f("ip", "id", NH, 4, 2, D::IntBe),
    f("ip", "frag-off", NH, 6, 2, D::IntBe),
    f("ip", "ttl", NH, 8, 1, D::IntBe),
    f("ip", "protocol", NH, 9, 1, D::InetProto),
    f("ip", "checksum", NH, 10, 2, D::IntBe),
    f("ip", "saddr", NH, 12, 4, D::Ipv4),
    f("ip", "daddr", NH, 16, 4, D::Ipv4),
    f("ip6", "length", NH, 4, 2, D::IntBe),
    f("ip6", "nexthdr", NH, 6, 1, D::InetProto),
    f("ip6", "hoplimit", NH, 7, 1, D::IntBe),
    f("ip6", "saddr", NH, 8, 16, D::Ipv6),
    f("ip6", "daddr", NH, 24, 16, D::Ipv6),
    f("tcp", "sport", TH, 0, 2, D::InetService),
    f("tcp", "dport", TH, 2, 2, D::InetService),
    f("tcp", "sequence", TH, 4, 4, D::IntBe),
    f("tcp", "ackseq", TH, 8, 4, D::IntBe),
    f("tcp", "flags", TH, 13, 1, D::TcpFlag),
    f("tcp", "window", TH, 14, 2, D::IntBe),
    f("tcp", "checksum", TH, 16, 2, D::IntBe),
    f("tcp", "urgptr", TH, 18, 2, D::IntBe),
    f("udp", "sport", TH, 0, 2, D::InetService),
    f("udp", "dport", TH, 2, 2, D::InetService),
    f("udp", "length", TH, 4, 2, D::IntBe),
    f("udp", "checksum", TH, 6, 2, D::IntBe),
    f("udplite", "sport", TH, 0, 2, D::InetService),
    f("udplite", "dport", TH, 2, 2, D::InetService),
    f("sctp", "sport", TH, 0, 2, D::InetService),
    f("sctp", "dport", TH, 2, 2, D::InetService),
    f("sctp", "vtag", TH, 4, 4, D::IntBe),
    f("dccp", "sport", TH, 0, 2, D::InetService),
    f("dccp", "dport", TH, 2, 2, D::InetService),
    f("icmp", "type", TH, 0, 1, D::IcmpType),
    f("icmp", "code", TH, 1, 1, D::IntBe),
    f("icmp", "checksum", TH, 2, 2, D::IntBe),
    f("icmp", "id", TH, 4, 2, D::IntBe),
    f("icmp", "sequence", TH, 6, 2, D::IntBe),
    f("icmp", "gateway", TH, 4, 4, D::IntBe),
    f("icmpv6", "type", TH, 0, 1, D::Icmpv6Type),
    f("icmpv6", "code", TH, 1, 1, D::IntBe),
    f("icmpv6", "checksum", TH, 2, 2, D::IntBe),
    f("icmpv6", "mtu", TH, 4, 4, D::IntBe),
    f("icmpv6", "id", TH, 4, 2, D::IntBe),
    f("icmpv6", "sequence", TH, 6, 2, D::IntBe),
    f("th", "sport", TH, 0, 2, D::InetService),
    f("th", "dport", TH, 2, 2, D::InetService),
];

/// The field `proto`/`name`.
pub fn field(proto: &str, name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|x| x.proto == proto && x.name == name)
}

/// The field of protocol `proto` that starts at `offset` (the longest
/// one no longer than `max_len`).
pub fn field_at(
    proto: &str,
    base: PayloadBase,
    offset: u32,
    max_len: u32,
) -> Option<&'static Field> {
    FIELDS
        .iter()
        .filter(|x| x.proto == proto && x.base == base && x.offset == offset && x.len <= max_len)
        .max_by_key(|x| x.len)
}

/// The layer-4 protocol number behind a transport protocol name.
pub fn l4_number(proto: &str) -> Option<u8> {
    Some(match proto {
        "tcp" => 6,
        "udp" => 17,
        "udplite" => 136,
        "sctp" => 132,
        "dccp" => 33,
        "icmp" => 1,
        "icmpv6" => 58,
        _ => return None,
    })
}

/// The transport protocol name for a layer-4 protocol number.
pub fn l4_name(n: u8) -> Option<&'static str> {
    Some(match n {
        6 => "tcp",
        17 => "udp",
        136 => "udplite",
        132 => "sctp",
        33 => "dccp",
        1 => "icmp",
        58 => "icmpv6",
        _ => return None,
    })
}

/// The datatype and length of a `meta` key.
pub fn meta_type(key: MetaKey) -> (Dtype, u32) {
    use MetaKey as M;
    match key {
        M::Iifname | M::Oifname | M::BriIifname | M::BriOifname | M::Sdifname => (D::Ifname, 16),
        M::Iifkind | M::Oifkind => (D::Str, 16),
        M::Iif | M::Oif | M::Sdif => (D::IfIndex, 4),
        M::Mark => (D::Mark, 4),
        M::Skuid => (D::Uid, 4),
        M::Skgid => (D::Gid, 4),
        M::L4proto => (D::InetProto, 1),
        M::Nfproto => (D::NfProto, 1),
        M::Pkttype => (D::PktType, 1),
        M::Protocol => (D::EtherType, 2),
        M::Iiftype | M::Oiftype => (D::ArpHrd, 2),
        M::Nftrace | M::Secpath => (D::IntHost, 1),
        M::TimeNs => (D::IntHost, 8),
        M::TimeDay => (D::IntHost, 1),
        _ => (D::IntHost, 4),
    }
}

/// The datatype and length of a `ct` key (0: variable).
pub fn ct_type(key: CtKey) -> (Dtype, u32) {
    use CtKey as C;
    match key {
        C::State => (D::CtState, 4),
        C::Status => (D::CtStatus, 4),
        C::Direction => (D::CtDir, 1),
        C::Mark | C::Secmark | C::Expiration | C::Id => (D::Mark, 4),
        C::SrcIp | C::DstIp => (D::Ipv4, 4),
        C::SrcIp6 | C::DstIp6 => (D::Ipv6, 16),
        C::L3protocol => (D::NfProto, 1),
        C::Protocol => (D::InetProto, 1),
        C::ProtoSrc | C::ProtoDst => (D::InetService, 2),
        C::Zone => (D::IntHost, 2),
        C::Pkts | C::Bytes | C::Avgpkt => (D::IntHost, 8),
        C::Helper => (D::Str, 16),
        _ => (D::IntHost, 4),
    }
}
