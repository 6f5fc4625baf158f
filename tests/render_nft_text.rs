//! `nft_text` against the oracle: each test loads a ruleset with
//! `nft -f -` in a fresh network namespace, then checks that
//! `nft_text(Ruleset::dump(..))` equals `nft list ruleset` byte for byte.

// Test helpers panic on failure by design (clippy.toml only covers #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::without_expiry;

use std::io::Write;
use std::process::{Command, Stdio};

use nftguard::engine::DumpFilter;
use nftguard::netlink::{enter_new_netns, Socket};
use nftguard::nft::render::nft_text;
use nftguard::nft::Ruleset;

fn run(cmd: &str, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {cmd}: {e}"));
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}\ninput:\n{}",
        String::from_utf8_lossy(&out.stderr),
        stdin.unwrap_or("")
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A line diff that shows where two renderings part.
fn diff(expected: &str, got: &str) -> String {
    let (e, g): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), got.lines().collect());
    let mut out = String::new();
    for i in 0..e.len().max(g.len()) {
        match (e.get(i), g.get(i)) {
            (Some(a), Some(b)) if a == b => out.push_str(&format!("  {a}\n")),
            (a, b) => {
                if let Some(a) = a {
                    out.push_str(&format!("- {a}\n"));
                }
                if let Some(b) = b {
                    out.push_str(&format!("+ {b}\n"));
                }
            }
        }
    }
    out
}

/// Loads `script` into a fresh namespace (after `setup` shell commands)
/// and compares the two renderings. Returns the number of rule lines.
fn check_with(setup: &[&str], script: &str) -> usize {
    enter_new_netns().unwrap();
    for s in setup {
        run("sh", &["-c", s], None);
    }
    if !script.is_empty() {
        run("nft", &["-f", "-"], Some(script));
    }
    let expected = without_expiry(&run("nft", &["list", "ruleset"], None));
    let mut sock = Socket::new().unwrap();
    let rs = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
    let got = without_expiry(&nft_text(&rs));
    assert!(
        expected == got,
        "nft_text differs from `nft list ruleset` (- nft, + nftguard):\n{}",
        diff(&expected, &got)
    );
    assert!(!rs.rules.is_empty() || !rs.chains.is_empty() || !rs.tables.is_empty());
    rs.rules.len()
}

fn check(script: &str) -> usize {
    check_with(&[], script)
}

/// `(major, minor)` of the running kernel (`uname -r`).
fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap())
}

/// `line` when the running kernel is at least `since`, else an empty line
/// and a note on stdout naming the line and the reason (shown by
/// `--show-output`, as the VM runner runs this binary).
fn since(since: (u32, u32), why: &str, line: &str) -> String {
    let kernel = kernel_version();
    if kernel >= since {
        line.to_string()
    } else {
        println!(
            "skipped on kernel {}.{} ({why} needs Linux >= {}.{}): {}",
            kernel.0,
            kernel.1,
            since.0,
            since.1,
            line.trim()
        );
        String::new()
    }
}

/// Catch-all map elements (`* : verdict`): "netfilter: nf_tables: add
/// catch-all set element support", Linux 5.13; 5.10 answers EINVAL.
const CATCHALL: (u32, u32) = (5, 13);
/// A lookup of a map's keys without using its data (`tcp dport @vmap`):
/// 6.1 answers EINVAL, 6.12 (the next kernel of the VM matrix) accepts it.
const MAP_AS_SET: (u32, u32) = (6, 12);

#[test]
fn layout_tables_chains_priorities() {
    check(
        r#"
table ip e {
}
table inet f {
  flags dormant
  comment "c"
  chain a { comment "only comment"; }
  chain b { type filter hook input priority 0; policy accept; comment "bc"; }
  chain empty { }
}
table inet t {
  comment "tab comment"
  chain in { type filter hook input priority 0; policy drop; }
  chain pr { type filter hook prerouting priority raw; }
  chain fw { type filter hook forward priority filter + 10; policy accept; }
  chain o { type filter hook output priority -5; }
  chain o2 { type filter hook output priority 11; }
  chain m { type filter hook prerouting priority -140; }
  chain s { type filter hook output priority 45; }
  chain i { type filter hook ingress device lo priority -290; }
}
table ip nat {
  chain post { type nat hook postrouting priority srcnat; }
  chain post2 { type nat hook postrouting priority 110; }
  chain pre { type nat hook prerouting priority dstnat - 5; }
  chain out { type nat hook output priority -100; }
  chain in { type nat hook input priority 100; }
}
table ip6 m {
  chain r { type route hook output priority mangle; }
}
table bridge b {
  chain i { type filter hook input priority -200; }
  chain p { type filter hook prerouting priority -300; }
  chain o { type filter hook output priority 100; }
  chain po { type filter hook postrouting priority 300; }
  chain z { type filter hook forward priority 0; }
}
table netdev n {
  chain i { type filter hook ingress device lo priority -500; }
  chain j { type filter hook ingress device lo priority 5; }
}
table arp a {
  chain i { type filter hook input priority 0; }
  chain o { type filter hook output priority 10; }
}
"#,
    );
}

#[test]
fn netdev_device_lists() {
    check_with(
        &["ip link add d1 type veth peer name d0"],
        r#"
table netdev nd {
  chain c { type filter hook ingress devices = { lo, d1, d0 } priority 0;
    ip saddr 1.2.3.4 drop
    meta protocol ip6 accept
    tcp dport 22 drop
    ether saddr 00:11:22:33:44:55 drop
    iifname "d1" accept
  }
}
"#,
    );
}

