//! DETECT: the read-only environment audit (`nftguard audit`).
//!
//! It reads nf_tables (tables, chains and rule *counts*), the TCP listeners
//! (sock_diag), and marker files under an injectable [`Host`] root, and
//! decides whether nftguard may manage this host's firewall: a confidence
//! score, a risk tier, halt reasons and the exit code of the CLI contract
//! (WORKFLOW.md §audit). Nothing is written anywhere, no program is run,
//! and the network is not contacted.
//!
//! Network-namespace-scoped probes (nf_tables through `sock`, sock_diag,
//! `/proc/thread-self/net/ip*_tables_names`) follow the namespace of `sock`
//! and of the calling thread respectively: to audit another namespace, call
//! [`audit`] from a thread that entered it
//! ([`crate::netlink::enter_netns`]) with a socket opened there.

pub mod container;
pub mod dbus;
pub mod docker;
pub mod fail2ban;
pub mod firewalld;
pub mod host;
pub mod iac;
pub mod kubernetes;
pub mod rollback;
pub mod ssh;
pub mod tables;
pub mod ufw;

mod render;

use serde::{Deserialize, Serialize};

pub use container::Environment;
pub use host::Host;
pub use render::render_human;
pub use ssh::SshSource;
pub use tables::{Manager, TableInfo};

use crate::engine::get_generation;
use crate::error::Result;
use crate::netlink::sock_diag::{self, NETLINK_SOCK_DIAG};
use crate::netlink::Socket;
use host::{read_text, Processes};

/// What the caller allows the audit to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditOptions {
    /// `--cloud`: allowed to query cloud metadata endpoints. Not
    /// implemented yet: when set, a warning says so and nothing is contacted.
    pub cloud: bool,
    /// Whether a detached watchdog process counts as a rollback mechanism
    /// (it always can be started; an operator may forbid it).
    pub watchdog_allowed: bool,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            cloud: false,
            watchdog_allowed: true,
        }
    }
}

/// The risk tier that gates the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskTier {
    /// Confidence ≥ 90: proceed to PLAN automatically.
    Auto,
    /// 70–89: proceed, a human confirms before APPLY.
    Confirmed,
    /// 50–69: audit only, recommendations.
    Manual,
    /// < 50, or containerized, Kubernetes or IaC-owned: stop.
    Halt,
}

impl RiskTier {
    /// From the confidence alone.
    pub fn from_confidence(confidence: u8) -> Self {
        match confidence {
            90.. => RiskTier::Auto,
            70..=89 => RiskTier::Confirmed,
            50..=69 => RiskTier::Manual,
            _ => RiskTier::Halt,
        }
    }

    /// The name used in JSON and human output.
    pub fn name(self) -> &'static str {
        match self {
            RiskTier::Auto => "auto",
            RiskTier::Confirmed => "confirmed",
            RiskTier::Manual => "manual",
            RiskTier::Halt => "halt",
        }
    }
}

/// The one-word outcome shown first to a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Exit 0: continue to PLAN.
    Proceed,
    /// Exit 22 (Kubernetes) or 30 (low confidence): report, change nothing.
    AuditOnly,
    /// Any other exit code: stop and escalate.
    Halt,
}

impl Verdict {
    /// `PROCEED`, `AUDIT-ONLY` or `HALT`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Proceed => "PROCEED",
            Verdict::AuditOnly => "AUDIT-ONLY",
            Verdict::Halt => "HALT",
        }
    }
}

