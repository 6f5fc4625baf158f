//! xt matches and targets (iptables-nft's nft_compat expressions) as nft
//! 1.0.6 prints them. nft, built with libxtables, asks each extension's
//! `xlate` callback (iptables 1.8.9) for nft syntax and prints its text,
//! even an empty one (`-m comment` translates to nothing: nft still puts
//! the statement separator around it); where an extension has no `xlate`
//! or it fails, nft prints `xt match NAME` / `xt target NAME`.
//!
//! The texts below were measured by creating each rule with iptables-nft
//! and listing it with nft (see `tests/render_nft_text.rs`).

use crate::compat::xt::{
    addrtype, conntrack as ctm, multiport, nat as natm, XtExpr, XtInfo, XtKind,
};
use crate::nft::Family;

use super::value;

/// The protocol context an extension's translation may need: the layer-4
/// protocol the rule matched before (`-p tcp` for multiport).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct XtCtx {
    /// `tcp`, `udp`, … when known.
    pub l4: Option<&'static str>,
}

/// The statement nft prints for `x` in a table of `family`.
pub(crate) fn xt_text(x: &XtExpr, family: Family, ctx: XtCtx) -> String {
    xlate(x, family, ctx).unwrap_or_else(|| {
        format!(
            "xt {} {}",
            match x.kind {
                XtKind::Match => "match",
                XtKind::Target => "target",
            },
            x.name
        )
    })
}