#[test]
fn inet_matches_and_verdicts() {
    let n = check(
        r#"
table inet t {
  chain in { type filter hook input priority 0; policy drop;
    iif lo accept
    iifname "eth0" accept
    oifname "eth*" accept
    oif lo accept
    iifgroup 0 accept
    ct state established,related accept
    ct state invalid drop
    ct state != invalid counter
    ct state new accept
    ct state untracked accept
    ct state == established accept
    ct state != established,related accept
    tcp dport 22 accept
    tcp dport 1000-2000 drop
    tcp dport != 1000-2000 accept
    tcp sport 1024-65535 accept
    tcp dport > 1024 accept
    tcp dport < 1024 accept
    tcp dport >= 1024 accept
    tcp dport <= 1024 accept
    tcp dport != 22 accept
    ip saddr 10.0.0.0/8 accept
    ip saddr 10.1.2.0/24 accept
    ip saddr 10.0.0.0/7 accept
    ip saddr != 10.0.0.0/8 accept
    ip daddr 0.0.0.0/0 accept
    ip saddr 1.2.3.4-1.2.3.8 accept
    ip saddr 10.1.2.3 ip daddr != 1.2.3.4 accept
    ip6 saddr fe80::/10 accept
    ip6 daddr ::1 accept
    ip6 saddr ::ffff:1.2.3.4 accept
    ip6 saddr 2001:db8::/32 accept
    ip6 saddr 2001:db8:1:2:3:4:5:6 accept
    ip6 saddr 2001:db8::/48 accept
    udp sport 53 counter packets 0 bytes 0 accept comment "dns"
    icmp type echo-request accept
    icmp type destination-unreachable accept
    icmp type 200 accept
    icmp code host-unreachable accept
    icmpv6 type nd-neighbor-solicit accept
    icmpv6 type echo-request accept
    icmpv6 type nd-router-advert accept
    icmpv6 code admin-prohibited accept
    th dport 53 accept
    meta l4proto tcp accept
    meta l4proto 99 accept
    meta l4proto != udp accept
    meta nfproto ipv6 accept
    meta nfproto ipv4 meta l4proto tcp accept
    meta nfproto ipv4 tcp dport 22 accept
    meta l4proto tcp ip saddr 1.2.3.4 accept
    ip protocol tcp tcp dport 22 accept
    ip protocol tcp accept
    ip protocol 99 accept
    ip6 nexthdr udp udp dport 53 accept
    ip6 nexthdr ipv6-icmp accept
    meta pkttype broadcast drop
    meta mark 0x10 accept
    meta mark & 0xff == 0x1 accept
    meta mark and 0xff00 != 0 accept
    meta skuid 0 accept
    meta skuid 1000 accept
    meta skgid 0 accept
    meta priority 1:2 accept
    meta iiftype ether accept
    meta cpu 1 accept
    meta random 5 accept
    meta protocol ip accept
    jump other
    goto other
    return
    continue
    drop
    accept
  }
  chain other {
  }
}
"#,
    );
    assert!(n >= 70, "{n} rules");
}

#[test]
fn header_fields() {
    check(
        r#"
table inet t {
  chain c {
    tcp sequence 5 accept
    tcp ackseq 5 accept
    tcp window 100 accept
    tcp checksum 5 accept
    tcp urgptr 1 accept
    tcp doff 5 accept
    udp length 100 accept
    udp checksum 0 accept
    udplite dport 5 accept
    sctp dport 5 accept
    dccp dport 5 accept
    ah spi 5 accept
    esp spi 5 accept
    comp cpi 5 accept
    ip ttl 1 accept
    ip length 100 accept
    ip id 5 accept
    ip frag-off 0 accept
    ip dscp cs1 accept
    ip dscp 0x05 accept
    ip ecn ect0 accept
    ip version 4 accept
    ip hdrlength 5 accept
    ip checksum 5 accept
    ip6 hoplimit 1 accept
    ip6 flowlabel 5 accept
    ip6 nexthdr tcp accept
    ip6 length 5 accept
    ip6 dscp cs1 accept
    ip6 ecn ce accept
  }
}
"#,
    );
}

#[test]
fn flags_and_masks() {
    check(
        r#"
table inet t {
  chain c {
    tcp flags syn accept
    tcp flags == syn accept
    tcp flags & syn == syn accept
    tcp flags & (syn|ack) == syn drop
    tcp flags & (fin|syn|rst|ack) != syn accept
    tcp flags != syn accept
    tcp flags & (syn|rst) == 0 accept
    tcp flags syn,ack accept
    ct status dnat accept
    ct status assured,confirmed accept
    ct mark 0x1 accept
    ct mark & 0xf == 0x1 accept
  }
}
"#,
    );
}

#[test]
fn ct_and_meta_keys() {
    check(
        r#"
table inet t {
  chain c {
    ct direction original accept
    ct direction reply accept
    ct l3proto ipv4 accept
    ct protocol tcp accept
    meta l4proto tcp ct original proto-dst 22 accept
    ct reply ip saddr 1.2.3.4 accept
    ct original ip saddr 1.2.3.4 accept
    ct original ip6 daddr ::1 accept
    ct expiration 30s accept
    ct expiration 1m30s accept
    ct helper "ftp" accept
    ct zone 3 accept
    ct avgpkt 100 accept
    ct count 5 accept
    ct count over 10 drop
    meta mark set 0x20
    meta mark set ct mark
    ct mark set meta mark
    ct mark set 0x5
    meta priority set 1:2
    meta length > 1000 accept
    ct packets > 10 accept
    ct bytes > 1000 accept
  }
}
"#,
    );
}

