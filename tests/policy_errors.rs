//! The error catalogue: one test per malformed case, asserting the exact
//! located message (`file:line:column: text`) and, where useful, the
//! structured fields of `PolicyError`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use nftguard::policy::{Policy, PolicyError, PolicyErrorKind, MAX_POLICY_BYTES};

/// A valid 2.0/2.1 policy whose inbound rules are `rules` (they start on line 5).
fn with_rules(version: &str, rules: &str) -> String {
    format!(
        "schema_version: \"{version}\"
inbound:
  default: deny
  rules:
{rules}outbound:
  default: accept
forward:
  default: deny
icmp:
  ipv4: accept
  ipv6: accept
"
    )
}

/// A valid policy without rules (10 lines; appended text starts on line 11).
fn base(version: &str) -> String {
    with_rules(version, "").replace("  rules:\n", "")
}

/// A valid 2.0/2.1 policy whose outbound rules are `rules` (they start on line 7).
fn with_outbound_rules(version: &str, rules: &str) -> String {
    format!(
        "schema_version: \"{version}\"
inbound:
  default: deny
outbound:
  default: accept
  rules:
{rules}forward:
  default: deny
icmp:
  ipv4: accept
  ipv6: accept
"
    )
}

fn error(text: &str, name: &str) -> PolicyError {
    match Policy::from_str(text, name) {
        Ok(policy) => panic!("accepted invalid policy {text:?}: {policy:?}"),
        Err(err) => err,
    }
}

fn message(text: &str) -> String {
    error(text, "policy.yaml").to_string()
}

// ---- unknown and misplaced keys -------------------------------------------

#[test]
fn misspelt_key_gets_a_suggestion() {
    let text = with_rules(
        "2.0",
        "    - proto: tcp
      port: 22
      action: accept
    - proto: tcp
      port: 80
      action: accept
    - proto: tcp
      port: 443
      sorce: 10.0.0.0/8
      action: accept
",
    );
    let err = error(&text, "policy.yaml");
    assert_eq!(
        err.to_string(),
        "policy.yaml:13:7: unknown key 'sorce' in inbound.rules[2] (did you mean 'source'?)"
    );
    assert_eq!(err.file, "policy.yaml");
    assert_eq!((err.line, err.column), (13, 7));
    assert_eq!(err.key_path, "inbound.rules[2].sorce");
    assert_eq!(err.kind, PolicyErrorKind::UnknownKey);
}

#[test]
fn unknown_key_without_close_match_lists_the_keys() {
    let text = format!("{}firewall: strict\n", base("2.0"));
    assert_eq!(
        message(&text),
        "policy.yaml:11:1: unknown key 'firewall' at the top level (expected one of: schema_version, metadata, backend, inbound, outbound, forward, icmp, logging, validation)"
    );
}

#[test]
fn unknown_key_in_a_nested_section() {
    let text = format!("{}logging:\n  droped: true\n", base("2.0"));
    assert_eq!(
        message(&text),
        "policy.yaml:12:3: unknown key 'droped' in logging (did you mean 'dropped'?)"
    );
}

#[test]
fn key_of_schema_2_1_under_2_0_says_so() {
    let text = with_outbound_rules(
        "2.0",
        "    - proto: udp
      port: 53
      destination: 10.0.0.53
      action: accept
",
    );
    let err = error(&text, "policy.yaml");
    assert_eq!(
        err.to_string(),
        "policy.yaml:9:7: key 'destination' in outbound.rules[0] needs schema_version \"2.1\" (this file declares \"2.0\")"
    );
    assert_eq!(err.kind, PolicyErrorKind::NeedsNewerVersion);
}

#[test]
fn interface_under_2_0_says_so() {
    let text = with_rules(
        "2.0",
        "    - proto: tcp
      port: 22
      interface: eth0
      action: accept
",
    );
    assert_eq!(
        message(&text),
        "policy.yaml:7:7: key 'interface' in inbound.rules[0] needs schema_version \"2.1\" (this file declares \"2.0\")"
    );
}

#[test]
fn port_list_under_2_0_says_so() {
    let text = with_rules(
        "2.0",
        "    - proto: tcp
      port: [80, 443]
      action: accept
",
    );
    assert_eq!(
        message(&text),
        "policy.yaml:6:13: inbound.rules[0].port: a port list needs schema_version \"2.1\" (this file declares \"2.0\")"
    );
}

