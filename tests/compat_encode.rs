//! `compat::encode`: rules written into Docker's `DOCKER-USER` exactly as
//! iptables-nft writes them. The oracle is iptables-nft itself: `-vvvv`
//! prints the NEWRULE message it sends (expressions, NFTA_RULE_COMPAT,
//! user data) and the kernel dump shows what it stored. After nftguard
//! writes the same rules, `iptables-nft -S DOCKER-USER` lists the same
//! text, `iptables-nft-save` still parses every table, and every other
//! table, chain and rule is byte-identical.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod compat_support;

use compat_support::*;
use nftguard::compat::encode::{CtDir, CtState, IptRule, PortMatch, TargetSpec};
use nftguard::compat::save::{iptables_save, normalize_timestamps};
use nftguard::engine::{dump_raw, GenCheck, RawObject, Transaction};
use nftguard::netlink::{enter_new_netns, AttrWriter, Socket};
use nftguard::nft::consts::msg;
use nftguard::nft::expr::BitwiseOp;
use nftguard::nft::{Chain, Expr, Family, Rule};

/// The DOCKER-USER rules of the test: iptables arguments and the same
/// rule described with `IptRule`.
fn specs() -> Vec<(&'static str, IptRule)> {
    let du = IptRule::docker_user;
    vec![
        (
            "-i eth0 -p tcp --dport 22 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            du().in_iface("eth0", false)
                .tcp()
                .dport(22)
                .ctstate(&[CtState::Related, CtState::Established])
                .target(TargetSpec::Accept),
        ),
        (
            "-s 10.0.0.0/8 -m comment --comment 'hello world' -j RETURN",
            du().source("10.0.0.0/8", false)
                .unwrap()
                .comment("hello world")
                .target(TargetSpec::Return),
        ),
        (
            "-m conntrack --ctorigdstport 8080 --ctdir ORIGINAL -j DROP",
            du().ct_orig_dst_port(8080, Some(CtDir::Original))
                .target(TargetSpec::Drop),
        ),
        (
            "-p udp -j REJECT",
            du().udp().target(TargetSpec::Reject(None)),
        ),
        (
            "-i eth+ ! -s 10.1.2.3/23 -p tcp -j ACCEPT",
            du().in_iface("eth+", false)
                .source("10.1.2.3/23", true)
                .unwrap()
                .tcp()
                .target(TargetSpec::Accept),
        ),
        (
            "-p tcp --sport 1000 --dport 22 -j ACCEPT",
            du().tcp().sport(1000).dport(22).target(TargetSpec::Accept),
        ),
        (
            "! -o docker0 -d 172.17.0.0/16 -j DOCKER",
            du().out_iface("docker0", true)
                .destination("172.17.0.0/16", false)
                .unwrap()
                .target(TargetSpec::Jump("DOCKER".into())),
        ),
        (
            "-p udp --dport 1000:2000 -j REJECT --reject-with icmp-host-prohibited",
            {
                let mut r = du().udp().target(TargetSpec::Reject(Some(6)));
                r.dport = Some(PortMatch {
                    from: 1000,
                    to: 2000,
                    invert: false,
                });
                r
            },
        ),
        ("-p tcp --dport :1023 -j DROP", {
            let mut r = du().tcp().target(TargetSpec::Drop);
            r.dport = Some(PortMatch {
                from: 0,
                to: 1023,
                invert: false,
            });
            r
        }),
        ("! -p tcp -m conntrack ! --ctstate NEW -j DROP", {
            let mut r = du().proto(6, true).target(TargetSpec::Drop);
            r.matches
                .push(nftguard::compat::encode::MatchSpec::CtState {
                    states: vec![CtState::New],
                    invert: true,
                });
            r
        }),
        (
            "-i + -j ACCEPT",
            du().in_iface("+", false).target(TargetSpec::Accept),
        ),
        ("-j ACCEPT", du().target(TargetSpec::Accept)),
    ]
}

