//! `verify` checks against real rulesets in a private network namespace
//! per test: every check passing on a well-configured host, and failing
//! on purpose (a foreign table dropping SSH → ssh-reachable fails with
//! exit 60; a listener the ruleset leaves open outside the policy →
//! intended-ports-only fails; IPv4 open / IPv6 closed → ipv6-parity
//! fails; …). Run as root: `cargo test --test verify_checks`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{netns, nft_apply, sock};
use nftguard::detect::Host;
use nftguard::engine::{DumpFilter, Ruleset};
use nftguard::nft::Family;
use nftguard::txn::journal::{JournalEntry, Phase};
use nftguard::txn::persist::{Policy, RESTORE_UNIT};
use nftguard::txn::StateDir;
use nftguard::verify::report::{render_json, render_markdown};
use nftguard::verify::{run_checks, Status, VerifyOptions, VerifyReport};

/// A hardened `inet nftguard` table: SSH on 2222 and HTTP on 80.
const GOOD: &str = r#"
table inet nftguard {
    chain input {
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        iif != "lo" ip saddr 127.0.0.0/8 drop
        iif != "lo" ip6 saddr ::1 drop
        ct state established,related accept
        ct state invalid drop
        tcp dport 2222 ct state new accept comment "ssh"
        tcp dport 80 accept comment "http"
        limit rate 5/minute burst 10 packets log prefix "nftguard drop: "
    }
    chain output {
        type filter hook output priority filter; policy accept;
    }
}
"#;