#[test]
fn port_range_under_2_0_says_so() {
    let text = with_rules(
        "2.0",
        "    - proto: tcp
      port: \"8000-8100\"
      action: accept
",
    );
    assert_eq!(
        message(&text),
        "policy.yaml:6:13: inbound.rules[0].port: the port string '8000-8100' needs schema_version \"2.1\" (this file declares \"2.0\")"
    );
}

#[test]
fn destination_on_an_inbound_rule_is_refused() {
    let text = with_rules(
        "2.1",
        "    - proto: tcp
      port: 22
      destination: 10.0.0.1
      action: accept
",
    );
    assert_eq!(
        message(&text),
        "policy.yaml:7:7: key 'destination' in inbound.rules[0] is only allowed in outbound rules"
    );
}

#[test]
fn repeated_key_names_both_places() {
    let text = "schema_version: \"2.0\"\ninbound:\n  default: deny\ninbound:\n  default: accept\n";
    let err = error(text, "policy.yaml");
    assert_eq!(
        err.to_string(),
        "policy.yaml:4:1: duplicate key 'inbound' at the top level (first at line 2, column 1)"
    );
    assert_eq!(err.kind, PolicyErrorKind::Duplicate);
    let json = "{\"schema_version\": \"2.0\",\n \"schema_version\": \"2.1\"}";
    assert_eq!(
        error(json, "policy.json").to_string(),
        "policy.json:2:2: duplicate key 'schema_version' at the top level (first at line 1, column 2)"
    );
}

#[test]
fn non_string_key_is_refused() {
    let text = format!("{}1: one\n", base("2.0"));
    assert_eq!(
        message(&text),
        "policy.yaml:11:1: mapping keys must be strings, found number 1"
    );
}

// ---- versions --------------------------------------------------------------

#[test]
fn higher_major_version_is_refused() {
    let text = base("3.0");
    let err = error(&text, "policy.yaml");
    assert_eq!(
        err.to_string(),
        "policy.yaml:1:17: schema_version '3.0' is not supported: major version 3 is newer than this nftguard, which reads \"2.0\" and \"2.1\""
    );
    assert_eq!(err.kind, PolicyErrorKind::UnsupportedVersion);
}

#[test]
fn unknown_minor_version_is_refused() {
    assert_eq!(
        message(&base("2.7")),
        "policy.yaml:1:17: schema_version '2.7' is not supported: this nftguard reads \"2.0\" and \"2.1\""
    );
    assert_eq!(
        message(&base("1.0")),
        "policy.yaml:1:17: schema_version '1.0' is not supported: this nftguard reads \"2.0\" and \"2.1\""
    );
}

#[test]
fn malformed_version_is_refused() {
    assert_eq!(
        message(&base("two")),
        "policy.yaml:1:17: schema_version: 'two' is not a version such as \"2.0\"; this nftguard reads \"2.0\" and \"2.1\""
    );
}

#[test]
fn unquoted_version_is_a_number_and_refused() {
    let text = base("2.0").replacen("\"2.0\"", "2.0", 1);
    assert_eq!(
        message(&text),
        "policy.yaml:1:17: schema_version: expected a quoted string such as \"2.0\", found number 2.0"
    );
}

#[test]
fn missing_version_is_reported_first() {
    let text = "inbound:\n  default: deny\nbogus: 1\n";
    let err = error(text, "policy.yaml");
    assert_eq!(
        err.to_string(),
        "policy.yaml:1:1: missing required key 'schema_version' at the top level (this nftguard reads \"2.0\" and \"2.1\")"
    );
    assert_eq!(err.kind, PolicyErrorKind::MissingKey);
}

// ---- required keys and types -----------------------------------------------

#[test]
fn missing_section_is_reported() {
    let text = "schema_version: \"2.0\"\ninbound:\n  default: deny\nforward:\n  default: deny\n";
    assert_eq!(
        message(text),
        "policy.yaml:1:1: missing required key 'outbound' at the top level"
    );
}

