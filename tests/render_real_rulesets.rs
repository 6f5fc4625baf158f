//! The corpus of real rulesets: what ufw, firewalld, Docker, kube-proxy and
//! a typical `/etc/nftables.conf` put into the kernel, each built by the
//! real tool in a fresh network namespace. For each, `nft_text` must equal
//! `nft list ruleset` (nft 1.0.6) byte for byte, and every table, chain,
//! rule, set, element list, object and flowtable the kernel dumps must
//! decode and re-encode to the same bytes.
//!
//! ufw and firewalld run in a private mount namespace (`unshare -m`) over a
//! copy of their configuration, with private `/run` and `/var/log`, so the
//! host's files, bus and ruleset are never touched. A test whose tool is
//! not installed prints `SKIPPED` with the reason and passes.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::without_expiry;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nftguard::engine::{dump_raw, dump_raw_with, setelem_request, DumpFilter};
use nftguard::netlink::{enter_new_netns, AttrWriter, Socket};
use nftguard::nft::consts::msg;
use nftguard::nft::render::nft_text;
use nftguard::nft::{
    Chain, ElementList, Expr, Family, Flowtable, Object, Rule, Ruleset, Set, Table,
};

/// Whether `program` is installed in a standard directory.
fn have(program: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(program).is_file())
}

/// Prints why a test is skipped; true when every program is there.
fn require(programs: &[(&str, &str)]) -> bool {
    for (prog, pkg) in programs {
        if !have(prog) {
            eprintln!("SKIPPED: `{prog}` is not installed (Debian package {pkg})");
            return false;
        }
    }
    true
}

