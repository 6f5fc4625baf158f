//! Protocol header templates: which `payload` loads nft names as which
//! header field (`@th,16,16` is `tcp dport` once the transport protocol is
//! known), and the protocol context a rule builds up as it goes
//! (`meta nfproto`, `meta l4proto`, `ip protocol`, …).

use super::value::Ty;

/// A protocol whose header fields nft names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// Ethernet.
    Ether,
    /// IPv4.
    Ip,
    /// IPv6.
    Ip6,
    /// ARP.
    Arp,
    /// Ethernet with an 802.1Q tag (after `ether type 8021q`).
    Vlan,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// UDP-Lite.
    Udplite,
    /// SCTP.
    Sctp,
    /// DCCP.
    Dccp,
    /// ICMP.
    Icmp,
    /// ICMPv6.
    Icmpv6,
    /// IPsec AH.
    Ah,
    /// IPsec ESP.
    Esp,
    /// IPComp.
    Comp,
    /// Generic transport header (`th sport`/`th dport`) when no transport
    /// protocol is known.
    Th,
    /// A protocol nft has no template for: its fields print raw.
    Unknown,
}

/// One named header field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Protocol keyword (`tcp`, `ip6`, …).
    pub proto: &'static str,
    /// Field keyword (`dport`, `saddr`, …).
    pub name: &'static str,
    /// Offset in bits from the start of the header.
    pub offset: u32,
    /// Length in bits.
    pub len: u32,
    /// Datatype of its values.
    pub ty: Ty,
}

const fn f(proto: &'static str, name: &'static str, offset: u32, len: u32, ty: Ty) -> Field {
    Field {
        proto,
        name,
        offset,
        len,
        ty,
    }
}

use super::value::Order::Big;
use Ty::Int;

const ETHER: &[Field] = &[
    f("ether", "daddr", 0, 48, Ty::Ether),
    f("ether", "saddr", 48, 48, Ty::Ether),
    f("ether", "type", 96, 16, Ty::Ethertype),
];

/// The vlan header follows the ethernet header; offsets are from the start
/// of the link layer, like the payload loads nft emits for them.
const VLAN: &[Field] = &[
    f("ether", "daddr", 0, 48, Ty::Ether),
    f("ether", "saddr", 48, 48, Ty::Ether),
    f("ether", "type", 96, 16, Ty::Ethertype),
    f("vlan", "pcp", 112, 3, Int(Big)),
    f("vlan", "cfi", 115, 1, Int(Big)),
    f("vlan", "id", 116, 12, Int(Big)),
    f("vlan", "type", 128, 16, Ty::Ethertype),
];

const ARP: &[Field] = &[
    f("arp", "htype", 0, 16, Int(Big)),
    f("arp", "ptype", 16, 16, Ty::Ethertype),
    f("arp", "hlen", 32, 8, Int(Big)),
    f("arp", "plen", 40, 8, Int(Big)),
    f("arp", "operation", 48, 16, Ty::ArpOp),
    f("arp", "saddr ether", 64, 48, Ty::Ether),
    f("arp", "saddr ip", 112, 32, Ty::Ipv4),
    f("arp", "daddr ether", 144, 48, Ty::Ether),
    f("arp", "daddr ip", 192, 32, Ty::Ipv4),
];

const IP: &[Field] = &[
    f("ip", "version", 0, 4, Int(Big)),
    f("ip", "hdrlength", 4, 4, Int(Big)),
    f("ip", "dscp", 8, 6, Ty::Dscp),
    f("ip", "ecn", 14, 2, Ty::Ecn),
    f("ip", "length", 16, 16, Int(Big)),
    f("ip", "id", 32, 16, Int(Big)),
    f("ip", "frag-off", 48, 16, Int(Big)),
    f("ip", "ttl", 64, 8, Int(Big)),
    f("ip", "protocol", 72, 8, Ty::InetProto),
    f("ip", "checksum", 80, 16, Int(Big)),
    f("ip", "saddr", 96, 32, Ty::Ipv4),
    f("ip", "daddr", 128, 32, Ty::Ipv4),
];

const IP6: &[Field] = &[
    f("ip6", "version", 0, 4, Int(Big)),
    f("ip6", "dscp", 4, 6, Ty::Dscp),
    f("ip6", "ecn", 10, 2, Ty::Ecn),
    f("ip6", "flowlabel", 12, 20, Int(Big)),
    f("ip6", "length", 32, 16, Int(Big)),
    f("ip6", "nexthdr", 48, 8, Ty::InetProto),
    f("ip6", "hoplimit", 56, 8, Int(Big)),
    f("ip6", "saddr", 64, 128, Ty::Ipv6),
    f("ip6", "daddr", 192, 128, Ty::Ipv6),
];

