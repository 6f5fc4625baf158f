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

#[test]
fn demo_runs_every_step() {
    let o = nftguard(&["demo"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for state in [
        "namespace",
        "build",
        "commit",
        "ruleset",
        "conflict",
        "check",
    ] {
        assert!(
            out.contains(&format!("== {state}:")),
            "missing {state} in\n{out}"
        );
    }
    assert!(out.contains("tcp dport 22 ct state new limit rate 10/minute burst 20 packets accept comment \"ssh\""), "{out}");
    assert!(out.contains("nothing was applied"), "{out}");
    assert!(out.contains("10 before, 10 after"), "{out}");
}

#[test]
fn demo_json_is_one_document() {
    let o = nftguard(&["--json", "demo"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    let steps = v["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 6);
    assert_eq!(steps[4]["state"], "conflict");
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
