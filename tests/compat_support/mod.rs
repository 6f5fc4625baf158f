//! Shared helpers of the compat tests: real iptables-nft/ip6tables-nft
//! layouts (Docker-like, ufw-like, and one rule per xt extension) built
//! inside the test thread's own network namespace.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use nftguard::engine::{DumpFilter, Ruleset};
use nftguard::netlink::Socket;

/// Runs `cmd` with bash in the current namespace; panics with its stderr
/// when it fails. Returns stdout.
pub fn sh(cmd: &str) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "`{cmd}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs every non-empty, non-comment line of `script` with `sh`.
pub fn run_script(script: &str) {
    for line in script.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        sh(line);
    }
}

/// The whole ruleset of the current namespace.
pub fn dump() -> Ruleset {
    let mut sock = Socket::new().expect("socket");
    Ruleset::dump(&mut sock, &DumpFilter::all()).expect("dump")
}

/// Docker 24's iptables layout for one published container port.
pub const DOCKER: &str = r#"
iptables-nft -t nat -N DOCKER
iptables-nft -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
iptables-nft -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
iptables-nft -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
iptables-nft -t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
iptables-nft -t nat -A DOCKER -i docker0 -j RETURN
iptables-nft -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
iptables-nft -N DOCKER
iptables-nft -N DOCKER-ISOLATION-STAGE-1
iptables-nft -N DOCKER-ISOLATION-STAGE-2
iptables-nft -N DOCKER-USER
iptables-nft -A FORWARD -j DOCKER-USER
iptables-nft -A FORWARD -j DOCKER-ISOLATION-STAGE-1
iptables-nft -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables-nft -A FORWARD -o docker0 -j DOCKER
iptables-nft -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
iptables-nft -A FORWARD -i docker0 -o docker0 -j ACCEPT
iptables-nft -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
iptables-nft -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
iptables-nft -A DOCKER-ISOLATION-STAGE-1 -j RETURN
iptables-nft -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
iptables-nft -A DOCKER-ISOLATION-STAGE-2 -j RETURN
iptables-nft -A DOCKER-USER -j RETURN
"#;

/// The core of ufw's iptables layout (before/user/after chains, rate
/// limiting with `recent`, logging with `limit` + `LOG`).
pub const UFW: &str = r#"
iptables-nft -N ufw-before-logging-input
iptables-nft -N ufw-before-input
iptables-nft -N ufw-user-input
iptables-nft -N ufw-after-input
iptables-nft -N ufw-logging-deny
iptables-nft -N ufw-not-local
iptables-nft -N ufw-user-limit
iptables-nft -N ufw-user-limit-accept
iptables-nft -P INPUT DROP
iptables-nft -A INPUT -j ufw-before-logging-input
iptables-nft -A INPUT -j ufw-before-input
iptables-nft -A ufw-before-input -i lo -j ACCEPT
iptables-nft -A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables-nft -A ufw-before-input -m conntrack --ctstate INVALID -j ufw-logging-deny
iptables-nft -A ufw-before-input -m conntrack --ctstate INVALID -j DROP
iptables-nft -A ufw-before-input -p icmp -m icmp --icmp-type 3 -j ACCEPT
iptables-nft -A ufw-before-input -p icmp -m icmp --icmp-type 8 -j ACCEPT
iptables-nft -A ufw-before-input -p udp -m udp --sport 67 --dport 68 -j ACCEPT
iptables-nft -A ufw-before-input -j ufw-not-local
iptables-nft -A ufw-before-input -d 224.0.0.251/32 -p udp -m udp --dport 5353 -j ACCEPT
iptables-nft -A ufw-before-input -j ufw-user-input
iptables-nft -A ufw-not-local -m addrtype --dst-type LOCAL -j RETURN
iptables-nft -A ufw-not-local -m addrtype --dst-type MULTICAST -j RETURN
iptables-nft -A ufw-not-local -m addrtype --dst-type BROADCAST -j RETURN
iptables-nft -A ufw-not-local -m limit --limit 3/min --limit-burst 10 -j ufw-logging-deny
iptables-nft -A ufw-not-local -j DROP
iptables-nft -A ufw-logging-deny -m conntrack --ctstate INVALID -m limit --limit 3/min --limit-burst 10 -j RETURN
iptables-nft -A ufw-logging-deny -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[UFW BLOCK] "
iptables-nft -A ufw-user-input -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m recent --set --name DEFAULT --mask 255.255.255.255 --rsource
iptables-nft -A ufw-user-input -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 --name DEFAULT --mask 255.255.255.255 --rsource -j ufw-user-limit
iptables-nft -A ufw-user-input -p tcp -m tcp --dport 22 -j ufw-user-limit-accept
iptables-nft -A ufw-user-input -p tcp -m multiport --dports 80,443 -m comment --comment "'dapp_Apache Full'" -j ACCEPT
iptables-nft -A ufw-user-limit -m limit --limit 3/min -j LOG --log-prefix "[UFW LIMIT BLOCK] "
iptables-nft -A ufw-user-limit -j REJECT --reject-with icmp-port-unreachable
iptables-nft -A ufw-user-limit-accept -j ACCEPT
"#;

