//! Valid policies: the seed's example and schema 2.1, in YAML and JSON, each
//! compared with a reviewed golden JSON rendering of the typed `Policy`.
//! Regenerate the goldens with `NFTGUARD_BLESS=1 cargo test --test policy_golden`
//! and review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use nftguard::policy::{
    Action, Addresses, DefaultVerdict, Policy, PortRange, Ports, Proto, RateLimit, RateUnit,
    SchemaVersion,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/policy")
        .join(name)
}

fn load(name: &str) -> Policy {
    match Policy::from_path(&fixture(name)) {
        Ok(policy) => policy,
        Err(err) => panic!("{err}"),
    }
}

/// The policy as JSON without rule locations (they differ between the YAML
/// and JSON spellings of the same policy).
fn without_locations(policy: &Policy) -> serde_json::Value {
    let mut value = serde_json::to_value(policy).unwrap();
    for direction in ["inbound", "outbound"] {
        for rule in value[direction]["rules"].as_array_mut().unwrap() {
            rule.as_object_mut().unwrap().remove("location");
        }
    }
    value
}

fn check_golden(source: &str, golden: &str) {
    let policy = load(source);
    let rendered = serde_json::to_string_pretty(&policy).unwrap() + "\n";
    let golden_path = fixture(golden);
    if std::env::var_os("NFTGUARD_BLESS").is_some() {
        std::fs::write(&golden_path, &rendered).unwrap();
    }
    let expected = std::fs::read_to_string(&golden_path).unwrap();
    assert_eq!(rendered, expected, "{source} no longer renders as {golden}");
}

#[test]
fn seed_example_yaml_matches_golden() {
    check_golden("seed-example-2.0.yaml", "seed-example-2.0.expected.json");
}

#[test]
fn zero_trust_2_1_yaml_matches_golden() {
    check_golden("zero-trust-2.1.yaml", "zero-trust-2.1.expected.json");
}

#[test]
fn json_and_yaml_spellings_give_the_same_policy() {
    for stem in ["seed-example-2.0", "zero-trust-2.1"] {
        let yaml = load(&format!("{stem}.yaml"));
        let json = load(&format!("{stem}.json"));
        assert_eq!(without_locations(&yaml), without_locations(&json), "{stem}");
    }
}

#[test]
fn seed_example_values_are_normalised() {
    let policy = load("seed-example-2.0.yaml");
    assert_eq!(policy.schema_version, SchemaVersion::V2_0);
    assert_eq!(policy.name(), Some("web-server-production"));
    assert_eq!(policy.metadata.last_modified.as_deref(), Some("2025-01-15"));
    assert_eq!(policy.inbound.default, DefaultVerdict::Deny);
    let ssh = &policy.inbound.rules[0];
    assert_eq!(ssh.proto, Proto::Tcp);
    assert_eq!(ssh.ports, Ports::Ranges(vec![PortRange::single(22)]));
    assert_eq!(ssh.source.to_string(), "10.0.1.0/24");
    assert_eq!(
        ssh.rate_limit,
        Some(RateLimit {
            count: 10,
            per: RateUnit::Minute
        })
    );
    assert_eq!((ssh.location.line, ssh.location.column), (16, 7));
    assert_eq!(policy.inbound.rules[2].source, Addresses::Any);
    assert_eq!(policy.inbound.rules[3].ports, Ports::Any);
    // Duplicates in a source list are dropped, networks sorted (IPv4 first).
    assert_eq!(
        policy.inbound.rules[4].source.to_string(),
        "10.0.2.0/24,2001:db8:2::/48"
    );
    assert_eq!(policy.inbound.rules[4].action, Action::Drop);
    assert_eq!(policy.inbound.rules[5].action, Action::Reject);
    assert!(policy.outbound.rules.is_empty());
    let logging = policy.logging.unwrap();
    assert_eq!(logging.prefix.as_deref(), Some("[nftguard-drop] "));
    assert_eq!(
        policy.validation.unwrap().rules_persist_after_reboot,
        Some(false)
    );
}

#[test]
fn schema_2_1_ports_are_merged_ranges() {
    let policy = load("zero-trust-2.1.yaml");
    assert_eq!(policy.schema_version, SchemaVersion::V2_1);
    assert_eq!(
        policy.inbound.rules[1].ports.to_string(),
        "443,8000-8200",
        "8080 lies inside 8000-8100, and 8000-8100 touches 8100-8200"
    );
    assert_eq!(policy.inbound.rules[2].ports.to_string(), "9100");
    assert_eq!(policy.inbound.rules[2].source.to_string(), "10.0.9.7/32");
    assert_eq!(policy.inbound.rules[2].interface.as_deref(), Some("wg*"));
    assert_eq!(
        policy.outbound.rules[0].destination.to_string(),
        "10.0.0.53/32,2001:db8::53/128"
    );
    assert_eq!(policy.outbound.default, DefaultVerdict::Deny);
}

#[test]
fn minimal_policy_has_no_optional_sections() {
    let policy = load("minimal-2.0.yaml");
    assert!(policy.logging.is_none());
    assert!(policy.validation.is_none());
    assert!(policy.backend.is_none());
    assert_eq!(policy.metadata, Default::default());
    assert!(policy.outbound.rules.is_empty());
}

#[test]
fn anchors_and_aliases_within_limits_are_expanded() {
    let text = "\
schema_version: \"2.0\"
inbound:
  default: deny
  rules:
    - proto: tcp
      port: 22
      source: &mgmt [10.0.1.0/24, 10.0.3.0/24]
      action: accept
    - proto: tcp
      port: 9100
      source: *mgmt
      action: accept
outbound:
  default: accept
forward:
  default: deny
icmp:
  ipv4: accept
  ipv6: deny
";
    let policy = Policy::from_str(text, "alias.yaml").unwrap();
    assert_eq!(
        policy.inbound.rules[1].source,
        policy.inbound.rules[0].source
    );
    assert_eq!(policy.icmp.ipv6, DefaultVerdict::Deny);
}

#[test]
fn format_is_chosen_by_extension_then_content() {
    let json = std::fs::read_to_string(fixture("seed-example-2.0.json")).unwrap();
    // No extension: the leading '{' selects JSON.
    assert!(Policy::from_str(&json, "policy").is_ok());
    // JSON is (nearly) YAML, so a .yaml name still reads it.
    assert!(Policy::from_str(&json, "policy.yaml").is_ok());
    let yaml = std::fs::read_to_string(fixture("seed-example-2.0.yaml")).unwrap();
    assert!(Policy::from_str(&yaml, "policy").is_ok());
    // A .json name forces the strict JSON reader.
    let err = Policy::from_str(&yaml, "policy.JSON").unwrap_err();
    assert_eq!(
        err.to_string(),
        "policy.JSON:1:1: invalid JSON: expected a value, found '#'"
    );
}

#[test]
fn byte_order_mark_is_accepted() {
    let yaml = std::fs::read_to_string(fixture("minimal-2.0.yaml")).unwrap();
    assert!(Policy::from_str(&format!("\u{feff}{yaml}"), "bom.yaml").is_ok());
    let json = std::fs::read_to_string(fixture("seed-example-2.0.json")).unwrap();
    assert!(Policy::from_str(&format!("\u{feff}{json}"), "bom.json").is_ok());
}
