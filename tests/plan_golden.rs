//! Plan JSON golden files for fixed inputs (fixed audit facts, fixed
//! genid, fixed operator), token determinism, read-only plans for
//! ufw-owned hosts, and the state directory.
//!
//! Regenerate the golden files after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test plan_golden` and review the diff.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod plan_common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use nftguard::engine::{DumpFilter, Ruleset};
use nftguard::plan::{self, store, OperatorSession, ProfileName, RiskLevel, Selection};
use nftguard::policy::Policy;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn operator() -> OperatorSession {
    OperatorSession::parse(Some("203.0.113.5 51000 192.0.2.1 22"), None).unwrap()
}

fn empty_live(genid: u32) -> Ruleset {
    Ruleset {
        genid,
        ..Ruleset::default()
    }
}

fn golden(name: &str, selection: Selection) {
    let mut req = plan_common::request(selection);
    req.operator = Some(operator());
    let b = plan::build(
        &req,
        &plan_common::plain_audit(),
        &empty_live(42),
        &plan_common::fixed_source(),
    )
    .unwrap();
    let json = b.plan.to_json() + "\n";
    let path = fixtures().join(format!("plan/{name}.json"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &json).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(
        json,
        want,
        "{name}: plan JSON differs from {}",
        path.display()
    );
    // Every key of WORKFLOW.md §plan is there.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for key in [
        "backend",
        "active_frontend",
        "profile",
        "target_ports",
        "diff",
        "risk_assessment",
        "estimated_disruption",
        "warnings",
        "base_genid",
        "nft",
        "approval_token",
        "audit_cached",
        "audit_cache_file",
    ] {
        assert!(v.get(key).is_some(), "{name}: key {key} missing");
    }
    for key in [
        "proto",
        "port",
        "source",
        "action",
        "rate_limit",
        "family",
        "comment",
    ] {
        assert!(
            v["diff"]["add"][0].get(key).is_some(),
            "{name}: diff entry key {key} missing"
        );
    }
}

#[test]
fn golden_profiles() {
    for p in ProfileName::ALL {
        golden(p.name(), Selection::Profile(p));
    }
    golden(
        "ports",
        Selection::Ports(plan::parse_ports("22,80,443/tcp,53/udp").unwrap()),
    );
    let policy = Policy::from_path(&fixtures().join("policy/seed-example-2.0.yaml")).unwrap();
    golden("policy-seed-example", Selection::Policy(Box::new(policy)));
}

#[test]
fn token_is_deterministic_and_covers_genid_and_batch() {
    let req = plan_common::request(Selection::Profile(ProfileName::PublicWebServer));
    let audit = plan_common::plain_audit();
    let src = plan_common::fixed_source();
    let t = |live: &Ruleset| {
        plan::build(&req, &audit, live, &src)
            .unwrap()
            .plan
            .approval_token
    };
    assert_eq!(t(&empty_live(42)), t(&empty_live(42)));
    assert_ne!(t(&empty_live(42)), t(&empty_live(43)));
    // Same genid, but our table exists: the batch differs (delete first).
    let mut with_table = empty_live(42);
    with_table.tables.push(nftguard::nft::Table::new(
        nftguard::nft::Family::Inet,
        "nftguard",
    ));
    assert_ne!(t(&empty_live(42)), t(&with_table));
    // The stored batch reproduces the token.
    let b = plan::build(&req, &audit, &empty_live(42), &src).unwrap();
    assert_eq!(
        plan::token::approval_token(&b.transaction, 42).unwrap(),
        b.plan.approval_token
    );
}

#[test]
fn risk_follows_the_operator_source() {
    let audit = plan_common::plain_audit();
    let src = plan_common::fixed_source();
    let mut req = plan_common::request(Selection::Profile(ProfileName::InternalDatabase));
    // Outside the management subnet: locked out.
    req.operator = Some(operator());
    let p = plan::build(&req, &audit, &empty_live(1), &src)
        .unwrap()
        .plan;
    assert_eq!(p.risk_assessment, RiskLevel::High, "{:#?}", p.risk_reasons);
    assert_eq!(p.estimated_disruption, "high");
    // Inside it: fine (medium: the input default tightens).
    req.operator = OperatorSession::parse(None, Some("10.0.1.7 40000 22"));
    let p = plan::build(&req, &audit, &empty_live(1), &src)
        .unwrap()
        .plan;
    assert_eq!(
        p.risk_assessment,
        RiskLevel::Medium,
        "{:#?}",
        p.risk_reasons
    );
    // An SSH session on another port than the plan keeps: high, and said.
    req.operator = OperatorSession::parse(Some("10.0.1.7 40000 10.0.1.1 2222"), None);
    let p = plan::build(&req, &audit, &empty_live(1), &src)
        .unwrap()
        .plan;
    assert_eq!(p.risk_assessment, RiskLevel::High);
    assert!(
        p.warnings.iter().any(|w| w.contains("--ssh-port 2222")),
        "{:#?}",
        p.warnings
    );
    // IPv4-mapped sources are read as IPv4.
    let o = OperatorSession::parse(Some("::ffff:10.0.1.7 1 ::1 22"), None).unwrap();
    assert_eq!(o.source.to_string(), "10.0.1.7");
}