#[test]
fn statements_ip6_family() {
    check(
        r#"
table ip6 x {
  chain c { type filter hook input priority 0;
    reject
    reject with icmpv6 admin-prohibited
    reject with icmpv6 no-route
    reject with icmpv6 addr-unreachable
    reject with icmpv6 policy-fail
    reject with tcp reset
    tcp dport 22 reject with tcp reset
    ip6 saddr ::1 drop
    icmpv6 type echo-request limit rate 5/second burst 10 packets accept
    limit rate 10/minute burst 5 packets accept
    limit rate over 1 mbytes/second drop
    limit rate 100 kbytes/second burst 1500 bytes
    limit rate 100 kbytes/second burst 2 kbytes
    limit rate over 5/hour
    limit rate 5/day
    limit rate 5/week burst 1 packets
    log
    log level info
    log level emerg prefix "p"
    log prefix "x: " level warn flags all
    log level debug
    log level audit
    log flags tcp sequence,options
    log flags tcp sequence
    log flags tcp options
    log flags ip options
    log flags skuid
    log flags ether
    log flags ip options flags skuid
    log group 1 snaplen 100 queue-threshold 5
    log group 2
    log prefix "g " group 3
    quota 100 bytes
    quota over 100 mbytes drop
    quota 5 kbytes used 10 bytes
    quota over 2048 mbytes
    ct count 3
    counter packets 5 bytes 10
    counter
    fib daddr . mark type unicast
    fib daddr type local accept
    fib daddr type != local drop
    notrack
    counter comment "just a counter"
  }
  # fib with an oif/oifname result: prerouting on every kernel (input
  # accepts it from 5.19 on, and without iif only from 6.10 or a stable
  # backport; 5.10 answers EOPNOTSUPP).
  chain p { type filter hook prerouting priority 0;
    fib daddr oif "lo"
    fib daddr oif exists
    fib saddr . iif oif missing drop
    fib saddr . iif oifname "lo" accept
  }
}
"#,
    );
}

#[test]
fn statements_ip_family_nat_reject() {
    check(
        r#"
table ip y {
  chain c { type filter hook input priority 0;
    reject
    reject with icmp host-unreachable
    reject with icmp admin-prohibited
    reject with icmp net-prohibited
    reject with icmp host-prohibited
    reject with icmp prot-unreachable
    reject with icmp net-unreachable
    reject with icmp port-unreachable
    reject with icmp 5
    reject with tcp reset
    ip protocol tcp tcp dport 22 accept
    icmp type echo-request accept
    udp dport 53 accept
    ip saddr 192.168.0.0/16 tcp dport 22 ct state new counter accept
  }
  chain n { type nat hook postrouting priority 100;
    masquerade
    masquerade random
    masquerade fully-random,persistent
    meta l4proto tcp masquerade to :1024-2000
    snat to 1.2.3.4
    tcp dport 1 snat to 1.2.3.4:1000-2000
    snat to 10.0.0.1-10.0.0.5
    snat to 10.0.0.0/24
    snat to 1.1.1.1 persistent
    meta l4proto udp snat to 1.1.1.1:5 random
    oifname "eth0" masquerade
  }
  chain p { type nat hook prerouting priority -100;
    redirect
    tcp dport 80 redirect to :8080-8090
    tcp dport 3 redirect to :8080
    redirect random
    dnat to 10.0.0.1
    udp dport 53 dnat to 10.0.0.1:5353
    tcp dport 2 dnat to 10.0.0.1:80
    iifname "eth0" tcp dport 443 dnat to 10.0.0.2:8443
  }
}
"#,
    );
}

#[test]
fn statements_inet_reject_nat() {
    check(
        r#"
table inet z {
  chain c { type filter hook input priority 0;
    reject
    reject with icmpx admin-prohibited
    reject with icmpx host-unreachable
    reject with icmpx no-route
    reject with icmpx port-unreachable
    reject with icmp host-unreachable
    reject with icmpv6 admin-prohibited
    reject with icmp port-unreachable
    reject with tcp reset
    tcp dport 22 reject with tcp reset
    meta l4proto tcp reject with tcp reset
  }
  chain n { type nat hook prerouting priority -100;
    dnat ip to 10.0.0.1
    dnat ip6 to ::1
    meta nfproto ipv4 tcp dport 22 dnat ip to 10.0.0.2:23
    meta nfproto ipv6 tcp dport 22 dnat ip6 to [2001:db8::1]:23
  }
  chain m { type nat hook postrouting priority 100;
    masquerade
    snat ip to 1.2.3.4
    snat ip6 to 2001:db8::/64
  }
}
"#,
    );
}

#[test]
fn bridge_family() {
    check(
        r#"
table bridge br {
  chain c { type filter hook input priority 0;
    ether saddr 00:11:22:33:44:55 drop
    ether daddr ff:ff:ff:ff:ff:ff accept
    ether type arp accept
    ether type ip6 accept
    ip saddr 1.2.3.4 drop
    ip6 daddr ::1 drop
    tcp dport 22 accept
    ip protocol tcp tcp dport 22 accept
    iifname "eth0" accept
    meta protocol ip accept
    counter
  }
}
"#,
    );
}