/// The audit report. Field names are the JSON keys (a superset of the
/// seed's `audit-firewall.sh --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// 0–100, see [`confidence`].
    pub confidence: u8,
    /// `auto`, `confirmed`, `manual` or `halt`.
    pub risk_tier: RiskTier,
    /// `nftguard`, `ufw`, `firewalld`, or `stop`.
    pub recommended_backend: String,
    /// `ufw`, `firewalld`, `none`, or `multiple` when both are active.
    pub active_frontend: String,
    /// The active frontends (`ufw`, `firewalld`).
    pub active_frontends: Vec<String>,
    /// `nftables`, `iptables-nft`, `iptables-legacy`, `mixed` (legacy and
    /// nf_tables rules at once) or `none` (nothing loaded).
    pub backend: String,
    /// Whether nf_tables answered over netlink (the backend nftguard uses).
    pub nftables_available: bool,
    /// The SSH port to keep reachable.
    pub ssh_port: u16,
    /// `socket`, `sshd_config` or `default`.
    pub ssh_source: SshSource,
    /// Every port an sshd process listens on.
    pub ssh_listening_ports: Vec<u16>,
    /// Inside a container, LXC, nspawn or WSL2.
    pub containerized: bool,
    /// `bare-metal`, `vm`, `container`, `lxc`, `nspawn` or `wsl2`.
    pub environment: Environment,
    /// The signal that decided `environment`.
    pub environment_evidence: Option<String>,
    /// Docker runs (or its rules are loaded) here.
    pub docker_host: bool,
    /// A Kubernetes node (kubelet config and live Kubernetes networking).
    pub k8s_node: bool,
    /// The CNI plugin, when one is seen.
    pub cni_plugin: Option<String>,
    /// The IaC tool owning the firewall configuration.
    pub iac_owner: Option<String>,
    /// The marker that named `iac_owner`.
    pub iac_evidence: Option<String>,
    /// fail2ban's server runs.
    pub fail2ban_active: bool,
    /// `at` and a running `atd`.
    pub at_available: bool,
    /// `systemd-run` and systemd as PID 1.
    pub systemd_run_available: bool,
    /// `systemd`, `at`, `watchdog` or `none`.
    pub rollback_mechanism: String,
    /// Every nf_tables table with its manager.
    pub tables: Vec<TableInfo>,
    /// iptables-legacy tables are loaded (invisible to nf_tables).
    pub iptables_legacy: bool,
    /// The legacy tables, as `ip filter`, `ip6 nat`, ….
    pub iptables_legacy_tables: Vec<String>,
    /// The ruleset generation the audit saw (plans cache the audit per
    /// generation).
    pub genid: Option<u32>,
    /// The running kernel release.
    pub kernel: String,
    /// ufw details.
    pub ufw: ufw::Ufw,
    /// firewalld details.
    pub firewalld: firewalld::Firewalld,
    /// Docker details.
    pub docker: docker::Docker,
    /// Kubernetes details.
    pub kubernetes: kubernetes::Kubernetes,
    /// fail2ban details.
    pub fail2ban: fail2ban::Fail2ban,
    /// Configuration-management agents present (not owning the firewall).
    pub iac_agents: Vec<String>,
    /// Why the workflow must stop (empty when it may proceed).
    pub halt_reasons: Vec<String>,
    /// Things the operator should know.
    pub warnings: Vec<String>,
    /// `PROCEED`, `AUDIT-ONLY` or `HALT`.
    pub verdict: Verdict,
    /// The CLI's exit code for this report.
    pub exit_code: u8,
}

/// The facts the score and exit code depend on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Findings {
    /// Inside a container / LXC / nspawn / WSL2.
    pub containerized: bool,
    /// A Kubernetes node.
    pub k8s_node: bool,
    /// An IaC tool owns the firewall.
    pub iac_owned: bool,
    /// ufw and firewalld are both active.
    pub multiple_frontends: bool,
    /// nf_tables cannot be used.
    pub no_backend: bool,
    /// No rollback mechanism can be armed.
    pub no_rollback: bool,
}

/// Confidence = 100 − 30 (ufw and firewalld both active) − 50 (Kubernetes)
/// − 15 (IaC owner) − 25 (no rollback mechanism) − 20 (no usable backend),
/// clamped to 0–100.
pub fn confidence(f: &Findings) -> u8 {
    let mut c: i32 = 100;
    for (hit, cost) in [
        (f.multiple_frontends, 30),
        (f.k8s_node, 50),
        (f.iac_owned, 15),
        (f.no_rollback, 25),
        (f.no_backend, 20),
    ] {
        if hit {
            c -= cost;
        }
    }
    c.clamp(0, 100) as u8
}

