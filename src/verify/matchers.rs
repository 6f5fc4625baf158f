//! One function per expression kind: what it does to the registers, the
//! packet state and the rule, as the kernel's `*_eval` functions do.
//! Loads of values the packet description leaves unknown produce unknown
//! bits; the comparisons that consume them fork the run (see
//! [`super::eval`]).

use std::net::IpAddr;

use super::bits::{BinOp, Bits, Order, Tri};
use super::eval::{ct_attached, daddr_span, saddr_span, Cx, Device, Halt, SetChange};
use super::host::AddrType;
use super::packet::{CtState, IpFamily, SocketInfo};
use super::sets;
use crate::netlink::AttrIter;
use crate::nft::expr::{
    fib, lookup::NFT_LOOKUP_F_INV, Bitwise, BitwiseOp, Cmp, CmpOp, Ct, CtKey, Dynset, DynsetOp,
    Exthdr, ExthdrOp, Fib, FibResult, Immediate, Lookup, Masq, Meta, MetaKey, Nat, NatType, Objref,
    Opaque, Payload, PayloadBase, Range, RangeOp, Redir,
};
use crate::nft::object::{
    NFT_OBJECT_CONNLIMIT, NFT_OBJECT_LIMIT, NFT_OBJECT_QUOTA, NFT_OBJECT_SYNPROXY,
};
use crate::nft::{Data, Expr, Hook, Verdict};

/// What an expression did to the rule.
#[derive(Debug)]
pub(crate) enum Step {
    /// Go on with the next expression.
    Next,
    /// The rule stops here (a condition failed: `NFT_BREAK`).
    Break,
    /// The rule set a verdict.
    Verdict(Verdict),
}

type R = Result<Step, Halt>;

/// Evaluates one expression.
pub(crate) fn eval_expr(cx: &mut Cx<'_, '_>, e: &Expr) -> R {
    match e {
        Expr::Payload(p) => payload(cx, p),
        Expr::Meta(m) => meta(cx, m),
        Expr::Cmp(c) => cmp(cx, c),
        Expr::Bitwise(b) => bitwise(cx, b),
        Expr::Immediate(i) => immediate(cx, i),
        Expr::Lookup(l) => lookup(cx, l),
        Expr::Range(r) => range(cx, r),
        Expr::Ct(c) => ct(cx, c),
        Expr::Fib(f) => fib_lookup(cx, f),
        Expr::Dynset(d) => dynset(cx, d),
        Expr::Exthdr(x) => exthdr(cx, x),
        Expr::Nat(n) => nat(cx, n),
        Expr::Masq(m) => masq(cx, m),
        Expr::Redir(r) => redir(cx, r),
        Expr::Objref(o) => objref(cx, o),
        Expr::Opaque(o) => opaque(cx, o),
        // Statements without an effect on the verdict.
        Expr::Counter(_) | Expr::Log(_) => Ok(Step::Next),
        Expr::Notrack(_) => notrack(cx),
        Expr::Limit(_) => may_match(cx, "limit: whether the rate is exceeded depends on traffic"),
        Expr::Quota(_) => may_match(cx, "quota: whether it is used up depends on traffic"),
        Expr::Connlimit(_) => may_match(cx, "ct count: depends on the number of connections"),
        Expr::Reject(_) => {
            // nft_reject_*_eval sends the ICMP error or reset, then NF_DROP.
            Ok(Step::Verdict(Verdict::Drop))
        }
    }
}

fn may_match(cx: &mut Cx<'_, '_>, what: &str) -> R {
    let w = what.to_string();
    Ok(if cx.holds(Tri::Unknown, || w)? {
        Step::Next
    } else {
        Step::Break
    })
}

fn store(cx: &mut Cx<'_, '_>, reg: u32, v: &Bits) -> Result<(), Halt> {
    cx.regs.store(reg, v).map_err(|e| cx.terminal(e))
}

fn load(cx: &Cx<'_, '_>, reg: u32, len: usize) -> Result<Bits, Halt> {
    cx.regs.load(reg, len).map_err(|e| cx.terminal(e))
}

fn value<'d>(cx: &Cx<'_, '_>, d: &'d Data) -> Result<&'d [u8], Halt> {
    d.value()
        .ok_or_else(|| cx.terminal("a verdict where a value was expected"))
}

fn payload(cx: &mut Cx<'_, '_>, p: &Payload) -> R {
    let (off, len) = (p.offset as usize, p.len as usize);
    if let Some(sreg) = p.sreg {
        // A payload write (mangle): later chains see the new bytes.
        let v = load(cx, sreg, len)?;
        let h = &mut cx.run.state.headers;
        match p.base {
            PayloadBase::Network => {
                let nh_len = h.nh.len();
                if off + len <= nh_len {
                    h.nh.put(off, &v);
                } else {
                    return Err(cx.terminal("payload write across the network header"));
                }
            }
            PayloadBase::Transport => h.th.put(off, &v),
            _ => {}
        }
        let here = cx.here();
        cx.run.note(format!("{here}: rewrites packet bytes"));
        return Ok(Step::Next);
    }
    let Some(dreg) = p.dreg else {
        return Err(cx.terminal("payload expression with neither source nor destination register"));
    };
    let h = &cx.run.state.headers;
    let v = match p.base {
        PayloadBase::Network => h.network(off, len),
        PayloadBase::Transport => h.transport(off, len),
        PayloadBase::LinkLayer => match cx.chain.hook {
            // Locally generated packets have no link-layer header before
            // the device builds it: the load breaks the rule.
            Hook::Output | Hook::Postrouting => return Ok(Step::Break),
            _ => Bits::unknown(len),
        },
        _ => Bits::unknown(len),
    };
    store(cx, dreg, &v)?;
    Ok(Step::Next)
}

