//! Differential test of the packet-path evaluator against the kernel.
//!
//! Two network namespaces joined by a veth pair: the server loads a
//! ruleset (nft text, or real `iptables-nft` commands), the client sends
//! hand-built packets from several source addresses (raw sockets, through
//! `tests/data/eval_send.py`). For each packet the evaluator decides from
//! a dump of the server's ruleset; the kernel's answer is observed
//! exactly: a netdev ingress chain on the server's veth records every
//! packet that arrived (`@arrived`), and an input chain at priority 10000
//! — after every chain under test — records every packet that all of them
//! let through (`@seen`). Packets are told apart by their IPv4
//! identification / IPv6 flow label. Both observer chains are part of the
//! ruleset the evaluator walks (a `dynset` with no filtering effect).
//!
//! Run: `cargo test --test eval_kernel -- --nocapture` (root; needs `ip`,
//! `nft`, `iptables-nft`, `ip6tables-nft`, `python3`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nftguard::engine::{DumpFilter, Ruleset};
use nftguard::netlink::Socket;
use nftguard::nft::{Family, Hook};
use nftguard::verify::{
    CtInfo, CtState, Decision, Evaluator, HostAddress, HostFacts, HostInterface, Interface, Packet,
    Path, SocketInfo, L4,
};

const SENDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/eval_send.py");