#[test]
fn ip6_family_matches() {
    check(
        r#"
table ip6 f {
  chain c { type filter hook forward priority 0; policy drop;
    ip6 saddr 2001:db8::/32 ip6 daddr 2001:db8::1 tcp dport 443 accept
    ip6 nexthdr tcp accept
    meta l4proto ipv6-icmp accept
    icmpv6 type nd-neighbor-advert accept
    udp dport 546 ip6 saddr fe80::/10 accept
    ct state established accept
  }
}
"#,
    );
}

#[test]
fn flag_forms_prefixes_ranges_merged_fields_arp_vlan() {
    check(
        r#"
table inet t {
  chain c {
    tcp flags & (syn|ack) == syn|ack accept
    ct status & dnat == dnat accept
    ct state & (new|established) == new accept
    ct state & (new|established) != new accept
    ct state == established|related accept
    iifname != "eth0" accept
    iifname "eth0*" accept
    iifname != "veth*" accept
    ip saddr 10.0.0.0/31 accept
    ip saddr 10.0.0.0/25 accept
    ip saddr 128.0.0.0/1 accept
    ip saddr 10.0.0.0/16 accept
    ip saddr 10.10.10.0/23 accept
    ip daddr != 10.0.0.0/9 accept
    ip6 saddr ::/127 accept
    ip6 saddr 2001:db8::/64 accept
    ip6 saddr 8000::/1 accept
    ip6 saddr 2001:db8::/65 accept
    meta mark != 0x1 accept
    meta mark 0x1-0x5 accept
    meta mark > 5 accept
    ct mark 0x1-0x5 accept
    ip ttl < 10 accept
    ip length 100-200 accept
    udp dport 53 ip saddr 1.1.1.1 accept
    counter jump other
    ip saddr 1.2.3.4 counter packets 10 bytes 20 drop comment "a b"
    meta l4proto tcp counter
    tcp dport 22 tcp sport 1024-65535 ct state new accept
    icmp type echo-reply icmp code 0 accept
    meta oifname "lo" meta iifname "lo" accept
    meta iif lo accept
    ip saddr 1.2.3.4 ip daddr 5.6.7.8 ip protocol udp udp dport 53 accept
  }
  chain other { }
}
table arp a {
  chain c { type filter hook input priority 0;
    arp operation request accept
    arp operation reply accept
    arp htype 1 accept
    arp ptype ip accept
    arp saddr ip 1.2.3.4 accept
    arp daddr ip 10.0.0.0/8 accept
    arp saddr ether 00:11:22:33:44:55 accept
  }
}
table bridge b {
  chain c {
    vlan id 5 accept
    icmp type echo-request accept
    icmpv6 type echo-request accept
    ether type ip ip saddr 1.2.3.4 accept
    meta l4proto udp accept
  }
}
"#,
    );
}

#[test]
fn raw_payloads_sets_exthdrs_options_time() {
    check(
        r#"
table inet t {
  chain c {
    meta l4proto tcp @th,64,32 5 accept
    @th,64,32 5 accept
    @nh,0,8 5 accept
    meta nfproto ipv4 @nh,72,8 6 accept
    @ll,0,8 1 accept
    ether saddr 00:11:22:33:44:55 accept
    meta nftrace set 1
    meta priority set 1:2
    meta pkttype set host
    ct zone set 2
    ct mark set ct mark and 0xff
    meta mark set meta mark or 0x10
    meta mark set 0xffffffff
    ip dscp set cs1
    tcp dport set 23
    exthdr hbh exists accept
    exthdr frag missing accept
    tcp option mss exists accept
    tcp option maxseg size 1400 accept
    tcp option sack-perm exists accept
    ip option rr exists accept
    frag frag-off 0 accept
    rt type 0 accept
    hbh nexthdr 6 accept
    meta ipsec exists accept
    meta iifkind "veth" accept
    meta sdif 1 accept
    meta time > 1000 accept
    meta day 1 accept
    meta hour "10:00" accept
    meta cgroup 1 accept
    meta rtclassid 1 accept
    meta l4proto ipv6-icmp icmpv6 type echo-request accept
    meta nfproto ipv4 icmp type echo-request accept
    meta nfproto ipv6 meta l4proto udp accept
    meta nfproto ipv4 meta l4proto icmp accept
  }
}
table netdev n {
  chain c { type filter hook ingress device lo priority 0;
    icmp type echo-request drop
    ip6 nexthdr tcp accept
    ip protocol udp udp dport 53 accept
    meta protocol arp accept
    arp operation request accept
    vlan id 5 drop
  }
}
table bridge b {
  chain c {
    ether type 8021q vlan id 5 vlan type ip accept
    ether type vlan vlan pcp 3 accept
    vlan type arp accept
  }
}
"#,
    );
}