const TCP: &[Field] = &[
    f("tcp", "sport", 0, 16, Ty::Port),
    f("tcp", "dport", 16, 16, Ty::Port),
    f("tcp", "sequence", 32, 32, Int(Big)),
    f("tcp", "ackseq", 64, 32, Int(Big)),
    f("tcp", "doff", 96, 4, Int(Big)),
    f("tcp", "reserved", 100, 4, Int(Big)),
    f("tcp", "flags", 104, 8, Ty::TcpFlags),
    f("tcp", "window", 112, 16, Int(Big)),
    f("tcp", "checksum", 128, 16, Int(Big)),
    f("tcp", "urgptr", 144, 16, Int(Big)),
];

const UDP: &[Field] = &[
    f("udp", "sport", 0, 16, Ty::Port),
    f("udp", "dport", 16, 16, Ty::Port),
    f("udp", "length", 32, 16, Int(Big)),
    f("udp", "checksum", 48, 16, Int(Big)),
];

const UDPLITE: &[Field] = &[
    f("udplite", "sport", 0, 16, Ty::Port),
    f("udplite", "dport", 16, 16, Ty::Port),
    f("udplite", "csumcov", 32, 16, Int(Big)),
    f("udplite", "checksum", 48, 16, Int(Big)),
];

const SCTP: &[Field] = &[
    f("sctp", "sport", 0, 16, Ty::Port),
    f("sctp", "dport", 16, 16, Ty::Port),
    f("sctp", "vtag", 32, 32, Int(Big)),
    f("sctp", "checksum", 64, 32, Int(Big)),
];

const DCCP: &[Field] = &[
    f("dccp", "sport", 0, 16, Ty::Port),
    f("dccp", "dport", 16, 16, Ty::Port),
];

const ICMP: &[Field] = &[
    f("icmp", "type", 0, 8, Ty::IcmpType),
    f("icmp", "code", 8, 8, Ty::IcmpCode),
    f("icmp", "checksum", 16, 16, Int(Big)),
];

const ICMPV6: &[Field] = &[
    f("icmpv6", "type", 0, 8, Ty::Icmpv6Type),
    f("icmpv6", "code", 8, 8, Ty::Icmpv6Code),
    f("icmpv6", "checksum", 16, 16, Int(Big)),
];

const AH: &[Field] = &[
    f("ah", "nexthdr", 0, 8, Ty::InetProto),
    f("ah", "hdrlength", 8, 8, Int(Big)),
    f("ah", "reserved", 16, 16, Int(Big)),
    f("ah", "spi", 32, 32, Int(Big)),
    f("ah", "sequence", 64, 32, Int(Big)),
];

const ESP: &[Field] = &[
    f("esp", "spi", 0, 32, Int(Big)),
    f("esp", "sequence", 32, 32, Int(Big)),
];

const COMP: &[Field] = &[
    f("comp", "nexthdr", 0, 8, Ty::InetProto),
    f("comp", "flags", 8, 8, Int(Big)),
    f("comp", "cpi", 16, 16, Int(Big)),
];

const TH: &[Field] = &[
    f("th", "sport", 0, 16, Ty::Port),
    f("th", "dport", 16, 16, Ty::Port),
];