/// One or more rules per xt extension (and the native forms around them).
pub const EXTENSIONS_V4: &str = r#"
iptables-nft -N EXT
iptables-nft -A EXT -p tcp -m hashlimit --hashlimit-upto 5/min --hashlimit-burst 8 --hashlimit-mode srcip,dstport --hashlimit-name ssh --hashlimit-htable-expire 120000 -j ACCEPT
iptables-nft -A EXT -m hashlimit --hashlimit-above 1mb/s --hashlimit-mode dstip --hashlimit-name bw --hashlimit-srcmask 24 -j DROP
iptables-nft -A EXT -m recent --rcheck --seconds 60 --reap --name SSH --rdest -j DROP
iptables-nft -A EXT -m recent ! --update --name X --mask 255.255.0.0 --rttl
iptables-nft -A EXT -p tcp -m multiport --sports 1000:2000,3000 -j ACCEPT
iptables-nft -A EXT -p udp -m multiport ! --ports 53,67:68 -j ACCEPT
iptables-nft -A EXT -m mark --mark 0x1/0xff -j ACCEPT
iptables-nft -A EXT -m mark ! --mark 0x2 -j ACCEPT
iptables-nft -A EXT -m connmark --mark 0x2/0xf -j ACCEPT
iptables-nft -A EXT -m connmark ! --mark 0x3 -j ACCEPT
iptables-nft -A EXT -m pkttype --pkt-type multicast -j ACCEPT
iptables-nft -A EXT -m pkttype ! --pkt-type broadcast -j ACCEPT
iptables-nft -A EXT -m iprange --src-range 10.0.0.1-10.0.0.5 ! --dst-range 192.168.0.1-192.168.0.9 -j ACCEPT
iptables-nft -A EXT -m conntrack --ctstate NEW,UNTRACKED,SNAT --ctproto tcp --ctorigsrc 10.0.0.0/8 --ctorigdstport 8000:8080 --ctstatus ASSURED --ctexpire 10:20 --ctdir REPLY -j ACCEPT
iptables-nft -A EXT -m conntrack ! --ctstate INVALID --ctrepldst 10.1.2.3 --ctreplsrcport 53 -j ACCEPT
iptables-nft -A EXT -m state --state ESTABLISHED,RELATED -j ACCEPT
iptables-nft -A EXT -m comment --comment plain -j ACCEPT
iptables-nft -A EXT -p tcp -m tcp --sport 1024:65535 --tcp-flags SYN,RST,ACK SYN -j ACCEPT
iptables-nft -A EXT -p tcp --syn -j ACCEPT
iptables-nft -A EXT -p tcp ! --dport 22 -j ACCEPT
iptables-nft -A EXT -p udp ! --sport 53 -j ACCEPT
iptables-nft -A EXT -p icmp --icmp-type echo-reply -j ACCEPT
iptables-nft -A EXT -p icmp --icmp-type 3/4 -j ACCEPT
iptables-nft -A EXT -p icmp ! --icmp-type any -j ACCEPT
iptables-nft -A EXT -p gre -j ACCEPT
iptables-nft -A EXT ! -p udp -j ACCEPT
iptables-nft -A EXT -i eth+ ! -o lo -s 10.1.2.0/23 ! -d 1.2.3.4 -j ACCEPT
iptables-nft -A EXT ! -s 10.0.0.0/255.0.255.0 -j ACCEPT
iptables-nft -A EXT -m limit --limit 10/sec -j ACCEPT
iptables-nft -A EXT -m limit --limit 100/hour --limit-burst 1 -j ACCEPT
iptables-nft -A EXT -j LOG --log-level 6 --log-tcp-sequence --log-uid --log-prefix x
iptables-nft -A EXT -j LOG
iptables-nft -A EXT -p tcp -j REJECT --reject-with tcp-reset
iptables-nft -A EXT -j REJECT --reject-with icmp-host-prohibited
iptables-nft -A EXT -j REJECT
iptables-nft -A EXT -j NFLOG --nflog-group 5 --nflog-prefix nf --nflog-threshold 3 --nflog-size 128
iptables-nft -A EXT -j NFLOG
iptables-nft -A EXT -g DOCKER-USER
iptables-nft -A OUTPUT -m owner --uid-owner 1000 --gid-owner 100-200 -j ACCEPT
iptables-nft -A OUTPUT -m owner ! --socket-exists -j ACCEPT
iptables-nft -t mangle -A PREROUTING -j MARK --set-mark 0x5
iptables-nft -t mangle -A PREROUTING -j MARK --set-xmark 0x1/0x3
iptables-nft -t mangle -A PREROUTING -j MARK --and-mark 0xf0
iptables-nft -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
iptables-nft -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400
iptables-nft -t raw -A PREROUTING -p udp --dport 53 -j CT --notrack
iptables-nft -t raw -A PREROUTING -p udp --dport 54 -j NOTRACK
iptables-nft -t raw -A OUTPUT -j CT --zone 5
iptables-nft -t raw -A OUTPUT -j CT --zone-orig mark --ctevents new,destroy
iptables-nft -t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 172.17.0.2:80
iptables-nft -t nat -A PREROUTING -p tcp --dport 81 -j DNAT --to-destination 10.0.0.1-10.0.0.9
iptables-nft -t nat -A PREROUTING -p tcp --dport 82 -j REDIRECT --to-ports 8080
iptables-nft -t nat -A PREROUTING -p udp --dport 83 -j REDIRECT
iptables-nft -t nat -A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:1000-2000 --random
iptables-nft -t nat -A POSTROUTING -o eth+ -j SNAT --to-source 1.2.3.4
iptables-nft -t nat -A POSTROUTING -p udp -j MASQUERADE --to-ports 1000-2000 --random-fully
"#;