/// Runs a command, panicking with its stderr on failure; returns stdout.
fn run(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(args[0])
        .args(&args[1..])
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {args:?}: {e}"));
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        stdin.unwrap_or("")
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Two namespaces and a veth pair; deleted on drop, even on failure.
struct Lab {
    srv: String,
    cli: String,
    vs: String,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.srv, &self.cli] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

const SRV4: [&str; 2] = ["10.77.0.1", "10.77.0.50"];
const SRV6: [&str; 2] = ["fd77::1", "fd77::50"];
const CLI4: [&str; 10] = [
    "10.77.0.2",
    "10.77.0.3",
    "10.77.0.4",
    "10.77.0.5",
    "10.77.0.6",
    "10.77.0.7",
    "10.77.0.8",
    "10.88.1.2",
    "10.88.1.7",
    "10.88.1.20",
];
const CLI6: [&str; 5] = ["fd77::2", "fd77::3", "fd77::4", "fd77::5", "fd77::6"];

impl Lab {
    fn new() -> Lab {
        let id = std::process::id();
        let lab = Lab {
            srv: format!("ngev-s{id}"),
            cli: format!("ngev-c{id}"),
            vs: format!("ngvs{}", id % 100_000),
        };
        let vc = format!("ngvc{}", id % 100_000);
        let (s, c) = (lab.srv.as_str(), lab.cli.as_str());
        run(&["ip", "netns", "add", s], None);
        run(&["ip", "netns", "add", c], None);
        run(
            &[
                "ip", "link", "add", &lab.vs, "netns", s, "type", "veth", "peer", "name", &vc,
                "netns", c,
            ],
            None,
        );
        for (ns, dev) in [(s, lab.vs.as_str()), (c, vc.as_str())] {
            run(&["ip", "-n", ns, "link", "set", "lo", "up"], None);
            run(&["ip", "-n", ns, "link", "set", dev, "up"], None);
        }
        for a in SRV4 {
            run(
                &[
                    "ip",
                    "-n",
                    s,
                    "addr",
                    "add",
                    &format!("{a}/24"),
                    "dev",
                    &lab.vs,
                ],
                None,
            );
        }
        for a in SRV6 {
            run(
                &[
                    "ip",
                    "-n",
                    s,
                    "addr",
                    "add",
                    &format!("{a}/64"),
                    "dev",
                    &lab.vs,
                    "nodad",
                ],
                None,
            );
        }
        run(
            &[
                "ip",
                "-n",
                s,
                "route",
                "add",
                "10.88.1.0/24",
                "dev",
                &lab.vs,
            ],
            None,
        );
        for a in CLI4 {
            run(
                &["ip", "-n", c, "addr", "add", &format!("{a}/24"), "dev", &vc],
                None,
            );
        }
        for a in CLI6 {
            run(
                &[
                    "ip",
                    "-n",
                    c,
                    "addr",
                    "add",
                    &format!("{a}/64"),
                    "dev",
                    &vc,
                    "nodad",
                ],
                None,
            );
        }
        // The server's ruleset may drop neighbour discovery: give the
        // client static entries for the server's IPv6 addresses.
        let link: serde_json::Value =
            serde_json::from_str(&run(&["ip", "-n", s, "-j", "link", "show", &lab.vs], None))
                .unwrap();
        let mac = link[0]["address"].as_str().unwrap().to_string();
        for a in SRV6 {
            run(
                &[
                    "ip",
                    "-n",
                    c,
                    "-6",
                    "neigh",
                    "add",
                    a,
                    "lladdr",
                    &mac,
                    "dev",
                    &vc,
                    "nud",
                    "permanent",
                ],
                None,
            );
        }
        run(
            &[
                "ip",
                "netns",
                "exec",
                s,
                "sysctl",
                "-qw",
                "net.ipv4.conf.all.rp_filter=0",
            ],
            None,
        );
        run(
            &[
                "ip",
                "netns",
                "exec",
                s,
                "sysctl",
                "-qw",
                &format!("net.ipv4.conf.{}.rp_filter=0", lab.vs),
            ],
            None,
        );
        lab
    }

    fn in_srv(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut full = vec!["ip", "netns", "exec", self.srv.as_str()];
        full.extend_from_slice(args);
        run(&full, stdin)
    }

    fn sock(&self) -> Socket {
        Socket::in_netns(format!("/var/run/netns/{}", self.srv))
            .expect("socket in the server namespace")
    }

    /// The server's interfaces and addresses, from `ip -j addr`.
    fn host_facts(&self) -> HostFacts {
        let v: serde_json::Value =
            serde_json::from_str(&self.in_srv(&["ip", "-j", "addr", "show"], None)).unwrap();
        let interfaces = v
            .as_array()
            .unwrap()
            .iter()
            .map(|i| HostInterface {
                name: i["ifname"].as_str().unwrap().to_string(),
                index: i["ifindex"].as_u64().unwrap() as u32,
                addresses: i["addr_info"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| HostAddress {
                        addr: a["local"].as_str().unwrap().parse().unwrap(),
                        prefix: a["prefixlen"].as_u64().unwrap() as u8,
                    })
                    .collect(),
            })
            .collect();
        HostFacts {
            interfaces,
            routes: vec![],
            routes_complete: false,
        }
    }

    fn iif(&self, facts: &HostFacts) -> Interface {
        let i = facts.interfaces.iter().find(|i| i.name == self.vs).unwrap();
        let mut iface = Interface::new(&self.vs, i.index);
        iface.arphrd = Some(1);
        iface.kind = Some("veth".into());
        iface
    }

    fn observer(&self) -> String {
        format!(
            r#"
table netdev obsin {{
  set arrived4 {{ typeof ip id; flags dynamic; size 65535; }}
  set arrived6 {{ typeof ip6 flowlabel; flags dynamic; size 65535; }}
  chain ingress {{ type filter hook ingress device "{dev}" priority -10000; policy accept;
    ip dscp af11 add @arrived4 {{ ip id }}
    ip6 dscp af11 add @arrived6 {{ ip6 flowlabel }}
  }}
}}
table inet obsout {{
  set seen4 {{ typeof ip id; flags dynamic; size 65535; }}
  set seen6 {{ typeof ip6 flowlabel; flags dynamic; size 65535; }}
  chain input {{ type filter hook input priority 10000; policy accept;
    ip dscp af11 add @seen4 {{ ip id }}
    ip6 dscp af11 add @seen6 {{ ip6 flowlabel }}
  }}
}}
"#,
            dev = self.vs
        )
    }

    /// The packet tags held by two observer sets of a table.
    fn tags(&self, family: Family, table: &str, v4: &str, v6: &str) -> BTreeSet<(u8, u32)> {
        let rs = Ruleset::dump(&mut self.sock(), &DumpFilter::table(family, table)).unwrap();
        let mut out = BTreeSet::new();
        for (set, fam) in [(v4, 4u8), (v6, 6u8)] {
            for e in rs.elements_of(family, table, set) {
                let k = e.key.as_deref().unwrap();
                let tag = match fam {
                    4 => u32::from(u16::from_be_bytes([k[0], k[1]])),
                    _ => (u32::from(k[0] & 0x0f) << 16) | (u32::from(k[1]) << 8) | u32::from(k[2]),
                };
                out.insert((fam, tag));
            }
        }
        out
    }
}

/// One test packet.
#[derive(Debug, Clone)]
struct Probe {
    fam: u8,
    saddr: &'static str,
    daddr: &'static str,
    proto: &'static str,
    sport: u16,
    dport: u16,
    flags: u8,
    icmp_type: u8,
    tag: u32,
}

impl Probe {
    fn line(&self) -> String {
        format!(
            "{} {} {} {} {} {} {} {} {}\n",
            self.fam,
            self.saddr,
            self.daddr,
            self.proto,
            self.sport,
            self.dport,
            self.flags,
            self.icmp_type,
            self.tag
        )
    }

    fn key(&self) -> (u8, u32) {
        (self.fam, self.tag)
    }

    /// The packet as the evaluator sees it, with what conntrack will make
    /// of it: a valid first packet is `new`; SYN+FIN is invalid
    /// (`tcp_error` rejects the flag combination).
    fn packet(&self, iif: &Interface) -> Packet {
        let saddr: IpAddr = self.saddr.parse().unwrap();
        let daddr: IpAddr = self.daddr.parse().unwrap();
        let (l4, l4_len) = match self.proto {
            "tcp" => (
                L4::Tcp {
                    sport: self.sport,
                    dport: self.dport,
                    flags: Some(self.flags),
                },
                20,
            ),
            "udp" => (
                L4::Udp {
                    sport: self.sport,
                    dport: self.dport,
                },
                12,
            ),
            _ => (
                L4::Icmp {
                    icmp_type: self.icmp_type,
                    code: 0,
                    id: Some(self.sport),
                    seq: Some(self.dport),
                },
                16,
            ),
        };
        let mut p = Packet::new(Hook::Prerouting, saddr, daddr, l4).with_iif(iif.clone());
        let mut ct = CtInfo::new_connection();
        ct.status = None;
        if self.proto == "tcp" && self.flags == 0x03 {
            ct = CtInfo {
                state: Some(CtState::Invalid),
                ..CtInfo::unknown()
            };
        }
        p.ct = ct;
        p.socket = SocketInfo::None;
        p.dscp = Some(10);
        p.ecn = Some(0);
        p.ttl = Some(64);
        if self.fam == 4 {
            p.ip_id = Some(self.tag as u16);
            p.dont_fragment = Some(false);
            p.length = Some(20 + l4_len);
        } else {
            p.flowlabel = Some(self.tag);
            p.length = Some(40 + l4_len);
        }
        p
    }
}

const TCP_PORTS: [u16; 44] = [
    22, 23, 25, 53, 80, 81, 443, 1000, 1500, 1999, 2000, 2222, 3000, 3306, 4010, 4020, 4021, 4040,
    4050, 4060, 4070, 4090, 4095, 4444, 5432, 6000, 6050, 6101, 6666, 7000, 7005, 7010, 7011, 7150,
    7200, 7201, 8000, 8050, 8100, 8101, 8888, 9000, 9999, 2223,
];
const UDP_PORTS: [u16; 9] = [53, 123, 1500, 4080, 5000, 5050, 5101, 5353, 9999];

/// The packet battery: TCP SYNs to every port from every source, UDP,
/// ICMP/ICMPv6 echo requests, and a few invalid SYN+FIN packets.
/// `next_port` keeps source ports (and echo ids) unique across the whole
/// run so that no packet meets a conntrack entry of an earlier one.
fn probes(next_port: &mut u16) -> Vec<Probe> {
    let mut out = Vec::new();
    let mut tag = 1u32;
    let mut push = |out: &mut Vec<Probe>, fam, saddr, daddr, proto, dport, flags, icmp_type| {
        let sport = *next_port;
        *next_port += 1;
        out.push(Probe {
            fam,
            saddr,
            daddr,
            proto,
            sport,
            dport,
            flags,
            icmp_type,
            tag,
        });
        tag += 1;
    };
    let sources: Vec<(u8, &'static str, [&'static str; 2])> = CLI4
        .iter()
        .map(|s| (4u8, *s, SRV4))
        .chain(CLI6.iter().map(|s| (6u8, *s, SRV6)))
        .collect();
    for (n, (fam, src, dsts)) in sources.iter().enumerate() {
        for (i, port) in TCP_PORTS.iter().enumerate() {
            let dst = dsts[(i + n) % 2];
            push(&mut out, *fam, *src, dst, "tcp", *port, 0x02, 0);
        }
        for (i, port) in UDP_PORTS.iter().enumerate() {
            push(&mut out, *fam, *src, dsts[(i + n) % 2], "udp", *port, 0, 0);
        }
        let echo = if *fam == 4 { 8 } else { 128 };
        for dst in dsts {
            push(&mut out, *fam, *src, dst, "icmp", 1, 0, echo);
        }
        if n % 3 == 0 {
            push(&mut out, *fam, *src, dsts[0], "tcp", 22, 0x03, 0);
        }
    }
    out
}

