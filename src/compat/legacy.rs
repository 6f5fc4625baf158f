//! iptables-legacy detection.
//!
//! Legacy (`ip_tables`/`ip6_tables`) tables are invisible to nf_tables:
//! a host can filter with both at once, and the nf_tables view alone then
//! misses half the firewall. The kernel lists the loaded legacy tables of
//! the current network namespace in `/proc/net/ip_tables_names` and
//! `/proc/net/ip6_tables_names`; the files are absent when the modules
//! are not loaded (or not built).

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nft::Ruleset;

/// `/proc/net/ip_tables_names`.
pub const IPV4_NAMES: &str = "/proc/net/ip_tables_names";
/// `/proc/net/ip6_tables_names`.
pub const IPV6_NAMES: &str = "/proc/net/ip6_tables_names";

/// The iptables-legacy tables loaded in the current network namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyTables {
    /// IPv4 tables (`filter`, `nat`, …); `None` when `ip_tables` is not
    /// loaded (the file is absent).
    pub ipv4: Option<Vec<String>>,
    /// IPv6 tables; `None` when `ip6_tables` is not loaded.
    pub ipv6: Option<Vec<String>>,
}

impl LegacyTables {
    /// Whether any legacy table is loaded.
    pub fn any(&self) -> bool {
        self.ipv4.as_ref().is_some_and(|t| !t.is_empty())
            || self.ipv6.as_ref().is_some_and(|t| !t.is_empty())
    }
}

/// Reads the legacy table lists of the calling thread's network namespace.
///
/// `/proc/net` is `/proc/self/net`, which shows the namespace of the
/// process's main thread; a thread that entered another namespace (as
/// nftguard's tests do) must read `/proc/thread-self/net` (Linux ≥ 4.1).
pub fn legacy_tables() -> Result<LegacyTables> {
    let base = if Path::new("/proc/thread-self/net").exists() {
        "/proc/thread-self/net"
    } else {
        "/proc/net"
    };
    Ok(LegacyTables {
        ipv4: read_names(&Path::new(base).join("ip_tables_names"))?,
        ipv6: read_names(&Path::new(base).join("ip6_tables_names"))?,
    })
}

/// Reads one names file: `Ok(None)` when it does not exist.
pub fn read_names(path: &Path) -> Result<Option<Vec<String>>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(parse_names(&text))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            what: "reading the iptables-legacy table list",
            source,
        }),
    }
}

/// One table name per line.
pub fn parse_names(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether the host is mixed: legacy tables loaded AND nf_tables tables
/// present (`nft` tables of any family in `ruleset`).
pub fn is_mixed(legacy: &LegacyTables, ruleset: &Ruleset) -> bool {
    legacy.any() && !ruleset.tables.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_per_line() {
        assert_eq!(parse_names("filter\nnat\n\n"), vec!["filter", "nat"]);
        assert!(parse_names("").is_empty());
        let t = LegacyTables {
            ipv4: Some(vec![]),
            ipv6: None,
        };
        assert!(!t.any());
    }

    #[test]
    fn absent_file_means_not_loaded() {
        assert_eq!(
            read_names(Path::new("/proc/net/does-not-exist-nftguard")).unwrap(),
            None
        );
    }
}