/// IPv6 counterparts.
pub const EXTENSIONS_V6: &str = r#"
ip6tables-nft -N DOCKER-USER
ip6tables-nft -A INPUT -s 2001:db8::/32 -p tcp --dport 22 -j ACCEPT
ip6tables-nft -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT
ip6tables-nft -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 1/3 -j ACCEPT
ip6tables-nft -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ip6tables-nft -A INPUT -m conntrack --ctorigsrc 2001:db8::/48 -j ACCEPT
ip6tables-nft -A INPUT -p tcp -m hashlimit --hashlimit-upto 10/sec --hashlimit-mode srcip --hashlimit-name v6 -j ACCEPT
ip6tables-nft -A INPUT -m recent --set --name V6
ip6tables-nft -A INPUT -m iprange --src-range 2001:db8::1-2001:db8::9 -j ACCEPT
ip6tables-nft -A INPUT ! -d fe80::/10 -i eth0 -j ACCEPT
ip6tables-nft -A INPUT -j REJECT --reject-with icmp6-adm-prohibited
ip6tables-nft -A INPUT -p tcp -j REJECT --reject-with tcp-reset
ip6tables-nft -A INPUT -j REJECT
ip6tables-nft -A INPUT -j LOG --log-prefix "v6 "
ip6tables-nft -A FORWARD -j DOCKER-USER
ip6tables-nft -t nat -A POSTROUTING -s fd00::/64 -j MASQUERADE
ip6tables-nft -t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination [2001:db8::2]:80
ip6tables-nft -t nat -A PREROUTING -p tcp --dport 81 -j REDIRECT --to-ports 8080
ip6tables-nft -t nat -A POSTROUTING -o eth0 -j SNAT --to-source 2001:db8::1
ip6tables-nft -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
ip6tables-nft -t raw -A PREROUTING -j CT --notrack
"#;

