//! Helpers of the VALIDATE + APPLY tests: a private state directory per
//! test (inside the target directory, mode 0700 — never a shared /tmp
//! path), the harness executable, and sample tables.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use nftguard::engine::Transaction;
use nftguard::nft::{Chain, ChainPolicy, Family, Hook, Rule, Table};
use nftguard::txn::{approval_token, StateDir, StoredPlan};

/// `target/debug` (the directory holding this test's `deps/`).
pub fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// A fresh state directory for test `name`, under
/// `target/debug/txn-tests/`.
pub fn state_dir(name: &str) -> StateDir {
    let dir = target_profile_dir()
        .join("txn-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    StateDir::open(&dir).unwrap()
}

/// The `txn_harness` example, built once per test process with the
/// profile and features of the running test (`cargo test --test …` alone
/// does not build examples, and `--all-targets` builds them only as test
/// harnesses).
pub fn harness_exe() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let profile_dir = target_profile_dir();
            let exe = profile_dir.join("examples").join("txn_harness");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut cmd = Command::new(cargo);
            cmd.args(["build", "--quiet", "--example", "txn_harness"])
                .current_dir(env!("CARGO_MANIFEST_DIR"));
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                cmd.arg("--release");
            }
            if cfg!(feature = "fault-injection") {
                cmd.args(["--features", "fault-injection"]);
            }
            let status = cmd
                .status()
                .expect("running cargo build --example txn_harness");
            assert!(status.success(), "building the txn_harness example");
            assert!(exe.is_file(), "{} missing", exe.display());
            exe
        })
        .clone()
}

/// An nft script for a rich `inet nftguard` table: base and regular
/// chains, a jump, named and anonymous sets, a verdict map, a counter
/// object, counters, comments.
pub const RICH_TABLE: &str = r#"
table inet nftguard {
    counter seen { }
    set admins { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2 } }
    map port_verdict { type inet_service : verdict; elements = { 8080 : jump web, 8443 : drop } }
    chain web {
        tcp dport { 80, 443 } counter accept comment "web ports"
        return
    }
    chain input {
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        ct state established,related accept
        ip saddr @admins tcp dport 22 accept
        tcp dport vmap @port_verdict
        udp dport { 53, 123 } counter name "seen" accept
        jump web
    }
}
"#;

/// The batch a plan would send: replace `inet nftguard` with an input
/// chain (policy drop) accepting loopback and `ports`. `exists`: whether
/// the table is there now (then it is deleted first).
pub fn replace_owned_table(exists: bool, ports: &[u16]) -> Transaction {
    let mut tx = Transaction::new();
    if exists {
        tx.delete_table(Family::Inet, "nftguard");
    }
    tx.create_table(Table::new(Family::Inet, "nftguard"));
    tx.add_chain(
        Chain::base(Family::Inet, "nftguard", "input", Hook::Input, 0)
            .with_policy(ChainPolicy::Drop),
    );
    tx.add_rule(
        Rule::new(Family::Inet, "nftguard", "input")
            .iifname("lo")
            .accept(),
    );
    for p in ports {
        tx.add_rule(
            Rule::new(Family::Inet, "nftguard", "input")
                .tcp()
                .dport(*p)
                .accept(),
        );
    }
    tx
}

/// A stored plan for `tx` against generation `base`.
pub fn plan(tx: Transaction, base: u32) -> StoredPlan {
    StoredPlan {
        approval_token: approval_token(&tx, base).unwrap(),
        transaction: tx,
        base_genid: base,
    }
}

/// `nft list table FAMILY NAME` (empty when it does not exist).
pub fn nft_list_table(family: &str, name: &str) -> String {
    let out = Command::new("nft")
        .args(["list", "table", family, name])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}