/// Loads nothing itself: `load` puts the ruleset under test in place.
fn check_ruleset(
    lab: &Lab,
    name: &str,
    load: &dyn Fn(&Lab),
    next_port: &mut u16,
) -> (usize, usize) {
    lab.in_srv(&["nft", "flush", "ruleset"], None);
    load(lab);
    lab.in_srv(&["nft", "-f", "-"], Some(&lab.observer()));

    let facts = lab.host_facts();
    let iif = lab.iif(&facts);
    let snapshot = Ruleset::dump(&mut lab.sock(), &DumpFilter::all()).unwrap();
    let ev = Evaluator::new(&snapshot, &facts);

    let probes = probes(next_port);
    let mut expected = Vec::new();
    for p in &probes {
        let e = ev.evaluate_path(&p.packet(&iif), &Path::Receive).unwrap();
        assert_ne!(
            e.verdict,
            Decision::Unknown,
            "[{name}] the evaluator could not decide {p:?}: {:?}",
            e.reasons
        );
        expected.push((p, e));
    }

    // Send; resend whatever did not reach the server's ingress (a full
    // backlog), until every packet arrived.
    let all: BTreeSet<(u8, u32)> = probes.iter().map(Probe::key).collect();
    let mut missing: Vec<&Probe> = probes.iter().collect();
    for _round in 0..5 {
        let input: String = missing.iter().map(|p| p.line()).collect();
        run(
            &["ip", "netns", "exec", &lab.cli, "python3", SENDER],
            Some(&input),
        );
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut arrived = lab.tags(Family::Netdev, "obsin", "arrived4", "arrived6");
        while arrived.len() < all.len() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            arrived = lab.tags(Family::Netdev, "obsin", "arrived4", "arrived6");
        }
        missing = probes
            .iter()
            .filter(|p| !arrived.contains(&p.key()))
            .collect();
        if missing.is_empty() {
            break;
        }
    }
    assert!(
        missing.is_empty(),
        "[{name}] {} packets never reached the server",
        missing.len()
    );
    // Every packet is past ingress; let the last ones finish their path.
    let mut seen = lab.tags(Family::Inet, "obsout", "seen4", "seen6");
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let again = lab.tags(Family::Inet, "obsout", "seen4", "seen6");
        if again == seen {
            break;
        }
        seen = again;
    }

    let mut agree = 0;
    let mut disagreements = Vec::new();
    let mut accepted = 0;
    for (p, e) in &expected {
        let kernel = if seen.contains(&p.key()) {
            Decision::Accept
        } else {
            Decision::Drop
        };
        if kernel == Decision::Accept {
            accepted += 1;
        }
        if kernel == e.verdict {
            agree += 1;
        } else {
            disagreements.push(format!(
                "{p:?}: kernel {kernel:?}, evaluator {:?}\n  trace: {:#?}",
                e.verdict,
                e.trace()
            ));
        }
    }
    println!(
        "[{name}] {} packets: {agree} agree ({accepted} accepted by the kernel, {} dropped)",
        expected.len(),
        expected.len() - accepted
    );
    for d in disagreements.iter().take(5) {
        println!("DISAGREE {d}");
    }
    (expected.len(), agree)
}

