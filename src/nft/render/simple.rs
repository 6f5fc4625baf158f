//! Statements printed from one expression alone, without registers or
//! protocol context: verdicts, `limit`, `log`, NAT flags, and the opaque
//! kinds read leniently (`connlimit`, `notrack`, xt `match`/`target`).

use crate::netlink::AttrIter;
use crate::nft::data::ChainRef;
use crate::nft::expr::LimitType;
use crate::nft::Verdict;

use super::value;

/// Text for an expression nftguard keeps as bytes. xt `match`/`target`
/// (iptables-nft) that do not decode print as nft prints the ones it cannot
/// translate (`xt match recent`); decoded ones go through [`super::xt`].
/// Other kinds nftguard does not type print as `# unknown expression
/// NAME`, which nft would not parse back.
pub(crate) fn opaque_text(name: &str, data: &[u8]) -> String {
    // NFTA_MATCH_NAME / NFTA_TARGET_NAME are attribute 1.
    let xt_name = AttrIter::new(data)
        .filter_map(|a| a.ok())
        .find(|a| a.kind() == 1)
        .and_then(|a| a.strz().ok().map(str::to_string));
    match (name, xt_name) {
        ("connlimit", _) => {
            connlimit_text(data).unwrap_or_else(|| "# unknown expression connlimit".to_string())
        }
        // The kernel dumps `notrack` without NFTA_EXPR_DATA, which the typed
        // form (an empty data nest) does not reproduce.
        ("notrack", _) if data.is_empty() => "notrack".into(),
        ("match", Some(n)) => format!("xt match {n}"),
        ("target", Some(n)) => format!("xt target {n}"),
        _ => format!("# unknown expression {name}"),
    }
}

/// `ct count [over] N` read leniently: the kernel (6.18) leaves out
/// `NFTA_CONNLIMIT_FLAGS` when it is 0, which the typed `Connlimit` (flags
/// required) does not accept, so such expressions arrive opaque.
pub(crate) fn connlimit_text(data: &[u8]) -> Option<String> {
    let (mut count, mut flags) = (None, 0);
    for a in AttrIter::new(data) {
        let a = a.ok()?;
        match a.kind() {
            1 => count = Some(a.be32().ok()?),
            2 => flags = a.be32().ok()?,
            _ => return None,
        }
    }
    Some(format!(
        "ct count {}{}",
        if flags & 1 != 0 { "over " } else { "" },
        count?
    ))
}

/// A verdict as nft prints it.
pub(crate) fn verdict_text(v: &Verdict) -> String {
    let target = |c: &ChainRef| match c {
        ChainRef::Name(n) => n.clone(),
        ChainRef::Id(id) => format!("%{id}"),
    };
    match v {
        Verdict::Accept => "accept".into(),
        Verdict::Drop => "drop".into(),
        Verdict::Continue => "continue".into(),
        Verdict::Break => "break".into(),
        Verdict::Return => "return".into(),
        Verdict::Jump(c) => format!("jump {}", target(c)),
        Verdict::Goto(c) => format!("goto {}", target(c)),
        Verdict::Queue(0) => "queue".into(),
        Verdict::Queue(n) => format!("queue num {n}"),
        Verdict::Other(c) => format!("unknown verdict value {c}"),
    }
}

/// `limit rate [over] N/unit [burst B packets|bytes]`; the default
/// packet burst (5) and a zero byte burst are not printed.
pub(crate) fn limit_text(l: &crate::nft::expr::Limit) -> String {
    let unit = match l.unit {
        1 => "second".to_string(),
        60 => "minute".into(),
        3600 => "hour".into(),
        86400 => "day".into(),
        604800 => "week".into(),
        n => format!("{n} seconds"),
    };
    let over = if l.flags & crate::nft::expr::limit::NFT_LIMIT_F_INV != 0 {
        "over "
    } else {
        ""
    };
    match l.kind {
        LimitType::Bytes => {
            let (r, ru) = value::byte_units(l.rate);
            let mut s = format!("limit rate {over}{r} {ru}/{unit}");
            if l.burst != 0 {
                let (b, bu) = value::byte_units(u64::from(l.burst));
                s.push_str(&format!(" burst {b} {bu}"));
            }
            s
        }
        _ => {
            let mut s = format!("limit rate {over}{}/{unit}", l.rate);
            // nft's default burst is 5 packets and is not printed.
            if l.burst != 0 && l.burst != 5 {
                s.push_str(&format!(" burst {} packets", l.burst));
            }
            s
        }
    }
}

/// `quota [over] N unit [used N unit]`.
pub(crate) fn quota_text(q: &crate::nft::expr::Quota) -> String {
    format!("quota {}", quota_body(q))
}