fn u32_bits(v: Option<u32>) -> Bits {
    v.map_or_else(|| Bits::unknown(4), |v| Bits::known(&v.to_ne_bytes()))
}

fn u8_bits(v: Option<u8>) -> Bits {
    v.map_or_else(|| Bits::unknown(1), |v| Bits::known(&[v]))
}

fn ifname_bits(name: &str) -> Bits {
    let mut b = [0u8; 16];
    for (i, c) in name.bytes().take(15).enumerate() {
        b[i] = c;
    }
    Bits::known(&b)
}

fn meta(cx: &mut Cx<'_, '_>, m: &Meta) -> R {
    if let Some(sreg) = m.sreg {
        return meta_set(cx, m.key, sreg);
    }
    let Some(dreg) = m.dreg else {
        return Err(cx.terminal("meta expression with neither source nor destination register"));
    };
    let st = &cx.run.state;
    let dev = |input: bool| -> &Device {
        if input {
            &st.iif
        } else {
            &st.oif
        }
    };
    let v: Bits = match m.key {
        MetaKey::Len => u32_bits(st.length),
        MetaKey::Protocol => Bits::known(&st.family.ethertype().to_be_bytes()),
        MetaKey::Nfproto => Bits::known(&[match cx.chain.family {
            crate::nft::Family::Netdev => 5,
            _ => st.family.nfproto(),
        }]),
        MetaKey::L4proto => match st
            .headers
            .network(if st.family == IpFamily::V4 { 9 } else { 6 }, 1)
            .value()
        {
            Some(p) => Bits::known(p),
            None => Bits::unknown(1),
        },
        MetaKey::Mark => u32_bits(st.mark),
        MetaKey::Priority => u32_bits(st.priority),
        MetaKey::Pkttype => u8_bits(st.pkttype.map(|p| p.number())),
        MetaKey::Iif
        | MetaKey::Oif
        | MetaKey::Iifname
        | MetaKey::Oifname
        | MetaKey::Iiftype
        | MetaKey::Oiftype
        | MetaKey::Iifgroup
        | MetaKey::Oifgroup
        | MetaKey::Iifkind
        | MetaKey::Oifkind => {
            let input = matches!(
                m.key,
                MetaKey::Iif
                    | MetaKey::Iifname
                    | MetaKey::Iiftype
                    | MetaKey::Iifgroup
                    | MetaKey::Iifkind
            );
            match dev(input) {
                // No such device at this hook: nft_meta_get_eval breaks.
                Device::Absent => return Ok(Step::Break),
                Device::Unknown => Bits::unknown(16),
                Device::Known(i) => match m.key {
                    MetaKey::Iif | MetaKey::Oif => Bits::known(&i.index.to_ne_bytes()),
                    MetaKey::Iifname | MetaKey::Oifname => ifname_bits(&i.name),
                    MetaKey::Iiftype | MetaKey::Oiftype => i
                        .arphrd
                        .map_or_else(|| Bits::unknown(2), |t| Bits::known(&t.to_ne_bytes())),
                    MetaKey::Iifgroup | MetaKey::Oifgroup => u32_bits(i.group),
                    _ => i
                        .kind
                        .as_deref()
                        .map_or_else(|| Bits::unknown(16), ifname_bits),
                },
            }
        }
        MetaKey::Skuid | MetaKey::Skgid => match st.socket {
            SocketInfo::None => return Ok(Step::Break),
            SocketInfo::Unknown => Bits::unknown(4),
            SocketInfo::Owner { uid, gid } => {
                Bits::known(&(if m.key == MetaKey::Skuid { uid } else { gid }).to_ne_bytes())
            }
        },
        MetaKey::TimeNs => Bits::unknown(8),
        MetaKey::TimeDay | MetaKey::Nftrace | MetaKey::Secpath | MetaKey::BriBroute => {
            Bits::unknown(1)
        }
        MetaKey::BriIifpvid | MetaKey::BriIifvproto => Bits::unknown(2),
        MetaKey::BriIifname | MetaKey::BriOifname | MetaKey::Sdifname => Bits::unknown(16),
        // cpu, random, cgroup, hour, rtclassid, secmark, sdif, and
        // keys nftguard does not name: not known from the description.
        _ => Bits::unknown(4),
    };
    store(cx, dreg, &v)?;
    Ok(Step::Next)
}

