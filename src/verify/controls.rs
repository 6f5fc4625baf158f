//! The compliance controls each verify check gives evidence for
//! (WORKFLOW.md §verify).
//!
//! Benchmarks and the sections cited:
//! - CIS Debian Linux 12 Benchmark v1.1.0 and CIS Ubuntu Linux 24.04 LTS
//!   Benchmark v1.0.0 (same numbering for the firewall chapter): 4.1.1
//!   single firewall utility; 4.3.5 base chains; 4.3.6 loopback; 4.3.7
//!   outbound and established connections; 4.3.8 default deny; 4.3.9
//!   service enabled at boot; 4.3.10 rules permanent.
//! - CIS Red Hat Enterprise Linux 9 Benchmark v2.0.0, §4.1–4.3: 4.1.2
//!   single firewall utility; 4.3.1 base chains; 4.3.2 established
//!   connections; 4.3.3 default deny; 4.3.4 loopback.
//! - PCI DSS v4.0.1: 1.2.1 configuration standards for NSC rulesets;
//!   1.2.2 changes approved and managed; 1.2.5 allowed services, protocols
//!   and ports identified and approved; 1.2.8 configuration files secured
//!   and consistent with the active configuration; 1.3.1 inbound traffic
//!   restricted; 1.3.2 outbound traffic restricted; 1.4.2 inbound from
//!   untrusted networks restricted to authorised and established traffic;
//!   1.4.3 anti-spoofing.
//! - AICPA SOC 2 (2017 TSC): CC6.6 boundary protection against threats
//!   from outside; CC7.2 monitoring of system components for anomalies;
//!   CC8.1 change management.
//! - NIST SP 800-41 Rev. 1 (Guidelines on Firewalls and Firewall Policy):
//!   deny by default, the same policy for IPv6 as for IPv4, logging.

/// CIS Debian 12 v1.1.0 / Ubuntu 24.04 v1.0.0 prefix.
const CIS_DEB: &str = "CIS Debian 12 v1.1.0 / Ubuntu 24.04 v1.0.0";
/// CIS RHEL 9 v2.0.0 prefix.
const CIS_RHEL: &str = "CIS RHEL 9 v2.0.0";
/// PCI DSS prefix.
const PCI: &str = "PCI DSS v4.0.1";
/// SOC 2 prefix.
const SOC2: &str = "SOC 2";
/// NIST SP 800-41 r1.
const NIST: &str = "NIST SP 800-41 r1";

/// Every check id, in report order.
pub const CHECK_IDS: [&str; 12] = [
    "ssh-reachable",
    "intended-ports-only",
    "ipv6-parity",
    "default-deny",
    "loopback",
    "established",
    "persistence",
    "docker-published-ports",
    "fail2ban",
    "single-manager",
    "rollback-state",
    "drop-logging-rate-limited",
];

/// The controls check `id` gives evidence for (empty for an unknown id).
pub fn controls(id: &str) -> Vec<String> {
    let c = |parts: &[(&str, &str)]| -> Vec<String> {
        parts.iter().map(|(b, s)| format!("{b} {s}")).collect()
    };
    match id {
        "ssh-reachable" => c(&[(PCI, "1.2.2"), (SOC2, "CC8.1")]),
        "intended-ports-only" => c(&[
            (PCI, "1.2.5"),
            (PCI, "1.3.1"),
            (PCI, "1.4.2"),
            (SOC2, "CC6.6"),
            (NIST, "(deny by default)"),
        ]),
        "ipv6-parity" => c(&[
            (NIST, "(same policy for IPv6)"),
            (PCI, "1.4.2"),
            (SOC2, "CC6.6"),
        ]),
        "default-deny" => c(&[
            (CIS_DEB, "4.3.5"),
            (CIS_DEB, "4.3.8"),
            (CIS_RHEL, "4.3.1"),
            (CIS_RHEL, "4.3.3"),
            (PCI, "1.3.1"),
            (PCI, "1.3.2"),
            (PCI, "1.4.2"),
            (SOC2, "CC6.6"),
            (NIST, "(deny by default)"),
        ]),
        "loopback" => c(&[(CIS_DEB, "4.3.6"), (CIS_RHEL, "4.3.4"), (PCI, "1.4.3")]),
        "established" => c(&[(CIS_DEB, "4.3.7"), (CIS_RHEL, "4.3.2"), (PCI, "1.4.2")]),
        "persistence" => c(&[
            (CIS_DEB, "4.3.9"),
            (CIS_DEB, "4.3.10"),
            (PCI, "1.2.8"),
            (SOC2, "CC8.1"),
        ]),
        "docker-published-ports" => c(&[
            (PCI, "1.2.5"),
            (PCI, "1.3.1"),
            (PCI, "1.4.2"),
            (SOC2, "CC6.6"),
        ]),
        "fail2ban" => c(&[(SOC2, "CC6.6"), (SOC2, "CC7.2")]),
        "single-manager" => c(&[(CIS_DEB, "4.1.1"), (CIS_RHEL, "4.1.2"), (PCI, "1.2.1")]),
        "rollback-state" => c(&[(PCI, "1.2.2"), (SOC2, "CC8.1")]),
        "drop-logging-rate-limited" => c(&[(SOC2, "CC7.2"), (NIST, "(logging)")]),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_controls() {
        for id in CHECK_IDS {
            assert!(!controls(id).is_empty(), "{id}");
        }
        assert!(controls("nope").is_empty());
        assert!(controls("loopback")
            .contains(&"CIS Debian 12 v1.1.0 / Ubuntu 24.04 v1.0.0 4.3.6".to_string()));
    }
}
