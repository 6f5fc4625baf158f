//! nft's datatypes by number, as sets store them (`NFTA_SET_KEY_TYPE`,
//! `NFTA_SET_DATA_TYPE`): the name `type …` prints, how values format,
//! how many bytes a value takes and how nft sorts and wraps element lists.

use super::value::{Order, Ty};

/// One of nft's datatypes (`enum datatypes` in nft's `datatype.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataType {
    /// nft's number for the type.
    pub id: u32,
    /// The name `type NAME` prints.
    pub name: &'static str,
    /// How a value prints.
    pub ty: Ty,
    /// Bytes of one value (0: variable, the whole key).
    pub len: u32,
    /// Byte order of the register value (used to sort elements).
    pub order: Order,
    /// Elements of a named set printed per line before nft wraps (nft's
    /// `calculate_delim`: 5 for small numbers, 2 for IPv4 addresses and
    /// conntrack states, 1 for anything else).
    pub per_line: usize,
    /// Whether a range of values that is a prefix prints as `a/len`.
    pub prefix: bool,
}

/// The datatype numbered `id`; unknown numbers print as integers.
pub fn datatype(id: u32) -> DataType {
    let (name, ty, len, order, per_line, prefix) = match id {
        1 => ("verdict", Ty::Int(Order::Host), 4, Order::Host, 1, false),
        2 => ("nf_proto", Ty::Nfproto, 1, Order::Host, 5, false),
        3 => ("bitmask", Ty::Hex(Order::Host), 4, Order::Host, 1, false),
        4 => ("integer", Ty::Int(Order::Host), 0, Order::Host, 5, false),
        5 => ("string", Ty::Str, 0, Order::Host, 1, false),
        6 => ("ll_addr", Ty::Ether, 0, Order::Big, 1, false),
        7 => ("ipv4_addr", Ty::Ipv4, 4, Order::Big, 2, true),
        8 => ("ipv6_addr", Ty::Ipv6, 16, Order::Big, 1, true),
        9 => ("ether_addr", Ty::Ether, 6, Order::Big, 1, false),
        10 => ("ether_type", Ty::Ethertype, 2, Order::Big, 1, false),
        11 => ("arp_op", Ty::ArpOp, 2, Order::Big, 5, false),
        12 => ("inet_proto", Ty::InetProto, 1, Order::Big, 5, false),
        13 => ("inet_service", Ty::Port, 2, Order::Big, 5, false),
        14 => ("icmp_type", Ty::IcmpType, 1, Order::Big, 1, false),
        15 => ("tcp_flag", Ty::TcpFlags, 1, Order::Big, 5, false),
        18 => ("time", Ty::TimeMs, 8, Order::Host, 1, false),
        19 => ("mark", Ty::Hex(Order::Host), 4, Order::Host, 5, false),
        20 => ("iface_index", Ty::Ifindex, 4, Order::Host, 5, false),
        21 => ("iface_type", Ty::ArpHrd, 2, Order::Host, 1, false),
        22 => ("realm", Ty::Int(Order::Host), 4, Order::Host, 1, false),
        23 => ("classid", Ty::TcHandle, 4, Order::Host, 5, false),
        24 => ("uid", Ty::Int(Order::Host), 4, Order::Host, 5, false),
        25 => ("gid", Ty::Int(Order::Host), 4, Order::Host, 5, false),
        26 => ("ct_state", Ty::CtState, 4, Order::Host, 2, false),
        27 => ("ct_dir", Ty::CtDir, 1, Order::Host, 5, false),
        28 => ("ct_status", Ty::CtStatus, 4, Order::Host, 2, false),
        29 => ("icmpv6_type", Ty::Icmpv6Type, 1, Order::Big, 1, false),
        30 => ("ct_label", Ty::Label, 16, Order::Host, 1, false),
        31 => ("pkt_type", Ty::PktType, 1, Order::Host, 2, false),
        32 => ("icmp_code", Ty::IcmpCode, 1, Order::Big, 1, false),
        33 => ("icmpv6_code", Ty::Icmpv6Code, 1, Order::Big, 1, false),
        35 => ("devgroup", Ty::Devgroup, 4, Order::Host, 1, false),
        36 => ("dscp", Ty::Dscp, 1, Order::Big, 1, false),
        37 => ("ecn", Ty::Ecn, 1, Order::Big, 1, false),
        38 => ("fib_addrtype", Ty::FibAddrType, 4, Order::Host, 1, false),
        39 => ("boolean", Ty::Bool, 1, Order::Host, 1, false),
        40 => ("ct_event", Ty::CtEvent, 4, Order::Host, 1, false),
        41 => ("ifname", Ty::Str, 16, Order::Host, 1, false),
        43 => ("time", Ty::TimeNs, 8, Order::Host, 1, false),
        44 => ("hour", Ty::Hour, 4, Order::Host, 1, false),
        45 => ("day", Ty::Day, 1, Order::Host, 1, false),
        _ => ("integer", Ty::Int(Order::Big), 0, Order::Big, 1, false),
    };
    DataType {
        id,
        name,
        ty,
        len,
        order,
        per_line,
        prefix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types() {
        assert_eq!(datatype(7).name, "ipv4_addr");
        assert_eq!(datatype(13).per_line, 5);
        assert_eq!(datatype(41).len, 16);
        assert_eq!(datatype(9999).name, "integer");
    }
}
