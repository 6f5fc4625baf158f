//! Names and datatypes of the keys nft prints: meta and ct keys, fib
//! lookups, extension headers, raw payload locations.

use crate::nft::expr::{fib, CtKey, Exthdr, ExthdrOp, Fib, FibResult, MetaKey, PayloadBase};

use super::value::{Order, Ty};

/// A raw payload location as nft writes it (`@th,16,16`).
pub(crate) fn raw_payload(base: PayloadBase, offset_bits: u32, len_bits: u32) -> String {
    let b = match base {
        PayloadBase::LinkLayer => "ll",
        PayloadBase::Network => "nh",
        PayloadBase::Transport => "th",
        PayloadBase::Inner => "ih",
        _ => "unknown",
    };
    format!("@{b},{offset_bits},{len_bits}")
}

/// Meta keys nft prints without the `meta` keyword.
pub(crate) fn meta_name(key: MetaKey) -> String {
    let name = key
        .nft_name()
        .map_or_else(|| format!("{}", key.number()), str::to_string);
    match key {
        MetaKey::Iif
        | MetaKey::Oif
        | MetaKey::Iifname
        | MetaKey::Oifname
        | MetaKey::Iifgroup
        | MetaKey::Oifgroup => name,
        _ => format!("meta {name}"),
    }
}

/// The datatype of a meta key's values.
pub(crate) fn meta_ty(key: MetaKey) -> Ty {
    match key {
        MetaKey::Protocol => Ty::Ethertype,
        MetaKey::Mark => Ty::Hex(Order::Host),
        MetaKey::Iif | MetaKey::Oif | MetaKey::Sdif => Ty::Ifindex,
        MetaKey::Iifname
        | MetaKey::Oifname
        | MetaKey::BriIifname
        | MetaKey::BriOifname
        | MetaKey::Iifkind
        | MetaKey::Oifkind
        | MetaKey::Sdifname => Ty::Str,
        MetaKey::Iiftype | MetaKey::Oiftype => Ty::ArpHrd,
        MetaKey::Nfproto => Ty::Nfproto,
        MetaKey::L4proto => Ty::InetProto,
        MetaKey::Pkttype => Ty::PktType,
        MetaKey::Iifgroup | MetaKey::Oifgroup => Ty::Devgroup,
        MetaKey::Priority => Ty::TcHandle,
        MetaKey::Prandom => Ty::Int(Order::Big),
        MetaKey::Secpath => Ty::Bool,
        MetaKey::TimeNs => Ty::TimeNs,
        MetaKey::TimeDay => Ty::Day,
        MetaKey::TimeHour => Ty::Hour,
        _ => Ty::Int(Order::Host),
    }
}

/// `ct [original|reply] KEY`.
pub(crate) fn ct_name(key: CtKey, dir: Option<u8>) -> String {
    let name = key
        .nft_name()
        .map_or_else(|| format!("{}", key.number()), str::to_string);
    match dir {
        Some(0) => format!("ct original {name}"),
        Some(1) => format!("ct reply {name}"),
        _ => format!("ct {name}"),
    }
}

/// The datatype of a ct key; `len` tells IPv4 from IPv6 for the old
/// family-dependent address keys.
pub(crate) fn ct_ty(key: CtKey, len: usize) -> Ty {
    match key {
        CtKey::State => Ty::CtState,
        CtKey::Status => Ty::CtStatus,
        CtKey::Direction => Ty::CtDir,
        CtKey::Mark => Ty::Hex(Order::Host),
        CtKey::Expiration => Ty::TimeMs,
        CtKey::Helper => Ty::Str,
        CtKey::L3protocol => Ty::Nfproto,
        CtKey::Protocol => Ty::InetProto,
        CtKey::ProtoSrc | CtKey::ProtoDst => Ty::Port,
        CtKey::SrcIp | CtKey::DstIp => Ty::Ipv4,
        CtKey::SrcIp6 | CtKey::DstIp6 => Ty::Ipv6,
        CtKey::Src | CtKey::Dst => {
            if len == 16 {
                Ty::Ipv6
            } else {
                Ty::Ipv4
            }
        }
        CtKey::Id => Ty::Int(Order::Big),
        CtKey::Eventmask => Ty::CtEvent,
        _ => Ty::Int(Order::Host),
    }
}

/// `fib saddr . iif oif`: the keys of the lookup, then the result.
pub(crate) fn fib_text(f: &Fib) -> String {
    let mut keys = Vec::new();
    for (bit, name) in [
        (fib::flags::SADDR, "saddr"),
        (fib::flags::DADDR, "daddr"),
        (fib::flags::MARK, "mark"),
        (fib::flags::IIF, "iif"),
        (fib::flags::OIF, "oif"),
    ] {
        if f.flags & bit != 0 {
            keys.push(name);
        }
    }
    let result = f
        .result
        .nft_name()
        .map_or_else(|| f.result.number().to_string(), str::to_string);
    format!("fib {} {result}", keys.join(" . "))
}

/// The datatype of a fib result (`exists`/`missing` for presence checks).
pub(crate) fn fib_ty(f: &Fib) -> Ty {
    if f.flags & fib::flags::PRESENT != 0 {
        return Ty::Bool;
    }
    match f.result {
        FibResult::Oif => Ty::Ifindex,
        FibResult::Oifname => Ty::Str,
        FibResult::Addrtype => Ty::FibAddrType,
        _ => Ty::Int(Order::Host),
    }
}

/// An extension header or option nft has no name for, printed raw.
pub(crate) fn exthdr_name(x: &Exthdr) -> String {
    let op = x.op.unwrap_or(ExthdrOp::Ipv6);
    format!(
        "{} @{},{},{}",
        op.nft_name().unwrap_or("exthdr"),
        x.kind,
        x.offset * 8,
        x.len * 8
    )
}
