//! nft text rendering: table and chain layout, exactly as `nft list
//! ruleset` (nft 1.0.6) prints it. Rules are printed by
//! [`super::statement`].

use super::flowtable::flowtable_text;
use super::object::object_text;
use super::set::set_text;
use super::statement::rule_text_in;
use super::value::IfResolver;
use crate::nft::chain::Chain;
use crate::nft::{ChainPolicy, Family, Hook, Ruleset, TableFlags};

/// Renders `rs` exactly as `nft list ruleset` prints it. Interface indexes
/// (`iif`, `oif`, `fib … oif`) are named from the calling thread's current
/// network namespace, as nft does.
pub fn nft_text(rs: &Ruleset) -> String {
    nft_text_with(rs, &crate::netlink::interface_name)
}

/// Like [`nft_text`], naming interface indexes with `ifname` (`None`
/// prints the number).
pub fn nft_text_with(rs: &Ruleset, ifname: IfResolver<'_>) -> String {
    let mut out = String::new();
    for t in &rs.tables {
        out.push_str(&format!("table {} {} {{\n", t.family, t.name));
        // nft prints an empty line between the table's head and its first
        // chain only after a flags line.
        let mut delim = "";
        if let Some(f) = t.flags.filter(|f| !f.is_empty()) {
            out.push_str(&format!("\tflags {}\n", table_flags(f)));
            delim = "\n";
        }
        if let Some(c) = t.comment() {
            out.push_str(&format!("\tcomment \"{c}\"\n"));
        }
        // nft 1.0.6 (`table_print`): objects, named sets, flowtables,
        // chains, each in the kernel's order.
        for o in rs.objects_of(t.family, &t.name) {
            out.push_str(delim);
            delim = "\n";
            object_text(&mut out, o);
        }
        for s in rs.sets_of(t.family, &t.name) {
            if s.is_anonymous() {
                continue;
            }
            out.push_str(delim);
            delim = "\n";
            set_text(&mut out, rs, s, ifname);
        }
        for f in rs.flowtables_of(t.family, &t.name) {
            out.push_str(delim);
            delim = "\n";
            flowtable_text(&mut out, f);
        }
        for c in rs.chains_of(t.family, &t.name) {
            out.push_str(delim);
            delim = "\n";
            chain_text(&mut out, rs, c, ifname);
        }
        out.push_str("}\n");
    }
    out
}

fn table_flags(f: TableFlags) -> String {
    let mut parts = Vec::new();
    for (bit, name) in [
        (TableFlags::DORMANT, "dormant"),
        (TableFlags::OWNER, "owner"),
        (TableFlags::PERSIST, "persist"),
    ] {
        if f.contains(bit) {
            parts.push(name.to_string());
        }
    }
    let rest = f.bits() & !0x7;
    if rest != 0 {
        parts.push(format!("0x{rest:x}"));
    }
    parts.join(",")
}

fn chain_text(out: &mut String, rs: &Ruleset, c: &Chain, ifname: IfResolver<'_>) {
    out.push_str(&format!("\tchain {} {{\n", c.name));
    if let Some(comment) = c.comment() {
        out.push_str(&format!("\t\tcomment \"{comment}\"\n"));
    }
    if let (Some(h), Some(hook)) = (&c.hook, c.hook_kind()) {
        let mut devs: Vec<&str> = h.device.iter().map(String::as_str).collect();
        if let Some(list) = &h.devices {
            devs.extend(list.iter().map(String::as_str));
        }
        // nft prints the device list as a set: sorted. The kernel (6.18)
        // dumps NFTA_HOOK_DEVS even for one device, which nft prints as
        // `device "lo"`.
        devs.sort_unstable();
        devs.dedup();
        let dev = match devs.len() {
            0 => String::new(),
            1 => format!(" device \"{}\"", devs[0]),
            _ => format!(" devices = {{ {} }}", devs.join(", ")),
        };
        let policy = match c.policy.unwrap_or(ChainPolicy::Accept) {
            ChainPolicy::Accept => "accept".to_string(),
            ChainPolicy::Drop => "drop".to_string(),
            ChainPolicy::Other(n) => n.to_string(),
        };
        out.push_str(&format!(
            "\t\ttype {} hook {}{dev} priority {}; policy {policy};\n",
            c.chain_type.as_deref().unwrap_or("filter"),
            hook.name(),
            priority_text(c.family, hook, h.priority)
        ));
    }
    for r in rs.rules_of(c.family, &c.table, &c.name) {
        out.push_str("\t\t");
        out.push_str(&rule_text_in(rs, r, c.family, ifname));
        out.push('\n');
    }
    out.push_str("\t}\n");
}

