//! Plans committed in a private network namespace: the batch is accepted by
//! the kernel, the live table reads back as "nothing to change", the token
//! follows the live ruleset.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod plan_common;

use nftguard::engine::{DumpFilter, GenCheck, Ruleset};
use nftguard::plan::{self, ProfileName, Selection};

fn live() -> Ruleset {
    Ruleset::dump(&mut common::sock(), &DumpFilter::all()).unwrap()
}

#[test]
fn every_profile_commits_and_then_diffs_clean() {
    common::netns();
    let audit = plan_common::plain_audit();
    for p in ProfileName::ALL {
        let req = plan_common::request(Selection::Profile(p));
        let first = plan::build(&req, &audit, &live(), &plan_common::fixed_source()).unwrap();
        first
            .transaction
            .commit(&mut common::sock(), GenCheck::Expect(first.plan.base_genid))
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        let text = common::nft(&["list", "table", "inet", "nftguard"], None);
        assert!(text.contains("policy drop"), "{p}: {text}");
        let again = plan::build(&req, &audit, &live(), &plan_common::fixed_source()).unwrap();
        assert!(again.plan.table_exists);
        assert!(
            again.plan.diff.add.is_empty() && again.plan.diff.remove.is_empty(),
            "{p}: {:#?}",
            again.plan.diff
        );
        assert!(!again.plan.diff.skip.is_empty());
        assert!(again
            .plan
            .diff
            .skip
            .iter()
            .all(|e| e.reason.as_deref() == Some("already_exists")));
        // Replacing the table works too (delete + create in one batch).
        again
            .transaction
            .commit(&mut common::sock(), GenCheck::Expect(again.plan.base_genid))
            .unwrap();
    }
}

#[test]
fn token_follows_the_live_ruleset() {
    common::netns();
    let audit = plan_common::plain_audit();
    let req = plan_common::request(Selection::Profile(ProfileName::PublicWebServer));
    let a = plan::build(&req, &audit, &live(), &plan_common::fixed_source()).unwrap();
    let b = plan::build(&req, &audit, &live(), &plan_common::fixed_source()).unwrap();
    assert_eq!(a.plan.approval_token, b.plan.approval_token);
    assert!(plan::token::is_token(&a.plan.approval_token));
    // Any change of the live ruleset (here: someone else's table) changes it.
    common::nft(&["add", "table", "ip", "other"], None);
    let c = plan::build(&req, &audit, &live(), &plan_common::fixed_source()).unwrap();
    assert_ne!(a.plan.approval_token, c.plan.approval_token);
    assert_ne!(a.plan.base_genid, c.plan.base_genid);
    // A different plan on the same ruleset: another token.
    let d = plan::build(
        &plan_common::request(Selection::Profile(ProfileName::BastionHost)),
        &audit,
        &live(),
        &plan_common::fixed_source(),
    )
    .unwrap();
    assert_ne!(c.plan.approval_token, d.plan.approval_token);
}

#[test]
fn changed_live_table_shows_adds_and_removes() {
    common::netns();
    let audit = plan_common::plain_audit();
    let req = plan_common::request(Selection::Profile(ProfileName::BastionHost));
    let first = plan::build(&req, &audit, &live(), &plan_common::fixed_source()).unwrap();
    assert!(!first.plan.table_exists);
    assert!(first.plan.diff.remove.is_empty());
    first
        .transaction
        .commit(&mut common::sock(), GenCheck::Expect(first.plan.base_genid))
        .unwrap();
    // An operator adds a rule by hand; the web profile adds 80/443.
    common::nft(
        &[
            "add", "rule", "inet", "nftguard", "input", "tcp", "dport", "8080", "accept",
        ],
        None,
    );
    let web = plan_common::request(Selection::Profile(ProfileName::PublicWebServer));
    let p = plan::build(&web, &audit, &live(), &plan_common::fixed_source()).unwrap();
    let ports =
        |v: &[plan::DiffEntry]| -> Vec<String> { v.iter().map(|e| e.port.to_string()).collect() };
    assert!(
        ports(&p.plan.diff.remove).contains(&"8080".to_string()),
        "{:#?}",
        p.plan.diff
    );
    assert!(ports(&p.plan.diff.add).contains(&"80".to_string()));
    assert!(ports(&p.plan.diff.add).contains(&"443".to_string()));
    assert_eq!(p.plan.estimated_disruption, "medium");
}

#[test]
fn run_caches_the_audit_per_generation_and_stores_the_plan() {
    common::netns();
    let root = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ngp-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("host")).unwrap();
    let host = nftguard::detect::Host::under(root.join("host"));
    let mut req = plan_common::request(Selection::Profile(ProfileName::BastionHost));
    req.state_dir = root.join("state");
    let opts = plan::RunOptions::default();
    let first = plan::run(&mut common::sock(), &host, &req, &opts).unwrap();
    assert!(!first.plan.audit_cached);
    let second = plan::run(&mut common::sock(), &host, &req, &opts).unwrap();
    assert!(second.plan.audit_cached);
    assert_eq!(first.plan.approval_token, second.plan.approval_token);
    assert_eq!(plan::store::load_plan(&req.state_dir).unwrap(), second);
    // --refresh-audit bypasses the cache; a new generation invalidates it.
    let refreshed = plan::run(
        &mut common::sock(),
        &host,
        &req,
        &plan::RunOptions {
            refresh_audit: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!refreshed.plan.audit_cached);
    common::nft(&["add", "table", "ip", "other"], None);
    let after = plan::run(&mut common::sock(), &host, &req, &opts).unwrap();
    assert!(!after.plan.audit_cached);
    assert_ne!(after.plan.approval_token, first.plan.approval_token);
    std::fs::remove_dir_all(&root).unwrap();
}