/// iptables-nft rules: native expressions print as nft prints them, and an
/// xt match nft cannot translate prints as `xt match NAME`.
#[test]
fn iptables_nft_native_and_xt() {
    check_with(
        &[
            "iptables-nft -A INPUT -p tcp --dport 22 -j ACCEPT",
            "iptables-nft -A INPUT -s 10.0.0.0/8 -i eth0 -j DROP",
            "iptables-nft -A INPUT -m limit --limit 5/min -j ACCEPT",
            "iptables-nft -A INPUT -m recent --name x --set",
            "iptables-nft -N custom",
            "iptables-nft -A INPUT -p udp ! --sport 53 -j custom",
            "iptables-nft -A custom -o lo -j RETURN",
            "ip6tables-nft -A FORWARD -d 2001:db8::/32 -p tcp --sport 80 -j DROP",
        ],
        "",
    );
}

#[test]
fn numgen_hash_socket_rt_dup_tproxy_synproxy() {
    check(
        r#"
table ip t {
  chain c {
    numgen inc mod 2 0 accept
    numgen random mod 10 offset 5 5 accept
    jhash ip saddr mod 2 1 accept
    symhash mod 2 0 accept
    socket transparent 1 accept
    socket mark 0x5 accept
    dup to 1.2.3.4
    dup to 1.2.3.4 device "lo"
    meta mark set numgen inc mod 4
    ip saddr 1.2.3.4 synproxy mss 1460 wscale 7
    tcp dport 80 tproxy to 1.2.3.4:80
    rt nexthop 1.2.3.4
    ip dscp set cs1 ip ecn set ce
  }
}
"#,
    );
}

#[test]
fn concatenated_hashes_option_writes_inet_tproxy() {
    check(
        r#"
table inet t {
  chain c { type filter hook prerouting priority -150;
    meta l4proto tcp tproxy ip to 1.2.3.4:80
    meta l4proto tcp tproxy ip6 to [::1]:80
    meta l4proto tcp tproxy to :80
    meta l4proto tcp tproxy ip to 1.2.3.4
    meta l4proto tcp tproxy ip6 to ::1
    socket wildcard 0 accept
    jhash ip saddr . tcp dport mod 4 seed 0x5 offset 10 11 accept
    jhash ip6 daddr mod 2 seed 0xdeadbeef 1 accept
    symhash mod 2 offset 100 101 accept
    rt ip6 nexthop ::1 accept
    rt classid 5 accept
    meta mark set jhash ip saddr mod 4
    numgen inc mod 10 < 5 accept
    ct mark set numgen random mod 2 offset 1
  }
}
table ip6 x {
  chain c { type filter hook prerouting priority 0;
    dup to ::1 device "lo"
    dup to ::2
    tcp option maxseg size set 1300
  }
  chain syn {
    tcp dport 1 synproxy mss 1460 wscale 7 timestamp sack-perm
    tcp dport 2 synproxy wscale 5
  }
}
table ip t { chain c { jhash ip saddr . tcp dport mod 4 1 accept; meta mark set jhash ip saddr . ip daddr mod 2; tcp option maxseg size set 1300; tcp option maxseg size set rt mtu; }; chain s { tcp dport 1 synproxy mss 1400; tcp dport 1 synproxy timestamp; }; }"#,
    );
}

/// `ct reply ip daddr 10.0.0.0/8` lists as `0.0.0.10` in nft 1.0.6 (it
/// widens the 1-byte shortened value as a number); reproduced.
#[test]
fn ct_keys_by_family_and_events() {
    check(
        r#"
table ip t {
  chain c {
    ct original saddr 1.2.3.4 accept
    ct reply daddr 10.0.0.0/8 accept
    ct id 5 accept
    ct original packets 5 accept
    ct status != dnat accept
    ct status & (snat|dnat) == 0 accept
    ct state & (new|invalid) != 0 drop
    ct mark & 0xff != 0x0 accept
    ct zone set 5
    ct event set new,related
    ct mark set 0x1 counter accept
    meta mark set ct mark & 0xffff0000
    ct original zone 1 accept
  }
}
table ip6 t6 {
  chain c {
    ct original saddr ::1 accept
    ct l3proto ipv6 accept
  }
}
"#,
    );
}

#[test]
fn without_expiry_keeps_the_rest() {
    assert_eq!(
        without_expiry("{ 1.1.1.1 timeout 1h expires 59m59s996ms, 2.2.2.2 expires 1s }\n"),
        "{ 1.1.1.1 timeout 1h expires T, 2.2.2.2 expires T }\n"
    );
}