#[test]
fn missing_rule_field_is_reported_at_the_rule() {
    let text = with_rules("2.0", "    - proto: tcp\n      action: accept\n");
    let err = error(&text, "policy.yaml");
    assert_eq!(
        err.to_string(),
        "policy.yaml:5:7: missing required key 'port' in inbound.rules[0]"
    );
    assert_eq!(err.key_path, "inbound.rules[0].port");
    let icmp = with_rules("2.0", "    - proto: icmp\n      action: accept\n");
    assert_eq!(
        message(&icmp),
        "policy.yaml:5:7: missing required key 'port' in inbound.rules[0] (ICMP rules take port: any)"
    );
}

#[test]
fn wrong_types_are_reported() {
    let text = base("2.0").replace("default: deny", "default: 5");
    assert_eq!(
        message(&text),
        "policy.yaml:3:12: inbound.default: expected one of deny, accept, found number 5"
    );
    let text = with_rules("2.0", "    proto: tcp\n");
    assert_eq!(
        message(&text),
        "policy.yaml:5:5: inbound.rules: expected a list of rules, found a mapping"
    );
    let text = with_rules("2.0", "    - [tcp, 22]\n");
    assert_eq!(
        message(&text),
        "policy.yaml:5:7: inbound.rules[0]: expected a mapping, found a list"
    );
    let text = with_rules(
        "2.0",
        "    - proto: tcp\n      port: 22.0\n      action: accept\n",
    );
    assert_eq!(
        message(&text),
        "policy.yaml:6:13: inbound.rules[0].port: expected a port number 1–65535 or 'any', found number 22.0"
    );
    let text = format!("{}metadata:\n  name: [a]\n", base("2.0"));
    assert_eq!(
        message(&text),
        "policy.yaml:12:9: metadata.name: expected a string, found a list"
    );
}

#[test]
fn yaml_1_1_booleans_are_not_booleans() {
    let text = format!("{}logging:\n  dropped: yes\n", base("2.0"));
    assert_eq!(
        message(&text),
        "policy.yaml:12:12: logging.dropped: expected true or false, found string 'yes'"
    );
}

#[test]
fn top_level_must_be_a_mapping() {
    assert_eq!(
        message("- schema_version: \"2.0\"\n"),
        "policy.yaml:1:1: expected a mapping at the top level, found a list"
    );
}

#[test]
fn misspelt_value_gets_a_suggestion() {
    let text = with_rules(
        "2.0",
        "    - proto: tpc\n      port: 22\n      action: accept\n",
    );
    let err = error(&text, "policy.yaml");
    assert_eq!(
        err.to_string(),
        "policy.yaml:5:14: inbound.rules[0].proto: 'tpc' is not one of tcp, udp, icmp, icmpv6, any (did you mean 'tcp'?)"
    );
    assert_eq!(err.kind, PolicyErrorKind::InvalidValue);
    let text = with_rules(
        "2.0",
        "    - proto: tcp\n      port: 22\n      action: allow\n",
    );
    assert_eq!(
        message(&text),
        "policy.yaml:7:15: inbound.rules[0].action: 'allow' is not one of accept, drop, reject"
    );
}

// ---- addresses ---------------------------------------------------------------

fn source_rule(source: &str) -> String {
    with_rules(
        "2.0",
        &format!(
            "    - proto: tcp\n      port: 22\n      source: {source}\n      action: accept\n"
        ),
    )
}

#[test]
fn address_out_of_range_is_refused() {
    assert_eq!(
        message(&source_rule("10.0.0.300/8")),
        "policy.yaml:7:15: inbound.rules[0].source: invalid network '10.0.0.300/8': '10.0.0.300' is not an IPv4 or IPv6 address"
    );
}

#[test]
fn prefix_too_long_is_refused() {
    assert_eq!(
        message(&source_rule("10.0.0.0/33")),
        "policy.yaml:7:15: inbound.rules[0].source: invalid network '10.0.0.0/33': prefix length 33 is over 32, the maximum for IPv4"
    );
    assert_eq!(
        message(&source_rule("\"2001:db8::/129\"")),
        "policy.yaml:7:15: inbound.rules[0].source: invalid network '2001:db8::/129': prefix length 129 is over 128, the maximum for IPv6"
    );
}

