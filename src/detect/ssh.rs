//! The SSH port: from the socket sshd actually listens on (sock_diag, with
//! the socket inode matched to an `sshd` process through `/proc/PID/fd`),
//! else from `sshd_config`, else 22.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::host::{dir_files, read_text, Host, Processes};
use crate::netlink::sock_diag::InetSocket;

/// Where the SSH port came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SshSource {
    /// A listening socket owned by an `sshd` process.
    Socket,
    /// `Port` in `sshd_config` (or a file it includes).
    SshdConfig,
    /// Nothing found: the protocol default.
    Default,
}

/// What the audit knows about SSH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ssh {
    /// The port to keep open.
    pub port: u16,
    /// Where it came from.
    pub source: SshSource,
    /// Every port sshd listens on (sorted), when found from sockets.
    pub listening_ports: Vec<u16>,
    /// Ports set in `sshd_config`, in file order.
    pub config_ports: Vec<u16>,
}

/// Process names of the OpenSSH listener (the listener is `sshd`; since
/// OpenSSH 9.8 per-connection children are `sshd-session`, which never
/// own the listening socket, but both are accepted).
const SSHD_NAMES: [&str; 2] = ["sshd", "sshd-session"];

/// Detects the SSH port from `listeners` (the TCP listeners of the audited
/// network namespace) and the configuration.
pub fn detect(host: &Host, procs: &Processes, listeners: &[InetSocket]) -> Ssh {
    let sshd_inodes = sshd_socket_inodes(host, procs);
    let listening_ports: Vec<u16> = listeners
        .iter()
        .filter(|s| s.inode != 0 && sshd_inodes.contains(&s.inode))
        .map(|s| s.local_port)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let config_ports = config_ports(host);
    let (port, source) = if let Some(p) = pick(&listening_ports, &config_ports) {
        (p, SshSource::Socket)
    } else if let Some(p) = config_ports.first() {
        (*p, SshSource::SshdConfig)
    } else {
        (22, SshSource::Default)
    };
    Ssh {
        port,
        source,
        listening_ports,
        config_ports,
    }
}

/// With several listening ports, prefer the first configured one that is
/// actually listening, then the lowest.
fn pick(listening: &[u16], configured: &[u16]) -> Option<u16> {
    configured
        .iter()
        .find(|p| listening.contains(p))
        .or_else(|| listening.first())
        .copied()
}

/// The socket inodes held open by sshd processes. Only sshd's descriptors
/// are read, not every process's: cheap on busy hosts.
fn sshd_socket_inodes(host: &Host, procs: &Processes) -> BTreeSet<u32> {
    let mut inodes = BTreeSet::new();
    for name in SSHD_NAMES {
        for pid in procs.pids_of(name) {
            let Ok(rd) = fs::read_dir(host.proc(&format!("{pid}/fd"))) else {
                continue;
            };
            for e in rd.filter_map(|e| e.ok()) {
                if let Some(inode) = fs::read_link(e.path()).ok().and_then(|t| socket_inode(&t)) {
                    inodes.insert(inode);
                }
            }
        }
    }
    inodes
}

/// `socket:[12345]` → 12345.
fn socket_inode(target: &Path) -> Option<u32> {
    let t = target.to_str()?;
    t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// `Port` values of `sshd_config` in the order sshd reads them, following
/// `Include` (relative paths are under `/etc/ssh`; `*` globs in the last
/// component), stopping at the first `Match` block of each file.
fn config_ports(host: &Host) -> Vec<u16> {
    let mut ports = Vec::new();
    let mut seen = 0;
    read_config(host, &host.etc("ssh/sshd_config"), &mut ports, &mut seen);
    ports
}

fn read_config(host: &Host, path: &Path, ports: &mut Vec<u16>, depth: &mut u32) {
    *depth += 1;
    if *depth > 16 {
        return; // include loop
    }
    let Some(text) = read_text(path) else {
        return;
    };
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let mut words = line
            .split(|c: char| c.is_whitespace() || c == '=')
            .filter(|w| !w.is_empty());
        let Some(key) = words.next() else { continue };
        if key.eq_ignore_ascii_case("match") {
            break;
        }
        if key.eq_ignore_ascii_case("port") {
            if let Some(p) = words.next().and_then(|w| w.parse::<u16>().ok()) {
                if p != 0 && !ports.contains(&p) {
                    ports.push(p);
                }
            }
        } else if key.eq_ignore_ascii_case("include") {
            for pattern in words {
                for f in expand_include(host, pattern) {
                    read_config(host, &f, ports, depth);
                }
            }
        }
    }
}

fn expand_include(host: &Host, pattern: &str) -> Vec<PathBuf> {
    let rel = pattern
        .strip_prefix("/etc/")
        .map(str::to_string)
        .unwrap_or_else(|| {
            if pattern.starts_with('/') {
                pattern.to_string()
            } else {
                format!("ssh/{pattern}")
            }
        });
    let full = if rel.starts_with('/') {
        PathBuf::from(rel)
    } else {
        host.etc(&rel)
    };
    let Some(name) = full.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    if !name.contains('*') {
        return vec![full];
    }
    let (prefix, suffix) = name.split_once('*').unwrap_or((name, ""));
    let dir = full.parent().map(Path::to_path_buf).unwrap_or_default();
    dir_files(&dir, &[])
        .into_iter()
        .filter(|f| {
            f.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(prefix)
                    && n.ends_with(suffix)
                    && n.len() >= prefix.len() + suffix.len()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_socket_links() {
        assert_eq!(socket_inode(Path::new("socket:[4242]")), Some(4242));
        assert_eq!(socket_inode(Path::new("pipe:[4242]")), None);
        assert_eq!(socket_inode(Path::new("/dev/null")), None);
    }

    #[test]
    fn prefers_configured_listening_port() {
        assert_eq!(pick(&[22, 2222], &[2222]), Some(2222));
        assert_eq!(pick(&[2200, 2222], &[22]), Some(2200));
        assert_eq!(pick(&[], &[22]), None);
    }
}