/// A private directory under `target/` (never a shared /tmp path).
fn private_dir(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("verify-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Lab {
    state: StateDir,
    root: PathBuf,
    units: PathBuf,
}

impl Lab {
    /// A fresh namespace with `lo` up, a state directory, an empty host
    /// root for the audit and a unit directory.
    fn new(name: &str) -> Lab {
        netns();
        let ok = Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .unwrap();
        assert!(ok.success());
        let base = private_dir(name);
        let root = base.join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        let units = base.join("units");
        std::fs::create_dir_all(units.join("sysinit.target.wants")).unwrap();
        let state = StateDir::open(base.join("state")).unwrap();
        Lab { state, root, units }
    }

    /// Persists the live `inet nftguard` as the confirmed policy and
    /// installs and enables the boot unit (as `confirm` does).
    fn persist(&self) {
        let live = Ruleset::dump(&mut sock(), &DumpFilter::all()).unwrap();
        let p =
            Policy::from_live("1-0000abcd", &[(Family::Inet, "nftguard".into())], &live).unwrap();
        p.store(&self.state).unwrap();
        std::fs::write(self.units.join(RESTORE_UNIT), "[Unit]\n").unwrap();
        let link = self.units.join("sysinit.target.wants").join(RESTORE_UNIT);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(self.units.join(RESTORE_UNIT), link).unwrap();
    }

    fn options(&self) -> VerifyOptions {
        VerifyOptions {
            operator_source: Some("198.51.100.10".parse().unwrap()),
            ssh_port: Some(2222),
            connect_timeout: Duration::from_millis(500),
            host: Host::under(&self.root),
            unit_dir: self.units.clone(),
            ..VerifyOptions::default()
        }
    }

    fn verify(&self) -> VerifyReport {
        self.verify_with(&self.options())
    }

    fn verify_with(&self, o: &VerifyOptions) -> VerifyReport {
        run_checks(&mut sock(), &self.state, o).unwrap()
    }
}

fn status(r: &VerifyReport, id: &str) -> Status {
    r.check(id)
        .unwrap_or_else(|| panic!("no check {id}"))
        .status
}

fn explain_failures(r: &VerifyReport) -> String {
    r.checks
        .iter()
        .map(|c| format!("{} {:?}: {} {:?}", c.id, c.status, c.detail, c.evidence))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_hardened_host_passes_every_check() {
    let lab = Lab::new("good");
    nft_apply(GOOD);
    lab.persist();
    let _ssh = TcpListener::bind("0.0.0.0:2222").unwrap();
    let r = lab.verify();
    for c in &r.checks {
        assert!(
            matches!(c.status, Status::Pass | Status::Skip),
            "{}",
            explain_failures(&r)
        );
        assert!(!c.controls.is_empty(), "{}", c.id);
    }
    for id in [
        "ssh-reachable",
        "intended-ports-only",
        "ipv6-parity",
        "default-deny",
        "loopback",
        "established",
    ] {
        assert_eq!(status(&r, id), Status::Pass, "{id}");
    }
    assert_eq!(status(&r, "persistence"), Status::Pass);
    assert_eq!(status(&r, "drop-logging-rate-limited"), Status::Pass);
    assert_eq!(status(&r, "single-manager"), Status::Pass);
    // Nothing applied through the journal, no fail2ban, no Docker here.
    assert_eq!(status(&r, "rollback-state"), Status::Skip);
    assert_eq!(status(&r, "fail2ban"), Status::Skip);
    assert_eq!(status(&r, "docker-published-ports"), Status::Skip);
    assert!(r.passed);
    assert_eq!(r.exit_code(), 0);
    assert_eq!(r.intended_source, "persisted policy");
    assert_eq!(r.intended_ports, vec!["80/tcp", "2222/tcp"]);
    let ssh: Vec<_> = r.exposure.iter().filter(|e| e.port == 2222).collect();
    assert_eq!(ssh.len(), 1, "{:?}", r.exposure);
    assert_eq!(ssh[0].family, "ipv4");
    assert_eq!(ssh[0].allowed_from, vec!["any"]);
    assert_eq!(ssh[0].intended, Some(true));
    assert!(ssh[0].process.contains("verify_checks"), "{:?}", ssh[0]);
    // The controls of WORKFLOW.md appear in the report.
    let md = render_markdown(&r);
    for needle in [
        "CIS Debian 12 v1.1.0 / Ubuntu 24.04 v1.0.0 4.3.8",
        "CIS RHEL 9 v2.0.0 4.3.4",
        "PCI DSS v4.0.1 1.2.8",
        "SOC 2 CC6.6",
        "NIST SP 800-41 r1",
        "| 2222 | tcp | ipv4 |",
        "**Result: PASSED**",
    ] {
        assert!(md.contains(needle), "{needle} missing from\n{md}");
    }
    let json: serde_json::Value = serde_json::from_str(&render_json(&r)).unwrap();
    assert_eq!(json["passed"], true);
    assert_eq!(json["checks"].as_array().unwrap().len(), 12);
    for c in json["checks"].as_array().unwrap() {
        for k in ["id", "status", "detail", "controls"] {
            assert!(c.get(k).is_some(), "{k} missing in {c}");
        }
    }
    for k in ["port", "proto", "family", "process", "allowed_from"] {
        assert!(json["exposure"][0].get(k).is_some(), "{k}");
    }
}

#[test]
fn a_foreign_table_dropping_ssh_fails_the_critical_check() {
    let lab = Lab::new("foreign");
    nft_apply(GOOD);
    nft_apply(
        "table ip foreign { chain input { type filter hook input priority -10; policy accept; tcp dport 2222 drop; }
}",
    );
    lab.persist();
    let _ssh = TcpListener::bind("0.0.0.0:2222").unwrap();
    let r = lab.verify();
    let c = r.check("ssh-reachable").unwrap();
    assert_eq!(c.status, Status::Fail, "{}", explain_failures(&r));
    assert!(c.critical);
    assert!(c.detail.contains("ip foreign input"), "{}", c.detail);
    assert!(
        c.evidence.iter().any(|e| e.contains("local connect:")),
        "{:?}",
        c.evidence
    );
    assert_eq!(r.exit_code(), 60);
    assert!(!r.passed);
    assert_eq!(r.critical_failures().len(), 1);
    // One more firewall utility (a hand-written nft table).
    assert_eq!(status(&r, "single-manager"), Status::Fail);
    // The same ruleset without the listener: the ruleset answer alone.
    let mut o = lab.options();
    o.local_connect = false;
    assert_eq!(status(&lab.verify_with(&o), "ssh-reachable"), Status::Fail);
}

#[test]
fn ssh_accepted_but_nothing_listening_fails() {
    let lab = Lab::new("nolistener");
    nft_apply(GOOD);
    let r = lab.verify();
    let c = r.check("ssh-reachable").unwrap();
    assert_eq!(c.status, Status::Fail);
    assert!(c.detail.contains("nothing answers"), "{}", c.detail);
    assert_eq!(r.exit_code(), 60);
    // Without the local connect, the ruleset alone passes.
    let mut o = lab.options();
    o.local_connect = false;
    let r = lab.verify_with(&o);
    assert_eq!(status(&r, "ssh-reachable"), Status::Pass);
    assert_eq!(r.exit_code(), 0);
    // Not persisted: the live table would not survive a reboot.
    assert_eq!(status(&r, "persistence"), Status::Fail);
}

#[test]
fn a_listener_outside_the_policy_that_the_ruleset_leaves_open_fails() {
    let lab = Lab::new("unintended");
    nft_apply(GOOD);
    lab.persist();
    // After confirm, someone opens 8080 by hand and a service listens.
    common::nft(
        &[
            "insert", "rule", "inet", "nftguard", "input", "tcp", "dport", "8080", "accept",
        ],
        None,
    );
    let _ssh = TcpListener::bind("0.0.0.0:2222").unwrap();
    let _web = TcpListener::bind("0.0.0.0:8080").unwrap();
    // A loopback-only listener is never exposed.
    let _local = TcpListener::bind("127.0.0.1:9999").unwrap();
    let r = lab.verify();
    let c = r.check("intended-ports-only").unwrap();
    assert_eq!(c.status, Status::Fail, "{}", explain_failures(&r));
    assert!(c.detail.contains("8080/tcp"), "{}", c.detail);
    let e = r.exposure.iter().find(|e| e.port == 8080).unwrap();
    assert_eq!(e.intended, Some(false));
    assert_eq!(e.allowed_from, vec!["any"]);
    assert!(!r.exposure.iter().any(|e| e.port == 9999));
    // The live table no longer equals the persisted policy.
    let p = r.check("persistence").unwrap();
    assert_eq!(p.status, Status::Fail);
    assert!(p.detail.contains("differs"), "{}", p.detail);
    // Not critical: exit 0 unless --strict.
    assert_eq!(r.exit_code(), 0);
    assert!(!r.passed);
    let mut o = lab.options();
    o.strict = true;
    assert_eq!(lab.verify_with(&o).exit_code(), 60);
    // An explicit intended list that includes 8080 passes.
    let mut o = lab.options();
    o.intended = Some(vec![
        nftguard::verify::probe::PortRange::single(nftguard::verify::listeners::Proto::Tcp, 2222),
        nftguard::verify::probe::PortRange::single(nftguard::verify::listeners::Proto::Tcp, 8080),
    ]);
    assert_eq!(
        status(&lab.verify_with(&o), "intended-ports-only"),
        Status::Pass
    );
}

#[test]
fn ipv4_open_and_ipv6_closed_fails_parity() {
    let lab = Lab::new("parity");
    nft_apply(GOOD);
    lab.persist();
    let _ssh = TcpListener::bind("0.0.0.0:2222").unwrap();
    assert_eq!(status(&lab.verify(), "ipv6-parity"), Status::Pass);
    nft_apply("table ip6 block6 { chain input { type filter hook input priority -5; policy accept; tcp dport 80 drop; }
}");
    let r = lab.verify();
    let c = r.check("ipv6-parity").unwrap();
    assert_eq!(c.status, Status::Fail, "{}", explain_failures(&r));
    assert!(
        c.detail.contains("80/tcp (ipv4 accept, ipv6 drop)"),
        "{}",
        c.detail
    );
}

#[test]
fn weak_rulesets_fail_the_cis_checks() {
    let lab = Lab::new("weak");
    let _ssh = TcpListener::bind("0.0.0.0:2222").unwrap();
    // Default accept, no loopback anti-spoofing, unlimited logging.
    nft_apply(
        r#"table inet nftguard { chain input { type filter hook input priority 0; policy accept;
            tcp dport 2222 accept
            log prefix "all: "; }
}"#,
    );
    let r = lab.verify();
    assert_eq!(
        status(&r, "ssh-reachable"),
        Status::Pass,
        "{}",
        explain_failures(&r)
    );
    let dd = r.check("default-deny").unwrap();
    assert_eq!(dd.status, Status::Fail);
    assert!(dd.detail.contains("not denied"), "{}", dd.detail);
    let lo = r.check("loopback").unwrap();
    assert_eq!(lo.status, Status::Fail);
    assert!(lo.detail.contains("127.0.0.1 arriving on"), "{}", lo.detail);
    let log = r.check("drop-logging-rate-limited").unwrap();
    assert_eq!(log.status, Status::Fail);
    assert!(
        log.detail.contains("without a rate limit"),
        "{}",
        log.detail
    );
    assert_eq!(status(&r, "established"), Status::Pass);

    // Default deny, but established replies are not accepted, and drops
    // are not logged at all.
    nft_apply(
        r#"flush ruleset
        table inet nftguard { chain input { type filter hook input priority 0; policy drop;
            iif "lo" accept
            tcp dport 2222 accept; }
}"#,
    );
    let r = lab.verify();
    assert_eq!(
        status(&r, "default-deny"),
        Status::Pass,
        "{}",
        explain_failures(&r)
    );
    let est = r.check("established").unwrap();
    assert_eq!(est.status, Status::Fail);
    assert!(est.detail.contains("tcp ipv4"), "{}", est.detail);
    let log = r.check("drop-logging-rate-limited").unwrap();
    assert_eq!(log.status, Status::Fail);
    assert!(log.detail.contains("meets no log rule"), "{}", log.detail);
    // lo accepted, but nothing drops spoofed 127.0.0.1 to the SSH port.
    assert_eq!(status(&r, "loopback"), Status::Fail);
}

