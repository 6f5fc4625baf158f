//! Kubernetes node detection. A node needs kubelet configuration *and*
//! evidence that Kubernetes networking is live here: kube-proxy / CNI
//! tables or chains, or a running kubelet. `kubectl` on PATH or an
//! `/etc/cni/net.d` directory alone prove nothing (a workstation has them).

use serde::{Deserialize, Serialize};

use super::host::{dir_files, read_text, Host, Processes};
use super::tables::{Manager, TableInfo};

/// Kubelet configuration files of the common distributions (kubeadm, EKS,
/// k3s, RKE2, MicroK8s), relative to the root.
pub const KUBELET_CONFIGS: [&str; 8] = [
    "etc/kubernetes/kubelet.conf",
    "var/lib/kubelet/config.yaml",
    "var/lib/kubelet/kubeconfig",
    "etc/kubernetes/kubelet/kubelet-config.json",
    "var/lib/rancher/k3s/agent/kubelet.kubeconfig",
    "var/lib/rancher/rke2/agent/kubelet.kubeconfig",
    "etc/rancher/k3s/config.yaml",
    "var/snap/microk8s/current/args/kubelet",
];

/// Process names that run a kubelet (plain, k3s, RKE2, MicroK8s).
pub const KUBELET_PROCESSES: [&str; 4] = ["kubelet", "k3s-server", "k3s-agent", "kubelite"];

/// What the audit knows about Kubernetes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kubernetes {
    /// The kubelet configuration file found, if any.
    pub kubelet_config: Option<String>,
    /// A kubelet process runs.
    pub kubelet_running: bool,
    /// kube-proxy / kubelet / CNI tables or chains are loaded here.
    pub k8s_tables: bool,
    /// The CNI plugin, from its tables or chains, else from the first
    /// configuration in `/etc/cni/net.d`.
    pub cni_plugin: Option<String>,
    /// The verdict: configuration and (tables or kubelet).
    pub node: bool,
}

/// Detects a Kubernetes node.
pub fn detect(host: &Host, procs: &Processes, tables: &[TableInfo]) -> Kubernetes {
    let kubelet_config = KUBELET_CONFIGS
        .iter()
        .find(|rel| host.root.join(rel).is_file())
        .map(|rel| format!("/{rel}"));
    let kubelet_running = KUBELET_PROCESSES.iter().any(|p| procs.running(p));
    let is_k8s = |m: &Manager| matches!(m, Manager::KubeProxy | Manager::Calico | Manager::Cilium);
    let k8s_tables = tables
        .iter()
        .any(|t| is_k8s(&t.managed_by) || t.also_used_by.iter().any(is_k8s))
        || tables.iter().any(|t| {
            t.chain_names
                .iter()
                .any(|c| c.starts_with("FLANNEL") || c.starts_with("WEAVE"))
        });
    let cni_plugin = cni_from_tables(tables).or_else(|| cni_from_config(host));
    let node = kubelet_config.is_some() && (k8s_tables || kubelet_running);
    Kubernetes {
        kubelet_config,
        kubelet_running,
        k8s_tables,
        cni_plugin,
        node,
    }
}

fn cni_from_tables(tables: &[TableInfo]) -> Option<String> {
    let has = |m: Manager| {
        tables
            .iter()
            .any(|t| t.managed_by == m || t.also_used_by.contains(&m))
    };
    if has(Manager::Calico) {
        return Some("calico".into());
    }
    if has(Manager::Cilium) {
        return Some("cilium".into());
    }
    let chain = |p: &str| {
        tables
            .iter()
            .any(|t| t.chain_names.iter().any(|c| c.starts_with(p)))
    };
    if chain("FLANNEL") {
        return Some("flannel".into());
    }
    if chain("WEAVE") {
        return Some("weave".into());
    }
    None
}

/// The `type` of the first plugin of the first CNI configuration (the one
/// the container runtime uses: lexically first).
fn cni_from_config(host: &Host) -> Option<String> {
    let files = dir_files(&host.etc("cni/net.d"), &[".conflist", ".conf", ".json"]);
    let first = files.first()?;
    let v: serde_json::Value = serde_json::from_str(&read_text(first)?).ok()?;
    let plugin = v.get("plugins").and_then(|p| p.get(0)).unwrap_or(&v);
    plugin.get("type")?.as_str().map(|t| match t {
        "cilium-cni" => "cilium".to_string(),
        other => other.to_string(),
    })
}