/// Runs `sh -c script` (with `set -e`) and returns stdout; panics with
/// stderr on failure.
fn sh(script: &str, envs: &[(&str, &Path)]) -> String {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &format!("set -e\n{script}")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("running sh");
    assert!(
        out.status.success(),
        "script failed ({:?}):\n{script}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "nftguard-real-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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

fn reencode<F>(emit: F) -> Vec<u8>
where
    F: FnOnce(&mut AttrWriter<'_>) -> nftguard::Result<()>,
{
    let mut out = Vec::new();
    emit(&mut AttrWriter::new(&mut out)).unwrap();
    out
}

fn assert_same(what: &str, got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "{what}: re-encoding differs\n kernel {want:02x?}\n ours   {got:02x?}"
    );
}

/// What the lossless check saw.
#[derive(Debug, Default)]
struct Counts {
    objects: usize,
    exprs: usize,
    xt: usize,
}

/// Every object of the namespace's ruleset decodes and re-encodes byte
/// for byte; xt matches/targets also through their typed view.
fn assert_lossless(sock: &mut Socket) -> Counts {
    let mut n = Counts::default();
    for r in dump_raw(sock, msg::GETTABLE, Family::Unspec).unwrap() {
        let t = Table::parse(r.family, &r.attrs).unwrap();
        assert_same(
            &format!("table {}", t.name),
            &reencode(|w| t.emit(w)),
            &r.attrs,
        );
        n.objects += 1;
    }
    for r in dump_raw(sock, msg::GETCHAIN, Family::Unspec).unwrap() {
        let c = Chain::parse(r.family, &r.attrs).unwrap();
        assert_same(
            &format!("chain {}", c.name),
            &reencode(|w| c.emit(w)),
            &r.attrs,
        );
        n.objects += 1;
    }
    for r in dump_raw(sock, msg::GETRULE, Family::Unspec).unwrap() {
        let rule = Rule::parse(r.family, &r.attrs).unwrap();
        let what = format!("rule in {} {}", rule.table, rule.chain);
        assert_same(&what, &reencode(|w| rule.emit(w)), &r.attrs);
        for e in &rule.exprs {
            n.exprs += 1;
            if let Some(x) = nftguard::compat::xt::XtExpr::from_expr(e, rule.family) {
                let x = x.unwrap_or_else(|err| panic!("{what}: xt expression: {err}"));
                assert_eq!(&x.to_expr().unwrap(), e, "{what}: xt {} view", x.name);
                n.xt += 1;
            }
        }
        n.objects += 1;
    }
    let mut sets = Vec::new();
    for r in dump_raw(sock, msg::GETSET, Family::Unspec).unwrap() {
        let s = Set::parse(r.family, &r.attrs).unwrap();
        assert_same(
            &format!("set {}", s.name),
            &reencode(|w| s.emit(w)),
            &r.attrs,
        );
        sets.push(s);
        n.objects += 1;
    }
    for s in &sets {
        let req = setelem_request(&s.table, &s.name).unwrap();
        for r in dump_raw_with(sock, msg::GETSETELEM, s.family, &req).unwrap() {
            let l = ElementList::parse(r.family, &r.attrs).unwrap();
            for e in l.elements.iter().flat_map(|e| e.expressions()) {
                assert!(
                    Expr::is_typed(e),
                    "set {}: element expression kept opaque",
                    s.name
                );
            }
            let what = format!("elements of {}", s.name);
            assert_same(&what, &reencode(|w| l.emit(w)), &r.attrs);
            n.objects += 1;
        }
    }
    for r in dump_raw(sock, msg::GETOBJ, Family::Unspec).unwrap() {
        let o = Object::parse(r.family, &r.attrs).unwrap();
        assert_same(
            &format!("object {}", o.name),
            &reencode(|w| o.emit(w)),
            &r.attrs,
        );
        n.objects += 1;
    }
    for r in dump_raw(sock, msg::GETFLOWTABLE, Family::Unspec).unwrap() {
        let f = Flowtable::parse(r.family, &r.attrs).unwrap();
        assert_same(
            &format!("flowtable {}", f.name),
            &reencode(|w| f.emit(w)),
            &r.attrs,
        );
        n.objects += 1;
    }
    n
}

/// Compares `nft_text` with `nft list ruleset` for the calling thread's
/// namespace, then checks lossless decoding. Returns the ruleset.
fn check_ruleset(label: &str) -> Ruleset {
    let out = Command::new("nft")
        .args(["list", "ruleset"])
        .output()
        .expect("running nft");
    assert!(out.status.success(), "{label}: nft list ruleset failed");
    // nft's "managed by iptables-nft" warnings go to stderr: not compared.
    let expected = without_expiry(&String::from_utf8(out.stdout).unwrap());
    let mut sock = Socket::new().unwrap();
    let rs = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
    let got = without_expiry(&nft_text(&rs));
    assert!(
        expected == got,
        "{label}: nft_text differs from `nft list ruleset` (- nft, + nftguard):\n{}",
        diff(&expected, &got)
    );
    let n = assert_lossless(&mut sock);
    eprintln!(
        "{label}: {} lines identical; {} kernel objects, {} expressions ({} xt) re-encode byte for byte",
        expected.lines().count(),
        n.objects,
        n.exprs,
        n.xt
    );
    assert!(!rs.rules.is_empty(), "{label}: no rules");
    rs
}

/// Runs iptables-nft/ip6tables-nft commands, one per line.
fn iptables(lines: &str) {
    for l in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
        sh(l, &[]);
    }
}

#[test]
fn ufw_enabled_with_allow_limit_deny() {
    if !require(&[
        ("ufw", "ufw"),
        ("iptables-nft", "iptables"),
        ("nft", "nftables"),
    ]) {
        return;
    }
    enter_new_netns().unwrap();
    let scratch = Scratch::new("ufw");
    let copy = scratch.0.join("ufw");
    sh(r#"cp -a /etc/ufw "$COPY""#, &[("COPY", &copy)]);
    // ufw writes its state under /etc/ufw (the private copy) and uses
    // iptables-nft in the namespace inherited from this thread.
    sh(
        r#"unshare -m --propagation private sh -ec '
mount --bind "$COPY" /etc/ufw
ufw --force enable >/dev/null
ufw allow 80/tcp >/dev/null
ufw limit 2222/tcp >/dev/null
ufw deny from 10.0.0.0/8 >/dev/null
ufw allow proto udp from 192.168.1.0/24 to any port 53 >/dev/null
'"#,
        &[("COPY", &copy)],
    );
    let rs = check_ruleset("ufw");
    assert!(rs.chains.iter().any(|c| c.name == "ufw-user-limit"));
}

/// Starts a private system bus and firewalld, configures it at runtime,
/// then kills firewalld with SIGKILL so that it leaves its ruleset in the
/// namespace (on a clean exit it removes its table).
const FIREWALLD: &str = r#"unshare -m --propagation private sh -ec '
mount -t tmpfs nftguard-run /run
mount -t tmpfs nftguard-log /var/log
cp -a /etc/firewalld "$SCRATCH/firewalld"
mount --bind "$SCRATCH/firewalld" /etc/firewalld
mkdir -p /run/dbus
dbus-daemon --system --fork --print-pid > /run/test-dbus.pid
firewalld --nofork --nopid >/dev/null 2>&1 &
echo $! > /run/test-firewalld.pid
stop() {
  kill -9 $(cat /run/test-firewalld.pid) 2>/dev/null || true
  kill $(cat /run/test-dbus.pid) 2>/dev/null || true
}
trap stop EXIT
i=0
until firewall-cmd --state >/dev/null 2>&1 && nft list table inet firewalld >/dev/null 2>&1; do
  i=$((i+1)); if [ $i -gt 900 ]; then echo "firewalld did not start" >&2; exit 1; fi; sleep 0.1
done
firewall-cmd --add-service=http >/dev/null
firewall-cmd --add-service=https >/dev/null
firewall-cmd --add-port=5000-5010/udp >/dev/null
firewall-cmd --add-rich-rule="rule family=ipv4 source address=192.168.1.0/24 port port=8080 protocol=tcp accept" >/dev/null
firewall-cmd --add-rich-rule="rule family=ipv4 source address=10.9.0.0/16 service name=ssh log prefix=ssh-in level=info limit value=3/m accept" >/dev/null
firewall-cmd --add-rich-rule="rule family=ipv6 source address=2001:db8::/32 reject" >/dev/null
firewall-cmd --add-masquerade >/dev/null
firewall-cmd --add-forward-port=port=8022:proto=tcp:toport=22 >/dev/null
# Let firewalld finish its last transaction before it is killed.
firewall-cmd --state >/dev/null
'"#;

#[test]
fn firewalld_running_with_services_and_rich_rules() {
    if !require(&[
        ("firewalld", "firewalld"),
        ("firewall-cmd", "firewalld"),
        ("dbus-daemon", "dbus-daemon"),
        ("nft", "nftables"),
    ]) {
        return;
    }
    enter_new_netns().unwrap();
    let scratch = Scratch::new("firewalld");
    sh(FIREWALLD, &[("SCRATCH", &scratch.0)]);
    let rs = check_ruleset("firewalld");
    assert!(rs.tables.iter().any(|t| t.name == "firewalld"));
    assert!(
        rs.sets.iter().any(|s| s.is_anonymous()),
        "firewalld's rules use anonymous sets"
    );
}

/// Docker's iptables layout (docker 20–24 with one bridge network and one
/// published port), replayed with iptables-nft.
const DOCKER: &str = r#"
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
iptables-nft -P FORWARD DROP
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
iptables-nft -I DOCKER-USER -i eth0 -s 203.0.113.0/24 -j DROP
iptables-nft -I DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN
"#;

#[test]
fn docker_layout_with_iptables_nft() {
    if !require(&[("iptables-nft", "iptables"), ("nft", "nftables")]) {
        return;
    }
    enter_new_netns().unwrap();
    iptables(DOCKER);
    let rs = check_ruleset("docker");
    assert!(rs
        .chains
        .iter()
        .any(|c| c.name == "DOCKER-ISOLATION-STAGE-2"));
}

/// kube-proxy's iptables mode (Kubernetes 1.27) for one ClusterIP service
/// with two endpoints and a NodePort, replayed with iptables-nft.
const KUBE_PROXY: &str = r#"
iptables-nft -t mangle -N KUBE-IPTABLES-HINT
iptables-nft -t mangle -N KUBE-KUBELET-CANARY
iptables-nft -t mangle -N KUBE-PROXY-CANARY
iptables-nft -t nat -N KUBE-KUBELET-CANARY
iptables-nft -t nat -N KUBE-PROXY-CANARY
iptables-nft -t nat -N KUBE-SERVICES
iptables-nft -t nat -N KUBE-POSTROUTING
iptables-nft -t nat -N KUBE-MARK-MASQ
iptables-nft -t nat -N KUBE-NODEPORTS
iptables-nft -t nat -N KUBE-SVC-NPX46M4PTMTKRN6Y
iptables-nft -t nat -N KUBE-SEP-AAAAAAAAAAAAAAAA
iptables-nft -t nat -N KUBE-SEP-BBBBBBBBBBBBBBBB
iptables-nft -t nat -N KUBE-EXT-CCCCCCCCCCCCCCCC
iptables-nft -t nat -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
iptables-nft -t nat -A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
iptables-nft -t nat -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
iptables-nft -t nat -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
iptables-nft -t nat -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
iptables-nft -t nat -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
iptables-nft -t nat -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
iptables-nft -t nat -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y
iptables-nft -t nat -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
iptables-nft -t nat -A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30080 -j KUBE-EXT-CCCCCCCCCCCCCCCC
iptables-nft -t nat -A KUBE-EXT-CCCCCCCCCCCCCCCC -m comment --comment "masquerade traffic for default/web:http external destinations" -j KUBE-MARK-MASQ
iptables-nft -t nat -A KUBE-EXT-CCCCCCCCCCCCCCCC -j KUBE-SVC-NPX46M4PTMTKRN6Y
iptables-nft -t nat -A KUBE-SVC-NPX46M4PTMTKRN6Y ! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-MARK-MASQ
iptables-nft -t nat -A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default/kubernetes:https -> 192.168.1.10:6443" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-AAAAAAAAAAAAAAAA
iptables-nft -t nat -A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default/kubernetes:https -> 192.168.1.11:6443" -j KUBE-SEP-BBBBBBBBBBBBBBBB
iptables-nft -t nat -A KUBE-SEP-AAAAAAAAAAAAAAAA -s 192.168.1.10/32 -m comment --comment "default/kubernetes:https" -j KUBE-MARK-MASQ
iptables-nft -t nat -A KUBE-SEP-AAAAAAAAAAAAAAAA -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination 192.168.1.10:6443
iptables-nft -t nat -A KUBE-SEP-BBBBBBBBBBBBBBBB -s 192.168.1.11/32 -m comment --comment "default/kubernetes:https" -j KUBE-MARK-MASQ
iptables-nft -t nat -A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination 192.168.1.11:6443
iptables-nft -N KUBE-FIREWALL
iptables-nft -N KUBE-FORWARD
iptables-nft -N KUBE-KUBELET-CANARY
iptables-nft -N KUBE-PROXY-CANARY
iptables-nft -N KUBE-PROXY-FIREWALL
iptables-nft -N KUBE-EXTERNAL-SERVICES
iptables-nft -N KUBE-NODEPORTS
iptables-nft -N KUBE-SERVICES
iptables-nft -A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
iptables-nft -A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
iptables-nft -A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
iptables-nft -A INPUT -j KUBE-FIREWALL
iptables-nft -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
iptables-nft -A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
iptables-nft -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
iptables-nft -A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
iptables-nft -A OUTPUT -j KUBE-FIREWALL
iptables-nft -A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
iptables-nft -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
iptables-nft -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
iptables-nft -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables-nft -A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns has no endpoints" -m udp --dport 53 -j REJECT --reject-with icmp-port-unreachable
"#;

#[test]
fn kube_proxy_layout_with_iptables_nft() {
    if !require(&[("iptables-nft", "iptables"), ("nft", "nftables")]) {
        return;
    }
    enter_new_netns().unwrap();
    iptables(KUBE_PROXY);
    let rs = check_ruleset("kube-proxy");
    assert!(rs
        .chains
        .iter()
        .any(|c| c.name == "KUBE-SVC-NPX46M4PTMTKRN6Y"));
}

/// A typical hand-written `/etc/nftables.conf`: an inet filter with named
/// sets and maps, a blocklist fed by the packet path, rate limits, NAT.
const NFTABLES_CONF: &str = r#"
flush ruleset

define LAN = 192.168.1.0/24

table inet filter {
	counter ssh_attempts { }

	set trusted_v4 {
		type ipv4_addr
		flags interval
		auto-merge
		elements = { 10.0.0.0/8, 172.16.0.0/12, $LAN, 203.0.113.7 }
	}

	set trusted_v6 {
		type ipv6_addr
		flags interval
		elements = { 2001:db8::/32, fe80::/10 }
	}

	set blocklist {
		type ipv4_addr
		flags dynamic, timeout
		timeout 10m
		size 65536
	}

	set web_ports {
		type inet_service
		elements = { 80, 443, 8080, 8443 }
	}

	map service_verdicts {
		type inet_service : verdict
		elements = { 22 : jump ssh_in, 53 : accept, 123 : accept }
	}

	chain ssh_in {
		ip saddr @trusted_v4 counter name ssh_attempts accept
		ct state new limit rate over 10/minute add @blocklist { ip saddr } drop
		counter name ssh_attempts accept
	}

	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state vmap { invalid : drop, established : accept, related : accept }
		ip saddr @blocklist drop
		meta l4proto { icmp, ipv6-icmp } limit rate 10/second accept
		tcp dport @web_ports accept
		meta l4proto { tcp, udp } th dport vmap @service_verdicts
		ip6 saddr @trusted_v6 tcp dport 9100 accept
		ip saddr . tcp dport { 192.168.1.10 . 5432, 192.168.1.11 . 5432 } accept
		log prefix "nft drop: " level info flags all counter drop
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" oifname "wan0" accept
	}

	chain output {
		type filter hook output priority filter; policy accept;
	}
}

table ip nat {
	map port_forwards {
		type inet_service : ipv4_addr . inet_service
		elements = { 2222 : 192.168.1.10 . 22, 8080 : 192.168.1.20 . 80 }
	}

	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "wan0" dnat ip to tcp dport map @port_forwards
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" ip saddr $LAN masquerade
	}
}
"#;