/// A base chain's priority as nft prints it: the standard name within 10
/// of the value (`filter + 10`, `raw - 5`), when that name is valid for the
/// family and hook; otherwise the number (nft's `prio2str`).
pub fn priority_text(family: Family, hook: Hook, prio: i32) -> String {
    let table: &[(i32, &str)] = if family == Family::Bridge {
        &[
            (-300, "dstnat"),
            (-200, "filter"),
            (100, "out"),
            (300, "srcnat"),
        ]
    } else {
        &[
            (-300, "raw"),
            (-150, "mangle"),
            (-100, "dstnat"),
            (0, "filter"),
            (50, "security"),
            (100, "srcnat"),
        ]
    };
    for (std, name) in table {
        let offset = i64::from(prio) - i64::from(*std);
        if offset.abs() > 10 {
            continue;
        }
        if !std_prio_valid(family, hook, name) {
            break;
        }
        return match offset {
            0 => (*name).to_string(),
            o if o > 0 => format!("{name} + {o}"),
            o => format!("{name} - {}", -o),
        };
    }
    prio.to_string()
}

/// Which standard priority names nft accepts per family and hook
/// (measured with nft 1.0.6: netdev and arp know only `filter`; the NAT
/// names only on their NAT hook; bridge `out` only on output).
fn std_prio_valid(family: Family, hook: Hook, name: &str) -> bool {
    match family {
        Family::Netdev | Family::Arp => name == "filter",
        Family::Bridge => match name {
            "dstnat" => hook == Hook::Prerouting,
            "out" => hook == Hook::Output,
            "srcnat" => hook == Hook::Postrouting,
            _ => true,
        },
        _ => match name {
            "dstnat" => hook == Hook::Prerouting,
            "srcnat" => hook == Hook::Postrouting,
            _ => true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities() {
        let p = |f, h, v| priority_text(f, h, v);
        assert_eq!(p(Family::Inet, Hook::Input, 0), "filter");
        assert_eq!(p(Family::Inet, Hook::Input, 10), "filter + 10");
        assert_eq!(p(Family::Inet, Hook::Input, -5), "filter - 5");
        assert_eq!(p(Family::Inet, Hook::Input, 11), "11");
        assert_eq!(p(Family::Ipv4, Hook::Input, -100), "-100");
        assert_eq!(p(Family::Ipv4, Hook::Prerouting, -95), "dstnat + 5");
        assert_eq!(p(Family::Ipv4, Hook::Postrouting, 100), "srcnat");
        assert_eq!(p(Family::Ipv4, Hook::Input, 100), "100");
        assert_eq!(p(Family::Bridge, Hook::Input, -200), "filter");
        assert_eq!(p(Family::Bridge, Hook::Input, 0), "0");
        assert_eq!(p(Family::Bridge, Hook::Output, 110), "out + 10");
        assert_eq!(p(Family::Netdev, Hook::Ingress, -300), "-300");
        assert_eq!(p(Family::Netdev, Hook::Ingress, 0), "filter");
        assert_eq!(p(Family::Inet, Hook::Ingress, -290), "raw + 10");
    }

    #[test]
    fn table_layout() {
        use crate::nft::{Chain, Table};
        let mut rs = Ruleset::default();
        rs.tables.push(Table::new(Family::Ipv4, "e"));
        let mut t = Table::new(Family::Inet, "f").with_flags(TableFlags::DORMANT);
        t.userdata = Some(vec![0, 2, b'c', 0]);
        rs.tables.push(t);
        rs.chains.push(Chain::regular(Family::Inet, "f", "a"));
        rs.chains.push(
            Chain::base(Family::Inet, "f", "b", Hook::Input, 0).with_policy(ChainPolicy::Drop),
        );
        let none = |_: u32| None;
        assert_eq!(
            nft_text_with(&rs, &none),
            "table ip e {\n}\ntable inet f {\n\tflags dormant\n\tcomment \"c\"\n\n\tchain a {\n\t}\n\n\tchain b {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n"
        );
    }
}
