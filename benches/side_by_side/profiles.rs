//! The rulesets every tool loads, written once per tool's input format:
//! nftguard's transaction (and its encoded batch, the kernel floor's input),
//! nft text, nft JSON and iptables-restore text. All describe the same
//! table `ip filter` with one base chain `INPUT` (hook input, priority 0,
//! policy accept), because that is the table iptables-nft-restore creates.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use nftguard::engine::{BatchBuilder, Transaction};
use nftguard::nft::builder::{CtState, LimitUnit, RateLimit};
use nftguard::nft::expr::{Cmp, CmpOp, Payload, PayloadBase};
use nftguard::nft::{Chain, ChainPolicy, ElementList, Family, Hook, Rule, Set, SetElement, Table};

/// The table every tool writes to.
pub const TABLE: &str = "filter";
/// The base chain every tool writes to.
pub const CHAIN: &str = "INPUT";
/// The set of the set-load benchmark.
pub const SET: &str = "s";
/// nft's data type number of `ipv4_addr`.
const IPV4_ADDR_TYPE: u32 = 7;

/// Which rules a ruleset holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Every rule `ip saddr A tcp dport P counter accept`.
    Simple,
    /// Five kinds in turn (see [`Kind`]): addresses and prefixes, tcp and
    /// udp ports, ct state, interface name with a comment, a rate limit.
    Mixed,
}

impl Profile {
    /// The name used on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Simple => "simple",
            Profile::Mixed => "mixed",
        }
    }

    /// The profile named `s`.
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "simple" => Some(Profile::Simple),
            "mixed" => Some(Profile::Mixed),
            _ => None,
        }
    }
}

/// One rule of a profile, in a form every writer below can spell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ip saddr A tcp dport P counter accept`.
    SaddrTcp { addr: Ipv4Addr, port: u16 },
    /// `ip saddr N/24 udp dport P counter drop`.
    PrefixUdp { net: Ipv4Addr, port: u16 },
    /// `ct state established,related counter accept`.
    CtState,
    /// `iifname "eth1" ip daddr A tcp dport 443 counter accept comment "rule I"`.
    IfaceComment { addr: Ipv4Addr, index: usize },
    /// `ip protocol icmp limit rate 10/second counter accept`.
    IcmpLimit,
}

/// The address of rule `i` (10.0.0.0 + i).
pub fn addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000u32.wrapping_add(i as u32))
}

/// The port of rule `i`.
pub fn port(i: usize) -> u16 {
    1024 + (i % 60_000) as u16
}

/// Rule `i` of `profile`.
pub fn kind(profile: Profile, i: usize) -> Kind {
    let (a, p) = (addr(i), port(i));
    match (profile, i % 5) {
        (Profile::Simple, _) | (Profile::Mixed, 0) => Kind::SaddrTcp { addr: a, port: p },
        (_, 1) => Kind::PrefixUdp {
            net: Ipv4Addr::from(0x0a00_0000 | ((i as u32 & 0xffff) << 8)),
            port: p,
        },
        (_, 2) => Kind::CtState,
        (_, 3) => Kind::IfaceComment { addr: a, index: i },
        _ => Kind::IcmpLimit,
    }
}

/// Rule `k` built with nftguard's builder.
pub fn rule(k: Kind) -> Rule {
    let r = Rule::new(Family::Ipv4, TABLE, CHAIN);
    match k {
        Kind::SaddrTcp { addr, port } => r.ip_saddr(addr).tcp().dport(port).counter().accept(),
        Kind::PrefixUdp { net, port } => r.ip_saddr((net, 24)).udp().dport(port).counter().drop(),
        Kind::CtState => r
            .ct_state(CtState::ESTABLISHED | CtState::RELATED)
            .counter()
            .accept(),
        Kind::IfaceComment { addr, index } => r
            .iifname("eth1")
            .ip_daddr(addr)
            .tcp()
            .dport(443)
            .counter()
            .accept()
            .comment(&format!("rule {index}")),
        // `ip protocol icmp`: the builder has no `ip protocol` match, so
        // the two expressions nft emits are written out.
        Kind::IcmpLimit => r
            .push(Payload::load(PayloadBase::Network, 9, 1, 1))
            .push(Cmp::new(1, CmpOp::Eq, vec![1]))
            .limit(RateLimit::packets(10, LimitUnit::Second))
            .counter()
            .accept(),
    }
}