/// Parses the NEWRULE message `iptables-nft -vvvv` prints (libmnl's
/// `mnl_nlmsg_fprintf` layout) back into its attribute bytes.
fn sent_rule_attrs(debug: &str) -> Vec<u8> {
    let mut out: Option<Vec<u8>> = None;
    let mut in_newrule = false;
    for line in debug.lines() {
        let l: String = {
            // Strip ANSI colours.
            let mut s = String::new();
            let mut esc = false;
            for c in line.chars() {
                match (esc, c) {
                    (false, '\u{1b}') => esc = true,
                    (true, 'm') => esc = false,
                    (true, _) => {}
                    (false, c) => s.push(c),
                }
            }
            s
        };
        let cells: Vec<&str> = l.split('|').map(str::trim).collect();
        if l.contains("type | flags") {
            // "| 02566 | R--- |" : message type
            if let Some(kind) = cells.get(1).and_then(|c| c.parse::<u32>().ok()) {
                in_newrule = kind == 2566;
                if in_newrule {
                    out = Some(Vec::new());
                }
            }
            continue;
        }
        let Some(buf) = out.as_mut().filter(|_| in_newrule) else {
            continue;
        };
        if l.contains("extra header") || l.contains("message length") {
            continue;
        }
        // Attribute header: |LLLLL|FF|TTTTT|
        if cells.len() >= 4
            && cells[1].len() == 5
            && cells[3].len() == 5
            && cells[1].chars().all(|c| c.is_ascii_digit())
        {
            let len: u16 = cells[1].parse().unwrap();
            // libnftnl marks nests with NLA_F_NESTED; the kernel ignores
            // the flag and dumps nests without it, as the engine writes
            // them. Leave it out so both compare; everything else is kept.
            let mut kind: u16 = cells[3].parse().unwrap();
            if cells[2].contains('B') {
                kind |= 1 << 14;
            }
            buf.extend_from_slice(&len.to_ne_bytes());
            buf.extend_from_slice(&kind.to_ne_bytes());
            continue;
        }
        // Data row: | xx xx xx xx |
        let hex: Vec<&str> = cells
            .get(1)
            .map(|c| c.split(' ').collect())
            .unwrap_or_default();
        if hex.len() == 4 && hex.iter().all(|h| h.len() == 2) {
            for h in hex {
                buf.push(u8::from_str_radix(h, 16).unwrap());
            }
        }
    }
    out.expect("no NEWRULE message in iptables-nft -vvvv output")
}

/// A rule with the kernel-assigned fields cleared, re-encoded: what
/// must be equal between iptables' rule and ours.
fn identity(r: &Rule) -> Vec<u8> {
    let mut r = r.clone();
    r.handle = None;
    r.position = None;
    let mut b = Vec::new();
    r.emit(&mut AttrWriter::new(&mut b)).unwrap();
    b
}

/// libnftnl leaves `NFTA_BITWISE_OP` out (the kernel defaults to
/// mask-and-xor and dumps it); make the sent form comparable.
fn with_default_bitwise_op(mut r: Rule) -> Rule {
    for e in &mut r.exprs {
        if let Expr::Bitwise(b) = e {
            b.op.get_or_insert(BitwiseOp::MaskXor);
        }
    }
    r
}

fn raw_all(sock: &mut Socket) -> [Vec<RawObject>; 3] {
    [
        dump_raw(sock, msg::GETTABLE, Family::Unspec).unwrap(),
        dump_raw(sock, msg::GETCHAIN, Family::Unspec).unwrap(),
        dump_raw(sock, msg::GETRULE, Family::Unspec).unwrap(),
    ]
}

fn is_docker_user_rule(o: &RawObject) -> bool {
    let r = Rule::parse(o.family, &o.attrs).unwrap();
    r.family == Family::Ipv4 && r.table == "filter" && r.chain == "DOCKER-USER"
}