/// Named sets and maps: declaration lines in nft's order, `typeof`,
/// element sorting, interval decomposition (prefixes, ranges, open end),
/// concatenations, wrapping per datatype, element counters, timeouts and
/// comments, verdict/object/value maps, catch-all.
#[test]
fn named_sets_and_maps() {
    let catchall_map = since(
        CATCHALL,
        "catch-all element",
        "  map i { type ipv4_addr : verdict; flags interval; elements = { 10.0.0.0/8 : accept, 11.0.0.0-11.0.0.5 : drop, * : jump c } }",
    );
    check(
        &r#"
table ip t {
  set a { type ipv4_addr; size 100; policy memory; flags interval,timeout; timeout 10s; gc-interval 5s; counter; auto-merge; comment "cc"; elements = { 1.1.1.1, 2.2.2.2 comment "x", 3.3.3.3 timeout 5s } }
  set b { type ipv4_addr; flags timeout; elements = { 1.1.1.1 timeout 1h, 2.2.2.2 } }
  set c { type ipv4_addr; elements = { 3.3.3.3 comment "c3", 1.1.1.1, 2.2.2.2 } }
  set d { type ipv4_addr . inet_service . ipv4_addr; flags interval; elements = { 1.1.1.0/24 . 22-25 . 2.2.2.2, 3.3.3.3 . 80 . 4.4.4.4/30 } }
  set e { typeof ip saddr . tcp dport; elements = { 1.1.1.1 . 22 } }
  set f { type ct_state; elements = { new, established, related } }
  set g { type ether_addr; elements = { 00:11:22:33:44:55 } }
  map h { typeof ip daddr : meta mark; elements = { 1.1.1.1 : 0x1 } }
@CATCHALL_MAP@
  set j { type inet_proto; elements = { tcp, udp, 1,2,3,4,5,6 } }
  set k { type ipv4_addr; flags dynamic; size 10; counter; }
  set l { type ipv4_addr; elements = { 5.5.5.5, 1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4 } }
  set m { type ipv4_addr; flags interval; elements = { 1.1.1.1-1.1.1.2, 1.1.1.3, 1.1.1.4-1.1.1.255, 2.0.0.0/7, 255.0.0.0/8 } }
  set n { typeof udp sport; flags interval; elements = { 1-5, 7, 9-10, 0-0 } }
  set o { type inet_service; elements = { 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26 } }
  set p { type ifname; elements = { "eth0", "lo" } }
  set p2 { type ifname; flags interval; elements = { "eth0", "veth*" } }
  set q { type mark; elements = { 0x1, 0x2 } }
  set r { type ipv6_addr; flags interval; elements = { 2001:db8::/32, ::1, fe80::1-fe80::5 } }
  set s { typeof ct original ip saddr; elements = { 1.2.3.4 } }
  map u { type ipv4_addr : ipv4_addr; elements = { 1.1.1.1 : 2.2.2.2 } }
  map v { type inet_service : verdict; counter; elements = { 22 counter packets 0 bytes 0 comment "ssh" : accept, 80 : jump c, 81 : drop } }
  counter cnt { }
  map w { type inet_service : counter; elements = { 22 : "cnt" } }
  map x { type ipv4_addr : inet_service; flags interval; elements = { 10.0.0.0/8 : 80 } }
  chain c { }
}
table inet e {
  set empty { type ipv4_addr; }
  set full { type ipv4_addr; flags interval; elements = { 0.0.0.0/0 } }
}
"#
        .replace("@CATCHALL_MAP@", &catchall_map),
    );
}

/// Stateful objects, in the kernel's order before the sets.
#[test]
fn stateful_objects() {
    check(
        r#"
table inet filter {
  counter cnt_ssh { comment "ssh"; }
  quota q1 { over 100 mbytes used 0 bytes }
  quota q2 { 5 kbytes }
  limit lim1 { rate 10/second burst 5 packets }
  limit lim2 { rate over 1 mbytes/second burst 10 kbytes }
  ct helper ftp-standard { type "ftp" protocol tcp; l3proto inet; }
  ct timeout agressive { protocol tcp; l3proto ip; policy = { established: 100, close: 4 }; }
  ct timeout u { protocol udp; l3proto ip6; policy = { replied: 10 }; }
  ct expectation e1 { protocol tcp; dport 5; timeout 3s; size 10; l3proto ip; }
  synproxy sp1 { mss 1460; wscale 7; timestamp sack-perm; }
  synproxy sp2 { mss 1400; wscale 2; }
  set s { type ipv4_addr; }
  chain c { }
}
"#,
    );
}