/// The table and base chain, as nftguard operations.
fn table_and_chain(tx: &mut Transaction) {
    tx.add_table(Table::new(Family::Ipv4, TABLE));
    tx.add_chain(
        Chain::base(Family::Ipv4, TABLE, CHAIN, Hook::Input, 0).with_policy(ChainPolicy::Accept),
    );
}

/// The whole ruleset as one typed nftguard transaction (no handle echo:
/// none of the peers asks for handles either).
pub fn transaction(profile: Profile, n: usize) -> Transaction {
    let mut tx = Transaction::new();
    table_and_chain(&mut tx);
    for i in 0..n {
        tx.add_rule(rule(kind(profile, i)));
    }
    tx.set_echo(false);
    tx
}

/// Encoded bytes per rule, to size the batch buffer up front.
const BYTES_PER_RULE: usize = 420;

/// The whole ruleset through nftguard's bulk path: the same operations as
/// [`transaction`], each encoded as it is added (`BatchBuilder`), so the
/// typed rules never pile up in memory. Same bytes as the transaction.
pub fn batch(profile: Profile, n: usize) -> BatchBuilder {
    let mut b = BatchBuilder::with_capacity(n * BYTES_PER_RULE);
    b.add_table(Table::new(Family::Ipv4, TABLE));
    b.add_chain(
        Chain::base(Family::Ipv4, TABLE, CHAIN, Hook::Input, 0).with_policy(ChainPolicy::Accept),
    );
    for i in 0..n {
        b.add_rule(rule(kind(profile, i)));
    }
    b.set_echo(false);
    b
}

/// The key of set element `i`.
pub fn element(i: usize) -> [u8; 4] {
    addr(i).octets()
}

/// A table with one ipv4 set of `n` elements through nftguard's bulk
/// path: the keys are encoded straight from an iterator
/// (`BatchBuilder::add_element_keys`). Same bytes as [`set_transaction`].
pub fn set_batch(n: usize) -> BatchBuilder {
    // 16 bytes per element, plus the message headers of each 64 KiB chunk.
    let mut b = BatchBuilder::with_capacity(n * 16 + n / 256 + 4096);
    b.add_table(Table::new(Family::Ipv4, TABLE));
    b.add_set(Set::new(Family::Ipv4, TABLE, SET, IPV4_ADDR_TYPE, 4));
    b.add_element_keys(Family::Ipv4, TABLE, SET, (0..n).map(element));
    b
}

/// A table with one ipv4 set of `n` elements, as one typed nftguard
/// transaction.
pub fn set_transaction(n: usize) -> Transaction {
    let mut tx = Transaction::new();
    tx.add_table(Table::new(Family::Ipv4, TABLE));
    tx.add_set(Set::new(Family::Ipv4, TABLE, SET, IPV4_ADDR_TYPE, 4));
    let elements = (0..n).map(|i| SetElement::new(element(i))).collect();
    tx.add_elements(ElementList::new(Family::Ipv4, TABLE, SET, elements));
    tx
}

/// The ruleset as an nft script.
pub fn nft_text(profile: Profile, n: usize) -> String {
    let mut s = String::with_capacity(64 * n + 256);
    let _ = writeln!(
        s,
        "table ip {TABLE} {{\n  chain {CHAIN} {{\n    type filter hook input priority 0; policy accept;"
    );
    for i in 0..n {
        let _ = match kind(profile, i) {
            Kind::SaddrTcp { addr, port } => {
                writeln!(s, "    ip saddr {addr} tcp dport {port} counter accept")
            }
            Kind::PrefixUdp { net, port } => {
                writeln!(s, "    ip saddr {net}/24 udp dport {port} counter drop")
            }
            Kind::CtState => writeln!(s, "    ct state established,related counter accept"),
            Kind::IfaceComment { addr, index } => writeln!(
                s,
                "    iifname \"eth1\" ip daddr {addr} tcp dport 443 counter accept comment \"rule {index}\""
            ),
            Kind::IcmpLimit => writeln!(s, "    ip protocol icmp limit rate 10/second counter accept"),
        };
    }
    s.push_str("  }\n}\n");
    s
}