fn xlate(x: &XtExpr, family: Family, ctx: XtCtx) -> Option<String> {
    let v6 = family == Family::Ipv6;
    match &x.info {
        XtInfo::Comment(_) => Some(String::new()),
        XtInfo::Conntrack(c) if c.rev == 3 => conntrack(c, v6),
        XtInfo::Multiport(m) => multiport_text(m, ctx),
        XtInfo::Limit(l) => Some(limit(l.avg, l.burst)),
        XtInfo::Addrtype(a) => addrtype_text(a),
        XtInfo::Connmark(m) => Some(match (m.mask, m.invert != 0) {
            (0xffff_ffff, inv) => format!("ct mark {}0x{:x}", neq(inv), m.mark),
            (mask, inv) => format!(
                "ct mark and 0x{mask:x} {} 0x{:x}",
                if inv { "!=" } else { "==" },
                m.mark
            ),
        }),
        XtInfo::Pkttype(p) => {
            let name = match p.pkttype {
                0 => "host",
                1 => "broadcast",
                2 => "multicast",
                3 => "otherhost",
                _ => return None,
            };
            Some(format!("pkttype {}{name}", neq(p.invert != 0)))
        }
        XtInfo::Iprange(r) => {
            let key = if v6 { "ip6" } else { "ip" };
            let addr = |a: &[u8; 16]| {
                if v6 {
                    value::ipv6(a)
                } else {
                    value::ipv4(&a[..4])
                }
            };
            let mut parts = Vec::new();
            // IPRANGE_SRC 1, IPRANGE_DST 2, IPRANGE_SRC_INV 0x10, _DST_INV 0x20.
            if r.flags & 1 != 0 {
                parts.push(format!(
                    "{key} saddr {}{}-{}",
                    neq(r.flags & 0x10 != 0),
                    addr(&r.src[0]),
                    addr(&r.src[1])
                ));
            }
            if r.flags & 2 != 0 {
                parts.push(format!(
                    "{key} daddr {}{}-{}",
                    neq(r.flags & 0x20 != 0),
                    addr(&r.dst[0]),
                    addr(&r.dst[1])
                ));
            }
            Some(parts.join(" "))
        }
        XtInfo::Tcp(t) => {
            // Flag tests and inverted options go native in iptables-nft
            // 1.8.9; the blob form seen is ports and `--tcp-option`.
            let mut parts = ports("tcp", t.spts, t.dpts, t.invflags);
            if t.option != 0 {
                parts.push(format!(
                    "tcp option {} {}",
                    t.option,
                    if t.invflags & 0x04 != 0 {
                        "missing"
                    } else {
                        "exists"
                    }
                ));
            }
            if t.flg_mask != 0 {
                return None;
            }
            Some(parts.join(" "))
        }
        XtInfo::Udp(u) => Some(ports("udp", u.spts, u.dpts, u.invflags).join(" ")),
        XtInfo::Icmp(i) if i.kind == 0xff && i.code == [0, 0xff] && i.invflags == 0 => {
            Some("ip protocol icmp".into())
        }
        // A type with any code; a code range has no translation. For
        // IPv6 only the types iptables names translate (1–4, 128, 129,
        // 133–137); MLD and the inverse neighbour discovery types do not.
        XtInfo::Icmp6(i)
            if i.code == [0, 0xff] && matches!(i.kind, 1..=4 | 128 | 129 | 133..=137) =>
        {
            Some(format!(
                "icmpv6 type {}{}",
                neq(i.invflags & 1 != 0),
                value::format(value::Ty::Icmpv6Type, &[i.kind], &|_| None)
            ))
        }
        XtInfo::Icmp(i) if i.code == [0, 0xff] => Some(format!(
            "icmp type {}{}",
            neq(i.invflags & 1 != 0),
            value::format(value::Ty::IcmpType, &[i.kind], &|_| None)
        )),
        // nft 1.0.6 hands the IPv6 NAT targets an IPv4-shaped context;
        // their translation comes out empty.
        XtInfo::Masquerade(_) | XtInfo::Snat(_) | XtInfo::Dnat(_) | XtInfo::Redirect(_) if v6 => {
            Some(String::new())
        }
        XtInfo::Log(l) => Some(log(l)),
        XtInfo::Nflog(n) => {
            let mut s = String::from("log");
            if !n.prefix.is_empty() {
                s.push_str(&format!(" prefix \"{}\"", n.prefix));
            }
            s.push_str(&format!(" group {}", n.group));
            // XT_NFLOG_F_COPY_LEN.
            if n.flags & 1 != 0 {
                s.push_str(&format!(" snaplen {}", n.len));
            }
            if n.threshold != 1 {
                s.push_str(&format!(" queue-threshold {}", n.threshold));
            }
            Some(s)
        }
        XtInfo::Reject(r) => Some(reject(r.ipv6, r.with)),
        XtInfo::Masquerade(n) => Some(format!(
            "masquerade{}{}",
            nat_ports(n, " to ", false),
            nat_flags(n.flags)
        )),
        XtInfo::Redirect(n) => Some(format!(
            "redirect{}{}",
            nat_ports(n, " to ", false),
            nat_flags(n.flags)
        )),
        XtInfo::Snat(n) => Some(format!(
            "snat to {}{}",
            nat_target(n, v6),
            nat_flags(n.flags)
        )),
        XtInfo::Dnat(n) => Some(format!(
            "dnat to {}{}",
            nat_target(n, v6),
            nat_flags(n.flags)
        )),
        XtInfo::MarkTarget(m) => Some(mark_target(m.mark, m.mask)),
        XtInfo::Tcpmss(t) => Some(match t.mss {
            0xffff => "tcp option maxseg size set rt mtu".into(),
            mss => format!("tcp option maxseg size set {mss}"),
        }),
        XtInfo::Ct(c) if c.flags & crate::compat::xt::ct::NOTRACK != 0 => Some("notrack".into()),
        XtInfo::Unknown(b) if x.kind == XtKind::Match => untyped_match(&x.name, b, v6),
        _ => None,
    }
}

fn neq(inv: bool) -> &'static str {
    if inv {
        "!= "
    } else {
        ""
    }
}

/// `PROTO sport A[-B] PROTO dport C[-D]`, leaving out full ranges
/// (`XT_TCP_INV_SRCPT` 1, `XT_TCP_INV_DSTPT` 2).
fn ports(proto: &str, spts: [u16; 2], dpts: [u16; 2], inv: u8) -> Vec<String> {
    let mut out = Vec::new();
    for (name, p, bit) in [("sport", spts, 1u8), ("dport", dpts, 2u8)] {
        if p == [0, 0xffff] {
            continue;
        }
        let v = if p[0] == p[1] {
            p[0].to_string()
        } else {
            format!("{}-{}", p[0], p[1])
        };
        out.push(format!("{proto} {name} {}{v}", neq(inv & bit != 0)));
    }
    out
}