/// A quota without the keyword, as a quota object prints it.
pub(crate) fn quota_body(q: &crate::nft::expr::Quota) -> String {
    let (n, unit) = value::byte_units(q.bytes);
    let mut s = format!("{}{n} {unit}", if q.flags & 1 != 0 { "over " } else { "" });
    if let Some(used) = q.consumed.filter(|u| *u != 0) {
        let (n, unit) = value::byte_units(used);
        s.push_str(&format!(" used {n} {unit}"));
    }
    s
}

const LOG_LEVELS: [&str; 9] = [
    "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit",
];

/// `log` with its options in nft's order; level `warn` (nft's default)
/// is not printed.
pub(crate) fn log_text(l: &crate::nft::expr::Log) -> String {
    let mut s = String::from("log");
    if let Some(p) = &l.prefix {
        s.push_str(&format!(" prefix \"{p}\""));
    }
    if let Some(g) = l.group {
        s.push_str(&format!(" group {g}"));
    }
    if let Some(n) = l.snaplen.filter(|n| *n != 0) {
        s.push_str(&format!(" snaplen {n}"));
    }
    if let Some(n) = l.qthreshold.filter(|n| *n != 0) {
        s.push_str(&format!(" queue-threshold {n}"));
    }
    // Level 4 (warn) is nft's default and not printed.
    if let Some(level) = l.level.filter(|l| *l != 4) {
        match LOG_LEVELS.get(level as usize) {
            Some(name) => s.push_str(&format!(" level {name}")),
            None => s.push_str(&format!(" level {level}")),
        }
    }
    // NF_LOG_TCPSEQ 1, TCPOPT 2, IPOPT 4, UID 8, MACDECODE 0x20; all = 0x2f.
    let f = l.flags.unwrap_or(0);
    if f & 0x2f == 0x2f {
        s.push_str(" flags all");
    } else {
        match f & 3 {
            1 => s.push_str(" flags tcp sequence"),
            2 => s.push_str(" flags tcp options"),
            3 => s.push_str(" flags tcp sequence,options"),
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
    }
    s
}

/// `NF_NAT_RANGE_*` flags as nft prints them.
pub(crate) fn nat_flags(f: u32) -> String {
    let mut parts = Vec::new();
    if f & 0x4 != 0 {
        parts.push("random");
    }
    if f & 0x10 != 0 {
        parts.push("fully-random");
    }
    if f & 0x8 != 0 {
        parts.push("persistent");
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" {}", parts.join(","))
    }
}

/// If `lo..=hi` is exactly one prefix, its length.
pub(crate) fn prefix_len_of_range(lo: &[u8], hi: &[u8]) -> Option<u32> {
    if lo.len() != hi.len() {
        return None;
    }
    let bits = lo.len() * 8;
    let mut p = 0;
    while p < bits {
        let (byte, bit) = (p / 8, 7 - (p % 8));
        if (lo[byte] >> bit) & 1 != (hi[byte] >> bit) & 1 {
            break;
        }
        p += 1;
    }
    for q in p..bits {
        let (byte, bit) = (q / 8, 7 - (q % 8));
        if (lo[byte] >> bit) & 1 != 0 || (hi[byte] >> bit) & 1 != 1 {
            return None;
        }
    }
    Some(p as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::{Limit, Log};

    #[test]
    fn verdicts_limits_logs() {
        assert_eq!(verdict_text(&Verdict::Jump("x".into())), "jump x");
        assert_eq!(
            verdict_text(&Verdict::Other(-9)),
            "unknown verdict value -9"
        );
        assert_eq!(
            limit_text(&Limit::packets(10, 60, 5)),
            "limit rate 10/minute"
        );
        assert_eq!(
            limit_text(&Limit::packets(5, 1, 10)),
            "limit rate 5/second burst 10 packets"
        );
        let mut l = Log::prefix("x: ");
        l.level = Some(6);
        l.flags = Some(0x2f);
        assert_eq!(log_text(&l), "log prefix \"x: \" level info flags all");
        assert_eq!(nat_flags(0x1c), " random,fully-random,persistent");
    }

    #[test]
    fn prefix_of_range() {
        assert_eq!(
            prefix_len_of_range(&[10, 0, 0, 0], &[10, 0, 0, 255]),
            Some(24)
        );
        assert_eq!(prefix_len_of_range(&[10, 0, 0, 1], &[10, 0, 0, 5]), None);
    }

    #[test]
    fn lenient_opaque_kinds() {
        assert_eq!(opaque_text("notrack", &[]), "notrack");
        assert_eq!(opaque_text("frob", &[]), "# unknown expression frob");
        // NFTA_CONNLIMIT_COUNT = 5, no flags attribute.
        assert_eq!(
            connlimit_text(&[8, 0, 1, 0, 0, 0, 0, 5]).as_deref(),
            Some("ct count 5")
        );
    }
}
