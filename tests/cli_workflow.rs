//! The workflow commands end to end through the binary, in a named network
//! namespace of their own: plan, apply (token check, rollback that fires
//! without confirm), status, load, list --format json.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A named namespace (so that child processes and timers can find it),
/// deleted on drop, and a private state directory.
struct Lab {
    name: String,
    state: PathBuf,
}

impl Lab {
    fn new(tag: &str) -> Lab {
        let name = format!("nfg-cli-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        assert!(Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap()
            .success());
        let state = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("state-{name}"));
        let _ = std::fs::remove_dir_all(&state);
        Lab { name, state }
    }

    fn netns(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    fn nftguard(&self, args: &[&str]) -> Output {
        let netns = self.netns();
        let state = self.state.to_string_lossy().into_owned();
        let mut all = vec!["--netns", &netns, "--state-dir", &state];
        all.extend_from_slice(args);
        Command::new(env!("CARGO_BIN_EXE_nftguard"))
            .args(&all)
            .output()
            .unwrap()
    }

    fn nft(&self, args: &[&str], stdin: Option<&str>) -> String {
        use std::io::Write;
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, "nft"]).args(args);
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        } else {
            drop(child.stdin.take());
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "nft {args:?} failed");
        String::from_utf8(out.stdout).unwrap()
    }

    fn has_our_table(&self) -> bool {
        self.nft(&["list", "tables"], None)
            .contains("table inet nftguard")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

#[test]
fn unconfirmed_apply_rolls_itself_back() {
    let lab = Lab::new("rb");
    let plan = lab.nftguard(&["--json", "plan", "--profile", "bastion-host"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let token = json(&plan)["approval_token"].as_str().unwrap().to_string();
    assert!(token.starts_with("sha256:") && token.len() == 7 + 64);

    // A wrong token changes nothing.
    let bad = lab.nftguard(&[
        "apply",
        "--approved-plan=sha256:0000",
        "--force",
        "test lab",
    ]);
    assert_eq!(bad.status.code(), Some(41));
    assert!(!lab.has_our_table());

    // --force: this test must also pass where the audit halts (containers).
    let approved = format!("--approved-plan={token}");
    let applied = lab.nftguard(&[
        "--json",
        "apply",
        &approved,
        "--confirm-timeout",
        "3",
        "--force",
        "test lab",
    ]);
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let outcome = &json(&applied)["apply"];
    assert!(
        outcome["rollback"]["fires_at"].as_u64().is_some(),
        "{outcome}"
    );
    assert!(lab.has_our_table());
    let status = json(&lab.nftguard(&["--json", "status"]));
    assert_eq!(status["rollback"]["pending"], true, "{status}");
    assert_eq!(status["last_apply"]["forced"], "test lab", "{status}");

    // Nobody confirms: the rollback (a detached process here, no systemd)
    // restores the previous state on its own.
    let deadline = Instant::now() + Duration::from_secs(3 + 5);
    while lab.has_our_table() {
        assert!(
            Instant::now() < deadline,
            "the rollback did not fire within timeout + 5 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The journal is updated right after the restoring commit.
    loop {
        let status = json(&lab.nftguard(&["--json", "status"]));
        if status["last_apply"]["phase"] == "rolled_back" {
            assert_eq!(status["rollback"]["pending"], false, "{status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the journal never recorded the rollback: {status}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn plan_then_a_changed_ruleset_is_refused_with_41() {
    let lab = Lab::new("moved");
    let plan = lab.nftguard(&["--json", "plan", "--ports", "22,80/tcp"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let token = json(&plan)["approval_token"].as_str().unwrap().to_string();
    lab.nft(&["-f", "-"], Some("table ip other { }\n"));
    let approved = format!("--approved-plan={token}");
    let o = lab.nftguard(&["apply", &approved, "--force", "test lab"]);
    assert_eq!(
        o.status.code(),
        Some(41),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!lab.has_our_table());
}

#[test]
fn load_reproduces_a_json_listing_and_list_json_equals_nft() {
    let src = Lab::new("src");
    src.nft(
        &["-f", "-"],
        Some(
            "table inet demo {\n set s { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.168.1.1 }; }\n \
             chain c { type filter hook input priority 0; policy drop; tcp dport { 22, 80 } accept; ip saddr @s drop; }\n}\n",
        ),
    );
    let ours = src.nftguard(&["list", "--format", "json"]);
    assert_eq!(ours.status.code(), Some(0));
    let theirs = src.nft(&["-j", "list", "ruleset"], None);
    let a: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_str(&theirs).unwrap();
    assert_eq!(a, b);

    let file = src.state.with_extension("json");
    std::fs::write(&file, &theirs).unwrap();
    let dst = Lab::new("dst");
    let f = file.to_string_lossy().into_owned();
    let check = dst.nftguard(&["load", &f, "--check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(dst.nft(&["list", "ruleset"], None), "");
    let load = dst.nftguard(&["load", &f]);
    assert_eq!(
        load.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&load.stderr)
    );
    assert_eq!(
        dst.nft(&["list", "ruleset"], None),
        src.nft(&["list", "ruleset"], None)
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn loading_an_empty_document_sends_nothing() {
    let lab = Lab::new("empty");
    let genid = || {
        let path = lab.netns();
        std::thread::spawn(move || {
            nftguard::netlink::enter_netns(&path).unwrap();
            let mut s = nftguard::netlink::Socket::new().unwrap();
            nftguard::engine::get_generation(&mut s).unwrap().id
        })
        .join()
        .unwrap()
    };
    let file = lab.state.with_extension("json");
    let f = file.to_string_lossy().into_owned();
    for doc in [
        r#"{"nftables": []}"#,
        r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}]}"#,
    ] {
        std::fs::write(&file, doc).unwrap();
        for args in [vec!["load", &f], vec!["load", &f, "--check"]] {
            let before = genid();
            let o = lab.nftguard(&args);
            let stdout = String::from_utf8_lossy(&o.stdout);
            assert_eq!(o.status.code(), Some(0), "{args:?} {doc}: {stdout}");
            assert!(stdout.contains("no operations to load"), "{stdout}");
            assert_eq!(genid(), before, "{args:?} {doc} changed the generation");
            let mut json_args = vec!["--json"];
            json_args.extend_from_slice(&args);
            let o = lab.nftguard(&json_args);
            assert_eq!(o.status.code(), Some(0));
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(v["operations"], 0);
            assert_eq!(v["genid"], before);
            assert_eq!(
                genid(),
                before,
                "{json_args:?} {doc} changed the generation"
            );
        }
    }
    assert_eq!(lab.nft(&["list", "ruleset"], None), "");
    let _ = std::fs::remove_file(&file);
}

#[test]
fn explain_verify_and_metrics_on_a_live_ruleset() {
    let lab = Lab::new("vfy");
    lab.nft(
        &["-f", "-"],
        Some(
            "table inet nftguard {\n chain input { type filter hook input priority 0; policy drop;\n iif \"lo\" accept\n \
             ct state established,related accept\n tcp dport 22 counter accept comment \"ssh\"\n }\n}\n\
             table ip foreign {\n chain in { type filter hook input priority -10;\n tcp dport 22 ip saddr 10.9.0.0/16 drop\n }\n}\n",
        ),
    );
    let x = |src: &str| {
        let o = lab.nftguard(&[
            "--json",
            "explain",
            "--proto",
            "tcp",
            "--src",
            src,
            "--dst",
            "192.0.2.1",
            "--dport",
            "22",
            "--iif",
            "eth0",
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        json(&o)["verdict"].as_str().unwrap().to_string()
    };
    // The foreign table's drop wins over our accept; other sources pass both.
    assert_eq!(x("10.9.1.1"), "drop");
    assert_eq!(x("10.8.1.1"), "accept");
    let bad = lab.nftguard(&[
        "explain", "--proto", "tcp", "--src", "10.0.0.1", "--dst", "::1", "--dport", "22",
    ]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "mixed families are a usage error"
    );

    // Nothing listens on 22 in this namespace: the critical check fails.
    let v = lab.nftguard(&["--json", "verify", "--operator", "10.9.1.1"]);
    assert_eq!(
        v.status.code(),
        Some(60),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    let report = json(&v);
    assert_eq!(report["passed"], false);
    let ssh = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ssh-reachable")
        .unwrap();
    assert_eq!(ssh["status"], "fail", "{ssh}");
    let md = lab.nftguard(&["verify", "--report", "md"]);
    assert!(
        String::from_utf8_lossy(&md.stdout).contains("PCI DSS"),
        "the report names its controls"
    );

    let m = lab.nftguard(&["metrics"]);
    assert_eq!(m.status.code(), Some(0));
    let text = String::from_utf8_lossy(&m.stdout);
    assert!(
        text.contains("# TYPE nftguard_rule_packets_total counter"),
        "{text}"
    );
    assert!(text.contains("comment=\"ssh\""), "{text}");
    assert!(text.contains("nftguard_table_present 1"), "{text}");
}

#[test]
fn plan_explain_answers_for_the_planned_ruleset_without_applying_it() {
    let lab = Lab::new("pex");
    let x = |port: &str| {
        let o = lab.nftguard(&[
            "--json",
            "plan",
            "--ports",
            "22,443/tcp",
            "--explain",
            "--proto",
            "tcp",
            "--src",
            "198.51.100.7",
            "--dst",
            "192.0.2.1",
            "--dport",
            port,
            "--iif",
            "eth0",
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        json(&o)["verdict"].as_str().unwrap().to_string()
    };
    assert_eq!(x("443"), "accept");
    assert_eq!(x("8080"), "drop");
    // Only planned: the live ruleset is untouched.
    assert!(!lab.has_our_table());
}

/// `--netns NAME` means `ip netns`'s /run/netns/NAME, as `ip netns exec`.
#[test]
fn netns_by_name_is_the_ip_netns_namespace() {
    let lab = Lab::new("byname");
    let nft = |script: &str| {
        let mut c = Command::new("ip")
            .args(["netns", "exec", &lab.name, "nft", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        c.stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        assert!(c.wait().unwrap().success());
    };
    nft("table ip byname {\n chain c {\n tcp dport 22 accept\n }\n}\n");
    let out = Command::new(env!("CARGO_BIN_EXE_nftguard"))
        .args(["--netns", &lab.name, "list", "--format", "nft"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("table ip byname"), "{text}");
    assert!(text.contains("tcp dport 22 accept"), "{text}");
}
