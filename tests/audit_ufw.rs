//! Real ufw, enabled inside a throwaway root and network namespace.

mod audit_common;

use serde_json::json;

#[test]
fn ufw_enabled_is_the_active_frontend() {
    require!("ufw" => "ufw", "iptables" => "iptables");
    nftguard::netlink::enter_new_netns().unwrap();
    let (v, code) = audit_common::audit_in_sandbox(
        "ufw --force enable >/dev/null; ufw limit 2222/tcp >/dev/null",
        "",
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        v["ufw"],
        json!({"installed": true, "enabled": true, "running": true})
    );
    assert_eq!(v["active_frontend"], "ufw");
    assert_eq!(v["active_frontends"], json!(["ufw"]));
    assert_eq!(v["recommended_backend"], "ufw");
    assert_eq!(v["backend"], "iptables-nft");
    assert_eq!(v["confidence"], 100);
    assert_eq!(v["risk_tier"], "auto");
    assert_eq!(v["verdict"], "proceed");
    assert_eq!(v["containerized"], false);
    assert_eq!(v["halt_reasons"], json!([]));
    let owners = audit_common::table_owners(&v);
    assert!(
        owners.contains(&("ip".into(), "filter".into(), "ufw".into())),
        "{owners:?}"
    );
    assert!(
        owners.contains(&("ip6".into(), "filter".into(), "ufw".into())),
        "{owners:?}"
    );
    let filter = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["family"] == "ip" && t["name"] == "filter")
        .unwrap();
    assert!(filter["rules"].as_u64().unwrap() > 10, "{filter}");
    assert!(filter["chains"].as_u64().unwrap() > 10, "{filter}");
}

#[test]
fn ufw_installed_but_disabled_is_not_active() {
    require!("ufw" => "ufw");
    nftguard::netlink::enter_new_netns().unwrap();
    let (v, code) =
        audit_common::audit_in_sandbox("sed -i 's/^ENABLED=.*/ENABLED=no/' /etc/ufw/ufw.conf", "");
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        v["ufw"],
        json!({"installed": true, "enabled": false, "running": false})
    );
    assert_eq!(v["active_frontend"], "none");
    assert_eq!(v["recommended_backend"], "nftguard");
    assert_eq!(v["backend"], "none");
    assert_eq!(v["tables"], json!([]));
}
