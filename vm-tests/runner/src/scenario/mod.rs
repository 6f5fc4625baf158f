//! Scenarios: what runs inside a VM. Each scenario prepares its host-side
//! material once (`prepare`), then boots each kernel its own way (`run`):
//! `engine` uses a busybox initramfs; the full-system scenarios (rollback
//! timer, reboot persistence, SSH lockout, ufw, firewalld, docker) boot a
//! debootstrap rootfs with systemd (`system.rs`, one file each for their
//! specifics, their guest scripts in vm-tests/runner/guest/). Adding one
//! means one file here and one line in [`registry`].

mod docker;
mod engine;
mod firewalld;
mod reboot_persistence;
mod rollback_timer;
mod ssh_lockout;
mod system;
mod ufw;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::kernels::PreparedKernel;
use crate::qemu::VmSettings;
use crate::report::Cell;
use crate::timing::Timings;

/// What every scenario gets from the runner.
pub struct HostContext {
    pub repo: PathBuf,
    pub cache: PathBuf,
    pub logs: PathBuf,
    pub vm: VmSettings,
    /// A VM still running after this long is killed.
    pub timeout: Duration,
    /// Run the full-system scenarios on every kernel asked for, not only
    /// on their rootfs's own (6.1).
    pub system_on_every_kernel: bool,
}

pub trait Scenario {
    /// The name used in `--scenarios` and the table.
    fn name(&self) -> &'static str;
    /// Host-side preparation shared by every kernel (builds, downloads).
    fn prepare(&mut self, ctx: &HostContext, busybox: &Path) -> Result<(), String>;
    /// Runs on one kernel; never fails as a whole, failures are the cell's.
    fn run(&self, kernel: &PreparedKernel, ctx: &HostContext, timings: &mut Timings) -> Cell;
}

/// Every scenario, in table order.
fn registry() -> Vec<Box<dyn Scenario>> {
    vec![
        Box::new(engine::Engine::default()),
        Box::new(system::System::new(&rollback_timer::SPEC)),
        Box::new(system::System::new(&ssh_lockout::SPEC)),
        Box::new(system::System::new(&reboot_persistence::SPEC)),
        Box::new(system::System::new(&ufw::SPEC)),
        Box::new(system::System::new(&firewalld::SPEC)),
        Box::new(system::System::new(&docker::SPEC)),
    ]
}

/// The scenarios named on the command line (`all` = every one).
pub fn select(names: &[String]) -> Result<Vec<Box<dyn Scenario>>, String> {
    let all = registry();
    if names.iter().any(|n| n == "all") {
        return Ok(all);
    }
    let known: Vec<&str> = all.iter().map(|s| s.name()).collect();
    for n in names {
        if !known.contains(&n.as_str()) {
            return Err(format!(
                "unknown scenario `{n}` (known: {})",
                known.join(", ")
            ));
        }
    }
    Ok(all
        .into_iter()
        .filter(|s| names.iter().any(|n| n == s.name()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection() {
        let names = |v: &[&str]| -> Result<Vec<&'static str>, String> {
            let owned: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            select(&owned).map(|s| s.iter().map(|x| x.name()).collect())
        };
        assert_eq!(
            names(&["all"]).unwrap(),
            [
                "engine",
                "rollback-timer",
                "ssh-lockout",
                "reboot-persistence",
                "ufw",
                "firewalld",
                "docker"
            ]
        );
        assert_eq!(names(&["engine"]).unwrap(), ["engine"]);
        assert_eq!(names(&["ufw", "engine"]).unwrap(), ["engine", "ufw"]);
        assert!(names(&["nope"])
            .unwrap_err()
            .contains("unknown scenario `nope`"));
    }
}