impl Proto {
    /// The named fields of this protocol's header.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Proto::Ether => ETHER,
            Proto::Vlan => VLAN,
            Proto::Arp => ARP,
            Proto::Ip => IP,
            Proto::Ip6 => IP6,
            Proto::Tcp => TCP,
            Proto::Udp => UDP,
            Proto::Udplite => UDPLITE,
            Proto::Sctp => SCTP,
            Proto::Dccp => DCCP,
            Proto::Icmp => ICMP,
            Proto::Icmpv6 => ICMPV6,
            Proto::Ah => AH,
            Proto::Esp => ESP,
            Proto::Comp => COMP,
            Proto::Th => TH,
            Proto::Unknown => &[],
        }
    }

    /// The transport protocol for a layer-4 protocol number.
    pub fn from_l4(n: u128) -> Proto {
        match n {
            6 => Proto::Tcp,
            17 => Proto::Udp,
            136 => Proto::Udplite,
            132 => Proto::Sctp,
            33 => Proto::Dccp,
            1 => Proto::Icmp,
            58 => Proto::Icmpv6,
            51 => Proto::Ah,
            50 => Proto::Esp,
            108 => Proto::Comp,
            _ => Proto::Unknown,
        }
    }

    /// The network protocol for an `NFPROTO_*` number.
    pub fn from_nfproto(n: u128) -> Proto {
        match n {
            2 => Proto::Ip,
            10 => Proto::Ip6,
            _ => Proto::Unknown,
        }
    }

    /// The network protocol for an ethertype.
    pub fn from_ethertype(n: u128) -> Proto {
        match n {
            0x0800 => Proto::Ip,
            0x86dd => Proto::Ip6,
            0x0806 => Proto::Arp,
            0x8100 => Proto::Vlan,
            _ => Proto::Unknown,
        }
    }

    /// If `field` of this protocol names the protocol of the next header
    /// (`ether type`, `ip protocol`, `ip6 nexthdr`): how to read its value.
    pub fn next_header(self, field: &Field) -> Option<fn(u128) -> Proto> {
        match (self, field.name) {
            (Proto::Ether | Proto::Vlan, "type") => Some(Proto::from_ethertype),
            (Proto::Ip, "protocol") | (Proto::Ip6, "nexthdr") => Some(Proto::from_l4),
            _ => None,
        }
    }
}

/// The field of `proto` at exactly `offset`/`len` bits.
pub fn find(proto: Proto, offset: u32, len: u32) -> Option<Field> {
    proto
        .fields()
        .iter()
        .find(|fl| fl.offset == offset && fl.len == len)
        .copied()
}

/// The field of `proto` starting at `offset` and longer than `len` bits:
/// nft 1.0.6 loads only the bytes a byte-aligned prefix needs
/// (`ip saddr 10.0.0.0/8` loads 1 byte).
pub fn find_shortened(proto: Proto, offset: u32, len: u32) -> Option<Field> {
    proto
        .fields()
        .iter()
        .find(|fl| fl.offset == offset && fl.len > len && fl.ty.is_address())
        .copied()
}

/// How nft names an extension header or option: the keyword that tests
/// its presence (`exthdr hbh`, `tcp option maxseg`) and the prefix of its
/// fields (`hbh`, `tcp option maxseg`), with the fields.
pub struct ExthdrDesc {
    /// Printed before `exists`/`missing`.
    pub presence: &'static str,
    /// The header's fields; `proto` is the printed prefix.
    pub fields: &'static [Field],
}

const fn x(presence: &'static str, fields: &'static [Field]) -> ExthdrDesc {
    ExthdrDesc { presence, fields }
}