#[test]
fn host_bits_are_an_error_naming_both_readings() {
    assert_eq!(
        message(&source_rule("10.0.0.5/24")),
        "policy.yaml:7:15: inbound.rules[0].source: invalid network '10.0.0.5/24': host bits are set after the prefix (did you mean '10.0.0.0/24' for the network or '10.0.0.5/32' for one host?)"
    );
}

#[test]
fn bad_entry_in_a_source_list_is_located() {
    assert_eq!(
        message(&source_rule("\n        - 10.0.0.0/8\n        - 192.168.1.0/240")),
        "policy.yaml:9:11: inbound.rules[0].source[1]: invalid network '192.168.1.0/240': prefix length 240 is over 32, the maximum for IPv4"
    );
    assert_eq!(
        message(&source_rule("[10.0.0.0/8, any]")),
        "policy.yaml:7:28: inbound.rules[0].source[1]: 'any' cannot be combined with networks in a list; write 'any' alone"
    );
    assert_eq!(
        message(&source_rule("[]")),
        "policy.yaml:7:15: inbound.rules[0].source: an empty address list matches nothing; list networks or write 'any'"
    );
    assert_eq!(
        message(&source_rule("8080")),
        "policy.yaml:7:15: inbound.rules[0].source: expected 'any', a network such as '10.0.0.0/8', or a list of networks, found number 8080"
    );
}

#[test]
fn icmp_rule_with_an_address_of_the_other_family_is_refused() {
    let text = with_rules(
        "2.0",
        "    - proto: icmp\n      port: any\n      source: 2001:db8::/32\n      action: accept\n",
    );
    assert_eq!(
        message(&text),
        "policy.yaml:7:15: inbound.rules[0].source: proto icmp is IPv4-only but '2001:db8::/32' is IPv6 (use proto icmpv6)"
    );
}

// ---- ports -----------------------------------------------------------------

fn port_rule(version: &str, proto: &str, port: &str) -> String {
    with_rules(
        version,
        &format!("    - proto: {proto}\n      port: {port}\n      action: accept\n"),
    )
}

#[test]
fn port_zero_is_refused() {
    assert_eq!(
        message(&port_rule("2.0", "tcp", "0")),
        "policy.yaml:6:13: inbound.rules[0].port: port 0 is out of range 1–65535"
    );
}

#[test]
fn port_above_65535_is_refused() {
    assert_eq!(
        message(&port_rule("2.0", "udp", "70000")),
        "policy.yaml:6:13: inbound.rules[0].port: port 70000 is out of range 1–65535"
    );
    assert_eq!(
        message(&port_rule("2.0", "udp", "-1")),
        "policy.yaml:6:13: inbound.rules[0].port: port -1 is out of range 1–65535"
    );
}

#[test]
fn leading_zero_port_is_not_read_as_octal() {
    assert_eq!(
        message(&port_rule("2.0", "tcp", "022")),
        "policy.yaml:6:13: inbound.rules[0].port: expected a port number 1–65535 or 'any', found string '022'"
    );
}

#[test]
fn icmp_with_a_port_is_refused() {
    assert_eq!(
        message(&port_rule("2.0", "icmp", "22")),
        "policy.yaml:6:13: inbound.rules[0].port: proto icmp has no ports; use port: any (found number 22)"
    );
    assert_eq!(
        message(&port_rule("2.1", "icmpv6", "[1, 2]")),
        "policy.yaml:6:13: inbound.rules[0].port: proto icmpv6 has no ports; use port: any (found a list)"
    );
}

#[test]
fn bad_ranges_and_lists_in_2_1_are_located() {
    assert_eq!(
        message(&port_rule("2.1", "tcp", "\"9000-8000\"")),
        "policy.yaml:6:13: inbound.rules[0].port: port range '9000-8000' runs backwards (write '8000-9000')"
    );
    assert_eq!(
        message(&port_rule("2.1", "tcp", "[80, \"1-70000\"]")),
        "policy.yaml:6:18: inbound.rules[0].port[1]: port 70000 is out of range 1–65535"
    );
    assert_eq!(
        message(&port_rule("2.1", "tcp", "[]")),
        "policy.yaml:6:13: inbound.rules[0].port: an empty port list matches nothing; list ports or write 'any'"
    );
    assert_eq!(
        message(&port_rule("2.1", "tcp", "[80, any]")),
        "policy.yaml:6:18: inbound.rules[0].port[1]: 'any' cannot be part of a port list; write port: any"
    );
    assert_eq!(
        message(&port_rule("2.1", "tcp", "http")),
        "policy.yaml:6:13: inbound.rules[0].port: 'http' is not a port or port range (expected N or N-M with ports 1–65535)"
    );
    assert_eq!(
        message(&port_rule("2.1", "tcp", "true")),
        "policy.yaml:6:13: inbound.rules[0].port: expected a port number 1–65535, a range such as '8000-8100', a list of those, or 'any', found boolean true"
    );
}