fn meta_set(cx: &mut Cx<'_, '_>, key: MetaKey, sreg: u32) -> R {
    let len = match key {
        MetaKey::Pkttype | MetaKey::Nftrace => 1,
        _ => 4,
    };
    let v = load(cx, sreg, len)?;
    let as_u32 = v
        .value()
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_ne_bytes);
    match key {
        MetaKey::Mark => cx.run.state.mark = as_u32,
        MetaKey::Priority => cx.run.state.priority = as_u32,
        MetaKey::Pkttype => {
            cx.run.state.pkttype = v.value().and_then(|b| match b.first() {
                Some(0) => Some(super::packet::PktType::Host),
                Some(1) => Some(super::packet::PktType::Broadcast),
                Some(2) => Some(super::packet::PktType::Multicast),
                Some(3) => Some(super::packet::PktType::OtherHost),
                _ => None,
            })
        }
        _ => {
            let here = cx.here();
            cx.run.note(format!(
                "{here}: sets meta {} (no effect on filtering verdicts)",
                key.nft_name().unwrap_or("?")
            ));
        }
    }
    Ok(Step::Next)
}

fn cmp(cx: &mut Cx<'_, '_>, c: &Cmp) -> R {
    let data = value(cx, &c.data)?;
    let v = load(cx, c.sreg, data.len())?;
    let t = match c.op {
        CmpOp::Eq => v.equals(data),
        CmpOp::Neq => v.equals(data).negate(),
        CmpOp::Lt => v.order(Order::Lt, data),
        CmpOp::Lte => v.order(Order::Lte, data),
        CmpOp::Gt => v.order(Order::Gt, data),
        CmpOp::Gte => v.order(Order::Gte, data),
        CmpOp::Other(n) => return Err(cx.terminal(format!("cmp operator {n} is not modelled"))),
    };
    let op = c.op;
    Ok(
        if cx.holds(t, || {
            format!("cmp {op:?} on bytes the packet description leaves unknown")
        })? {
            Step::Next
        } else {
            Step::Break
        },
    )
}

fn bitwise(cx: &mut Cx<'_, '_>, b: &Bitwise) -> R {
    let len = b.len as usize;
    let src = load(cx, b.sreg, len)?;
    let out = match b.op.unwrap_or(BitwiseOp::MaskXor) {
        BitwiseOp::MaskXor => {
            let (Some(m), Some(x)) = (&b.mask, &b.xor) else {
                return Err(cx.terminal("bitwise mask-xor without mask or xor"));
            };
            src.mask_xor(value(cx, m)?, value(cx, x)?)
        }
        op @ (BitwiseOp::Lshift | BitwiseOp::Rshift) => {
            let d = b
                .data
                .as_ref()
                .ok_or_else(|| cx.terminal("bitwise shift without an amount"))?;
            let d = value(cx, d)?;
            let n = <[u8; 4]>::try_from(d)
                .map(u32::from_ne_bytes)
                .map_err(|_| cx.terminal("bitwise shift amount is not 4 bytes"))?;
            src.shift_words(n, op == BitwiseOp::Lshift)
        }
        op @ (BitwiseOp::And | BitwiseOp::Or | BitwiseOp::Xor) => {
            let r2 = b.sreg2.ok_or_else(|| {
                cx.terminal("bitwise register operation without a second register")
            })?;
            let other = load(cx, r2, len)?;
            let bin = match op {
                BitwiseOp::And => BinOp::And,
                BitwiseOp::Or => BinOp::Or,
                _ => BinOp::Xor,
            };
            src.combine(&other, bin)
        }
        BitwiseOp::Other(n) => {
            return Err(cx.terminal(format!("bitwise operation {n} is not modelled")))
        }
    };
    store(cx, b.dreg, &out)?;
    Ok(Step::Next)
}

fn immediate(cx: &mut Cx<'_, '_>, i: &Immediate) -> R {
    match &i.data {
        Data::Verdict(v) => Ok(Step::Verdict(v.clone())),
        Data::Value(v) => {
            store(cx, i.dreg, &Bits::known(v))?;
            Ok(Step::Next)
        }
    }
}

fn range(cx: &mut Cx<'_, '_>, r: &Range) -> R {
    let from = value(cx, &r.from)?;
    let to = value(cx, &r.to)?;
    let v = load(cx, r.sreg, from.len())?;
    let inside = v.within(from, to);
    let t = match r.op {
        RangeOp::Eq => inside,
        RangeOp::Neq => inside.negate(),
        RangeOp::Other(n) => return Err(cx.terminal(format!("range operator {n} is not modelled"))),
    };
    Ok(
        if cx.holds(t, || {
            "range on bytes the packet description leaves unknown".into()
        })? {
            Step::Next
        } else {
            Step::Break
        },
    )
}

