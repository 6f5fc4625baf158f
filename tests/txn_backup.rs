//! Backups, restores and journal reconciliation against the kernel, each
//! test in its own network namespace.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod txn_common;

use common::{genid, netns, nft, nft_apply, sock};
use nftguard::engine::{DumpFilter, GenCheck, Ruleset};
use nftguard::nft::{Family, Rule};
use nftguard::txn::backup::{restore, restore_transaction, Backup};
use nftguard::txn::journal::{sender_task_id, store_batch, JournalEntry, Phase};
use nftguard::txn::{reconcile, ApplyError};
use txn_common::{nft_list_table, replace_owned_table, state_dir, RICH_TABLE};

#[test]
fn restore_recreates_exactly_the_previous_owned_table() {
    netns();
    let state = state_dir("restore-owned");
    nft_apply(RICH_TABLE);
    let before = nft_list_table("inet", "nftguard");
    assert!(
        before.contains("__set") || before.contains("{ 80, 443 }"),
        "{before}"
    );
    let mut s = sock();
    let tx = replace_owned_table(true, &[22]);
    let base = genid(&mut s);
    let backup = Backup::take(&mut s, &state, "1-aa", "1-bb", &tx, Some(base)).unwrap();
    assert_eq!(backup.tables.len(), 1);
    assert!(backup.tables[0].existed);
    assert!(state.exists("backup-1-aa.json"));
    assert!(state.exists("backup-1-aa.nft"));
    assert!(state.exists("backup-1-aa.ruleset.nft"));

    tx.commit(&mut s, GenCheck::Expect(base)).unwrap();
    let applied = nft_list_table("inet", "nftguard");
    assert_ne!(applied, before);
    assert!(!applied.contains("admins"));

    // Restore from the stored copy, as a separate process would.
    let stored = Backup::load(&state, "1-aa").unwrap();
    assert_eq!(stored, backup);
    let g = restore(&mut s, &stored).unwrap();
    assert_eq!(g, genid(&mut s));
    assert_eq!(nft_list_table("inet", "nftguard"), before);

    // Restoring again changes nothing visible (delete + recreate).
    restore(&mut s, &stored).unwrap();
    assert_eq!(nft_list_table("inet", "nftguard"), before);
}

#[test]
fn restore_deletes_an_owned_table_that_did_not_exist() {
    netns();
    let state = state_dir("restore-absent");
    nft_apply("table ip other {\n chain c {\n counter\n }\n}\n");
    let mut s = sock();
    let tx = replace_owned_table(false, &[22, 443]);
    let base = genid(&mut s);
    let backup = Backup::take(&mut s, &state, "2-aa", "2-bb", &tx, Some(base)).unwrap();
    assert!(!backup.tables[0].existed);
    tx.commit(&mut s, GenCheck::Expect(base)).unwrap();
    assert!(nft_list_table("inet", "nftguard").contains("dport 443"));
    restore(&mut s, &backup).unwrap();
    assert_eq!(nft_list_table("inet", "nftguard"), "");
    // The foreign table is untouched.
    assert!(nft_list_table("ip", "other").contains("chain c"));
}

#[test]
fn backup_of_a_moved_generation_is_refused() {
    netns();
    let state = state_dir("backup-moved");
    let mut s = sock();
    let base = genid(&mut s);
    nft_apply("table ip x { }");
    let e = Backup::take(
        &mut s,
        &state,
        "3-aa",
        "3-bb",
        &replace_owned_table(false, &[22]),
        Some(base),
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 41, "{e}");
}

#[test]
fn batches_a_backup_cannot_undo_are_refused_with_42() {
    let mut tx = nftguard::engine::Transaction::new();
    tx.flush_chain(Family::Ipv4, "filter", "INPUT");
    let e = Backup::from_ruleset("4-aa", "4-bb", &tx, &Ruleset::default()).unwrap_err();
    assert_eq!(e.exit_code(), 42, "{e}");
    let mut tx = nftguard::engine::Transaction::new();
    tx.delete_table(Family::Ipv4, "filter");
    assert_eq!(
        Backup::from_ruleset("4-aa", "4-bb", &tx, &Ruleset::default())
            .unwrap_err()
            .exit_code(),
        42
    );
}

