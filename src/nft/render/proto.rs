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
    /// ARP (fields not named here: printed raw).
    Arp,
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
            Proto::Arp | Proto::Unknown => &[],
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
            _ => Proto::Unknown,
        }
    }

    /// If `field` of this protocol names the protocol of the next header
    /// (`ether type`, `ip protocol`, `ip6 nexthdr`): how to read its value.
    pub fn next_header(self, field: &Field) -> Option<fn(u128) -> Proto> {
        match (self, field.name) {
            (Proto::Ether, "type") => Some(Proto::from_ethertype),
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
