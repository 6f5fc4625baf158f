//! iptables-legacy tables are invisible to nf_tables; the audit sees them
//! through /proc/net/ip{,6}_tables_names of its own network namespace.

mod audit_common;

use serde_json::json;

#[test]
fn iptables_legacy_rules_are_detected() {
    require!("iptables-legacy" => "iptables");
    nftguard::netlink::enter_new_netns().unwrap();
    let (v, code) = audit_common::audit_in_sandbox(
        "iptables-legacy -A INPUT -p tcp --dport 22 -j ACCEPT\nip6tables-legacy -t raw -A PREROUTING -j ACCEPT",
        "",
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["iptables_legacy"], true);
    assert_eq!(v["iptables_legacy_tables"], json!(["ip filter", "ip6 raw"]));
    assert_eq!(v["backend"], "iptables-legacy");
    assert_eq!(v["tables"], json!([]));
}

#[test]
fn legacy_and_nf_tables_together_are_mixed() {
    require!("iptables-legacy" => "iptables", "nft" => "nftables");
    nftguard::netlink::enter_new_netns().unwrap();
    let (v, code) = audit_common::audit_in_sandbox(
        "iptables-legacy -A INPUT -j ACCEPT\nnft add table inet mine\nnft add chain inet mine input '{ type filter hook input priority 0; }'\nnft add rule inet mine input accept",
        "",
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["backend"], "mixed");
    assert_eq!(
        v["tables"],
        json!([{"family": "inet", "name": "mine", "managed_by": "unknown", "also_used_by": [], "chains": 1, "rules": 1}])
    );
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("iptables-legacy tables (ip filter)")),
        "{warnings:?}"
    );
}