const DOCKER_USER: &str = r#"
table ip filter {
    chain DOCKER-USER {
        ip saddr 1.1.1.1 drop
        ip saddr 2.2.2.2 drop
        return
    }
}
"#;

fn docker_user_rules() -> Vec<String> {
    nft(&["list", "chain", "ip", "filter", "DOCKER-USER"], None)
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("ip ") || l.starts_with("tcp ") || *l == "return")
        .map(str::to_string)
        .collect()
}

fn foreign_chain_scenario(forget_handles: bool) {
    netns();
    let state = state_dir(if forget_handles {
        "foreign-by-content"
    } else {
        "foreign-by-handle"
    });
    nft_apply(DOCKER_USER);
    let mut s = sock();
    let live = Ruleset::dump(&mut s, &DumpFilter::table(Family::Ipv4, "filter")).unwrap();
    let h_2222 = live
        .rules_of(Family::Ipv4, "filter", "DOCKER-USER")
        .nth(1)
        .unwrap()
        .handle
        .unwrap();
    // The apply: its own table, two rules at the top of DOCKER-USER, and
    // the removal of the 2.2.2.2 rule.
    let mut tx = replace_owned_table(false, &[22]);
    tx.insert_rule(
        Rule::new(Family::Ipv4, "filter", "DOCKER-USER")
            .tcp()
            .dport(8080)
            .drop(),
    );
    tx.insert_rule(
        Rule::new(Family::Ipv4, "filter", "DOCKER-USER")
            .tcp()
            .dport(9090)
            .accept(),
    );
    tx.delete_rule(Family::Ipv4, "filter", "DOCKER-USER", h_2222);
    let base = genid(&mut s);
    let mut backup = Backup::take(&mut s, &state, "5-aa", "5-bb", &tx, Some(base)).unwrap();
    let done = tx.commit(&mut s, GenCheck::Expect(base)).unwrap();
    backup.record_commit(&tx, &done);
    assert_eq!(
        backup.chains[0].added_handles.as_ref().map(Vec::len),
        Some(2),
        "{done:?}"
    );
    if forget_handles {
        backup.chains[0].added_handles = None;
    }
    assert_eq!(
        docker_user_rules(),
        [
            "tcp dport 9090 accept",
            "tcp dport 8080 drop",
            "ip saddr 1.1.1.1 drop",
            "return"
        ]
    );
    // Another program adds its own rules meanwhile, one of them with the
    // same content as ours.
    nft(
        &[
            "insert",
            "rule",
            "ip",
            "filter",
            "DOCKER-USER",
            "ip",
            "saddr",
            "9.9.9.9",
            "drop",
        ],
        None,
    );
    nft(
        &[
            "add",
            "rule",
            "ip",
            "filter",
            "DOCKER-USER",
            "tcp",
            "dport",
            "8080",
            "drop",
        ],
        None,
    );

    let current = Ruleset::dump(&mut s, &DumpFilter::all()).unwrap();
    let rtx = restore_transaction(&backup, &current);
    assert!(!rtx.is_empty());
    restore(&mut s, &backup).unwrap();
    assert_eq!(
        docker_user_rules(),
        [
            "ip saddr 9.9.9.9 drop",
            "ip saddr 1.1.1.1 drop",
            "ip saddr 2.2.2.2 drop",
            "return",
            "tcp dport 8080 drop",
        ],
        "our two rules gone, the deleted one back in place, the other program's rules kept"
    );
    assert_eq!(nft_list_table("inet", "nftguard"), "");
}

#[test]
fn restore_removes_only_our_rules_from_a_foreign_chain() {
    foreign_chain_scenario(false);
}

#[test]
fn restore_finds_our_rules_by_content_when_handles_were_not_echoed() {
    foreign_chain_scenario(true);
}