#[test]
fn ufw_owned_host_gets_a_read_only_plan_with_ufw_commands() {
    common::netns();
    for cmd in ["iptables", "ip6tables"] {
        for args in [
            vec!["-N", "ufw-user-input"],
            vec!["-A", "INPUT", "-j", "ufw-user-input"],
            vec!["-P", "INPUT", "DROP"],
            vec![
                "-A",
                "ufw-user-input",
                "-p",
                "tcp",
                "--dport",
                "22",
                "-j",
                "ACCEPT",
            ],
        ] {
            let out = std::process::Command::new(cmd)
                .args(&args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{cmd} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let live = Ruleset::dump(&mut common::sock(), &DumpFilter::all()).unwrap();
    let mut audit = plan_common::plain_audit();
    audit.active_frontend = "ufw".into();
    audit.active_frontends = vec!["ufw".into()];
    audit.ufw.running = true;
    audit.recommended_backend = "ufw".into();
    let mut req = plan_common::request(Selection::Profile(ProfileName::PublicWebServer));
    req.operator = Some(operator());
    let p = plan::build(&req, &audit, &live, &plan_common::fixed_source())
        .unwrap()
        .plan;
    assert_eq!(p.backend, "ufw");
    assert!(p.read_only);
    assert!(p.apply_command.is_none());
    assert!(p
        .frontend_commands
        .contains(&"ufw default deny incoming".to_string()));
    assert!(
        p.frontend_commands
            .iter()
            .any(|c| c == "ufw limit in proto tcp from any to any port 22 comment 'ssh'"),
        "{:#?}",
        p.frontend_commands
    );
    assert!(p
        .frontend_commands
        .iter()
        .any(|c| c.starts_with("ufw allow in proto tcp from any to any port 443")));
    let skipped: Vec<String> = p.diff.skip.iter().map(|e| e.port.to_string()).collect();
    let added: Vec<String> = p.diff.add.iter().map(|e| e.port.to_string()).collect();
    assert!(skipped.contains(&"22".into()), "{:#?}", p.diff);
    assert_eq!(
        p.diff.skip[0].reason.as_deref(),
        Some("already_allowed_by_ufw")
    );
    assert!(added.contains(&"80".into()) && added.contains(&"443".into()));
    assert!(p.diff.remove.is_empty());
    assert!(
        p.warnings.iter().any(|w| w.contains(
            "an accept in our table cannot override the drop in table ip filter chain INPUT"
        ) && w.contains("ufw-user-input")),
        "{:#?}",
        p.warnings
    );
}

#[test]
fn state_dir_keeps_plan_and_audit_cache_private() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ngp-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let b = plan::build(
        &plan_common::request(Selection::Profile(ProfileName::BastionHost)),
        &plan_common::plain_audit(),
        &empty_live(7),
        &plan_common::fixed_source(),
    )
    .unwrap();
    let path = store::save_plan(&dir, &b).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&path), 0o600);
    let back = store::load_plan(&dir).unwrap();
    assert_eq!(back, b);
    assert_eq!(
        plan::token::approval_token(&back.transaction, back.plan.base_genid).unwrap(),
        b.plan.approval_token
    );
    // Audit cache: fresh at the same genid only, for 300 s.
    let audit = plan_common::plain_audit();
    store::save_audit_at(&dir, &audit, 7, 1_000).unwrap();
    assert_eq!(store::load_audit_at(&dir, 7, 1_100), Some(audit.clone()));
    assert_eq!(store::load_audit_at(&dir, 8, 1_100), None);
    assert_eq!(store::load_audit_at(&dir, 7, 1_300), None);
    assert_eq!(store::load_audit_at(&dir, 7, 999), None);
    // A group/world-writable state dir is refused.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(store::save_plan(&dir, &b).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
    // The plan store is the state directory of apply and confirm: one
    // under a directory every user can write to is refused, as is a
    // relative one.
    let shared = std::env::temp_dir().join(format!("ngp-shared-{}", std::process::id()));
    let e = store::save_plan(&shared, &b).unwrap_err().to_string();
    assert!(e.contains("every user can write to"), "{e}");
    assert!(!shared.exists());
    assert!(store::save_plan(std::path::Path::new("relative-state"), &b).is_err());
    assert!(!std::path::Path::new("relative-state").exists());
}
