//! The `nftguard` binary: exit codes, human and JSON output, the demo.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

use std::process::Command;

fn nftguard(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nftguard"))
        .args(args)
        .output()
        .expect("run nftguard")
}

#[test]
fn usage_errors_exit_2() {
    let o = nftguard(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    let o = nftguard(&["list", "--family", "ipx"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown family `ipx`"));
}

#[test]
fn help_documents_exit_codes() {
    let o = nftguard(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("41 approval token mismatch"), "{text}");
}

fn demo_state_dir(tag: &str) -> std::path::PathBuf {
    let d = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("demo-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

const DEMO_STATES: [&str; 11] = [
    "SETUP", "DETECT", "SELECT", "PLAN", "VALIDATE", "APPLY", "VERIFY", "ROLLBACK", "CONFLICT",
    "CONFIRM", "CLEANUP",
];

#[test]
fn demo_runs_the_whole_cycle_and_cleans_up() {
    let state = demo_state_dir("human");
    let o = nftguard(&["--state-dir", state.to_str().unwrap(), "demo"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for state in DEMO_STATES {
        assert!(
            out.contains(&format!("== {state}:")),
            "missing {state} in\n{out}"
        );
    }
    assert!(
        out.contains("before any policy, from the client: port 80 open, port 8080 open"),
        "{out}"
    );
    assert!(
        out.contains("port 80 open (allowed), port 8080 dropped"),
        "{out}"
    );
    assert!(out.contains("port 8080 answers again"), "{out}");
    assert!(
        out.contains("apply refused with exit 41, nothing applied (port 8080 open)"),
        "{out}"
    );
    assert!(
        out.contains(
            "journal confirmed, rollback pending false, port 80 open, port 8080 still dropped"
        ),
        "{out}"
    );
    // It wrote nothing it did not remove: the state dir did not exist.
    assert!(!state.exists(), "{} left behind", state.display());
}

#[test]
fn demo_json_is_one_document() {
    let state = demo_state_dir("json");
    let o = nftguard(&["--json", "--state-dir", state.to_str().unwrap(), "demo"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    let steps = v["steps"].as_array().expect("steps");
    let names: Vec<&str> = steps.iter().map(|s| s["state"].as_str().unwrap()).collect();
    assert_eq!(names, DEMO_STATES);
    assert_eq!(steps[6]["data"]["blocked_port_open"], false);
    assert!(steps[7]["data"]["latency_ms"].is_u64());
    assert_eq!(steps[9]["data"]["policy_stays"], true);
    assert!(!state.exists());
}

#[test]
fn demo_refuses_netns() {
    let o = nftguard(&["--netns", "/run/netns/none", "demo"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn list_of_a_missing_table_is_an_error() {
    // The child runs in a fresh namespace of its own: `unshare -n`.
    let o = Command::new("unshare")
        .args([
            "-n",
            env!("CARGO_BIN_EXE_nftguard"),
            "--json",
            "list",
            "--table",
            "nope",
        ])
        .output()
        .expect("run unshare");
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON error object");
    assert_eq!(v["exit_code"], 1);
    assert!(v["error"]
        .as_str()
        .unwrap_or_default()
        .contains("no table named `nope`"));
}

/// A reader that goes away (`nftguard list | head -1`) does not make
/// nftguard panic: output is dropped, the exit code stays the command's.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::process::Stdio;
    nftguard::netlink::enter_new_netns().unwrap();
    let mut tx = nftguard::engine::Transaction::new();
    tx.add_table(nftguard::nft::Table::new(
        nftguard::nft::Family::Inet,
        "pipe",
    ));
    let mut sock = nftguard::netlink::Socket::new().unwrap();
    tx.commit(&mut sock, nftguard::engine::GenCheck::Unconditional)
        .unwrap();
    // The read end is closed before the child writes anything.
    let (r, w) = std::io::pipe().unwrap();
    drop(r);
    let out = Command::new(env!("CARGO_BIN_EXE_nftguard"))
        .args(["list", "--format", "nft"])
        .stdout(Stdio::from(w))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