// ---- rule semantics -----------------------------------------------------------

#[test]
fn duplicate_rule_names_both_rules() {
    let text = with_rules(
        "2.0",
        "    - proto: tcp
      port: 22
      source: 10.0.0.1
      action: accept
    - proto: tcp
      port: 22
      source: 10.0.0.1/32
      action: accept
      comment: same rule, other spelling
",
    );
    let err = error(&text, "policy.yaml");
    assert_eq!(
        err.to_string(),
        "policy.yaml:9:7: inbound.rules[1]: duplicate rule: same proto, port, source and action as inbound.rules[0] (line 5, column 7)"
    );
    assert_eq!(err.kind, PolicyErrorKind::Duplicate);
    assert_eq!(err.key_path, "inbound.rules[1]");
}

#[test]
fn same_rule_in_both_directions_is_not_a_duplicate() {
    let text = with_rules("2.0", "    - proto: tcp\n      port: 22\n      action: accept\n").replace(
        "outbound:\n  default: accept\n",
        "outbound:\n  default: accept\n  rules:\n    - proto: tcp\n      port: 22\n      action: accept\n",
    );
    assert!(Policy::from_str(&text, "policy.yaml").is_ok());
}

#[test]
fn rate_limit_on_a_drop_rule_is_refused() {
    let text = with_rules(
        "2.0",
        "    - proto: tcp\n      port: 23\n      action: drop\n      rate_limit: 10/min\n",
    );
    assert_eq!(
        message(&text),
        "policy.yaml:8:19: inbound.rules[0].rate_limit: rate_limit is only allowed on accept rules (this one is drop): packets over the rate would fall through to the default policy"
    );
}

#[test]
fn malformed_rate_limit_is_refused() {
    let text = with_rules(
        "2.0",
        "    - proto: tcp\n      port: 22\n      action: accept\n      rate_limit: 10/day\n",
    );
    assert_eq!(
        message(&text),
        "policy.yaml:8:19: inbound.rules[0].rate_limit: '10/day' is not a rate: unknown unit 'day' (expected one of sec, second, min, minute, hour)"
    );
    let text = format!("{}logging:\n  rate_limit: 1/hour\n", base("2.0"));
    assert_eq!(
        message(&text),
        "policy.yaml:12:15: logging.rate_limit: '1/hour' is not a rate: unknown unit 'hour' (expected one of sec, second, min, minute)"
    );
}

#[test]
fn overlong_comment_and_prefix_are_refused() {
    // nft's rule-comment limit is 128 bytes.
    let rule = |comment: &str, rate: &str| {
        with_rules(
            "2.0",
            &format!("    - proto: tcp\n      port: 22\n      action: accept\n{rate}      comment: {comment}\n"),
        )
    };
    Policy::from_str(&rule(&"x".repeat(128), ""), "policy.yaml").unwrap();
    assert_eq!(
        message(&rule(&"x".repeat(129), "")),
        "policy.yaml:8:16: inbound.rules[0].comment: comment is 129 bytes, over the 128-byte limit"
    );
    // A rate-limited rule's comment gets " (per source)" appended.
    let rate = "      rate_limit: 5/min\n";
    Policy::from_str(&rule(&"x".repeat(115), rate), "policy.yaml").unwrap();
    assert_eq!(
        message(&rule(&"x".repeat(116), rate)),
        "policy.yaml:9:16: inbound.rules[0].comment: comment is 116 bytes, over the 115-byte limit of a rate-limited rule (nft allows 128 bytes and the plan appends \" (per source)\")"
    );
    let text = format!(
        "{}logging:\n  prefix: \"{}\"\n",
        base("2.0"),
        "p".repeat(33)
    );
    assert_eq!(
        message(&text),
        "policy.yaml:12:11: logging.prefix: prefix is 33 bytes, over the 32-byte limit"
    );
    let text = format!("{}logging:\n  prefix: \"drop\\n\"\n", base("2.0"));
    assert_eq!(
        message(&text),
        "policy.yaml:12:11: logging.prefix: prefix contains the control character U+000A"
    );
}