/// libxt_conntrack `conntrack3_mt_xlate` as iptables 1.8.9 has it: a state
/// mask with SNAT/DNAT prints only `ct status snat|dnat` (and no
/// inversion); the other parts follow in a fixed order.
fn conntrack(c: &crate::compat::xt::Conntrack, v6: bool) -> Option<String> {
    let mut parts = Vec::new();
    let f = c.match_flags;
    let inv = |bit: u16| neq(c.invert_flags & bit != 0);
    if f & ctm::F_PROTO != 0 {
        parts.push(format!(
            "ct original protocol {}{}",
            inv(ctm::F_PROTO),
            c.l4proto
        ));
    }
    if f & ctm::F_STATE != 0 {
        let m = u32::from(c.state_mask);
        if m & (ctm::STATE_SNAT | ctm::STATE_DNAT) != 0 {
            parts.push(format!(
                "ct status {}",
                if m & ctm::STATE_SNAT != 0 {
                    "snat"
                } else {
                    "dnat"
                }
            ));
        } else {
            let mut names = Vec::new();
            for (bit, name) in [
                (ctm::STATE_INVALID, "invalid"),
                (ctm::STATE_NEW, "new"),
                (ctm::STATE_RELATED, "related"),
                (ctm::STATE_ESTABLISHED, "established"),
                (ctm::STATE_UNTRACKED, "untracked"),
            ] {
                if m & bit != 0 {
                    names.push(name);
                }
            }
            parts.push(format!(
                "ct state {}{}",
                if c.invert_flags & ctm::F_STATE != 0 {
                    "! "
                } else {
                    ""
                },
                names.join(",")
            ));
        }
    }
    if f & ctm::F_STATUS != 0 {
        let mut names = Vec::new();
        for (bit, name) in [
            (1u16, "expected"),
            (2, "seen-reply"),
            (4, "assured"),
            (8, "confirmed"),
        ] {
            if c.status_mask & bit != 0 {
                names.push(name);
            }
        }
        parts.push(format!(
            "ct status {}{}",
            if c.invert_flags & ctm::F_STATUS != 0 {
                "! "
            } else {
                ""
            },
            names.join(",")
        ));
    }
    if f & ctm::F_EXPIRES != 0 {
        let v = if c.expires_min == c.expires_max {
            c.expires_min.to_string()
        } else {
            format!("{}-{}", c.expires_min, c.expires_max)
        };
        parts.push(format!("ct expiration {}{v}", inv(ctm::F_EXPIRES)));
    }
    let addr = |a: &([u8; 16], [u8; 16])| {
        let (addr, mask) = a;
        let (text, full) = if v6 {
            (value::ipv6(addr), 128)
        } else {
            (value::ipv4(&addr[..4]), 32)
        };
        let bytes = if v6 { &mask[..] } else { &mask[..4] };
        let ones: u32 = bytes.iter().map(|b| b.count_ones()).sum();
        if ones == full {
            text
        } else {
            format!("{text}/{ones}")
        }
    };
    for (bit, name, a) in [
        (ctm::F_ORIGSRC, "original saddr", &c.origsrc),
        (ctm::F_ORIGDST, "original daddr", &c.origdst),
        (ctm::F_REPLSRC, "reply saddr", &c.replsrc),
        (ctm::F_REPLDST, "reply daddr", &c.repldst),
    ] {
        if f & bit != 0 {
            parts.push(format!("ct {name} {}{}", inv(bit), addr(a)));
        }
    }
    for (bit, name, lo, hi) in [
        (
            ctm::F_ORIGSRC_PORT,
            "original proto-src",
            c.origsrc_port,
            c.port_high[0],
        ),
        (
            ctm::F_ORIGDST_PORT,
            "original proto-dst",
            c.origdst_port,
            c.port_high[1],
        ),
        (
            ctm::F_REPLSRC_PORT,
            "reply proto-src",
            c.replsrc_port,
            c.port_high[2],
        ),
        (
            ctm::F_REPLDST_PORT,
            "reply proto-dst",
            c.repldst_port,
            c.port_high[3],
        ),
    ] {
        if f & bit != 0 {
            let v = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            };
            parts.push(format!("ct {name} {}{v}", inv(bit)));
        }
    }
    if f & ctm::F_DIRECTION != 0 {
        parts.push(format!(
            "ct direction {}",
            if c.invert_flags & ctm::F_DIRECTION != 0 {
                "reply"
            } else {
                "original"
            }
        ));
    }
    Some(parts.join(" "))
}