/// Journal + backup + batch of an apply about to be sent, as `apply`
/// writes them. `pid`: the PID recorded as the sender.
fn prepared(
    state: &nftguard::txn::StateDir,
    s: &mut nftguard::netlink::Socket,
    tx: &nftguard::engine::Transaction,
    pid: u32,
) -> JournalEntry {
    let base = genid(s);
    let backup = Backup::take(s, state, "6-bb", "6-aa", tx, Some(base)).unwrap();
    store_batch(state, "6-aa", tx).unwrap();
    let mut e = JournalEntry {
        apply_id: "6-aa".into(),
        backup_id: backup.id,
        base_genid: base,
        batch_sha256: nftguard::txn::batch_sha256(tx).unwrap(),
        approval_token: "sha256:x".into(),
        pid,
        phase: Phase::Prepared,
        committed_genid: None,
        rollback: None,
        created_at: 0,
        updated_at: 0,
        detail: None,
        forced: None,
    };
    e.write(state).unwrap();
    e
}

#[test]
fn reconcile_commit_never_happened() {
    netns();
    let state = state_dir("reconcile-never");
    nft_apply(RICH_TABLE);
    let mut s = sock();
    let tx = replace_owned_table(true, &[22]);
    prepared(&state, &mut s, &tx, sender_task_id());
    // The process "died" before sending.
    let r = reconcile(&mut s, &state).unwrap().unwrap();
    assert!(!r.committed, "{r:?}");
    let e = JournalEntry::last(&state).unwrap().unwrap();
    assert_eq!(e.phase, Phase::Failed);
    // Resolved: a second reconcile has nothing to do.
    assert!(reconcile(&mut s, &state).unwrap().is_none());
}

#[test]
fn reconcile_commit_landed_reply_lost() {
    netns();
    let state = state_dir("reconcile-landed");
    nft_apply(RICH_TABLE);
    let mut s = sock();
    let tx = replace_owned_table(true, &[22]);
    let e = prepared(&state, &mut s, &tx, sender_task_id());
    // The batch commits; the replies are never read.
    tx.commit(&mut s, GenCheck::Expect(e.base_genid)).unwrap();
    let r = reconcile(&mut s, &state).unwrap().unwrap();
    assert!(r.committed, "{r:?}");
    assert!(r.evidence.contains("effects"), "{r:?}");
    let e = JournalEntry::last(&state).unwrap().unwrap();
    assert_eq!(e.phase, Phase::Committed);
    assert_eq!(e.committed_genid, Some(e.base_genid + 1));
}

#[test]
fn reconcile_commit_landed_then_others_committed() {
    netns();
    let state = state_dir("reconcile-content");
    nft_apply(RICH_TABLE);
    let mut s = sock();
    let tx = replace_owned_table(true, &[22, 80]);
    let e = prepared(&state, &mut s, &tx, sender_task_id());
    tx.commit(&mut s, GenCheck::Expect(e.base_genid)).unwrap();
    nft_apply("table ip unrelated { }"); // and someone else committed after
    let r = reconcile(&mut s, &state).unwrap().unwrap();
    assert!(r.committed, "{r:?}");
    assert!(r.evidence.contains("effects"), "{r:?}");
}

#[test]
fn reconcile_not_landed_while_others_committed() {
    netns();
    let state = state_dir("reconcile-others");
    nft_apply(RICH_TABLE);
    let mut s = sock();
    let tx = replace_owned_table(true, &[22]);
    prepared(&state, &mut s, &tx, sender_task_id());
    nft_apply("table ip unrelated { }");
    let r = reconcile(&mut s, &state).unwrap().unwrap();
    assert!(!r.committed, "{r:?}");
    assert!(r.evidence.contains("backed up"), "{r:?}");
}

#[test]
fn reconcile_refuses_an_unexplained_state_with_61() {
    netns();
    let state = state_dir("reconcile-stale");
    nft_apply(RICH_TABLE);
    let mut s = sock();
    let tx = replace_owned_table(true, &[22]);
    prepared(&state, &mut s, &tx, sender_task_id());
    // Someone else rewrote our table: neither the batch nor the backup.
    nft(
        &[
            "add", "rule", "inet", "nftguard", "input", "tcp", "dport", "25", "accept",
        ],
        None,
    );
    let e = reconcile(&mut s, &state).unwrap_err();
    assert!(matches!(e, ApplyError::StaleJournal { .. }), "{e}");
    assert_eq!(e.exit_code(), 61);
    // The entry stays for an operator.
    assert_eq!(
        JournalEntry::last(&state).unwrap().unwrap().phase,
        Phase::Prepared
    );
}
