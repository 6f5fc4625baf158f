//! iptables-legacy detection in the test thread's own network namespace.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod compat_support;

use std::process::Command;

use compat_support::*;
use nftguard::compat::legacy::{is_mixed, legacy_tables};
use nftguard::netlink::enter_new_netns;

#[test]
fn legacy_tables_are_reported_and_mixed_hosts_detected() {
    enter_new_netns().unwrap();
    let before = legacy_tables().unwrap();
    assert!(
        !before.any(),
        "a fresh namespace has no legacy tables: {before:?}"
    );
    assert!(!is_mixed(&before, &dump()));

    let probe = Command::new("iptables-legacy")
        .arg("-A")
        .arg("INPUT")
        .arg("-j")
        .arg("ACCEPT")
        .output();
    match probe {
        Err(e) => {
            println!("SKIP legacy part: iptables-legacy cannot run: {e}");
            return;
        }
        Ok(out) if !out.status.success() => {
            println!(
                "SKIP legacy part: iptables-legacy failed (ip_tables module unavailable?): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        Ok(_) => {}
    }
    let legacy = legacy_tables().unwrap();
    assert!(
        legacy
            .ipv4
            .as_ref()
            .is_some_and(|t| t.iter().any(|n| n == "filter")),
        "{legacy:?}"
    );
    assert!(legacy.any());
    // Only legacy tables: not mixed.
    assert!(dump().tables.is_empty());
    assert!(!is_mixed(&legacy, &dump()));
    // Add an nf_tables table: now the host is mixed.
    sh("iptables-nft -N X");
    assert!(is_mixed(&legacy, &dump()));
    // iptables-nft itself warns about the legacy tables.
    let warn = Command::new("iptables-nft-save").output().unwrap();
    assert!(String::from_utf8_lossy(&warn.stderr).contains("iptables-legacy tables present"));
}