fn nft_load(text: &'static str) -> impl Fn(&Lab) {
    move |lab: &Lab| {
        lab.in_srv(&["nft", "-f", "-"], Some(text));
    }
}

/// Our style profile: inet table, policy drop, ct state, loopback, tcp
/// dport sets, ICMP, per-source rules (no rate limits: they are "may
/// match" by design).
const STYLE_PROFILE: &str = r#"
table inet nftguard {
  set admin4 { type ipv4_addr; flags interval; elements = { 10.88.1.0/28, 10.77.0.3 } }
  set tcp_open { type inet_service; elements = { 22, 80, 443 } }
  chain input {
    type filter hook input priority 0; policy drop;
    ct state invalid drop
    ct state established,related accept
    iif "lo" accept
    meta l4proto icmp icmp type echo-request accept
    ip6 saddr fd77::2 meta l4proto ipv6-icmp icmpv6 type echo-request accept
    tcp dport @tcp_open accept
    ip saddr @admin4 tcp dport 2222 accept
    udp dport 53 accept
    ip6 saddr fd77::3 udp dport 5353 accept
    counter comment "default deny"
  }
  chain forward { type filter hook forward priority 0; policy drop; }
  chain output { type filter hook output priority 0; policy accept; }
}
"#;

/// A multi-table layout: an accept in one table cannot override a drop
/// in another; chains at different priorities, ip/ip6/inet mixed, a
/// prerouting chain, and the inet ingress hook.
const MULTI_TABLE: &str = r#"
table inet a {
  chain in { type filter hook input priority -10; policy accept;
    tcp dport 1000-1999 accept
    ip saddr 10.77.0.6 drop
  }
}
table ip b {
  chain in { type filter hook input priority 10; policy accept;
    tcp dport 1500 drop
    udp dport 1500 drop
  }
}
table ip6 c {
  chain in { type filter hook input priority 5; policy drop;
    meta l4proto ipv6-icmp accept
    tcp dport { 22, 1500, 2000-2222 } accept
  }
}
table inet d {
  chain pre { type filter hook prerouting priority -150; policy accept;
    ip saddr 10.88.1.7 drop
    tcp dport 6666 drop
  }
}
"#;

