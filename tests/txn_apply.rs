//! `apply`, `confirm`, `rollback`, `restore --boot` and `status` against
//! the kernel, each test in its own network namespace. The rollback
//! mechanism is the detached watchdog (no systemd or atd here), run by
//! the `txn_harness` example.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod txn_common;

use std::time::Duration;

use common::{genid, netns, nft, nft_apply, nft_list_ruleset, sock};
use nftguard::nft::{Family, Rule};
use nftguard::txn::journal::{JournalEntry, Phase};
use nftguard::txn::persist::{PersistOptions, RESTORE_UNIT};
use nftguard::txn::rollback::{watchdog_alive, ArmHandle};
use nftguard::txn::{
    self, ApplyError, ApplyOptions, Mechanisms, RollbackCommand, RollbackRequest, StateDir,
    StateLock,
};
use txn_common::{harness_exe, nft_list_table, plan, replace_owned_table, state_dir, RICH_TABLE};

fn opts(state: &StateDir, token: &str) -> ApplyOptions<'static> {
    let exe = harness_exe();
    ApplyOptions {
        supplied_token: token.into(),
        confirm_timeout: Duration::from_secs(120),
        dry_run: false,
        auto_confirm: false,
        rollback: RollbackCommand {
            exe: exe.clone(),
            state_dir: state.path().to_path_buf(),
            netns: None,
        },
        mechanisms: Mechanisms::watchdog_only(),
        verify: None,
        persist: PersistOptions {
            unit_dir: state.path().join("units"),
            exe,
            nftables_conf: state.path().join("nftables.conf"),
            enable: false,
        },
        forced: None,
    }
}

fn watchdog_pid(armed: &txn::Armed) -> u32 {
    match armed.handle {
        ArmHandle::Watchdog { pid } => pid,
        ref h => panic!("not a watchdog: {h:?}"),
    }
}

#[test]
fn a_wrong_token_is_41_and_changes_nothing() {
    netns();
    let state = state_dir("apply-token");
    let mut s = sock();
    let base = genid(&mut s);
    let p = plan(replace_owned_table(false, &[22]), base);
    let mut o = opts(&state, "sha256:0000");
    let e = txn::apply(&mut s, &state, &p, &mut o).unwrap_err();
    assert!(matches!(e, ApplyError::TokenMismatch { .. }), "{e}");
    assert_eq!(e.exit_code(), 41);
    assert_eq!(genid(&mut s), base);
    assert!(JournalEntry::last(&state).unwrap().is_none());

    // A stored plan whose batch was altered after its token was computed.
    let mut altered = p.clone();
    altered.transaction = replace_owned_table(false, &[22, 23]);
    let mut o = opts(&state, &p.approval_token);
    let e = txn::apply(&mut s, &state, &altered, &mut o).unwrap_err();
    assert_eq!(e.exit_code(), 41, "{e}");
    assert!(e.to_string().contains("altered"), "{e}");
}

#[test]
fn a_moved_generation_is_41_ruleset_changed() {
    netns();
    let state = state_dir("apply-moved");
    let mut s = sock();
    let base = genid(&mut s);
    let p = plan(replace_owned_table(false, &[22]), base);
    nft_apply("table ip somebody { }");
    let mut o = opts(&state, &p.approval_token);
    let e = txn::apply(&mut s, &state, &p, &mut o).unwrap_err();
    assert!(matches!(e, ApplyError::RulesetChanged { .. }), "{e}");
    assert_eq!(e.exit_code(), 41);
    assert!(e.to_string().contains("ruleset changed since plan"));
    assert_eq!(nft_list_table("inet", "nftguard"), "");
}