#[test]
fn bad_interface_name_is_refused() {
    let text = with_rules(
        "2.1",
        "    - proto: tcp\n      port: 22\n      interface: averyveryverylongname0\n      action: accept\n",
    );
    assert_eq!(
        message(&text),
        "policy.yaml:7:18: inbound.rules[0].interface: invalid interface name 'averyveryverylongname0': expected 1–15 printable ASCII characters without '/', ':', quotes or spaces (a trailing '*' matches a prefix)"
    );
}

#[test]
fn bad_backend_names_are_refused() {
    let text = format!("{}backend: nft\n", base("2.0"));
    assert_eq!(
        message(&text),
        "policy.yaml:11:10: backend: 'nft' is not one of auto, nftables, iptables, ufw, firewalld"
    );
    let text = with_rules(
        "2.0",
        "    - proto: tcp\n      port: 22\n      action: accept\n      backend_compat: [ufw, firewald]\n",
    );
    assert_eq!(
        message(&text),
        "policy.yaml:8:29: inbound.rules[0].backend_compat[1]: 'firewald' is not one of nftables, iptables, ufw, firewalld (did you mean 'firewalld'?)"
    );
}

// ---- whole-file problems --------------------------------------------------------

#[test]
fn empty_file_is_refused() {
    for text in ["", "   \n", "# only a comment\n", "---\n", "~\n"] {
        let err = error(text, "policy.yaml");
        assert_eq!(
            err.to_string(),
            "policy.yaml:1:1: the policy is empty: expected a mapping with schema_version, inbound, outbound, forward and icmp",
            "{text:?}"
        );
        assert_eq!(err.kind, PolicyErrorKind::Empty);
    }
    assert_eq!(
        error(" \n", "policy.json").to_string(),
        "policy.json:1:1: the policy is empty: expected a mapping with schema_version, inbound, outbound, forward and icmp"
    );
}

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nftguard-policy-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn oversized_file_is_refused_before_parsing() {
    // Not even valid YAML: proves nothing was parsed.
    let bytes = vec![b'['; MAX_POLICY_BYTES + 1];
    let path = temp_file("huge.yaml", &bytes);
    let err = Policy::from_path(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: the file is 1048577 bytes, over the 1048576-byte (1 MiB) limit for policy files; refused before parsing",
            path.display()
        )
    );
    assert_eq!(err.kind, PolicyErrorKind::TooLarge);
    assert_eq!((err.line, err.column), (0, 0));
    let text = "#".repeat(MAX_POLICY_BYTES + 1);
    assert_eq!(error(&text, "p.yaml").kind, PolicyErrorKind::TooLarge);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn unreadable_file_is_reported() {
    let err = Policy::from_path(std::path::Path::new("/nonexistent/policy.yaml")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/nonexistent/policy.yaml: cannot read: No such file or directory (os error 2)"
    );
    assert_eq!(err.kind, PolicyErrorKind::Io);
}

#[test]
fn non_utf8_input_is_located() {
    let path = temp_file("latin1.yaml", b"schema_version: \"2.0\"\n# caf\xe9\n");
    let err = Policy::from_path(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2:6: the file is not valid UTF-8 (byte 0xe9)",
            path.display()
        )
    );
    assert_eq!(err.kind, PolicyErrorKind::NotUtf8);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn billion_laughs_is_refused() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut previous = 'a';
    for name in 'b'..='i' {
        let refs = vec![format!("*{previous}"); 9].join(",");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        previous = name;
    }
    let err = error(&text, "policy.yaml");
    assert_eq!(err.kind, PolicyErrorKind::ResourceLimit);
    assert_eq!(
        err.to_string(),
        "policy.yaml:5:11: YAML aliases expand to more than 20000 parser events: anchor/alias expansion (\"billion laughs\") refused"
    );
}

