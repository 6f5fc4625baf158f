//! Kubernetes node detection: kubelet config AND live Kubernetes networking
//! (kube-proxy/CNI tables or a kubelet process). Neither alone is enough,
//! and kubectl or /etc/cni/net.d prove nothing.

mod audit_common;

use serde_json::json;

const KUBE_PROXY_NFT: &str = "nft add table ip kube-proxy && nft add chain ip kube-proxy services && nft add chain ip kube-proxy filter-input '{ type filter hook input priority -110; }' && nft add rule ip kube-proxy filter-input ct state new jump services";

#[test]
fn kube_proxy_tables_with_kubelet_config_is_a_node() {
    require!("nft" => "nftables");
    nftguard::netlink::enter_new_netns().unwrap();
    let (v, code) = audit_common::audit_in_sandbox(
        &format!("mkdir -p /etc/kubernetes && echo 'apiVersion: v1' > /etc/kubernetes/kubelet.conf\n{KUBE_PROXY_NFT}"),
        "",
    );
    assert_eq!(code, 22, "{v:#}");
    assert_eq!(v["k8s_node"], true);
    assert_eq!(
        v["kubernetes"]["kubelet_config"],
        "/etc/kubernetes/kubelet.conf"
    );
    assert_eq!(v["kubernetes"]["k8s_tables"], true);
    assert_eq!(v["confidence"], 50);
    assert_eq!(v["risk_tier"], "halt");
    assert_eq!(v["verdict"], "audit-only");
    assert_eq!(v["recommended_backend"], "stop");
    assert_eq!(
        v["tables"],
        json!([{"family": "ip", "name": "kube-proxy", "managed_by": "kube-proxy", "also_used_by": [], "chains": 2, "rules": 1}])
    );
    let reasons = v["halt_reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].as_str().unwrap().starts_with(
        "Kubernetes node (kubelet config /etc/kubernetes/kubelet.conf, Kubernetes tables loaded)"
    ));
    assert_eq!(reasons[1], "confidence 50 is below 70: audit only");
}

#[test]
fn kube_proxy_tables_without_kubelet_config_is_not_a_node() {
    require!("nft" => "nftables");
    nftguard::netlink::enter_new_netns().unwrap();
    audit_common::sh(KUBE_PROXY_NFT);
    let root = audit_common::PlantedRoot::new("kube-no-config");
    let (v, code) = root.audit();
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["k8s_node"], false);
    assert_eq!(v["kubernetes"]["k8s_tables"], true);
    assert_eq!(v["confidence"], 100);
    assert!(v["warnings"].as_array().unwrap().contains(&json!(
        "Kubernetes networking tables are loaded but no kubelet configuration was found"
    )));
}

#[test]
fn iptables_mode_kube_chains_with_kubelet_config_is_a_node() {
    require!("iptables" => "iptables");
    nftguard::netlink::enter_new_netns().unwrap();
    audit_common::sh("iptables -t nat -N KUBE-SERVICES && iptables -t nat -A PREROUTING -j KUBE-SERVICES && iptables -N cali-INPUT");
    let root = audit_common::PlantedRoot::new("kube-iptables");
    root.plant(
        "var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\n",
    );
    let (v, code) = root.audit();
    assert_eq!(code, 22, "{v:#}");
    assert_eq!(v["k8s_node"], true);
    assert_eq!(v["cni_plugin"], "calico");
    assert_eq!(v["backend"], "iptables-nft");
    let owners = audit_common::table_owners(&v);
    assert!(
        owners.contains(&("ip".into(), "nat".into(), "kube-proxy".into())),
        "{owners:?}"
    );
    assert!(
        owners.contains(&("ip".into(), "filter".into(), "calico".into())),
        "{owners:?}"
    );
}

#[test]
fn kubelet_config_alone_or_kubectl_and_cni_dir_are_not_a_node() {
    nftguard::netlink::enter_new_netns().unwrap();
    let root = audit_common::PlantedRoot::new("kube-config-only");
    root.plant("etc/kubernetes/kubelet.conf", "apiVersion: v1\n")
        .plant("usr/local/bin/kubectl", "#!/bin/sh\n")
        .plant(
            "etc/cni/net.d/10-flannel.conflist",
            r#"{"name": "cbr0", "plugins": [{"type": "flannel"}]}"#,
        );
    let (v, code) = root.audit();
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["k8s_node"], false);
    assert_eq!(v["cni_plugin"], "flannel");
    assert_eq!(v["kubernetes"]["kubelet_running"], false);
    assert_eq!(v["kubernetes"]["k8s_tables"], false);
    assert!(v["warnings"].as_array().unwrap().contains(&json!(
        "kubelet configuration found but no Kubernetes networking or kubelet: not treated as a node"
    )));
}