/// Rules using ipsets (the sets must exist: see [`create_ipset`]).
pub const SETS_V4: &str = r#"
iptables-nft -A EXT -m set --match-set blocklist src -j DROP
iptables-nft -A EXT -m set ! --match-set pairs src,dst --return-nomatch -j DROP
"#;

/// Creates an ipset in the current namespace over netlink (the `ipset`
/// program is not installed on the test machines): `IPSET_CMD_CREATE` with
/// protocol 7, name, type, revision 0 and family inet.
pub fn create_ipset(name: &str, typename: &str) {
    use nftguard::netlink::message::{NLMSG_ERROR, NLM_F_ACK, NLM_F_REQUEST};
    use nftguard::netlink::{KernelError, MessageIter, MessageWriter, NLA_F_NESTED};
    let mut sock = Socket::new().expect("socket");
    let seq = sock.next_seq(1);
    let mut w = MessageWriter::with_capacity(128);
    // NFNL_SUBSYS_IPSET (6) << 8 | IPSET_CMD_CREATE (2); NLM_F_CREATE|EXCL.
    w.begin_nfgen(
        (6 << 8) | 2,
        NLM_F_REQUEST | NLM_F_ACK | 0x400 | 0x200,
        seq,
        2,
        0,
    );
    {
        let mut a = w.attrs();
        a.put_u8(1, 7).unwrap(); // IPSET_ATTR_PROTOCOL
        a.put_strz(2, name).unwrap(); // IPSET_ATTR_SETNAME
        a.put_strz(3, typename).unwrap(); // IPSET_ATTR_TYPENAME
        a.put_u8(4, 0).unwrap(); // IPSET_ATTR_REVISION
        a.put_u8(5, 2).unwrap(); // IPSET_ATTR_FAMILY = NFPROTO_IPV4
        a.nested(7 | NLA_F_NESTED, |_| Ok(())).unwrap(); // IPSET_ATTR_DATA
    }
    w.finish_message();
    sock.send(w.as_bytes()).unwrap();
    loop {
        let buf = sock.recv(true).unwrap().unwrap().to_vec();
        for m in MessageIter::new(&buf) {
            let m = m.unwrap();
            if m.header.seq == seq && m.header.kind == NLMSG_ERROR {
                let e = KernelError::parse(&m.header, m.payload).unwrap();
                assert_eq!(e.errno, 0, "creating ipset {name}: {e:?}");
                return;
            }
        }
    }
}

/// The oracle's output with its two timestamp lines normalised.
pub fn oracle_save(prog: &str, counters: bool) -> String {
    nftguard::compat::save::normalize_timestamps(&sh(&format!(
        "{prog}{}",
        if counters { " -c" } else { "" }
    )))
}

/// Every layout of this module (ipsets included), IPv4 and IPv6.
pub fn build_all_layouts() {
    run_script(DOCKER);
    run_script(UFW);
    run_script(EXTENSIONS_V4);
    create_ipset("blocklist", "hash:ip");
    create_ipset("pairs", "hash:ip,port");
    run_script(SETS_V4);
    run_script(EXTENSIONS_V6);
}

/// Sends a few UDP datagrams over `lo` so that counters are not all zero.
pub fn make_traffic() {
    sh("ip link set lo up");
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..3 {
        let _ = s.send_to(b"nftguard", "127.0.0.1:9");
    }
}