#[test]
fn deep_nesting_is_refused() {
    let text = format!(
        "schema_version: \"2.0\"\nmetadata: {}{}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    let err = error(&text, "policy.yaml");
    assert_eq!(err.kind, PolicyErrorKind::ResourceLimit);
    assert_eq!(
        err.to_string(),
        "policy.yaml:2:42: nesting deeper than 32 levels; refused"
    );
    let json = format!("{{\"metadata\": {}{}}}", "[".repeat(100), "]".repeat(100));
    assert_eq!(
        error(&json, "policy.json").to_string(),
        "policy.json:1:45: nesting deeper than 32 levels; refused"
    );
}

#[test]
fn multiple_yaml_documents_are_refused() {
    let text = format!("{}---\nschema_version: \"2.1\"\n", base("2.0"));
    let err = error(&text, "policy.yaml");
    assert_eq!(
        err.to_string(),
        "policy.yaml:12:1: a second YAML document starts here; a policy file holds exactly one document"
    );
    assert_eq!(err.kind, PolicyErrorKind::Syntax);
}

#[test]
fn yaml_syntax_error_is_located() {
    let text = "schema_version: \"2.0\"\ninbound: [deny\noutbound: x\n";
    let err = error(text, "policy.yaml");
    assert_eq!(err.kind, PolicyErrorKind::Syntax);
    assert_eq!((err.line, err.column), (3, 9));
    assert!(
        err.to_string()
            .starts_with("policy.yaml:3:9: invalid YAML: "),
        "{err}"
    );
}

#[test]
fn custom_yaml_tags_are_refused() {
    let text = port_rule("2.0", "tcp", "!port 22");
    let err = error(&text, "policy.yaml");
    assert_eq!(err.kind, PolicyErrorKind::Syntax);
    assert_eq!(
        err.to_string(),
        "policy.yaml:6:19: invalid YAML: unsupported tag `!port`"
    );
}

#[test]
fn json_with_trailing_garbage_is_refused() {
    let text = "{\"schema_version\": \"2.0\"}\n}";
    let err = error(text, "policy.json");
    assert_eq!(
        err.to_string(),
        "policy.json:2:1: invalid JSON: unexpected '}' after the end of the document"
    );
    assert_eq!(err.kind, PolicyErrorKind::Syntax);
}

#[test]
fn json_syntax_errors_are_located() {
    assert_eq!(
        error("{\"schema_version\": \"2.0\",}", "policy.json").to_string(),
        "policy.json:1:26: invalid JSON: expected a string key, found '}'"
    );
    assert_eq!(
        error("{\"a\": 1 // note\n}", "policy.json").to_string(),
        "policy.json:1:9: invalid JSON: expected ',' or '}', found '/'"
    );
}

#[test]
fn json_schema_errors_match_yaml_wording() {
    let text = "{\"schema_version\": \"2.0\",
 \"inbound\": {\"default\": \"deny\", \"rules\": [
   {\"proto\": \"tcp\", \"port\": 70000, \"action\": \"accept\"}]},
 \"outbound\": {\"default\": \"accept\"},
 \"forward\": {\"default\": \"deny\"},
 \"icmp\": {\"ipv4\": \"accept\", \"ipv6\": \"accept\"}}";
    assert_eq!(
        error(text, "policy.json").to_string(),
        "policy.json:3:29: inbound.rules[0].port: port 70000 is out of range 1–65535"
    );
    let text = text.replace("\"proto\"", "\"protocol\"");
    assert_eq!(
        error(&text, "policy.json").to_string(),
        "policy.json:3:5: unknown key 'protocol' in inbound.rules[0] (expected one of: proto, port, action, source, rate_limit, comment, backend_compat, destination, interface)"
    );
}

#[test]
fn hostile_text_in_messages_is_escaped_and_cut() {
    // A key holding an ANSI escape (YAML "\e") and 100 more characters.
    let text = format!("{}\"\\e[31m{}\": 1\n", base("2.0"), "k".repeat(100));
    let shown = error(&text, "policy.yaml").to_string();
    assert!(!shown.contains('\u{1b}'), "{shown}");
    assert!(
        shown.starts_with(&format!(
            "policy.yaml:11:1: unknown key '\\u{{1b}}[31m{}…' at the top level",
            "k".repeat(59)
        )),
        "{shown}"
    );
}