const HBH: &[Field] = &[
    f("hbh", "nexthdr", 0, 8, Ty::InetProto),
    f("hbh", "hdrlength", 8, 8, Int(Big)),
];
const RT: &[Field] = &[
    f("rt", "nexthdr", 0, 8, Ty::InetProto),
    f("rt", "hdrlength", 8, 8, Int(Big)),
    f("rt", "type", 16, 8, Int(Big)),
    f("rt", "seg-left", 24, 8, Int(Big)),
];
const FRAG: &[Field] = &[
    f("frag", "nexthdr", 0, 8, Ty::InetProto),
    f("frag", "reserved", 8, 8, Int(Big)),
    f("frag", "frag-off", 16, 13, Int(Big)),
    f("frag", "reserved2", 29, 2, Int(Big)),
    f("frag", "more-fragments", 31, 1, Int(Big)),
    f("frag", "id", 32, 32, Int(Big)),
];
const DST: &[Field] = &[
    f("dst", "nexthdr", 0, 8, Ty::InetProto),
    f("dst", "hdrlength", 8, 8, Int(Big)),
];
const MH: &[Field] = &[
    f("mh", "nexthdr", 0, 8, Ty::InetProto),
    f("mh", "hdrlength", 8, 8, Int(Big)),
    f("mh", "type", 16, 8, Int(Big)),
    f("mh", "reserved", 24, 8, Int(Big)),
    f("mh", "checksum", 32, 16, Int(Big)),
];
const TCPOPT_EOL: &[Field] = &[f("tcp option eol", "kind", 0, 8, Int(Big))];
const TCPOPT_NOP: &[Field] = &[f("tcp option nop", "kind", 0, 8, Int(Big))];
const TCPOPT_MAXSEG: &[Field] = &[
    f("tcp option maxseg", "kind", 0, 8, Int(Big)),
    f("tcp option maxseg", "length", 8, 8, Int(Big)),
    f("tcp option maxseg", "size", 16, 16, Int(Big)),
];
const TCPOPT_WINDOW: &[Field] = &[
    f("tcp option window", "kind", 0, 8, Int(Big)),
    f("tcp option window", "length", 8, 8, Int(Big)),
    f("tcp option window", "count", 16, 8, Int(Big)),
];
const TCPOPT_SACK_PERM: &[Field] = &[
    f("tcp option sack-perm", "kind", 0, 8, Int(Big)),
    f("tcp option sack-perm", "length", 8, 8, Int(Big)),
];
const TCPOPT_SACK: &[Field] = &[
    f("tcp option sack", "kind", 0, 8, Int(Big)),
    f("tcp option sack", "length", 8, 8, Int(Big)),
    f("tcp option sack", "left", 16, 32, Int(Big)),
    f("tcp option sack", "right", 48, 32, Int(Big)),
];
const TCPOPT_TIMESTAMP: &[Field] = &[
    f("tcp option timestamp", "kind", 0, 8, Int(Big)),
    f("tcp option timestamp", "length", 8, 8, Int(Big)),
    f("tcp option timestamp", "tsval", 16, 32, Int(Big)),
    f("tcp option timestamp", "tsecr", 48, 32, Int(Big)),
];
const IPOPT_LSRR: &[Field] = &[
    f("ip option lsrr", "type", 0, 8, Int(Big)),
    f("ip option lsrr", "length", 8, 8, Int(Big)),
    f("ip option lsrr", "ptr", 16, 8, Int(Big)),
    f("ip option lsrr", "addr", 24, 32, Ty::Ipv4),
];
const IPOPT_SSRR: &[Field] = &[
    f("ip option ssrr", "type", 0, 8, Int(Big)),
    f("ip option ssrr", "length", 8, 8, Int(Big)),
    f("ip option ssrr", "ptr", 16, 8, Int(Big)),
    f("ip option ssrr", "addr", 24, 32, Ty::Ipv4),
];
const IPOPT_RR: &[Field] = &[
    f("ip option rr", "type", 0, 8, Int(Big)),
    f("ip option rr", "length", 8, 8, Int(Big)),
    f("ip option rr", "ptr", 16, 8, Int(Big)),
    f("ip option rr", "addr", 24, 32, Ty::Ipv4),
];
const IPOPT_RA: &[Field] = &[
    f("ip option ra", "type", 0, 8, Int(Big)),
    f("ip option ra", "length", 8, 8, Int(Big)),
    f("ip option ra", "value", 16, 16, Int(Big)),
];

/// The description of extension header / option `kind` in family `op`
/// (`enum nft_exthdr_op`: 0 IPv6, 1 TCP, 2 IPv4).
pub fn exthdr(op: u32, kind: u8) -> Option<ExthdrDesc> {
    Some(match (op, kind) {
        (0, 0) => x("exthdr hbh", HBH),
        (0, 43) => x("exthdr rt", RT),
        (0, 44) => x("exthdr frag", FRAG),
        (0, 60) => x("exthdr dst", DST),
        (0, 135) => x("exthdr mh", MH),
        (1, 0) => x("tcp option eol", TCPOPT_EOL),
        (1, 1) => x("tcp option nop", TCPOPT_NOP),
        (1, 2) => x("tcp option maxseg", TCPOPT_MAXSEG),
        (1, 3) => x("tcp option window", TCPOPT_WINDOW),
        (1, 4) => x("tcp option sack-perm", TCPOPT_SACK_PERM),
        (1, 5) => x("tcp option sack", TCPOPT_SACK),
        (1, 8) => x("tcp option timestamp", TCPOPT_TIMESTAMP),
        (2, 131) => x("ip option lsrr", IPOPT_LSRR),
        (2, 137) => x("ip option ssrr", IPOPT_SSRR),
        (2, 7) => x("ip option rr", IPOPT_RR),
        (2, 148) => x("ip option ra", IPOPT_RA),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(find(Proto::Tcp, 16, 16).map(|f| f.name), Some("dport"));
        assert_eq!(find(Proto::Ip, 8, 6).map(|f| f.name), Some("dscp"));
        assert_eq!(find(Proto::Ip6, 12, 20).map(|f| f.name), Some("flowlabel"));
        assert_eq!(find(Proto::Th, 32, 16), None);
        assert_eq!(
            find_shortened(Proto::Ip, 96, 8).map(|f| f.name),
            Some("saddr")
        );
        assert_eq!(find_shortened(Proto::Ip, 16, 8), None);
        assert_eq!(Proto::from_l4(58), Proto::Icmpv6);
        assert_eq!(Proto::from_ethertype(0x86dd), Proto::Ip6);
    }
}