fn lookup(cx: &mut Cx<'_, '_>, l: &Lookup) -> R {
    let ev = cx.run.ev;
    let Some(set) = ev.ruleset.set(cx.chain.family, cx.chain.table, &l.set) else {
        return Err(cx.terminal(format!(
            "lookup in set {}, which the snapshot does not hold",
            l.set
        )));
    };
    let key = load(cx, l.sreg, set.key_len as usize)?;
    let elements = cx.elements(&l.set);
    let invert = l.flags.unwrap_or(0) & NFT_LOOKUP_F_INV != 0;
    let tainted = cx.set_tainted(&l.set);
    let found = match (key.value(), tainted) {
        (Some(k), false) => Found::Known(sets::find(set, &elements, k).cloned().map(Box::new)),
        _ => Found::Unknown,
    };
    let name = l.set.clone();
    match (l.dreg, found) {
        // A plain set: membership.
        (None, Found::Known(e)) => Ok(if e.is_some() != invert {
            Step::Next
        } else {
            Step::Break
        }),
        (None, Found::Unknown) => {
            let t = if tainted {
                Tri::Unknown
            } else {
                could_match(set, &elements, &key)
            };
            let t = if invert { t.negate() } else { t };
            Ok(
                if cx.holds(t, || {
                    format!(
                        "lookup in @{name} with a key the packet description leaves partly unknown"
                    )
                })? {
                    Step::Next
                } else {
                    Step::Break
                },
            )
        }
        // A verdict map.
        (Some(0), Found::Known(e)) => match e.and_then(|e| e.verdict().cloned()) {
            Some(v) => Ok(Step::Verdict(v)),
            None => Ok(Step::Break),
        },
        (Some(0), Found::Unknown) => {
            // Every verdict the map can give, and "not found".
            let mut verdicts: Vec<Verdict> = Vec::new();
            for e in &elements {
                if let Some(v) = e.verdict() {
                    if !verdicts.contains(v) {
                        verdicts.push(v.clone());
                    }
                }
            }
            let mut labels: Vec<String> = verdicts.iter().map(super::trace::verdict_text).collect();
            labels.push("not found".into());
            let reason = format!(
                "{}: vmap @{name} with a key the packet description leaves partly unknown",
                cx.here()
            );
            let i = cx.run.decide(reason, &labels)?;
            Ok(match verdicts.get(i) {
                Some(v) => Step::Verdict(v.clone()),
                None => Step::Break,
            })
        }
        // A value map: the data goes to dreg.
        (Some(dreg), Found::Known(e)) => match e.and_then(|e| e.data.clone()) {
            Some(Data::Value(v)) => {
                store(cx, dreg, &Bits::known(&v))?;
                Ok(Step::Next)
            }
            _ => Ok(Step::Break),
        },
        (Some(dreg), Found::Unknown) => {
            let t = if tainted {
                Tri::Unknown
            } else {
                could_match(set, &elements, &key)
            };
            if !cx.holds(t, || {
                format!("map @{name} with a key the packet description leaves partly unknown")
            })? {
                return Ok(Step::Break);
            }
            let len = set.data_len.unwrap_or(4) as usize;
            cx.regs
                .store_unknown(dreg, len)
                .map_err(|e| cx.terminal(e))?;
            Ok(Step::Next)
        }
    }
}

enum Found {
    Known(Option<Box<crate::nft::SetElement>>),
    Unknown,
}

/// Whether some element of a set could match a partly known key.
fn could_match(set: &crate::nft::Set, elements: &[crate::nft::SetElement], key: &Bits) -> Tri {
    if set.is_interval() || elements.iter().any(|e| e.is_catchall()) {
        return if elements.is_empty() {
            Tri::False
        } else {
            Tri::Unknown
        };
    }
    let mut any = false;
    for e in elements {
        if let Some(k) = &e.key {
            match key.equals(k) {
                Tri::True => return Tri::True,
                Tri::Unknown => any = true,
                Tri::False => {}
            }
        }
    }
    if any {
        Tri::Unknown
    } else {
        Tri::False
    }
}

/// What conntrack holds for the packet at this chain.
enum CtView {
    /// No conntrack entry: not yet seen, invalid, or untracked.
    None { untracked: bool },
    /// An entry in this state.
    Entry(CtState),
    /// Not known.
    Unknown,
}

fn ct_view(cx: &mut Cx<'_, '_>) -> Result<CtView, Halt> {
    let attached = ct_attached(cx.chain.hook, cx.chain.priority, cx.chain.is_nat);
    let attached = match attached {
        Tri::Unknown => {
            let reason = format!(
                "{}: the chain shares priority -200 with conntrack, whose order is undefined",
                cx.here()
            );
            cx.run.decide(
                reason,
                &["conntrack ran first".into(), "chain ran first".into()],
            )? == 0
        }
        t => t == Tri::True,
    };
    let st = &cx.run.state;
    if !attached {
        return Ok(CtView::None {
            untracked: st.untracked_template,
        });
    }
    Ok(match st.ct_state {
        Some(CtState::Invalid) => CtView::None { untracked: false },
        Some(CtState::Untracked) => CtView::None { untracked: true },
        Some(s) => CtView::Entry(s),
        None => CtView::Unknown,
    })
}