/// The risk tier: halt whenever containerized, Kubernetes or IaC-owned,
/// else from the confidence.
pub fn risk_tier(f: &Findings, confidence: u8) -> RiskTier {
    if f.containerized || f.k8s_node || f.iac_owned {
        RiskTier::Halt
    } else {
        RiskTier::from_confidence(confidence)
    }
}

/// The exit code, first match: 21 (container), 22 (Kubernetes), 20 (IaC),
/// 12 (ufw and firewalld), 11 (no backend), 31 (no rollback), 30
/// (confidence < 70), else 0.
pub fn exit_code(f: &Findings, confidence: u8) -> u8 {
    if f.containerized {
        21
    } else if f.k8s_node {
        22
    } else if f.iac_owned {
        20
    } else if f.multiple_frontends {
        12
    } else if f.no_backend {
        11
    } else if f.no_rollback {
        31
    } else if confidence < 70 {
        30
    } else {
        0
    }
}

impl Audit {
    /// The CLI's exit code (also in the `exit_code` field).
    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// The legacy iptables tables loaded in the calling thread's namespace.
fn legacy_tables(host: &Host) -> Vec<String> {
    let mut out = Vec::new();
    for (family, file) in [("ip", "ip_tables_names"), ("ip6", "ip6_tables_names")] {
        if let Some(t) = read_text(&host.proc_net(file)) {
            out.extend(
                t.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| format!("{family} {l}")),
            );
        }
    }
    out.sort();
    out
}