#[test]
fn docker_user_rules_are_encoded_like_iptables_nft() {
    enter_new_netns().unwrap();
    run_script(DOCKER);
    run_script(UFW);
    run_script(EXTENSIONS_V6);
    sh("iptables-nft -F DOCKER-USER");
    let specs = specs();

    // 1. What iptables-nft sends and stores.
    let mut sent = Vec::new();
    for (args, _) in &specs {
        let debug = sh(&format!("iptables-nft -vvvv -A DOCKER-USER {args} 2>&1"));
        let rule = Rule::parse(Family::Ipv4, &sent_rule_attrs(&debug)).unwrap();
        sent.push(with_default_bitwise_op(rule));
    }
    let listed_by_iptables = sh("iptables-nft -S DOCKER-USER");
    let theirs: Vec<Rule> = dump()
        .rules_of(Family::Ipv4, "filter", "DOCKER-USER")
        .cloned()
        .collect();
    assert_eq!(theirs.len(), specs.len());
    sh("iptables-nft -F DOCKER-USER");

    // 2. Our encoding equals what iptables-nft sent: expressions,
    //    NFTA_RULE_COMPAT and (no) user data.
    let ours: Vec<Rule> = specs.iter().map(|(_, s)| s.to_rule().unwrap()).collect();
    for ((args, _), (mine, theirs_sent)) in specs.iter().zip(ours.iter().zip(&sent)) {
        assert_eq!(mine.exprs, theirs_sent.exprs, "expressions of `{args}`");
        assert_eq!(
            mine.compat, theirs_sent.compat,
            "NFTA_RULE_COMPAT of `{args}`"
        );
        assert_eq!(mine.userdata, theirs_sent.userdata, "user data of `{args}`");
        assert_eq!(mine.table, theirs_sent.table);
        assert_eq!(mine.chain, theirs_sent.chain);
    }

    // 3. Write them with the engine; nothing else changes.
    let mut sock = Socket::new().unwrap();
    let before = raw_all(&mut sock);
    let genid = dump().genid;
    let mut tx = Transaction::new();
    for r in &ours {
        tx.add_rule(r.clone());
    }
    tx.commit(&mut sock, GenCheck::Expect(genid)).unwrap();
    let after = raw_all(&mut sock);
    assert_eq!(before[0], after[0], "tables changed");
    // Chains: byte-identical, except NFTA_CHAIN_USE, which counts a
    // chain's rules and the jumps to it (kernel 6.18): DOCKER-USER gains
    // one per rule, DOCKER one for the `-j DOCKER` rule.
    assert_eq!(before[1].len(), after[1].len());
    for (b, a) in before[1].iter().zip(&after[1]) {
        let (cb, ca) = (
            Chain::parse(b.family, &b.attrs).unwrap(),
            Chain::parse(a.family, &a.attrs).unwrap(),
        );
        let delta = match (ca.family, ca.table.as_str(), ca.name.as_str()) {
            (Family::Ipv4, "filter", "DOCKER") => 1,
            (Family::Ipv4, "filter", "DOCKER-USER") => ours.len() as u32,
            _ => 0,
        };
        if delta != 0 {
            assert_eq!(ca.use_count, cb.use_count.map(|n| n + delta));
            assert_eq!(
                Chain {
                    use_count: None,
                    ..ca
                },
                Chain {
                    use_count: None,
                    ..cb
                }
            );
        } else {
            assert_eq!(b, a, "chain {}/{} changed", ca.table, ca.name);
        }
    }
    let others = |v: &[RawObject]| -> Vec<RawObject> {
        v.iter()
            .filter(|o| !is_docker_user_rule(o))
            .cloned()
            .collect()
    };
    assert_eq!(
        others(&before[2]),
        others(&after[2]),
        "rules outside DOCKER-USER changed"
    );

    // 4. The kernel stored exactly what it stored for iptables-nft.
    let stored: Vec<Rule> = after[2]
        .iter()
        .filter(|o| is_docker_user_rule(o))
        .map(|o| Rule::parse(o.family, &o.attrs).unwrap())
        .collect();
    assert_eq!(stored.len(), theirs.len());
    for ((args, _), (s, t)) in specs.iter().zip(stored.iter().zip(&theirs)) {
        assert_eq!(identity(s), identity(t), "stored bytes of `{args}`");
    }

    // 5. iptables lists and saves them as its own.
    assert_eq!(sh("iptables-nft -S DOCKER-USER"), listed_by_iptables);
    let want = oracle_save("iptables-nft-save", false);
    let got = normalize_timestamps(&iptables_save(&dump(), Family::Ipv4, false).unwrap());
    assert_eq!(got, want);
    assert!(want
        .contains("-A DOCKER-USER -s 10.0.0.0/8 -m comment --comment \"hello world\" -j RETURN"));
    sh("ip6tables-nft-save");
}
