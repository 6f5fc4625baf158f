//! Where the audit looks: the host's filesystem roots, injectable so tests
//! can plant markers in a directory instead of the real `/etc`.
//!
//! Every read is bounded and read-only; a missing or unreadable file is
//! "no signal", never an error (the audit must work on minimal hosts).

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Files are read up to this many bytes: configuration files are small, and
/// a huge file must not slow the audit down.
pub const MAX_READ: u64 = 1 << 20;

/// The filesystem locations the audit reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The root (`/`): `/.dockerenv` and friends.
    pub root: PathBuf,
    /// `/etc`.
    pub etc: PathBuf,
    /// `/run` (also consulted for what Debian keeps under `/var/run`).
    pub run: PathBuf,
    /// `/proc`.
    pub proc_dir: PathBuf,
    /// `/sys`.
    pub sys: PathBuf,
    /// `/var`.
    pub var: PathBuf,
    /// `/opt`.
    pub opt: PathBuf,
    /// Directories searched for programs, in order.
    pub bin_dirs: Vec<PathBuf>,
}

impl Default for Host {
    fn default() -> Self {
        Host::under("/")
    }
}

impl Host {
    /// All locations below `root` (`root/etc`, `root/run`, …).
    pub fn under(root: impl AsRef<Path>) -> Self {
        let root = root.as_ref().to_path_buf();
        let bin_dirs = [
            "usr/local/sbin",
            "usr/local/bin",
            "usr/sbin",
            "usr/bin",
            "sbin",
            "bin",
        ]
        .iter()
        .map(|d| root.join(d))
        .collect();
        Host {
            etc: root.join("etc"),
            run: root.join("run"),
            proc_dir: root.join("proc"),
            sys: root.join("sys"),
            var: root.join("var"),
            opt: root.join("opt"),
            bin_dirs,
            root,
        }
    }

    /// `/etc/<rel>`.
    pub fn etc(&self, rel: &str) -> PathBuf {
        self.etc.join(rel)
    }

    /// `/run/<rel>`.
    pub fn run(&self, rel: &str) -> PathBuf {
        self.run.join(rel)
    }

    /// `/proc/<rel>`.
    pub fn proc(&self, rel: &str) -> PathBuf {
        self.proc_dir.join(rel)
    }

    /// `/sys/<rel>`.
    pub fn sys(&self, rel: &str) -> PathBuf {
        self.sys.join(rel)
    }

    /// `/var/<rel>`.
    pub fn var(&self, rel: &str) -> PathBuf {
        self.var.join(rel)
    }

    /// A runtime file under `/run/<rel>` or, on systems where `/var/run` is
    /// not a link to `/run`, `/var/run/<rel>`.
    pub fn run_file(&self, rel: &str) -> Option<PathBuf> {
        [self.run(rel), self.var("run").join(rel)]
            .into_iter()
            .find(|p| p.symlink_metadata().is_ok())
    }

    /// The first program named `name` in [`Host::bin_dirs`].
    pub fn program(&self, name: &str) -> Option<PathBuf> {
        self.bin_dirs
            .iter()
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    }

    /// A per-network-namespace `/proc/net` file of the *calling thread*:
    /// `/proc/self/net` would show the namespace of the process's main
    /// thread, which differs when a thread entered another namespace.
    pub fn proc_net(&self, name: &str) -> PathBuf {
        self.proc("thread-self/net").join(name)
    }
}

/// Reads at most [`MAX_READ`] bytes of a text file; `None` when it is
/// missing or unreadable.
pub fn read_text(path: &Path) -> Option<String> {
    let file = fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_READ).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The files of a directory whose names end with one of `suffixes`
/// (all files when empty), sorted by name (the order tools apply them in).
pub fn dir_files(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            suffixes.is_empty() || suffixes.iter().any(|s| name.ends_with(s))
        })
        .collect();
    files.sort();
    files
}

/// The running processes: pid → command name (`/proc/PID/comm`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Processes {
    /// pid → `comm`.
    pub by_pid: BTreeMap<u32, String>,
}

impl Processes {
    /// Reads `/proc/*/comm` once (a few hundred small reads on a busy host).
    pub fn scan(host: &Host) -> Self {
        let mut by_pid = BTreeMap::new();
        if let Ok(rd) = fs::read_dir(&host.proc_dir) {
            for e in rd.filter_map(|e| e.ok()) {
                let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                    continue;
                };
                if let Ok(comm) = fs::read_to_string(e.path().join("comm")) {
                    by_pid.insert(pid, comm.trim_end().to_string());
                }
            }
        }
        Processes { by_pid }
    }

    /// Whether a process with exactly this command name runs.
    pub fn running(&self, comm: &str) -> bool {
        self.by_pid.values().any(|c| c == comm)
    }

    /// The pids of processes with this command name.
    pub fn pids_of(&self, comm: &str) -> Vec<u32> {
        self.by_pid
            .iter()
            .filter(|(_, c)| *c == comm)
            .map(|(p, _)| *p)
            .collect()
    }

    /// The command name of `pid`, if it runs.
    pub fn comm(&self, pid: u32) -> Option<&str> {
        self.by_pid.get(&pid).map(String::as_str)
    }
}

/// Reads a pid file and tells whether that pid runs (with the command name
/// containing `comm_hint`, which guards against a stale file whose pid was
/// reused).
pub fn pid_file_alive(path: &Path, procs: &Processes, comm_hint: &str) -> bool {
    let Some(text) = read_text(path) else {
        return false;
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        return false;
    };
    procs.comm(pid).is_some_and(|c| c.contains(comm_hint))
}

/// `key = value` / `key value` lookup in simple configuration text; keys
/// compare case-insensitively; comments (`#`) are skipped.
pub fn config_values<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with(';'))
        .filter_map(|l| {
            let cut = l.find(|c: char| c == '=' || c.is_whitespace())?;
            let (k, rest) = l.split_at(cut);
            if !k.trim().eq_ignore_ascii_case(key) {
                return None;
            }
            let v = rest.trim_start().trim_start_matches('=').trim();
            Some(v.trim_matches('"').trim_matches('\''))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values_handle_both_syntaxes() {
        let t = "# Port 1\nPort 2222\nENABLED=yes\nbanaction = nftables-multiport\n";
        assert_eq!(config_values(t, "port"), vec!["2222"]);
        assert_eq!(config_values(t, "ENABLED"), vec!["yes"]);
        assert_eq!(config_values(t, "banaction"), vec!["nftables-multiport"]);
        assert!(config_values(t, "missing").is_empty());
    }

    #[test]
    fn host_under_root_maps_every_path() {
        let h = Host::under("/x");
        assert_eq!(h.etc("ufw/ufw.conf"), PathBuf::from("/x/etc/ufw/ufw.conf"));
        assert_eq!(
            h.proc_net("ip_tables_names"),
            PathBuf::from("/x/proc/thread-self/net/ip_tables_names")
        );
        assert_eq!(
            Host::default().run("docker.sock"),
            PathBuf::from("/run/docker.sock")
        );
    }
}