#[test]
fn typical_nftables_conf_with_sets_and_maps() {
    if !require(&[("nft", "nftables")]) {
        return;
    }
    enter_new_netns().unwrap();
    let scratch = Scratch::new("conf");
    let conf = scratch.0.join("nftables.conf");
    std::fs::write(&conf, NFTABLES_CONF).unwrap();
    sh(r#"nft -f "$CONF""#, &[("CONF", &conf)]);
    let rs = check_ruleset("nftables.conf");
    assert!(rs.sets.iter().any(|s| s.name == "service_verdicts"));
}

/// Debian's shipped `/etc/nftables.conf`, when it is there.
#[test]
fn debian_default_nftables_conf() {
    if !Path::new("/etc/nftables.conf").is_file() || !have("nft") {
        eprintln!("SKIPPED: /etc/nftables.conf or nft is not installed (Debian package nftables)");
        return;
    }
    enter_new_netns().unwrap();
    sh("nft -f /etc/nftables.conf", &[]);
    let out = Command::new("nft")
        .args(["list", "ruleset"])
        .output()
        .unwrap();
    if out.stdout.is_empty() {
        eprintln!("SKIPPED: /etc/nftables.conf loads no ruleset here");
        return;
    }
    let mut sock = Socket::new().unwrap();
    let rs = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), nft_text(&rs));
    assert_lossless(&mut sock);
}
