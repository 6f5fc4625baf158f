//! fail2ban: installed vs running, and the ban action its jails use (which
//! must match the firewall backend, or bans land in a table nobody reads).

use serde::{Deserialize, Serialize};

use super::host::{config_values, dir_files, pid_file_alive, read_text, Host, Processes};

/// What the audit knows about fail2ban.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fail2ban {
    /// The server program or `/etc/fail2ban` exists.
    pub installed: bool,
    /// The server runs: its socket exists or its pid file names a live
    /// `fail2ban-server`.
    pub running: bool,
    /// `banaction` of `[DEFAULT]` after fail2ban's own override order
    /// (`jail.conf`, `jail.d/*.conf`, `jail.local`, `jail.d/*.local`).
    pub banaction: Option<String>,
}

/// Detects fail2ban.
pub fn detect(host: &Host, procs: &Processes) -> Fail2ban {
    let dir = host.etc("fail2ban");
    let installed = host.program("fail2ban-server").is_some() || dir.is_dir();
    let running = host.run_file("fail2ban/fail2ban.sock").is_some()
        || host
            .run_file("fail2ban/fail2ban.pid")
            .is_some_and(|p| pid_file_alive(&p, procs, "fail2ban"));
    let mut files = vec![dir.join("jail.conf")];
    files.extend(dir_files(&dir.join("jail.d"), &[".conf"]));
    files.push(dir.join("jail.local"));
    files.extend(dir_files(&dir.join("jail.d"), &[".local"]));
    let mut banaction = None;
    for f in files {
        if let Some(text) = read_text(&f) {
            if let Some(v) = default_section(&text)
                .and_then(|s| config_values(&s, "banaction").last().map(|v| v.to_string()))
            {
                banaction = Some(v);
            }
        }
    }
    Fail2ban {
        installed,
        running,
        banaction,
    }
}

/// The lines of the `[DEFAULT]` section.
fn default_section(text: &str) -> Option<String> {
    let mut inside = false;
    let mut out = String::new();
    let mut found = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            inside = t.eq_ignore_ascii_case("[DEFAULT]");
            found |= inside;
            continue;
        }
        if inside {
            out.push_str(t);
            out.push('\n');
        }
    }
    found.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_banaction_from_default_only() {
        let t = "[DEFAULT]\nbanaction = nftables-multiport\n[sshd]\nbanaction = iptables\n";
        let s = default_section(t).unwrap();
        assert_eq!(config_values(&s, "banaction"), vec!["nftables-multiport"]);
        assert!(default_section("[sshd]\nenabled=true\n").is_none());
    }
}