/// `tcp dport { 80, 443 }`; `--ports` matches either port as a
/// concatenation with the other side open.
fn multiport_text(m: &crate::compat::xt::Multiport, ctx: XtCtx) -> Option<String> {
    let proto = ctx.l4?;
    let n = usize::from(m.count).min(m.ports.len());
    let mut items = Vec::new();
    let mut i = 0;
    while i < n {
        let p = m.ports[i];
        if m.rev == 1 && m.pflags[i] != 0 && i + 1 < n {
            items.push((p, m.ports[i + 1]));
            i += 2;
        } else {
            items.push((p, p));
            i += 1;
        }
    }
    let range = |(a, b): (u16, u16)| {
        if a == b {
            a.to_string()
        } else {
            format!("{a}-{b}")
        }
    };
    let op = neq(m.rev == 1 && m.invert != 0);
    let list = |v: Vec<String>| {
        if v.len() == 1 {
            v.into_iter().next().unwrap_or_default()
        } else {
            format!("{{ {} }}", v.join(", "))
        }
    };
    Some(match m.flags {
        multiport::SOURCE => format!(
            "{proto} sport {op}{}",
            list(items.into_iter().map(range).collect())
        ),
        multiport::DESTINATION => format!(
            "{proto} dport {op}{}",
            list(items.into_iter().map(range).collect())
        ),
        _ => {
            let mut v = Vec::new();
            for it in items {
                v.push(format!("0-65535 . {}", range(it)));
                v.push(format!("{} . 0-65535", range(it)));
            }
            format!("{proto} sport . {proto} dport {op}{{ {} }}", v.join(", "))
        }
    })
}

/// `limit rate N/unit [burst B packets]` from xt_limit's average period
/// (1/10000 s units).
fn limit(avg: u32, burst: u32) -> String {
    let scale = crate::compat::xt::limit::SCALE;
    let rate = crate::compat::xt::limit::rate_text(u64::from(avg), scale);
    let rate = rate
        .trim_start()
        .replace("/sec", "/second")
        .replace("/min", "/minute");
    let mut s = format!("limit rate {rate}");
    if burst != crate::compat::xt::limit::DEFAULT_BURST {
        s.push_str(&format!(" burst {burst} packets"));
    }
    s
}

fn addrtype_text(a: &crate::compat::xt::Addrtype) -> Option<String> {
    const NAMES: [&str; 12] = [
        "unspec",
        "unicast",
        "local",
        "broadcast",
        "anycast",
        "multicast",
        "blackhole",
        "unreachable",
        "prohibit",
        "throw",
        "nat",
        "xresolve",
    ];
    let types = |mask: u16| {
        let names: Vec<&str> = NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect();
        if names.len() == 1 {
            names.join("")
        } else {
            format!("{{ {} }}", names.join(", "))
        }
    };
    let iface = if a.flags & addrtype::LIMIT_IFACE_IN != 0 {
        " . iif"
    } else if a.flags & addrtype::LIMIT_IFACE_OUT != 0 {
        " . oif"
    } else {
        ""
    };
    let mut parts = Vec::new();
    if a.source != 0 {
        parts.push(format!(
            "fib saddr{iface} type {}{}",
            neq(a.flags & addrtype::INVERT_SOURCE != 0),
            types(a.source)
        ));
    }
    if a.dest != 0 {
        parts.push(format!(
            "fib daddr{iface} type {}{}",
            neq(a.flags & addrtype::INVERT_DEST != 0),
            types(a.dest)
        ));
    }
    Some(parts.join(" "))
}