#[test]
fn rollback_state_follows_the_journal() {
    let lab = Lab::new("rollback");
    nft_apply(GOOD);
    let mut entry = JournalEntry {
        apply_id: "1700000000-0000abcd".into(),
        backup_id: "1700000000-0000abce".into(),
        base_genid: 1,
        batch_sha256: "sha256:00".into(),
        approval_token: "sha256:00".into(),
        pid: 1,
        phase: Phase::Committed,
        committed_genid: Some(2),
        rollback: None,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
        detail: None,
        forced: None,
    };
    entry.write(&lab.state).unwrap();
    // Committed, awaiting confirm, but no rollback armed: fail.
    let r = lab.verify();
    let c = r.check("rollback-state").unwrap();
    assert_eq!(c.status, Status::Fail);
    assert!(c.detail.contains("no rollback is armed"), "{}", c.detail);
    // Persistence is not expected before confirm.
    assert_eq!(status(&r, "persistence"), Status::Warn);
    // Confirmed and nothing armed: pass.
    entry.phase = Phase::Confirmed;
    entry.update(&lab.state).unwrap();
    lab.persist();
    let r = lab.verify();
    assert_eq!(status(&r, "rollback-state"), Status::Pass);
    assert_eq!(status(&r, "persistence"), Status::Pass);
}

