//! The human rendering of an audit: the verdict first, then the details.

use std::fmt::Write;

use super::{Audit, Verdict};

/// Renders `audit` for people: verdict line (`PROCEED` / `AUDIT-ONLY` /
/// `HALT`, exit code, confidence, tier), the halt reasons, then the
/// details and the warnings. Plain text, no colour.
pub fn render_human(a: &Audit) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} (exit {}): confidence {}, risk tier {}, recommended backend {}",
        a.verdict.label(),
        a.exit_code,
        a.confidence,
        a.risk_tier.name(),
        a.recommended_backend
    );
    if a.verdict == Verdict::Proceed && a.risk_tier.name() == "confirmed" {
        let _ = writeln!(s, "  a human must confirm the plan before apply");
    }
    for r in &a.halt_reasons {
        let _ = writeln!(s, "  - {r}");
    }
    let _ = writeln!(s);
    let yes = |b: bool| if b { "yes" } else { "no" };
    let rows: Vec<(&str, String)> = vec![
        (
            "environment",
            match &a.environment_evidence {
                Some(e) => format!("{} ({e})", a.environment.name()),
                None => a.environment.name().to_string(),
            },
        ),
        ("kernel", a.kernel.clone()),
        (
            "backend",
            format!(
                "{}{}",
                a.backend,
                if a.nftables_available {
                    ""
                } else {
                    " (nf_tables unavailable)"
                }
            ),
        ),
        ("active frontend", a.active_frontend.clone()),
        (
            "ufw",
            format!(
                "installed {}, enabled {}, running {}",
                yes(a.ufw.installed),
                yes(a.ufw.enabled),
                yes(a.ufw.running)
            ),
        ),
        (
            "firewalld",
            format!(
                "installed {}, running {}{}",
                yes(a.firewalld.installed),
                yes(a.firewalld.running),
                a.firewalld
                    .dbus_state
                    .as_deref()
                    .map(|st| format!(", D-Bus state {st}"))
                    .unwrap_or_default()
            ),
        ),
        (
            "ssh port",
            format!("{} (from {:?})", a.ssh_port, a.ssh_source).to_lowercase(),
        ),
        ("docker host", yes(a.docker_host).to_string()),
        (
            "kubernetes node",
            format!(
                "{}{}",
                yes(a.k8s_node),
                a.cni_plugin
                    .as_deref()
                    .map(|c| format!(", CNI {c}"))
                    .unwrap_or_default()
            ),
        ),
        (
            "iac owner",
            a.iac_owner.clone().unwrap_or_else(|| "none".into()),
        ),
        (
            "fail2ban",
            format!(
                "installed {}, running {}{}",
                yes(a.fail2ban.installed),
                yes(a.fail2ban_active),
                a.fail2ban
                    .banaction
                    .as_deref()
                    .map(|b| format!(", banaction {b}"))
                    .unwrap_or_default()
            ),
        ),
        (
            "rollback",
            format!(
                "{} (systemd-run {}, at {})",
                a.rollback_mechanism,
                yes(a.systemd_run_available),
                yes(a.at_available)
            ),
        ),
        (
            "iptables-legacy",
            if a.iptables_legacy {
                a.iptables_legacy_tables.join(", ")
            } else {
                "no".into()
            },
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(s, "{k:<17}{v}");
    }
    if a.tables.is_empty() {
        let _ = writeln!(s, "tables           none");
    } else {
        let _ = writeln!(s, "tables");
        for t in &a.tables {
            let also = if t.also_used_by.is_empty() {
                String::new()
            } else {
                format!(
                    " (also {})",
                    t.also_used_by
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let _ = writeln!(
                s,
                "  {:<6} {:<24} {:<13} {:>5} chains {:>7} rules{also}",
                t.family,
                t.name,
                t.managed_by.name(),
                t.chains,
                t.rules
            );
        }
    }
    if !a.warnings.is_empty() {
        let _ = writeln!(s, "warnings");
        for w in &a.warnings {
            let _ = writeln!(s, "  - {w}");
        }
    }
    s
}