/// libxt_LOG: prefix, level unless `warn`, then the flag groups.
fn log(l: &crate::compat::xt::LogTarget) -> String {
    const LEVELS: [&str; 8] = [
        "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
    ];
    let mut s = String::from("log");
    if !l.prefix.is_empty() {
        s.push_str(&format!(" prefix \"{}\"", l.prefix));
    }
    if l.level != crate::compat::xt::log::DEFAULT_LEVEL {
        match LEVELS.get(usize::from(l.level)) {
            Some(n) => s.push_str(&format!(" level {n}")),
            None => s.push_str(&format!(" level {}", l.level)),
        }
    }
    // XT_LOG_TCPSEQ 1, _TCPOPT 2, _IPOPT 4, _UID 8, _MACDECODE 0x20.
    let f = l.logflags;
    match (f & 1 != 0, f & 2 != 0) {
        (true, true) => s.push_str(" flags tcp sequence,options"),
        (true, false) => s.push_str(" flags tcp sequence"),
        (false, true) => s.push_str(" flags tcp options"),
        _ => {}
    }
    if f & 4 != 0 {
        s.push_str(" flags ip options");
    }
    if f & 8 != 0 {
        s.push_str(" flags skuid");
    }
    if f & 0x20 != 0 {
        s.push_str(" flags ether");
    }
    s
}

fn reject(v6: bool, with: u32) -> String {
    let (names, default, reset): (&[&str], u32, u32) = if v6 {
        (
            &[
                "no-route",
                "admin-prohibited",
                "",
                "addr-unreachable",
                "port-unreachable",
                "",
                "",
                "policy-fail",
                "reject-route",
            ],
            4,
            6,
        )
    } else {
        (
            &[
                "net-unreachable",
                "host-unreachable",
                "prot-unreachable",
                "port-unreachable",
                "",
                "net-prohibited",
                "host-prohibited",
                "",
                "admin-prohibited",
            ],
            3,
            7,
        )
    };
    if with == default {
        return "reject".into();
    }
    if with == reset {
        return "reject with tcp reset".into();
    }
    match names.get(with as usize).filter(|n| !n.is_empty()) {
        Some(n) => format!(
            "reject with {} type {n}",
            if v6 { "icmpv6" } else { "icmp" }
        ),
        None => format!("reject with {with}"),
    }
}

/// ` to :A[-B]` when the range names ports.
fn nat_ports(n: &crate::compat::xt::NatRange, lead: &str, _v6: bool) -> String {
    if n.flags & natm::PROTO_SPECIFIED == 0 {
        return String::new();
    }
    if n.min_proto == n.max_proto {
        format!("{lead}:{}", n.min_proto)
    } else {
        format!("{lead}:{}-{}", n.min_proto, n.max_proto)
    }
}

/// `ADDR[-ADDR][:PORT[-PORT]]` of SNAT/DNAT.
fn nat_target(n: &crate::compat::xt::NatRange, v6: bool) -> String {
    let fmt = |a: &[u8; 16]| {
        if v6 {
            value::ipv6(a)
        } else {
            value::ipv4(&a[..4])
        }
    };
    let mut s = String::new();
    if n.flags & natm::MAP_IPS != 0 {
        s = fmt(&n.min_addr);
        if n.max_addr != n.min_addr {
            s.push('-');
            s.push_str(&fmt(&n.max_addr));
        }
        if v6 && n.flags & natm::PROTO_SPECIFIED != 0 {
            s = format!("[{s}]");
        }
    }
    s.push_str(&nat_ports(n, "", v6));
    s
}

fn nat_flags(f: u32) -> String {
    let mut v = Vec::new();
    if f & natm::PROTO_RANDOM != 0 {
        v.push("random");
    }
    if f & natm::PROTO_RANDOM_FULLY != 0 {
        v.push("fully-random");
    }
    if f & natm::PERSISTENT != 0 {
        v.push("persistent");
    }
    if v.is_empty() {
        String::new()
    } else {
        format!(" {}", v.join(","))
    }
}

/// libxt_MARK revision 2 `mark_tg_xlate`.
fn mark_target(mark: u32, mask: u32) -> String {
    if mark == 0 {
        format!("meta mark set mark and 0x{:x}", !mask)
    } else if mark == mask {
        format!("meta mark set mark or 0x{mark:x}")
    } else if mask == 0 {
        format!("meta mark set mark xor 0x{mark:x}")
    } else if mask == 0xffff_ffff {
        format!("meta mark set 0x{mark:x}")
    } else {
        format!("meta mark set mark and 0x{:x} xor 0x{mark:x}", !mask)
    }
}