/// Jumps, gotos, returns, verdict maps, interval sets, concatenations
/// (exact and interval), anonymous sets.
const JUMPS_AND_SETS: &str = r#"
table inet j {
  set blocked { type ipv4_addr; flags interval; elements = { 10.77.0.7, 10.88.1.0/28 } }
  map portv { type inet_service : verdict; elements = { 22 : accept, 23 : drop, 80 : jump web, 81 : goto web, 25 : return, 4444 : jump tail } }
  set pairs { type ipv4_addr . inet_service; elements = { 10.77.0.2 . 3306, 10.77.0.3 . 5432 } }
  set pranges { type ipv4_addr . inet_service; flags interval; elements = { 10.77.0.0/29 . 6000-6100 } }
  set ranges { type inet_service; flags interval; elements = { 7000-7010, 7100-7199, 7200 } }
  chain input { type filter hook input priority 0; policy drop;
    ip saddr @blocked drop
    meta l4proto icmp accept
    meta l4proto ipv6-icmp icmpv6 type { echo-request, nd-neighbor-solicit } accept
    jump classify
    tcp dport vmap @portv
    ip saddr . tcp dport @pairs accept
    ip saddr . tcp dport @pranges accept
    tcp dport @ranges accept
    udp dport { 53, 123, 5000-5100 } accept
    th dport 9000 goto tail
  }
  chain classify {
    tcp dport 9999 drop
    udp dport 9999 return
    tcp dport 8888 accept
    ip6 saddr fd77::5 drop
    tcp dport 8000-8100 jump deeper
  }
  chain deeper {
    ip saddr 10.77.0.4 return
    ip6 saddr fd77::4 accept
    tcp dport 8050 accept
  }
  chain web {
    ip saddr 10.77.0.2 accept
    ip6 saddr fd77::2 accept
    return
  }
  chain tail {
    ip saddr 10.77.0.8 accept
    ip6 saddr fd77::6 accept
  }
}
"#;

/// Metadata and conntrack: a mark set in prerouting and matched in
/// input, ct state before conntrack (priority -300: always invalid),
/// TCP flags, reject, meta length (byteorder), iif by index, fib, log
/// and counters without effect, a chain of equal priority in another
/// table.
const META_AND_CT: &str = r#"
table inet m {
  chain raw { type filter hook prerouting priority -300; policy accept;
    ct state invalid tcp dport 4010 drop
    ct state new tcp dport 4011 drop
  }
  chain mangle { type filter hook prerouting priority -150; policy accept;
    tcp dport 4050-4069 meta mark set 0x10
  }
  chain input { type filter hook input priority 0; policy accept;
    meta mark 0x10 tcp dport 4050 drop
    meta mark != 0x10 tcp dport 4060 drop
    log prefix "probe " counter
    tcp flags & (syn | ack) == syn tcp dport 4070 drop
    ct state invalid drop
    udp dport 4080 reject
    ip6 nexthdr tcp tcp dport 4090 reject with tcp reset
    meta length > 50 tcp dport 4095 drop
    iif "VETH" tcp dport 4040 drop
    fib daddr type != local tcp dport 4020 drop
    fib daddr type local tcp dport 4021 drop
    ip daddr 10.77.0.50 udp dport 5050 drop
    meta pkttype host udp dport 5353 drop
  }
}
table ip other {
  chain input { type filter hook input priority 0; policy accept;
    tcp dport 443 ip saddr 10.77.0.2 drop
  }
}
"#;

