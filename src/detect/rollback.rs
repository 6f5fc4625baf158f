//! Which rollback mechanisms could be armed by `apply`, in its order of
//! preference: a systemd transient timer, an `at` job, a detached watchdog.

use serde::{Deserialize, Serialize};

use super::host::{pid_file_alive, read_text, Host, Processes};

/// The rollback mechanisms available.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollback {
    /// `systemd-run` exists and systemd runs as PID 1 (a transient timer
    /// needs the system manager, not just the binary).
    pub systemd_run_available: bool,
    /// `at` exists and `atd` runs (a queued job without a daemon never fires).
    pub at_available: bool,
    /// A detached watchdog process may be used.
    pub watchdog_available: bool,
    /// The mechanism apply would use: `systemd`, `at`, `watchdog` or `none`.
    pub mechanism: String,
}

/// Detects the rollback mechanisms. `watchdog_allowed` is the operator's
/// choice (a detached process is always technically possible).
pub fn detect(host: &Host, procs: &Processes, watchdog_allowed: bool) -> Rollback {
    // sd_booted() tests /run/systemd/system; PID 1's name confirms it.
    let pid1_systemd = procs.comm(1) == Some("systemd")
        || read_text(&host.proc("1/comm")).is_some_and(|c| c.trim() == "systemd");
    let systemd_run_available = host.program("systemd-run").is_some()
        && pid1_systemd
        && host.run("systemd/system").is_dir();
    let atd_running = procs.running("atd")
        || host
            .run_file("atd.pid")
            .is_some_and(|p| pid_file_alive(&p, procs, "atd"));
    let at_available = host.program("at").is_some() && atd_running;
    let mechanism = if systemd_run_available {
        "systemd"
    } else if at_available {
        "at"
    } else if watchdog_allowed {
        "watchdog"
    } else {
        "none"
    };
    Rollback {
        systemd_run_available,
        at_available,
        watchdog_available: watchdog_allowed,
        mechanism: mechanism.into(),
    }
}
