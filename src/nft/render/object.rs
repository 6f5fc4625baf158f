//! Stateful objects (`counter NAME { … }`, `quota`, `limit`, `ct helper`,
//! `ct timeout`, `ct expectation`, `synproxy`, `secmark`) as nft 1.0.6
//! prints them in a table block (`obj_print_data`).

use super::simple::{limit_text, quota_body};
use super::value::time_ms;
use crate::nft::object::{obj_type_name, Object, ObjectData};

/// Prints one object block (without the blank line before it).
pub(crate) fn object_text(out: &mut String, o: &Object) {
    out.push_str(&format!(
        "\t{} {} {{\n",
        obj_type_name(o.obj_type()),
        o.name
    ));
    if let Some(c) = o.comment() {
        out.push_str(&format!("\t\tcomment \"{c}\"\n"));
    }
    for line in body(&o.data) {
        out.push_str(&format!("\t\t{line}\n"));
    }
    out.push_str("\t}\n");
}

/// `NFPROTO_*` as nft names an object's layer-3 protocol.
pub fn l3proto(n: u16) -> String {
    match n {
        1 => "inet".into(),
        2 => "ip".into(),
        3 => "arp".into(),
        5 => "netdev".into(),
        7 => "bridge".into(),
        10 => "ip6".into(),
        n => n.to_string(),
    }
}

/// A layer-4 protocol number as nft names it in objects.
pub fn l4proto(n: u8) -> String {
    super::value::format(super::value::Ty::InetProto, &[n], &|_| None)
}

/// nft's conntrack timeout state names and kernel defaults (seconds) per
/// layer-4 protocol; nft prints only the states set to something else.
/// The states of a ct timeout policy nft prints, with their timeouts in
/// seconds: those that differ from the kernel's default (a state nft has
/// no name for is printed by number).
pub fn timeout_policy(t: &crate::nft::object::CtTimeout) -> Vec<(String, u32)> {
    let states = timeout_states(t.l4proto);
    let mut out = Vec::new();
    for (attr, secs) in &t.policy.0 {
        let idx = usize::from(*attr).wrapping_sub(1);
        match states.get(idx) {
            Some((_, dflt)) if dflt == secs => {}
            Some((name, _)) => out.push(((*name).to_string(), *secs)),
            None => out.push((attr.to_string(), *secs)),
        }
    }
    out
}

fn timeout_states(l4: u8) -> &'static [(&'static str, u32)] {
    match l4 {
        6 => &[
            ("syn_sent", 120),
            ("syn_recv", 60),
            ("established", 432_000),
            ("fin_wait", 120),
            ("close_wait", 60),
            ("last_ack", 30),
            ("time_wait", 120),
            ("close", 10),
            ("syn_sent2", 120),
            ("retrans", 300),
            ("unacknowledged", 300),
        ],
        17 | 136 => &[("unreplied", 30), ("replied", 120)],
        1 | 58 => &[("timeout", 30)],
        _ => &[],
    }
}

/// The lines inside an object's block.
fn body(d: &ObjectData) -> Vec<String> {
    match d {
        ObjectData::Counter(c) => vec![format!(
            "packets {} bytes {}",
            c.packets.unwrap_or(0),
            c.bytes.unwrap_or(0)
        )],
        ObjectData::Quota(q) => vec![quota_body(q)],
        ObjectData::Limit(l) => vec![limit_text(l)
            .strip_prefix("limit ")
            .unwrap_or_default()
            .to_string()],
        ObjectData::Connlimit(c) => vec![format!(
            "{}{}",
            if c.flags.unwrap_or(0) & 1 != 0 {
                "over "
            } else {
                ""
            },
            c.count
        )],
        ObjectData::CtHelper(h) => vec![
            format!("type \"{}\" protocol {}", h.name, l4proto(h.l4proto)),
            format!("l3proto {}", l3proto(h.l3proto)),
        ],
        ObjectData::CtTimeout(t) => {
            let parts: Vec<String> = timeout_policy(t)
                .iter()
                .map(|(name, secs)| format!("{name} : {secs}"))
                .collect();
            vec![
                format!("protocol {}", l4proto(t.l4proto)),
                format!("l3proto {}", l3proto(t.l3proto)),
                format!("policy = {{ {} }}", parts.join(", ")),
            ]
        }
        ObjectData::CtExpect(e) => vec![
            format!("protocol {}", l4proto(e.l4proto)),
            format!("dport {}", e.dport),
            // The kernel (6.18, nft_ct_expect_obj_dump) dumps the timeout
            // in host byte order with nla_put_u32; the typed field reads
            // the bytes big-endian, so turn them back.
            format!("timeout {}", time_ms(u64::from(e.timeout.0))),
            format!("size {}", e.size),
            format!("l3proto {}", l3proto(e.l3proto)),
        ],
        ObjectData::Synproxy(s) => {
            let mut v = vec![format!("mss {}", s.mss), format!("wscale {}", s.wscale)];
            let mut flags = Vec::new();
            // NF_SYNPROXY_OPT_SACK_PERM 0x4, NF_SYNPROXY_OPT_TIMESTAMP 0x8.
            if s.flags & 0x8 != 0 {
                flags.push("timestamp");
            }
            if s.flags & 0x4 != 0 {
                flags.push("sack-perm");
            }
            if !flags.is_empty() {
                v.push(flags.join(" "));
            }
            v
        }
        ObjectData::Secmark(s) => vec![format!("\"{}\"", s.ctx)],
        ObjectData::Raw { obj_type, .. } => {
            vec![format!("# object type {obj_type} nftguard cannot print")]
        }
    }
}