fn ct(cx: &mut Cx<'_, '_>, c: &Ct) -> R {
    if let Some(sreg) = c.sreg {
        let v = load(cx, sreg, 4)?;
        if c.key == CtKey::Mark {
            cx.run.state.ct_mark = v
                .value()
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_ne_bytes);
        } else {
            let here = cx.here();
            cx.run.note(format!(
                "{here}: sets ct {} (no effect on filtering verdicts)",
                c.key.nft_name().unwrap_or("?")
            ));
        }
        return Ok(Step::Next);
    }
    let Some(dreg) = c.dreg else {
        return Err(cx.terminal("ct expression with neither source nor destination register"));
    };
    let view = ct_view(cx)?;
    let st = &cx.run.state;
    if c.key == CtKey::State {
        let v = match view {
            CtView::None { untracked: true } => {
                Bits::known(&CtState::Untracked.bit().to_ne_bytes())
            }
            CtView::None { untracked: false } => Bits::known(&CtState::Invalid.bit().to_ne_bytes()),
            CtView::Entry(s) => Bits::known(&s.bit().to_ne_bytes()),
            CtView::Unknown => Bits::unknown(4),
        };
        store(cx, dreg, &v)?;
        return Ok(Step::Next);
    }
    if let CtView::None { .. } = view {
        // Every other key needs an entry: nft_ct_get_eval breaks.
        return Ok(Step::Break);
    }
    let reply = c.direction == Some(1);
    let tuple = if reply { &st.ct_reply } else { &st.ct_original };
    let addr_len = st.family.addr_len();
    let v = match c.key {
        CtKey::Direction => u8_bits(st.ct_direction.map(|d| match d {
            super::packet::CtDirection::Original => 0,
            super::packet::CtDirection::Reply => 1,
        })),
        CtKey::Status => u32_bits(st.ct_status),
        CtKey::Mark => u32_bits(st.ct_mark),
        CtKey::L3protocol => Bits::known(&[st.family.nfproto()]),
        CtKey::Protocol => {
            let at = if st.family == IpFamily::V4 { 9 } else { 6 };
            st.headers.network(at, 1)
        }
        CtKey::ProtoSrc => tuple
            .as_ref()
            .map_or_else(|| Bits::unknown(2), |t| t.sport.clone()),
        CtKey::ProtoDst => tuple
            .as_ref()
            .map_or_else(|| Bits::unknown(2), |t| t.dport.clone()),
        CtKey::Src | CtKey::Dst => {
            let src = c.key == CtKey::Src;
            tuple.as_ref().map_or_else(
                || Bits::unknown(addr_len),
                |t| if src { t.src.clone() } else { t.dst.clone() },
            )
        }
        CtKey::SrcIp | CtKey::DstIp | CtKey::SrcIp6 | CtKey::DstIp6 => {
            let want_v4 = matches!(c.key, CtKey::SrcIp | CtKey::DstIp);
            if want_v4 != (st.family == IpFamily::V4) {
                // The entry is of the other family: the load breaks.
                return Ok(Step::Break);
            }
            let src = matches!(c.key, CtKey::SrcIp | CtKey::SrcIp6);
            tuple.as_ref().map_or_else(
                || Bits::unknown(addr_len),
                |t| if src { t.src.clone() } else { t.dst.clone() },
            )
        }
        CtKey::Labels | CtKey::Helper => Bits::unknown(16),
        CtKey::Pkts | CtKey::Bytes | CtKey::Avgpkt => Bits::unknown(8),
        CtKey::Zone => Bits::unknown(2),
        _ => Bits::unknown(4),
    };
    let v = match view {
        CtView::Unknown => Bits::unknown(v.len()),
        _ => v,
    };
    store(cx, dreg, &v)?;
    Ok(Step::Next)
}

fn notrack(cx: &mut Cx<'_, '_>) -> R {
    // nft_notrack_eval does nothing once the packet has an entry.
    if ct_attached(cx.chain.hook, cx.chain.priority, cx.chain.is_nat) == Tri::False {
        cx.run.state.untracked_template = true;
        cx.run.state.ct_state = Some(CtState::Untracked);
    }
    Ok(Step::Next)
}

fn addr_from(b: &Bits, fam: IpFamily) -> Option<IpAddr> {
    let v = b.value()?;
    Some(match fam {
        IpFamily::V4 => IpAddr::from(<[u8; 4]>::try_from(v).ok()?),
        IpFamily::V6 => IpAddr::from(<[u8; 16]>::try_from(v).ok()?),
    })
}