#[test]
fn a_rejected_batch_is_50_and_nothing_changed() {
    netns();
    let state = state_dir("apply-rejected");
    nft_apply(RICH_TABLE);
    let before = nft_list_ruleset();
    let mut s = sock();
    let base = genid(&mut s);
    let mut tx = replace_owned_table(true, &[22]);
    tx.add_rule(Rule::new(Family::Inet, "nftguard", "input").jump("no-such-chain"));
    let p = plan(tx, base);
    let mut o = opts(&state, &p.approval_token);
    let e = txn::apply(&mut s, &state, &p, &mut o).unwrap_err();
    let ApplyError::Rejected { op_index, op, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(*op_index, 5);
    assert!(op.contains("add rule inet nftguard input"), "{op}");
    assert_eq!(e.exit_code(), 50);
    assert_eq!(genid(&mut s), base);
    assert_eq!(nft_list_ruleset(), before);
    let entry = JournalEntry::last(&state).unwrap().unwrap();
    assert_eq!(entry.phase, Phase::Failed);
    // Its watchdog was disarmed and is gone.
    let pid = watchdog_pid(entry.rollback.as_ref().unwrap());
    assert!(!watchdog_alive(pid, &entry.apply_id));
    assert!(!txn::status(&state).unwrap().rollback.pending);
}

#[test]
fn dry_run_validates_without_changing_the_generation() {
    netns();
    let state = state_dir("apply-dry");
    let mut s = sock();
    let base = genid(&mut s);
    let p = plan(replace_owned_table(false, &[22]), base);
    let mut o = opts(&state, &p.approval_token);
    o.dry_run = true;
    let out = txn::apply(&mut s, &state, &p, &mut o).unwrap();
    assert!(out.dry_run && out.apply_id.is_none() && out.rollback.is_none());
    assert_eq!(out.genid, base);
    assert_eq!(genid(&mut s), base);
    assert_eq!(nft_list_table("inet", "nftguard"), "");

    let mut tx = replace_owned_table(false, &[22]);
    tx.add_rule(Rule::new(Family::Inet, "nftguard", "input").jump("no-such-chain"));
    let p = plan(tx, base);
    let mut o = opts(&state, &p.approval_token);
    o.dry_run = true;
    assert_eq!(
        txn::apply(&mut s, &state, &p, &mut o)
            .unwrap_err()
            .exit_code(),
        50
    );
    assert_eq!(genid(&mut s), base);
}

#[test]
fn apply_confirm_persist_and_restore_at_boot() {
    netns();
    let state = state_dir("apply-confirm");
    std::fs::write(
        state.file("nftables.conf"),
        "#!/usr/sbin/nft -f\nflush ruleset\n",
    )
    .unwrap();
    let mut s = sock();
    let base = genid(&mut s);
    let p = plan(replace_owned_table(false, &[22, 443]), base);
    let mut o = opts(&state, &p.approval_token);
    let out = txn::apply(&mut s, &state, &p, &mut o).unwrap();
    assert_eq!(out.genid, base + 1);
    let applied = nft_list_table("inet", "nftguard");
    assert!(applied.contains("tcp dport 443 accept"), "{applied}");
    let armed = out.rollback.clone().unwrap();
    let pid = watchdog_pid(&armed);
    assert!(watchdog_alive(pid, out.apply_id.as_deref().unwrap()));

    let st = txn::status(&state).unwrap();
    assert!(st.rollback.pending);
    assert_eq!(st.rollback.mechanism.as_deref(), Some("watchdog"));
    assert_eq!(st.rollback.fires_at, Some(armed.fires_at));
    assert_eq!(st.last_apply.unwrap().phase, Phase::Committed);

    // A second apply while this one awaits confirmation: 61.
    let p2 = plan(replace_owned_table(true, &[22]), base + 1);
    let mut o2 = opts(&state, &p2.approval_token);
    assert_eq!(
        txn::apply(&mut s, &state, &p2, &mut o2)
            .unwrap_err()
            .exit_code(),
        61
    );

    let persisted = txn::confirm(&mut s, &state, &o.persist).unwrap();
    assert!(!persisted.enabled);
    assert!(
        persisted
            .warnings
            .iter()
            .any(|w| w.contains("flush ruleset")),
        "{:?}",
        persisted.warnings
    );
    assert!(persisted.warnings.iter().any(|w| w.contains("not enabled")));
    let unit = std::fs::read_to_string(state.path().join("units").join(RESTORE_UNIT)).unwrap();
    assert!(unit.contains("Before=network-pre.target"));
    assert!(unit.contains("restore --boot"));
    assert!(state.exists("policy.json") && state.exists("policy.nft"));
    assert!(!watchdog_alive(pid, &armed.apply_id));
    let st = txn::status(&state).unwrap();
    assert!(!st.rollback.pending);
    assert_eq!(st.last_apply.unwrap().phase, Phase::Confirmed);
    assert_eq!(st.persisted_apply, out.apply_id);
    // Confirming twice: nothing to confirm.
    assert_eq!(
        txn::confirm(&mut s, &state, &o.persist)
            .unwrap_err()
            .exit_code(),
        1
    );

    // "Reboot": the table is gone; the boot unit's command restores it.
    nft(&["delete", "table", "inet", "nftguard"], None);
    let r = txn::restore_boot(&mut s, &state).unwrap();
    assert!(r.restored);
    assert_eq!(nft_list_table("inet", "nftguard"), applied);
    // Over a live copy, too (replaced, not duplicated).
    txn::restore_boot(&mut s, &state).unwrap();
    assert_eq!(nft_list_table("inet", "nftguard"), applied);
}

#[test]
fn manual_rollback_restores_and_cancels_the_watchdog() {
    netns();
    let state = state_dir("apply-rollback");
    nft_apply(RICH_TABLE);
    let before = nft_list_table("inet", "nftguard");
    let mut s = sock();
    let base = genid(&mut s);
    let p = plan(replace_owned_table(true, &[22]), base);
    let mut o = opts(&state, &p.approval_token);
    let out = txn::apply(&mut s, &state, &p, &mut o).unwrap();
    assert_ne!(nft_list_table("inet", "nftguard"), before);

    // While another run holds the lock, a manual rollback is refused.
    let held = StateLock::acquire(&state).unwrap();
    assert_eq!(
        txn::rollback(&mut s, &state, &RollbackRequest::default())
            .unwrap_err()
            .exit_code(),
        61
    );
    drop(held);

    let r = txn::rollback(&mut s, &state, &RollbackRequest::default()).unwrap();
    assert!(r.restored, "{r:?}");
    assert_eq!(nft_list_table("inet", "nftguard"), before);
    let armed = out.rollback.unwrap();
    assert!(!watchdog_alive(watchdog_pid(&armed), &armed.apply_id));
    assert_eq!(
        JournalEntry::last(&state).unwrap().unwrap().phase,
        Phase::RolledBack
    );
    // A timer firing now (or a second rollback) does nothing.
    let again = txn::rollback(
        &mut s,
        &state,
        &RollbackRequest {
            apply_id: out.apply_id.clone(),
            to: None,
        },
    )
    .unwrap();
    assert!(!again.restored);
    assert_eq!(nft_list_table("inet", "nftguard"), before);
}

#[test]
fn the_lock_refuses_a_concurrent_apply_with_61() {
    netns();
    let state = state_dir("apply-locked");
    let mut s = sock();
    let p = plan(replace_owned_table(false, &[22]), genid(&mut s));
    let _held = StateLock::acquire(&state).unwrap();
    let mut o = opts(&state, &p.approval_token);
    let e = txn::apply(&mut s, &state, &p, &mut o).unwrap_err();
    assert!(matches!(e, ApplyError::Locked { .. }), "{e}");
    assert_eq!(e.exit_code(), 61);
}

#[test]
fn a_failed_verify_is_60_with_the_rollback_still_armed() {
    netns();
    let state = state_dir("apply-verify");
    let mut s = sock();
    let base = genid(&mut s);
    let p = plan(replace_owned_table(false, &[22]), base);
    let mut o = opts(&state, &p.approval_token);
    o.verify = Some(Box::new(|_s: &mut nftguard::netlink::Socket| {
        Err("ssh-reachable: port 22 is dropped".to_string())
    }));
    let e = txn::apply(&mut s, &state, &p, &mut o).unwrap_err();
    assert_eq!(e.exit_code(), 60, "{e}");
    assert!(txn::status(&state).unwrap().rollback.pending);
    txn::rollback(&mut s, &state, &RollbackRequest::default()).unwrap();
    assert_eq!(nft_list_table("inet", "nftguard"), "");

    // Verify passing with --auto-confirm: confirmed and persisted.
    let base = genid(&mut s);
    let p = plan(replace_owned_table(false, &[22]), base);
    let mut o = opts(&state, &p.approval_token);
    let mut ran = false;
    o.verify = Some(Box::new(|_s: &mut nftguard::netlink::Socket| {
        ran = true;
        Ok(())
    }));
    o.auto_confirm = true;
    let out = txn::apply(&mut s, &state, &p, &mut o).unwrap();
    drop(o);
    assert!(ran);
    assert_eq!(out.verified, Some(true));
    assert!(out.confirmed.is_some());
    assert_eq!(
        JournalEntry::last(&state).unwrap().unwrap().phase,
        Phase::Confirmed
    );
}

#[path = "plan_common/mod.rs"]
mod plan_common;

/// The real planner's batches: each profile applied over the previous
/// one, rolled back to it exactly (dynamic per-source rate-limit sets
/// included), applied again and confirmed; the last one restored at boot.
#[test]
fn planner_batches_apply_roll_back_and_restore_exactly() {
    use nftguard::engine::{DumpFilter, Ruleset};
    use nftguard::plan::{self, ProfileName, Selection};
    netns();
    let state = state_dir("apply-planner");
    let audit = plan_common::plain_audit();
    let mut s = sock();
    let mut last_applied = String::new();
    for p in ProfileName::ALL {
        let before = nft_list_table("inet", "nftguard");
        let plan_for = |s: &mut nftguard::netlink::Socket| {
            let live = Ruleset::dump(s, &DumpFilter::all()).unwrap();
            let req = plan_common::request(Selection::Profile(p));
            let bundle = plan::build(&req, &audit, &live, &plan_common::fixed_source()).unwrap();
            txn::StoredPlan::from_bundle(&bundle)
        };
        let sp = plan_for(&mut s);
        let mut o = opts(&state, &sp.approval_token);
        txn::apply(&mut s, &state, &sp, &mut o).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert!(nft_list_table("inet", "nftguard").contains("policy drop"));
        txn::rollback(&mut s, &state, &RollbackRequest::default()).unwrap();
        assert_eq!(nft_list_table("inet", "nftguard"), before, "{p}");

        let sp = plan_for(&mut s);
        let mut o = opts(&state, &sp.approval_token);
        txn::apply(&mut s, &state, &sp, &mut o).unwrap_or_else(|e| panic!("{p}: {e}"));
        txn::confirm(&mut s, &state, &o.persist).unwrap();
        last_applied = nft_list_table("inet", "nftguard");
    }
    nft(&["delete", "table", "inet", "nftguard"], None);
    assert!(txn::restore_boot(&mut s, &state).unwrap().restored);
    assert_eq!(nft_list_table("inet", "nftguard"), last_applied);
}