fn iptables_layout(lab: &Lab) {
    let v4: &[&[&str]] = &[
        &["-P", "INPUT", "DROP"],
        &["-A", "INPUT", "-i", "lo", "-j", "ACCEPT"],
        &["-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"],
        &["-A", "INPUT", "-s", "10.77.0.4", "-j", "ACCEPT"],
        &[
            "-A",
            "INPUT",
            "-s",
            "10.88.1.0/24",
            "-p",
            "udp",
            "--dport",
            "53",
            "-j",
            "ACCEPT",
        ],
        &["-N", "CUSTOM"],
        &["-A", "INPUT", "-p", "tcp", "-j", "CUSTOM"],
        &[
            "-A", "CUSTOM", "-p", "tcp", "--dport", "3000", "-j", "ACCEPT",
        ],
        &["-A", "CUSTOM", "-s", "10.77.0.5", "-j", "DROP"],
        &["-A", "CUSTOM", "-j", "RETURN"],
        &["-A", "INPUT", "-p", "icmp", "-j", "ACCEPT"],
        &[
            "-A",
            "INPUT",
            "-d",
            "10.77.0.50",
            "-p",
            "tcp",
            "--dport",
            "9000",
            "-j",
            "ACCEPT",
        ],
        &[
            "-A",
            "INPUT",
            "-p",
            "tcp",
            "--dport",
            "8000:8100",
            "-j",
            "ACCEPT",
        ],
        &[
            "-A", "INPUT", "-i", "VETH", "-p", "udp", "--dport", "123", "-j", "ACCEPT",
        ],
    ];
    let v6: &[&[&str]] = &[
        &["-P", "INPUT", "DROP"],
        &["-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"],
        &["-A", "INPUT", "-s", "fd77::4", "-j", "ACCEPT"],
        &["-A", "INPUT", "-p", "ipv6-icmp", "-j", "ACCEPT"],
        &[
            "-A", "INPUT", "-d", "fd77::50", "-p", "udp", "--dport", "5353", "-j", "ACCEPT",
        ],
        &["-A", "INPUT", "-s", "fd77::6", "-p", "tcp", "-j", "DROP"],
        &[
            "-A",
            "INPUT",
            "-p",
            "tcp",
            "--dport",
            "7000:7010",
            "-j",
            "ACCEPT",
        ],
    ];
    for (cmd, rules) in [("iptables-nft", v4), ("ip6tables-nft", v6)] {
        for r in rules {
            let r: Vec<&str> = r
                .iter()
                .map(|a| if *a == "VETH" { lab.vs.as_str() } else { a })
                .collect();
            let mut args = vec![cmd];
            args.extend(r);
            lab.in_srv(&args, None);
        }
    }
}

#[test]
fn evaluator_agrees_with_the_kernel() {
    let lab = Lab::new();
    let mut next_port = 10_000u16;
    let vs = lab.vs.clone();
    let meta_text: &'static str = Box::leak(META_AND_CT.replace("VETH", &vs).into_boxed_str());
    type Loader = Box<dyn Fn(&Lab)>;
    let cases: Vec<(&str, Loader)> = vec![
        ("style profile", Box::new(nft_load(STYLE_PROFILE))),
        ("iptables-nft", Box::new(iptables_layout)),
        ("multi-table", Box::new(nft_load(MULTI_TABLE))),
        ("jumps, maps and sets", Box::new(nft_load(JUMPS_AND_SETS))),
        ("metadata and conntrack", Box::new(nft_load(meta_text))),
    ];
    let (mut total, mut agree) = (0, 0);
    for (name, load) in &cases {
        let (t, a) = check_ruleset(&lab, name, load.as_ref(), &mut next_port);
        total += t;
        agree += a;
    }
    println!("differential test: {total} packets, {agree} verdicts equal to the kernel's");
    assert!(total >= 1000, "only {total} packets");
    assert_eq!(agree, total, "the evaluator disagreed with the kernel");
}