/// Anonymous sets, verdict maps, value maps, concatenations, dynset and
/// object references in rules.
#[test]
fn set_lookups_maps_dynsets_objrefs() {
    let catchall_vmap = since(
        CATCHALL,
        "catch-all element",
        "    tcp dport vmap { 22 : accept, * : drop }",
    );
    let map_as_set = since(
        MAP_AS_SET,
        "map lookup without its data",
        "    tcp dport @vm counter name cnt",
    );
    check(
        &r#"
table inet t {
  counter cnt { }
  quota q1 { 10 mbytes }
  limit lim1 { rate 10/second }
  ct helper ftp-standard { type "ftp" protocol tcp; l3proto inet; }
  set s4 { type ipv4_addr; flags dynamic,timeout; timeout 5m; }
  set allowed { type ipv4_addr; flags interval; elements = { 10.0.0.0/8 } }
  map mm { type ipv4_addr : mark; flags dynamic; }
  set c2 { type ipv4_addr . inet_service; flags dynamic; }
  map vm { type inet_service : verdict; elements = { 22 : accept } }
  map om { type inet_service : counter; elements = { 22 : "cnt" } }
  map m1 { type ipv4_addr : ipv4_addr; elements = { 1.1.1.1 : 2.2.2.2 } }
  chain web { }
  chain c {
    tcp dport { 22, 80 } accept
    ip saddr != { 10.0.0.0/8, 192.168.0.0/16 } drop
    ip saddr . tcp dport { 1.2.3.4 . 22, 1.2.3.5 . 23 } accept
    tcp dport vmap { 22 : accept, 80 : jump web }
    tcp dport vmap @vm
    ip saddr @allowed accept
    ip saddr != @allowed drop
    ct state { established, related } accept
    meta l4proto { tcp, udp } th dport 53 accept
    iifname { "eth0", "lo" } accept
    tcp flags { syn, ack } accept
    icmp type { echo-request, echo-reply } accept
    icmpv6 type { nd-neighbor-solicit, nd-router-advert } accept
    ip6 saddr { ::1, 2001:db8::/32 } accept
    ip saddr { 10.0.0.0/8, 192.168.0.0-192.168.0.10, 1.2.3.4 } accept
    tcp dport { 0-1023, 8080 } accept
    ip daddr . tcp dport vmap { 1.1.1.1 . 22 : accept, 2.2.2.2 . 80 : drop }
    ip saddr . ip daddr { 1.1.1.0/24 . 2.2.2.2 } accept
    ip saddr . tcp dport { 1.1.1.0/24 . 22-25 } accept
@CATCHALL_VMAP@
    add @s4 { ip saddr }
    add @s4 { ip saddr limit rate 10/minute }
    update @s4 { ip saddr timeout 10s }
    update @mm { ip saddr : 0x5 }
    add @c2 { ip saddr . tcp dport }
    ip saddr @s4 drop
    meta mark set ip saddr map { 1.1.1.1 : 0x1, 2.2.2.2 : 0x2 }
    meta mark set tcp dport map { 22 : 1, 80 : 2 }
    meta nfproto ipv4 tcp dport 22 accept
    ct mark { 0x1, 0x5 } accept
    meta mark != { 0x1, 0x5 } accept
@MAP_AS_SET@
    counter name "cnt"
    counter name tcp dport map { 22 : "cnt" }
    counter name tcp dport map @om
    quota name "q1" drop
    limit name "lim1" accept
    ct helper set "ftp-standard"
    meta l4proto tcp counter tcp dport 22 accept
  }
}
table ip n {
  map m1 { type ipv4_addr : ipv4_addr; elements = { 1.1.1.1 : 2.2.2.2 } }
  chain p { type nat hook prerouting priority dstnat;
    dnat to tcp dport map { 80 : 1.1.1.1, 443 : 2.2.2.2 }
    dnat to ip saddr map @m1
    ip protocol { tcp, udp } accept
    dnat to ip saddr . tcp dport map { 1.1.1.1 . 80 : 3.3.3.3 . 8080 }
  }
  chain q { type nat hook postrouting priority srcnat;
    snat to ip daddr map { 1.1.1.1 : 2.2.2.2 }
  }
}
"#
        .replace("@CATCHALL_VMAP@", &catchall_vmap)
        .replace("@MAP_AS_SET@", &map_as_set),
    );
}