/// The ruleset in nft's JSON schema (`nft -j -f`).
pub fn nft_json(profile: Profile, n: usize) -> String {
    let mut s = String::with_capacity(200 * n + 512);
    let _ = write!(
        s,
        "{{\"nftables\": [{{\"table\": {{\"family\": \"ip\", \"name\": \"{TABLE}\"}}}}, \
         {{\"chain\": {{\"family\": \"ip\", \"table\": \"{TABLE}\", \"name\": \"{CHAIN}\", \
         \"type\": \"filter\", \"hook\": \"input\", \"prio\": 0, \"policy\": \"accept\"}}}}"
    );
    let m = |left: &str, right: &str| {
        format!("{{\"match\": {{\"op\": \"==\", \"left\": {left}, \"right\": {right}}}}}")
    };
    let pl = |proto: &str, field: &str| {
        format!("{{\"payload\": {{\"protocol\": \"{proto}\", \"field\": \"{field}\"}}}}")
    };
    let counter = "{\"counter\": null}";
    for i in 0..n {
        let (comment, exprs) = match kind(profile, i) {
            Kind::SaddrTcp { addr, port } => (
                None,
                vec![
                    m(&pl("ip", "saddr"), &format!("\"{addr}\"")),
                    m(&pl("tcp", "dport"), &port.to_string()),
                    counter.into(),
                    "{\"accept\": null}".into(),
                ],
            ),
            Kind::PrefixUdp { net, port } => (
                None,
                vec![
                    m(
                        &pl("ip", "saddr"),
                        &format!("{{\"prefix\": {{\"addr\": \"{net}\", \"len\": 24}}}}"),
                    ),
                    m(&pl("udp", "dport"), &port.to_string()),
                    counter.into(),
                    "{\"drop\": null}".into(),
                ],
            ),
            Kind::CtState => (
                None,
                vec![
                    "{\"match\": {\"op\": \"in\", \"left\": {\"ct\": {\"key\": \"state\"}}, \
                     \"right\": [\"established\", \"related\"]}}"
                        .into(),
                    counter.into(),
                    "{\"accept\": null}".into(),
                ],
            ),
            Kind::IfaceComment { addr, index } => (
                Some(format!("rule {index}")),
                vec![
                    m("{\"meta\": {\"key\": \"iifname\"}}", "\"eth1\""),
                    m(&pl("ip", "daddr"), &format!("\"{addr}\"")),
                    m(&pl("tcp", "dport"), "443"),
                    counter.into(),
                    "{\"accept\": null}".into(),
                ],
            ),
            Kind::IcmpLimit => (
                None,
                vec![
                    m(&pl("ip", "protocol"), "\"icmp\""),
                    "{\"limit\": {\"rate\": 10, \"burst\": 5, \"per\": \"second\"}}".into(),
                    counter.into(),
                    "{\"accept\": null}".into(),
                ],
            ),
        };
        let comment = comment
            .map(|c| format!(", \"comment\": \"{c}\""))
            .unwrap_or_default();
        let _ = write!(
            s,
            ", {{\"rule\": {{\"family\": \"ip\", \"table\": \"{TABLE}\", \"chain\": \"{CHAIN}\"{comment}, \"expr\": [{}]}}}}",
            exprs.join(", ")
        );
    }
    s.push_str("]}\n");
    s
}

/// The ruleset as `iptables-restore` input (iptables-nft always adds a
/// counter to every rule, so the counters of the other formats match).
pub fn iptables(profile: Profile, n: usize) -> String {
    let mut s = String::with_capacity(64 * n + 64);
    s.push_str("*filter\n:INPUT ACCEPT [0:0]\n");
    for i in 0..n {
        let _ = match kind(profile, i) {
            Kind::SaddrTcp { addr, port } => {
                writeln!(s, "-A INPUT -s {addr}/32 -p tcp -m tcp --dport {port} -j ACCEPT")
            }
            Kind::PrefixUdp { net, port } => {
                writeln!(s, "-A INPUT -s {net}/24 -p udp -m udp --dport {port} -j DROP")
            }
            Kind::CtState => writeln!(s, "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
            Kind::IfaceComment { addr, index } => writeln!(
                s,
                "-A INPUT -d {addr}/32 -i eth1 -p tcp -m tcp --dport 443 -m comment --comment \"rule {index}\" -j ACCEPT"
            ),
            Kind::IcmpLimit => writeln!(s, "-A INPUT -p icmp -m limit --limit 10/sec -j ACCEPT"),
        };
    }
    s.push_str("COMMIT\n");
    s
}

/// A table with one ipv4 set of `n` elements as an nft script.
pub fn set_nft_text(n: usize) -> String {
    let mut s = String::with_capacity(13 * n + 128);
    let _ = write!(
        s,
        "table ip {TABLE} {{\n  set {SET} {{\n    type ipv4_addr\n    elements = {{ "
    );
    for i in 0..n {
        if i > 0 {
            s.push_str(",\n");
        }
        let _ = write!(s, "{}", addr(i));
    }
    s.push_str(" }\n  }\n}\n");
    s
}
