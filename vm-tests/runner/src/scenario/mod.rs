//! Scenarios: what runs inside a VM. Each scenario prepares its host-side
//! material once (`prepare`), then boots each kernel its own way (`run`):
//! `engine` uses a busybox initramfs; the full-system scenarios planned in
//! TESTING.md (rollback timer, reboot persistence, SSH lockout, ufw,
//! firewalld, docker) will boot a debootstrap rootfs. Adding one means one
//! file here implementing [`Scenario`] and one line in [`registry`].

mod engine;

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
}

pub trait Scenario {
    /// The name used in `--scenarios` and the table.
    fn name(&self) -> &'static str;
    /// Host-side preparation shared by every kernel (builds, downloads).
    fn prepare(&mut self, ctx: &HostContext, busybox: &Path) -> Result<(), String>;
    /// Runs on one kernel; never fails as a whole, failures are the cell's.
    fn run(&self, kernel: &PreparedKernel, ctx: &HostContext, timings: &mut Timings) -> Cell;
}

/// Every implemented scenario, in table order.
fn registry() -> Vec<Box<dyn Scenario>> {
    vec![Box::new(engine::Engine::default())]
}

/// Scenarios TESTING.md plans that need apply/rollback first.
const PLANNED: [&str; 6] = [
    "rollback-timer",
    "reboot-persistence",
    "ssh-lockout",
    "ufw",
    "firewalld",
    "docker",
];

/// The scenarios named on the command line (`all` = every implemented one).
pub fn select(names: &[String]) -> Result<Vec<Box<dyn Scenario>>, String> {
    let all = registry();
    if names.iter().any(|n| n == "all") {
        return Ok(all);
    }
    let known: Vec<&str> = all.iter().map(|s| s.name()).collect();
    for n in names {
        if PLANNED.contains(&n.as_str()) {
            return Err(format!(
                "scenario `{n}` is planned but not implemented yet (it needs apply/rollback); implemented: {}",
                known.join(", ")
            ));
        }
        if !known.contains(&n.as_str()) {
            return Err(format!(
                "unknown scenario `{n}` (implemented: {})",
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
        assert_eq!(names(&["all"]).unwrap(), ["engine"]);
        assert_eq!(names(&["engine"]).unwrap(), ["engine"]);
        assert!(names(&["ufw"]).unwrap_err().contains("not implemented yet"));
        assert!(names(&["nope"])
            .unwrap_err()
            .contains("unknown scenario `nope`"));
    }
}