fn fib_lookup(cx: &mut Cx<'_, '_>, f: &Fib) -> R {
    let st = &cx.run.state;
    let fam = st.family;
    let span = if f.flags & fib::flags::SADDR != 0 {
        saddr_span(fam)
    } else {
        daddr_span(fam)
    };
    let addr = addr_from(&st.headers.network(span.0, span.1), fam);
    let restrict = |dev: &Device| match dev {
        Device::Known(i) => Some(Some(i.index)),
        _ => None,
    };
    let only = if f.flags & fib::flags::IIF != 0 {
        restrict(&st.iif)
    } else if f.flags & fib::flags::OIF != 0 {
        restrict(&st.oif)
    } else {
        Some(None)
    };
    let host = cx.run.ev.host;
    let present = f.flags & fib::flags::PRESENT != 0;
    let v: Bits = match (addr, only, f.result) {
        (Some(a), Some(only), FibResult::Addrtype) => match host.addr_type(&a, only) {
            Some(t) => Bits::known(&(t as u32).to_ne_bytes()),
            None => Bits::unknown(4),
        },
        (Some(a), Some(only), FibResult::Oif | FibResult::Oifname) => {
            let oif = if host.interfaces.is_empty() || !host.routes_complete {
                None
            } else if let Some(AddrType::Local) = host.addr_type(&a, None) {
                // Local addresses route through the loopback device.
                host.interfaces
                    .iter()
                    .find(|i| i.name == "lo")
                    .map(|i| i.index)
            } else {
                Some(host.route(&a).unwrap_or(0))
            };
            // With iif/oif the result counts only on that interface.
            let oif = match (oif, only) {
                (Some(o), Some(d)) if o != d => Some(0),
                (o, _) => o,
            };
            match (oif, f.result, present) {
                (None, _, _) => Bits::unknown(if f.result == FibResult::Oifname {
                    16
                } else {
                    4
                }),
                (Some(o), _, true) => Bits::known(&[(o != 0) as u8]),
                (Some(o), FibResult::Oif, false) => Bits::known(&o.to_ne_bytes()),
                (Some(o), _, false) => match host.interface(o) {
                    Some(i) => ifname_bits(&i.name),
                    None => Bits::known(&[0; 16]),
                },
            }
        }
        _ => Bits::unknown(if f.result == FibResult::Oifname {
            16
        } else {
            4
        }),
    };
    store(cx, f.dreg, &v)?;
    Ok(Step::Next)
}

fn dynset(cx: &mut Cx<'_, '_>, d: &Dynset) -> R {
    let ev = cx.run.ev;
    let Some(set) = ev.ruleset.set(cx.chain.family, cx.chain.table, &d.set_name) else {
        return Err(cx.terminal(format!(
            "dynset on set {}, which the snapshot does not hold",
            d.set_name
        )));
    };
    let key = load(cx, d.sreg_key, set.key_len as usize)?;
    let mut exprs: Vec<&Expr> = d.expr.iter().map(|b| b.as_ref()).collect();
    if let Some(es) = &d.exprs {
        exprs.extend(es.iter());
    }
    let name = d.set_name.clone();
    if d.op == DynsetOp::Delete {
        match key.value() {
            Some(k) => push_change(cx, &name, k.to_vec(), false),
            None => taint(cx, &name),
        }
        return Ok(Step::Next);
    }
    let elements = cx.elements(&name);
    let present = match key.value() {
        Some(k) if !cx.set_tainted(&name) => Some(sets::find(set, &elements, k).is_some()),
        _ => None,
    };
    // Adding to a full set fails and breaks the rule.
    if present != Some(true) {
        if let Some(size) = set.size() {
            if elements.len() >= size as usize
                && !cx.holds(Tri::Unknown, || {
                    format!("dynset into @{name}: the set may be full ({size} elements)")
                })?
            {
                return Ok(Step::Break);
            }
        }
    }
    match key.value() {
        Some(k) => push_change(cx, &name, k.to_vec(), true),
        None => taint(cx, &name),
    }
    // The element's own stateful expressions run on each packet.
    for e in exprs {
        match e {
            Expr::Limit(_) | Expr::Quota(_) | Expr::Connlimit(_) => {
                let kind = e.name().to_string();
                if !cx.holds(Tri::Unknown, || {
                    format!("dynset @{name} with a per-element {kind}: depends on traffic")
                })? {
                    return Ok(Step::Break);
                }
            }
            Expr::Counter(_) => {}
            other => {
                return Err(cx.terminal(format!(
                    "dynset @{name} with a per-element `{}` is not modelled",
                    other.name()
                )))
            }
        }
    }
    Ok(Step::Next)
}

fn push_change(cx: &mut Cx<'_, '_>, set: &str, key: Vec<u8>, added: bool) {
    let change = SetChange {
        family: cx.chain.family,
        table: cx.chain.table.to_string(),
        set: set.to_string(),
        key,
        added,
    };
    cx.run.state.set_changes.push(change);
}

fn taint(cx: &mut Cx<'_, '_>, set: &str) {
    let t = (cx.chain.family, cx.chain.table.to_string(), set.to_string());
    if !cx.run.state.tainted_sets.contains(&t) {
        cx.run.state.tainted_sets.push(t);
    }
}

fn exthdr(cx: &mut Cx<'_, '_>, x: &Exthdr) -> R {
    if x.sreg.is_some() {
        let here = cx.here();
        cx.run.note(format!("{here}: rewrites a header option"));
        return Ok(Step::Next);
    }
    let Some(dreg) = x.dreg else {
        return Err(cx.terminal("exthdr expression with neither source nor destination register"));
    };
    let present_only = x.flags.unwrap_or(0) & 1 != 0;
    let st = &cx.run.state;
    let proto = st
        .headers
        .network(if st.family == IpFamily::V4 { 9 } else { 6 }, 1);
    let is_proto = |p: u8| proto.equals(&[p]);
    // The described packet has no IPv6 extension headers and no IPv4
    // options: looking for one finds nothing (the load breaks, or
    // "exists" is false).
    let absent = match x.op.unwrap_or(ExthdrOp::Ipv6) {
        ExthdrOp::Ipv6 => Tri::from_bool(st.family == IpFamily::V6),
        ExthdrOp::Ipv4 => Tri::from_bool(st.family == IpFamily::V4),
        ExthdrOp::TcpOpt => {
            if is_proto(6) == Tri::False {
                Tri::True
            } else {
                Tri::Unknown
            }
        }
        ExthdrOp::Sctp => {
            if is_proto(132) == Tri::False {
                Tri::True
            } else {
                Tri::Unknown
            }
        }
        _ => Tri::Unknown,
    };
    match (absent, present_only) {
        (Tri::True, true) => store(cx, dreg, &Bits::known(&[0]))?,
        (Tri::True, false) => return Ok(Step::Break),
        (_, true) => store(cx, dreg, &Bits::unknown(1))?,
        (_, false) => store(cx, dreg, &Bits::unknown(x.len as usize))?,
    }
    Ok(Step::Next)
}