#[test]
fn fail2ban_with_the_wrong_ban_action_fails() {
    let lab = Lab::new("fail2ban");
    nft_apply(GOOD);
    let f2b = lab.root.join("etc/fail2ban");
    std::fs::create_dir_all(&f2b).unwrap();
    std::fs::write(
        f2b.join("jail.local"),
        "[DEFAULT]\nbanaction = iptables-multiport\n",
    )
    .unwrap();
    // Installed, not running.
    assert_eq!(status(&lab.verify(), "fail2ban"), Status::Warn);
    std::fs::create_dir_all(lab.root.join("run/fail2ban")).unwrap();
    std::fs::write(lab.root.join("run/fail2ban/fail2ban.sock"), "").unwrap();
    let r = lab.verify();
    let c = r.check("fail2ban").unwrap();
    assert_eq!(c.status, Status::Fail);
    assert!(c.detail.contains("iptables-multiport"), "{}", c.detail);
    std::fs::write(
        f2b.join("jail.local"),
        "[DEFAULT]\nbanaction = nftables-multiport\n",
    )
    .unwrap();
    assert_eq!(status(&lab.verify(), "fail2ban"), Status::Pass);
}

fn iptables(args: &[&str]) {
    let out = Command::new("iptables-nft").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "iptables-nft {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn docker_published_ports_must_be_intended_or_filtered() {
    let lab = Lab::new("docker");
    nft_apply(GOOD);
    lab.persist();
    // Docker's layout, as iptables-nft writes it: 8080 published to a
    // container's port 80 (xt DNAT target).
    iptables(&["-t", "nat", "-N", "DOCKER"]);
    iptables(&[
        "-t",
        "nat",
        "-A",
        "DOCKER",
        "!",
        "-i",
        "docker0",
        "-p",
        "tcp",
        "--dport",
        "8080",
        "-j",
        "DNAT",
        "--to-destination",
        "172.17.0.2:80",
    ]);
    iptables(&["-N", "DOCKER-USER"]);
    iptables(&["-A", "FORWARD", "-j", "DOCKER-USER"]);
    let r = lab.verify();
    let c = r.check("docker-published-ports").unwrap();
    assert_eq!(c.status, Status::Fail, "{}", explain_failures(&r));
    assert!(c.detail.contains("8080/tcp"), "{}", c.detail);
    assert!(
        c.evidence.iter().any(|e| e.contains("172.17.0.2:80")),
        "{:?}",
        c.evidence
    );
    // Filtered in DOCKER-USER (matching the container port after DNAT).
    iptables(&[
        "-A",
        "DOCKER-USER",
        "-p",
        "tcp",
        "--dport",
        "80",
        "-d",
        "172.17.0.2",
        "-j",
        "DROP",
    ]);
    let r = lab.verify();
    assert_eq!(
        status(&r, "docker-published-ports"),
        Status::Pass,
        "{}",
        explain_failures(&r)
    );
}