/// Matches nftguard's compat layer does not type, read from their small
/// fixed layouts (host byte order).
fn untyped_match(name: &str, b: &[u8], v6: bool) -> Option<String> {
    let byte = |o: usize| b.get(o).copied();
    let u16_at = |o: usize| Some(u16::from_ne_bytes(b.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_ne_bytes(b.get(o..o + 4)?.try_into().ok()?));
    match name {
        "statistic" => statistic(b),
        // xt_length_info { u16 min, max; u8 invert; }
        "length" => {
            let (lo, hi, inv) = (u16_at(0)?, u16_at(2)?, byte(4)? != 0);
            let v = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            };
            Some(format!("meta length {}{v}", neq(inv)))
        }
        // xt_ttl_info { u8 mode; u8 ttl; } (eq, ne, lt, gt).
        "ttl" => {
            let op = ["", "!= ", "< ", "> "].get(usize::from(byte(0)?))?;
            Some(format!("ip ttl {op}{}", byte(1)?))
        }
        // ip6t_hl_info { u8 mode; u8 hop_limit; } (eq, ne, lt, gt).
        "hl" => {
            let op = ["", "!= ", "< ", "> "].get(usize::from(byte(0)?))?;
            Some(format!("ip6 hoplimit {op}{}", byte(1)?))
        }
        // ip6t_rt { u32 rt_type; u32 segsleft[2]; u32 hdrlen; u8 flags;
        // u8 invflags; … }: only the type test (IP6T_RT_TYP) translates.
        "rt" if byte(16)? == 0x01 => Some(format!(
            "rt type {}{}",
            neq(byte(17)? & 0x01 != 0),
            u32_at(0)?
        )),
        // xt_dscp_info { u8 dscp; u8 invert; }
        "dscp" => Some(format!(
            "{} dscp {}0x{:02x}",
            if v6 { "ip6" } else { "ip" },
            neq(byte(1)? != 0),
            byte(0)?
        )),
        // xt_helper_info { int invert; char name[30]; }
        "helper" => {
            let inv = u32_at(0)? != 0;
            let raw = b.get(4..34)?;
            let end = raw.iter().position(|c| *c == 0).unwrap_or(raw.len());
            Some(format!(
                "ct helper {}\"{}\"",
                neq(inv),
                String::from_utf8_lossy(&raw[..end])
            ))
        }
        // xt_mac_info { u8 srcaddr[6]; int invert; }
        "mac" => Some(format!(
            "ether saddr {}{}",
            neq(u32_at(8)? != 0),
            value::format(value::Ty::Ether, b.get(..6)?, &|_| None)
        )),
        // xt_cpu_info { u32 cpu; u32 invert; }
        "cpu" => Some(format!("cpu {}{}", neq(u32_at(4)? != 0), u32_at(0)?)),
        _ => None,
    }
}

/// xt_statistic (`struct xt_statistic_info`: u16 mode, u16 flags, then
/// u32 probability or every/packet/count), which nftguard does not type:
/// `meta random & 2147483647 < P` or `numgen inc mod EVERY PACKET`.
fn statistic(b: &[u8]) -> Option<String> {
    let u16_at = |o: usize| Some(u16::from_ne_bytes(b.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_ne_bytes(b.get(o..o + 4)?.try_into().ok()?));
    let (mode, flags) = (u16_at(0)?, u16_at(2)?);
    let inv = flags & 1 != 0;
    match mode {
        0 => Some(format!(
            "meta random & 2147483647 {} {}",
            if inv { ">=" } else { "<" },
            u32_at(4)?
        )),
        1 => Some(format!(
            "numgen inc mod {} {}{}",
            u32_at(4)?.checked_add(1)?,
            if inv { "!= " } else { "" },
            u32_at(8)?
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_limits_rejects() {
        assert_eq!(
            mark_target(0x10, 0xff),
            "meta mark set mark and 0xffffff00 xor 0x10"
        );
        assert_eq!(mark_target(0, 0xffff_ff00), "meta mark set mark and 0xff");
        assert_eq!(
            limit(10_000 * 60 / 3, 10),
            "limit rate 3/minute burst 10 packets"
        );
        assert_eq!(reject(false, 3), "reject");
        assert_eq!(reject(true, 1), "reject with icmpv6 type admin-prohibited");
        assert_eq!(statistic(&[0, 0]), None);
    }
}