/// Writes `addr`/`port` (each possibly unknown) into the source or
/// destination of the packet.
fn translate(cx: &mut Cx<'_, '_>, dest: bool, addr: Option<Bits>, port: Option<Bits>) {
    let fam = cx.run.state.family;
    let (at, len) = if dest {
        daddr_span(fam)
    } else {
        saddr_span(fam)
    };
    let h = &mut cx.run.state.headers;
    if let Some(a) = addr {
        if a.len() == len {
            h.nh.put(at, &a);
        } else {
            h.nh.put(at, &Bits::unknown(len));
        }
    }
    if let Some(p) = port {
        if h.th.len() >= 4 {
            h.th.put(if dest { 2 } else { 0 }, &p);
        }
    }
    let manip = if dest { 1 } else { 0 };
    cx.run.state.nat_done[manip] = true;
    // The reply tuple follows the translation.
    if let Some(r) = &mut cx.run.state.ct_reply {
        let h = &cx.run.state.headers;
        let (a, p) = if dest {
            (h.network(at, len), h.transport(2, 2))
        } else {
            (h.network(at, len), h.transport(0, 2))
        };
        if dest {
            r.src = a;
            r.sport = p;
        } else {
            r.dst = a;
            r.dport = p;
        }
    }
}

/// A register range (min, optional max) as one value when both ends are
/// known and equal, else unknown bytes.
fn reg_range(
    cx: &Cx<'_, '_>,
    min: Option<u32>,
    max: Option<u32>,
    len: usize,
) -> Result<Option<Bits>, Halt> {
    let Some(min) = min else { return Ok(None) };
    let lo = load(cx, min, len)?;
    let hi = match max {
        Some(m) => load(cx, m, len)?,
        None => lo.clone(),
    };
    Ok(Some(match (lo.value(), hi.value()) {
        (Some(a), Some(b)) if a == b => lo,
        _ => Bits::unknown(len),
    }))
}

fn nat_guard(cx: &Cx<'_, '_>) -> Result<(), Halt> {
    if !cx.chain.is_nat {
        return Err(cx.terminal("NAT statement outside a nat chain"));
    }
    Ok(())
}

fn nat(cx: &mut Cx<'_, '_>, n: &Nat) -> R {
    nat_guard(cx)?;
    let len = match n.family {
        10 => 16,
        _ => 4,
    };
    let addr = reg_range(cx, n.reg_addr_min, n.reg_addr_max, len)?;
    let port = reg_range(cx, n.reg_proto_min, n.reg_proto_max, 2)?;
    let dest = n.kind == NatType::Dnat;
    let here = cx.here();
    cx.run.note(format!(
        "{here}: {} (address translation: no filtering effect; later chains see the translated packet)",
        if dest { "dnat" } else { "snat" }
    ));
    translate(cx, dest, addr, port);
    // nft_nat_eval's verdict is nf_nat_setup_info's: NF_ACCEPT.
    Ok(Step::Verdict(Verdict::Accept))
}

fn masq(cx: &mut Cx<'_, '_>, m: &Masq) -> R {
    nat_guard(cx)?;
    let len = cx.run.state.family.addr_len();
    let port = reg_range(cx, m.reg_proto_min, m.reg_proto_max, 2)?;
    let here = cx.here();
    cx.run.note(format!(
        "{here}: masquerade (source translated to an address of the output interface)"
    ));
    translate(cx, false, Some(Bits::unknown(len)), port);
    Ok(Step::Verdict(Verdict::Accept))
}

fn redir(cx: &mut Cx<'_, '_>, r: &Redir) -> R {
    nat_guard(cx)?;
    let fam = cx.run.state.family;
    // The destination becomes the primary address of the input interface
    // (loopback for locally generated packets).
    let addr = match (&cx.run.state.iif, cx.chain.hook) {
        (_, Hook::Output) => Some(match fam {
            IpFamily::V4 => Bits::known(&[127, 0, 0, 1]),
            IpFamily::V6 => Bits::known(&std::net::Ipv6Addr::LOCALHOST.octets()),
        }),
        (Device::Known(i), _) => cx
            .run
            .ev
            .host
            .interface(i.index)
            .and_then(|h| h.addresses.iter().find(|a| IpFamily::of(&a.addr) == fam))
            .map(|a| Bits::known(&super::packet::ip_octets(&a.addr))),
        _ => None,
    }
    .unwrap_or_else(|| Bits::unknown(fam.addr_len()));
    let port = reg_range(cx, r.reg_proto_min, r.reg_proto_max, 2)?;
    let here = cx.here();
    cx.run.note(format!("{here}: redirect to the local host"));
    translate(cx, true, Some(addr), port);
    Ok(Step::Verdict(Verdict::Accept))
}

