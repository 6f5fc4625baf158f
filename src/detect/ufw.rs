//! ufw: installed, enabled (boot configuration) and running (its chains are
//! loaded in this network namespace).

use serde::{Deserialize, Serialize};

use super::host::{config_values, read_text, Host};
use super::tables::TableInfo;

/// What the audit knows about ufw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ufw {
    /// The `ufw` program or its configuration exists.
    pub installed: bool,
    /// `ENABLED=yes` in `/etc/ufw/ufw.conf`: ufw loads its rules at boot.
    pub enabled: bool,
    /// The chain `ufw-user-input` (or `ufw6-user-input`) exists: ufw's
    /// rules are loaded now. This is what "active" means.
    pub running: bool,
}

/// Detects ufw.
pub fn detect(host: &Host, tables: &[TableInfo]) -> Ufw {
    let conf = read_text(&host.etc("ufw/ufw.conf"));
    let installed = host.program("ufw").is_some() || conf.is_some();
    let enabled = conf
        .as_deref()
        .and_then(|t| config_values(t, "ENABLED").last().copied())
        .is_some_and(|v| v.eq_ignore_ascii_case("yes"));
    let running = tables.iter().any(|t| {
        matches!(t.family.as_str(), "ip" | "ip6")
            && (t.has_chain("ufw-user-input") || t.has_chain("ufw6-user-input"))
    });
    Ufw {
        installed,
        enabled,
        running,
    }
}