/// Runs the audit. `sock` is a netfilter socket of the namespace to audit;
/// the host's files are read under `host`. Never fails for lack of a
/// signal: a failing probe becomes a warning or a halt reason; `Err` is
/// reserved for nothing at all today and kept for future probes.
pub fn audit(sock: &mut Socket, host: &Host, opts: &AuditOptions) -> Result<Audit> {
    let mut warnings = Vec::new();
    let mut halt_reasons = Vec::new();

    let (tables, nft_error) = match tables::list_tables(sock) {
        Ok(t) => (t, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let genid = if nft_error.is_none() {
        get_generation(sock).ok().map(|g| g.id)
    } else {
        None
    };
    let nftables_available = nft_error.is_none();
    let legacy = legacy_tables(host);
    let procs = Processes::scan(host);
    let listeners = match Socket::with_protocol(NETLINK_SOCK_DIAG)
        .and_then(|mut s| sock_diag::tcp_listeners(&mut s))
    {
        Ok(l) => l,
        Err(e) => {
            warnings.push(format!(
                "listening sockets could not be read (sock_diag): {e}"
            ));
            Vec::new()
        }
    };

    let env = container::detect(host);
    let ufw = ufw::detect(host, &tables);
    let firewalld = firewalld::detect(host, &procs, &tables);
    let docker = docker::detect(host, &procs, &tables);
    let kubernetes = kubernetes::detect(host, &procs, &tables);
    let iac = iac::detect(host);
    let fail2ban = fail2ban::detect(host, &procs);
    let ssh = ssh::detect(host, &procs, &listeners);
    let rollback = rollback::detect(host, &procs, opts.watchdog_allowed);
    let kernel = read_text(&host.proc("sys/kernel/osrelease"))
        .map(|k| k.trim().to_string())
        .unwrap_or_default();

    let mut active_frontends = Vec::new();
    if ufw.running {
        active_frontends.push("ufw".to_string());
    }
    if firewalld.running {
        active_frontends.push("firewalld".to_string());
    }
    let active_frontend = match active_frontends.as_slice() {
        [] => "none".to_string(),
        [one] => one.clone(),
        _ => "multiple".to_string(),
    };

    let iptables_style = |t: &TableInfo| {
        matches!(t.family.as_str(), "ip" | "ip6" | "arp" | "bridge")
            && ["filter", "nat", "mangle", "raw", "security"].contains(&t.name.as_str())
    };
    let backend = if !legacy.is_empty() && !tables.is_empty() {
        "mixed"
    } else if !legacy.is_empty() {
        "iptables-legacy"
    } else if tables.is_empty() {
        "none"
    } else if tables.iter().all(iptables_style) {
        "iptables-nft"
    } else {
        "nftables"
    };

    let findings = Findings {
        containerized: env.environment.containerized(),
        k8s_node: kubernetes.node,
        iac_owned: iac.owner.is_some(),
        multiple_frontends: ufw.running && firewalld.running,
        no_backend: !nftables_available,
        no_rollback: rollback.mechanism == "none",
    };
    let confidence = confidence(&findings);
    let risk_tier = risk_tier(&findings, confidence);
    let exit_code = exit_code(&findings, confidence);

    // Halt reasons in exit-code order.
    if findings.containerized {
        halt_reasons.push(format!(
            "running inside {} ({}): the host operator owns the firewall",
            env.environment.name(),
            env.evidence.as_deref().unwrap_or("detected")
        ));
    }
    if findings.k8s_node {
        halt_reasons.push(format!(
            "Kubernetes node (kubelet config {}{}{}): use NetworkPolicies; audit only",
            kubernetes.kubelet_config.as_deref().unwrap_or("?"),
            if kubernetes.k8s_tables {
                ", Kubernetes tables loaded"
            } else {
                ""
            },
            if kubernetes.kubelet_running {
                ", kubelet running"
            } else {
                ""
            },
        ));
    }
    if let Some(owner) = &iac.owner {
        halt_reasons.push(format!(
            "firewall managed by {owner} ({}): change the IaC source of truth instead",
            iac.evidence.as_deref().unwrap_or("detected")
        ));
    }
    if findings.multiple_frontends {
        halt_reasons.push("ufw and firewalld are both active: resolve the conflict first".into());
    }
    if let Some(e) = &nft_error {
        halt_reasons.push(format!("nf_tables cannot be read: {e}"));
    }
    if findings.no_rollback {
        halt_reasons.push(
            "no rollback mechanism: no systemd timer, no at daemon, watchdog not allowed".into(),
        );
    }
    if confidence < 70 {
        halt_reasons.push(format!("confidence {confidence} is below 70: audit only"));
    }

    // Warnings.
    if ufw.enabled && !ufw.running {
        warnings.push(
            "ufw is enabled in /etc/ufw/ufw.conf but its rules are not loaded in this namespace"
                .into(),
        );
    }
    if let Some(state) = firewalld.dbus_state.as_deref().filter(|s| *s != "RUNNING") {
        warnings.push(format!("firewalld reports state {state} over D-Bus"));
    }
    if kubernetes.kubelet_config.is_some() && !kubernetes.node {
        warnings.push("kubelet configuration found but no Kubernetes networking or kubelet: not treated as a node".into());
    }
    if kubernetes.k8s_tables && kubernetes.kubelet_config.is_none() {
        warnings.push(
            "Kubernetes networking tables are loaded but no kubelet configuration was found".into(),
        );
    }
    if docker.is_host() {
        warnings.push(
            "Docker host: forwarding is left to Docker; filter container traffic in DOCKER-USER"
                .into(),
        );
    }
    if backend == "mixed" {
        warnings.push(format!(
            "iptables-legacy tables ({}) are loaded alongside nf_tables: both filter every packet",
            legacy.join(", ")
        ));
    }
    let unknown: Vec<String> = tables
        .iter()
        .filter(|t| t.managed_by == Manager::Unknown)
        .map(|t| format!("{} {}", t.family, t.name))
        .collect();
    if !unknown.is_empty() {
        warnings.push(format!(
            "tables of an unrecognised manager also filter traffic: {}",
            unknown.join(", ")
        ));
    }
    for agent in &iac.agents {
        warnings.push(format!(
            "{agent} agent configured: make sure it does not manage the firewall"
        ));
    }
    if fail2ban.running {
        if let Some(action) = &fail2ban.banaction {
            let nft_action = action.starts_with("nftables");
            let ipt_action = action.starts_with("iptables");
            if (backend == "nftables" && ipt_action) || (backend == "iptables-legacy" && nft_action)
            {
                warnings.push(format!(
                    "fail2ban bans with {action}, which does not match the {backend} backend"
                ));
            }
        }
    }
    if ssh.source == SshSource::Default {
        warnings.push("no sshd socket or sshd_config Port found: assuming SSH on port 22".into());
    }
    if ssh.listening_ports.len() > 1 {
        warnings.push(format!(
            "sshd listens on several ports ({}); keeping {}",
            ssh.listening_ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            ssh.port
        ));
    }
    if opts.cloud {
        warnings.push(
            "cloud metadata probing (--cloud) is not implemented: no endpoint was contacted".into(),
        );
    }

    let verdict = match exit_code {
        0 => Verdict::Proceed,
        22 | 30 => Verdict::AuditOnly,
        _ => Verdict::Halt,
    };
    let recommended_backend = if verdict == Verdict::Halt || risk_tier == RiskTier::Halt {
        "stop"
    } else if ufw.running {
        "ufw"
    } else if firewalld.running {
        "firewalld"
    } else {
        "nftguard"
    };

    Ok(Audit {
        confidence,
        risk_tier,
        recommended_backend: recommended_backend.into(),
        active_frontend,
        active_frontends,
        backend: backend.into(),
        nftables_available,
        ssh_port: ssh.port,
        ssh_source: ssh.source,
        ssh_listening_ports: ssh.listening_ports,
        containerized: findings.containerized,
        environment: env.environment,
        environment_evidence: env.evidence,
        docker_host: docker.is_host(),
        k8s_node: kubernetes.node,
        cni_plugin: kubernetes.cni_plugin.clone(),
        iac_owner: iac.owner,
        iac_evidence: iac.evidence,
        fail2ban_active: fail2ban.running,
        at_available: rollback.at_available,
        systemd_run_available: rollback.systemd_run_available,
        rollback_mechanism: rollback.mechanism,
        tables,
        iptables_legacy: !legacy.is_empty(),
        iptables_legacy_tables: legacy,
        genid,
        kernel,
        ufw,
        firewalld,
        docker,
        kubernetes,
        fail2ban,
        iac_agents: iac.agents,
        halt_reasons,
        warnings,
        verdict,
        exit_code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_formula_and_clamp() {
        assert_eq!(confidence(&Findings::default()), 100);
        let all = Findings {
            containerized: true,
            k8s_node: true,
            iac_owned: true,
            multiple_frontends: true,
            no_backend: true,
            no_rollback: true,
        };
        assert_eq!(confidence(&all), 0);
        let f = Findings {
            multiple_frontends: true,
            ..Default::default()
        };
        assert_eq!(
            (confidence(&f), risk_tier(&f, 70)),
            (70, RiskTier::Confirmed)
        );
        let f = Findings {
            iac_owned: true,
            ..Default::default()
        };
        assert_eq!((confidence(&f), risk_tier(&f, 85)), (85, RiskTier::Halt));
        let f = Findings {
            no_rollback: true,
            no_backend: true,
            ..Default::default()
        };
        assert_eq!(confidence(&f), 55);
        assert_eq!(RiskTier::from_confidence(49), RiskTier::Halt);
        assert_eq!(RiskTier::from_confidence(50), RiskTier::Manual);
        assert_eq!(RiskTier::from_confidence(90), RiskTier::Auto);
    }

    #[test]
    fn exit_code_order() {
        let all = Findings {
            containerized: true,
            k8s_node: true,
            iac_owned: true,
            multiple_frontends: true,
            no_backend: true,
            no_rollback: true,
        };
        assert_eq!(exit_code(&all, 0), 21);
        let f = Findings {
            containerized: false,
            ..all
        };
        assert_eq!(exit_code(&f, 0), 22);
        let f = Findings {
            k8s_node: false,
            ..f
        };
        assert_eq!(exit_code(&f, 0), 20);
        let f = Findings {
            iac_owned: false,
            ..f
        };
        assert_eq!(exit_code(&f, 0), 12);
        let f = Findings {
            multiple_frontends: false,
            ..f
        };
        assert_eq!(exit_code(&f, 0), 11);
        let f = Findings {
            no_backend: false,
            ..f
        };
        assert_eq!(exit_code(&f, 75), 31);
        let f = Findings {
            no_rollback: false,
            ..f
        };
        assert_eq!(exit_code(&f, 69), 30);
        assert_eq!(exit_code(&f, 70), 0);
    }
}