fn object_effect(cx: &mut Cx<'_, '_>, obj_type: Option<u32>, what: &str) -> R {
    match obj_type {
        Some(NFT_OBJECT_QUOTA) | Some(NFT_OBJECT_LIMIT) | Some(NFT_OBJECT_CONNLIMIT) => {
            let w = format!("{what}: a named quota/limit/ct count depends on traffic");
            may_match(cx, &w)
        }
        Some(NFT_OBJECT_SYNPROXY) => Err(cx.terminal(format!("{what}: synproxy is not modelled"))),
        Some(_) => Ok(Step::Next),
        None => Err(cx.terminal(format!("{what}: object type unknown"))),
    }
}

fn objref(cx: &mut Cx<'_, '_>, o: &Objref) -> R {
    let ev = cx.run.ev;
    if let Some(name) = &o.name {
        let ty = o.obj_type.or_else(|| {
            ev.ruleset
                .objects_of(cx.chain.family, cx.chain.table)
                .find(|x| &x.name == name)
                .map(|x| x.obj_type())
        });
        return object_effect(cx, ty, &format!("object {name}"));
    }
    let (Some(sreg), Some(set_name)) = (o.set_sreg, &o.set_name) else {
        return Err(cx.terminal("objref without object or map"));
    };
    let Some(set) = ev.ruleset.set(cx.chain.family, cx.chain.table, set_name) else {
        return Err(cx.terminal(format!(
            "objref map {set_name}, which the snapshot does not hold"
        )));
    };
    let key = load(cx, sreg, set.key_len as usize)?;
    let elements = cx.elements(set_name);
    let found = match key.value() {
        Some(k) => Tri::from_bool(sets::find(set, &elements, k).is_some()),
        None => could_match(set, &elements, &key),
    };
    let sn = set_name.clone();
    if !cx.holds(found, || {
        format!("object map @{sn} with a partly unknown key")
    })? {
        return Ok(Step::Break);
    }
    object_effect(cx, set.obj_type, &format!("object map @{set_name}"))
}

/// The string attribute `kind` of an opaque expression's data.
fn opaque_str(o: &Opaque, kind: u16) -> Option<String> {
    AttrIter::new(o.data()?)
        .filter_map(|a| a.ok())
        .find(|a| a.kind() == kind)
        .and_then(|a| a.strz().ok().map(str::to_string))
}

fn opaque_u32(o: &Opaque, kind: u16) -> Option<u32> {
    AttrIter::new(o.data()?)
        .filter_map(|a| a.ok())
        .find(|a| a.kind() == kind)
        .and_then(|a| a.be32().ok())
}

fn opaque(cx: &mut Cx<'_, '_>, o: &Opaque) -> R {
    match o.name.as_str() {
        // xt matches (NFTA_MATCH_NAME = 1) are conditions nftguard does
        // not decode yet: both outcomes are possible.
        "match" => {
            let name = opaque_str(o, 1).unwrap_or_else(|| "?".into());
            may_match(cx, &format!("iptables match `{name}` is not decoded"))
        }
        // xt targets (NFTA_TARGET_NAME = 1).
        "target" => {
            let name = opaque_str(o, 1).unwrap_or_else(|| "?".into());
            match name.as_str() {
                "LOG" | "NFLOG" => Ok(Step::Next),
                // xt REJECT sends the error, then NF_DROP.
                "REJECT" => Ok(Step::Verdict(Verdict::Drop)),
                _ => Err(cx.terminal(format!("iptables target `{name}` is not modelled"))),
            }
        }
        "byteorder" => byteorder(cx, o),
        other => Err(cx.terminal(format!("expression `{other}` is not modelled"))),
    }
}

/// `byteorder` (kept opaque by the decoder): NFTA_BYTEORDER_SREG 1,
/// DREG 2, OP 3, LEN 4, SIZE 5. On a little-endian host both hton and
/// ntoh swap each `size`-byte group.
fn byteorder(cx: &mut Cx<'_, '_>, o: &Opaque) -> R {
    let (Some(sreg), Some(dreg), Some(len), Some(size)) = (
        opaque_u32(o, 1),
        opaque_u32(o, 2),
        opaque_u32(o, 4),
        opaque_u32(o, 5),
    ) else {
        return Err(cx.terminal("byteorder with missing attributes"));
    };
    if !matches!(size, 2 | 4 | 8) {
        return Err(cx.terminal(format!("byteorder of {size}-byte units")));
    }
    let v = load(cx, sreg, len as usize)?;
    let out = if cfg!(target_endian = "little") {
        v.swap_groups(size as usize)
    } else {
        v
    };
    store(cx, dreg, &out)?;
    Ok(Step::Next)
}
