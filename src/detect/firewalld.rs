//! firewalld: its nf_tables table, its runtime directory and pid file, its
//! configuration, and (when the system bus is reachable) its D-Bus `state`.

use serde::{Deserialize, Serialize};

use super::dbus;
use super::host::{config_values, pid_file_alive, read_text, Host, Processes};
use super::tables::TableInfo;

/// The well-known D-Bus name firewalld owns while it runs.
pub const DBUS_NAME: &str = "org.fedoraproject.FirewallD1";

/// What the audit knows about firewalld.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firewalld {
    /// The program or its configuration exists.
    pub installed: bool,
    /// `table inet firewalld` is loaded in this network namespace.
    pub table: bool,
    /// `/run/firewalld` exists.
    pub run_dir: bool,
    /// `/run/firewalld.pid` names a running firewalld.
    pub pid_alive: bool,
    /// The `state` property read over D-Bus (`RUNNING`, `INIT`, `FAILED`),
    /// when the system bus answered.
    pub dbus_state: Option<String>,
    /// `FirewallBackend` from `/etc/firewalld/firewalld.conf`.
    pub backend: Option<String>,
    /// Active: its table is loaded, or its D-Bus state is `RUNNING`, or
    /// its pid file names a live process and its runtime directory exists.
    pub running: bool,
}

/// Detects firewalld. D-Bus is only consulted through the system bus
/// socket under `host.run` (read-only `Properties.Get`).
pub fn detect(host: &Host, procs: &Processes, tables: &[TableInfo]) -> Firewalld {
    let conf = read_text(&host.etc("firewalld/firewalld.conf"));
    let installed = host.program("firewalld").is_some() || conf.is_some();
    let backend = conf.as_deref().and_then(|t| {
        config_values(t, "FirewallBackend")
            .last()
            .map(|s| s.to_string())
    });
    let table = tables.iter().any(|t| {
        t.family == "inet" && (t.name == "firewalld" || t.name == "firewalld_policy_drop")
    });
    let run_dir = host.run("firewalld").is_dir();
    let pid_alive = host
        .run_file("firewalld.pid")
        .is_some_and(|p| pid_file_alive(&p, procs, "firewalld"));
    let bus = host.run("dbus/system_bus_socket");
    let dbus_state = if installed && bus.exists() {
        dbus::get_string_property(
            &bus,
            DBUS_NAME,
            "/org/fedoraproject/FirewallD1",
            "org.fedoraproject.FirewallD1",
            "state",
        )
        .ok()
    } else {
        None
    };
    let running = table || dbus_state.as_deref() == Some("RUNNING") || (pid_alive && run_dir);
    Firewalld {
        installed,
        table,
        run_dir,
        pid_alive,
        dbus_state,
        backend,
        running,
    }
}
