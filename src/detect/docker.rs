//! Docker: the daemon's socket and pid file, its iptables chains or its
//! nftables-backend tables.

use serde::{Deserialize, Serialize};

use super::host::{pid_file_alive, read_text, Host, Processes};
use super::tables::{Manager, TableInfo};

/// What the audit knows about Docker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Docker {
    /// `/run/docker.sock` exists.
    pub socket: bool,
    /// `/run/docker.pid` names a running `dockerd`.
    pub daemon_running: bool,
    /// Docker's chains (`DOCKER`, `DOCKER-USER`, …) or `docker-bridges`
    /// tables are loaded in this network namespace.
    pub rules_loaded: bool,
    /// `DOCKER-USER` exists (where user filtering for containers belongs).
    pub docker_user_chain: bool,
    /// `firewall-backend` from `/etc/docker/daemon.json`, when set.
    pub firewall_backend: Option<String>,
}

impl Docker {
    /// Any signal of a Docker host.
    pub fn is_host(&self) -> bool {
        self.socket || self.daemon_running || self.rules_loaded
    }
}

/// Detects Docker.
pub fn detect(host: &Host, procs: &Processes, tables: &[TableInfo]) -> Docker {
    let socket = host.run_file("docker.sock").is_some();
    let daemon_running = host
        .run_file("docker.pid")
        .is_some_and(|p| pid_file_alive(&p, procs, "dockerd"))
        || procs.running("dockerd");
    let rules_loaded = tables
        .iter()
        .any(|t| t.managed_by == Manager::Docker || t.also_used_by.contains(&Manager::Docker));
    let docker_user_chain = tables.iter().any(|t| t.has_chain("DOCKER-USER"));
    let firewall_backend = read_text(&host.etc("docker/daemon.json"))
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("firewall-backend")?.as_str().map(str::to_string));
    Docker {
        socket,
        daemon_running,
        rules_loaded,
        docker_user_chain,
        firewall_backend,
    }
}