/// iptables-nft rules whose xt matches and targets nft 1.0.6 translates
/// through libxtables (`ct state …`, `tcp dport { … }`, `log prefix …`,
/// `meta mark set mark or 0x4000`, empty text for `-m comment`) or prints
/// as `xt match NAME` when the extension has no translation.
#[test]
fn iptables_nft_xt_translations() {
    check_with(
        &[
            r#"iptables-nft -A INPUT -m conntrack --ctstate NEW -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack ! --ctstate NEW,INVALID -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack --ctstate SNAT -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack --ctstatus ASSURED -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack --ctstatus EXPECTED,SEEN_REPLY -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack --ctproto tcp -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack --ctorigsrc 10.0.0.0/8 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack ! --ctorigdst 1.2.3.4 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack --ctorigdstport 80 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack --ctorigsrcport 10:20 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack --ctexpire 10:100 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack --ctdir ORIGINAL -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m conntrack --ctstate UNTRACKED -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m state --state ESTABLISHED -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m comment --comment "hi there" -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p tcp -m multiport ! --dports 80,443 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p udp -m multiport --sports 53,1000:2000 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p tcp -m multiport --ports 22,80 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m limit --limit 5/sec -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m limit --limit 3/min --limit-burst 10 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m limit --limit 10/hour --limit-burst 1 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m limit --limit 1/day -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m addrtype --dst-type LOCAL -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m addrtype ! --dst-type LOCAL -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m addrtype --src-type BROADCAST -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m addrtype --dst-type MULTICAST --limit-iface-in -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m addrtype --dst-type UNICAST,LOCAL -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m mark --mark 0x5 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m mark ! --mark 0x4000/0x4000 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m connmark --mark 0x1 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m connmark --mark 0x1/0xff -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m pkttype --pkt-type broadcast -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m pkttype ! --pkt-type multicast -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m iprange --src-range 1.1.1.1-1.1.1.5 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m iprange ! --dst-range 1.1.1.1-1.1.1.5 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p tcp -m tcp --tcp-flags SYN,RST SYN -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p tcp -m tcp --syn -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p tcp -m tcp ! --syn -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p tcp -m tcp --dport 22:25 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p tcp -m tcp --sport 1024: --dport 22 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p tcp -m tcp --tcp-option 2 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p tcp -m tcp ! --dport 22 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p udp -m udp --sport 67 --dport 68 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p udp -m udp -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p icmp -m icmp --icmp-type echo-request -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p icmp -m icmp --icmp-type 3/4 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p icmp -m icmp ! --icmp-type 8 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -p icmp -m icmp --icmp-type any -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m recent --name x --set -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m recent --name x --update --seconds 30 --hitcount 6 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m statistic --mode random --probability 0.5 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m statistic --mode random --probability 0.25 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m statistic --mode nth --every 3 --packet 1 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m hashlimit --hashlimit-upto 5/sec --hashlimit-name h1 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m physdev --physdev-in eth0 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m length --length 100:200 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m ttl --ttl-eq 5 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m tos --tos 0x10 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m dscp --dscp 10 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m string --string foo --algo bm -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m connlimit --connlimit-above 5 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m helper --helper ftp -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m socket -j ACCEPT"#,
            r#"iptables-nft -A INPUT -m cpu --cpu 1 -j ACCEPT"#,
            r#"iptables-nft -t filter -A OUTPUT -j LOG"#,
            r#"iptables-nft -t filter -A OUTPUT -j LOG --log-prefix "[UFW BLOCK] ""#,
            r#"iptables-nft -t filter -A OUTPUT -j LOG --log-level 4 --log-prefix "x""#,
            r#"iptables-nft -t filter -A OUTPUT -j LOG --log-level 7 --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid"#,
            r#"iptables-nft -t filter -A OUTPUT -j LOG --log-level 6 --log-macdecode"#,
            r#"iptables-nft -t filter -A OUTPUT -j REJECT"#,
            r#"iptables-nft -t filter -A OUTPUT -p tcp -j REJECT --reject-with tcp-reset"#,
            r#"iptables-nft -t filter -A OUTPUT -j REJECT --reject-with icmp-host-prohibited"#,
            r#"iptables-nft -t filter -A OUTPUT -j REJECT --reject-with icmp-net-unreachable"#,
            r#"iptables-nft -t filter -A OUTPUT -j REJECT --reject-with icmp-admin-prohibited"#,
            r#"iptables-nft -t filter -A OUTPUT -j REJECT --reject-with icmp-host-unreachable"#,
            r#"iptables-nft -t filter -A OUTPUT -j REJECT --reject-with icmp-proto-unreachable"#,
            r#"iptables-nft -t filter -A OUTPUT -j REJECT --reject-with icmp-net-prohibited"#,
            r#"iptables-nft -t filter -A OUTPUT -j NFLOG --nflog-group 5"#,
            r#"iptables-nft -t filter -A OUTPUT -j NFLOG --nflog-prefix "p" --nflog-group 2 --nflog-threshold 3 --nflog-size 100"#,
            r#"iptables-nft -t nat -A POSTROUTING -j MASQUERADE"#,
            r#"iptables-nft -t nat -A POSTROUTING -j MASQUERADE --random-fully"#,
            r#"iptables-nft -t nat -A POSTROUTING -j MASQUERADE --random"#,
            r#"iptables-nft -t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000"#,
            r#"iptables-nft -t nat -A POSTROUTING -j SNAT --to-source 1.2.3.4"#,
            r#"iptables-nft -t nat -A POSTROUTING -j SNAT --to-source 1.2.3.4-1.2.3.8"#,
            r#"iptables-nft -t nat -A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:1000-2000 --persistent"#,
            r#"iptables-nft -t mangle -A POSTROUTING -j MARK --set-mark 0x10"#,
            r#"iptables-nft -t mangle -A POSTROUTING -j MARK --set-xmark 0x10/0xff"#,
            r#"iptables-nft -t mangle -A POSTROUTING -j MARK --or-mark 0x4000"#,
            r#"iptables-nft -t mangle -A POSTROUTING -j MARK --and-mark 0xff"#,
            r#"iptables-nft -t mangle -A POSTROUTING -j MARK --xor-mark 0x4000"#,
            r#"iptables-nft -t mangle -A POSTROUTING -j MARK --set-mark 0x1/0x1"#,
            r#"iptables-nft -t mangle -A POSTROUTING -p tcp -j TCPMSS --clamp-mss-to-pmtu"#,
            r#"iptables-nft -t mangle -A POSTROUTING -p tcp -j TCPMSS --set-mss 1400"#,
            r#"iptables-nft -t mangle -A POSTROUTING -j TTL --ttl-set 5"#,
            r#"iptables-nft -t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.2:8080"#,
            r#"iptables-nft -t nat -A PREROUTING -j DNAT --to-destination 10.0.0.2"#,
            r#"iptables-nft -t nat -A PREROUTING -p tcp -j DNAT --to-destination :8080"#,
            r#"iptables-nft -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 3128"#,
            r#"iptables-nft -t nat -A PREROUTING -p tcp -j REDIRECT"#,
            r#"iptables-nft -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 1000-2000 --random"#,
            r#"iptables-nft -t raw -A PREROUTING -j CT --notrack"#,
            r#"iptables-nft -t raw -A PREROUTING -j CT --zone 5"#,
            r#"iptables-nft -t raw -A PREROUTING -j NOTRACK"#,
            r#"ip6tables-nft -A INPUT -j REJECT"#,
            r#"ip6tables-nft -A INPUT -j REJECT --reject-with icmp6-adm-prohibited"#,
            r#"ip6tables-nft -A INPUT -p tcp -j REJECT --reject-with tcp-reset"#,
            r#"ip6tables-nft -A INPUT -m conntrack --ctstate NEW --ctorigsrc 2001:db8::/32"#,
            r#"ip6tables-nft -A INPUT -j LOG --log-prefix "v6 ""#,
            r#"ip6tables-nft -t nat -A POSTROUTING -j MASQUERADE"#,
            r#"ip6tables-nft -t nat -A POSTROUTING -j SNAT --to-source 2001:db8::1"#,
            r#"ip6tables-nft -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 130 -j ACCEPT"#,
            r#"ip6tables-nft -A INPUT -p tcp -m multiport --dports 22 -j ACCEPT"#,
        ],
        "",
    );
}
