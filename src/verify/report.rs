//! Renderers of a [`VerifyReport`]: human text, a Markdown compliance
//! report a reviewer can read (`verify --report md`), and JSON
//! (`--json`, `--report json`).

use std::fmt::Write as _;

use super::checks::{Status, VerifyReport};

/// Pretty-printed JSON (`{"passed", "checks", "exposure", …}`).
pub fn render_json(r: &VerifyReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Plain text for a terminal: one line per check, then the exposure.
pub fn render_human(r: &VerifyReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} (generation {}, SSH port {}, exit {})",
        if r.passed {
            "VERIFY PASSED"
        } else {
            "VERIFY FAILED"
        },
        r.genid,
        r.ssh_port,
        r.exit_code()
    );
    for c in &r.checks {
        let _ = writeln!(
            out,
            "  {:<4} {}{}: {}",
            c.status.word().to_uppercase(),
            c.id,
            if c.critical { " (critical)" } else { "" },
            c.detail
        );
    }
    if !r.exposure.is_empty() {
        let _ = writeln!(out, "exposed:");
        for e in &r.exposure {
            let _ = writeln!(
                out,
                "  {}/{} {} {} from {}{}",
                e.port,
                e.proto,
                e.family,
                if e.process.is_empty() {
                    "(process unknown)"
                } else {
                    &e.process
                },
                if e.allowed_from.is_empty() {
                    "(undecided)".to_string()
                } else {
                    e.allowed_from.join(", ")
                },
                match e.intended {
                    Some(false) => "  NOT IN POLICY",
                    _ => "",
                }
            );
        }
    }
    out
}

/// `|` and line breaks would break a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A Markdown compliance report: summary, one table of checks with their
/// controls, a control-by-control index, the exposure table, and the
/// evidence behind each check.
pub fn render_markdown(r: &VerifyReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# nftguard firewall verification report\n");
    let count = |s: Status| r.checks.iter().filter(|c| c.status == s).count();
    let _ = writeln!(
        out,
        "**Result: {}** — {} passed, {} failed, {} warnings, {} not applicable (exit code {}).\n",
        if r.passed { "PASSED" } else { "FAILED" },
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Warn),
        count(Status::Skip),
        r.exit_code()
    );
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| Generated (Unix time) | {} |", r.generated_at);
    let _ = writeln!(out, "| Ruleset generation | {} |", r.genid);
    let _ = writeln!(out, "| SSH port | {} |", r.ssh_port);
    let _ = writeln!(
        out,
        "| Operator source | {} |",
        r.operator_source
            .as_deref()
            .unwrap_or("unknown (probes from 203.0.113.7)")
    );
    let _ = writeln!(out, "| Probe interface | {} |", cell(&r.probe_interface));
    let _ = writeln!(
        out,
        "| Intended ports ({}) | {} |",
        cell(&r.intended_source),
        if r.intended_ports.is_empty() {
            "none".to_string()
        } else {
            r.intended_ports.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "\nMethod: every check evaluates the live nf_tables ruleset — all tables, every base chain on each hook in \
         priority order, following jumps and policies — with probe packets, and cross-checks the sockets actually \
         listening (sock_diag) and the persisted state. Nothing is inferred from rule text alone.\n"
    );
    let _ = writeln!(out, "## Checks\n");
    let _ = writeln!(
        out,
        "| Check | Status | Critical | Finding | Controls |\n|---|---|---|---|---|"
    );
    for c in &r.checks {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            c.id,
            match c.status {
                Status::Pass => "✅ pass",
                Status::Fail => "❌ fail",
                Status::Warn => "⚠️ warn",
                Status::Skip => "— skip",
            },
            if c.critical { "yes" } else { "no" },
            cell(&c.detail),
            cell(&c.controls.join("; "))
        );
    }
    let _ = writeln!(out, "\n## Controls\n");
    let mut controls: Vec<&String> = r.checks.iter().flat_map(|c| c.controls.iter()).collect();
    controls.sort();
    controls.dedup();
    let _ = writeln!(
        out,
        "| Control | Evidence (checks) | Status |\n|---|---|---|"
    );
    for ctl in controls {
        let checks: Vec<_> = r
            .checks
            .iter()
            .filter(|c| c.controls.contains(ctl))
            .collect();
        let worst = if checks.iter().any(|c| c.status == Status::Fail) {
            "fail"
        } else if checks.iter().any(|c| c.status == Status::Warn) {
            "warn"
        } else if checks.iter().all(|c| c.status == Status::Skip) {
            "not applicable"
        } else {
            "pass"
        };
        let ids: Vec<String> = checks
            .iter()
            .map(|c| format!("`{}` ({})", c.id, c.status.word()))
            .collect();
        let _ = writeln!(out, "| {} | {} | {worst} |", cell(ctl), ids.join(", "));
    }
    let _ = writeln!(out, "\n## Exposure\n");
    if r.exposure.is_empty() {
        let _ = writeln!(out, "No listening socket is reachable from the network.");
    } else {
        let _ = writeln!(
            out,
            "| Port | Proto | Family | Process | Allowed from | In policy |\n|---|---|---|---|---|---|"
        );
        for e in &r.exposure {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                e.port,
                e.proto,
                e.family,
                cell(if e.process.is_empty() {
                    "unknown"
                } else {
                    &e.process
                }),
                cell(&if e.allowed_from.is_empty() {
                    format!("undecided: {}", e.undecided.join("; "))
                } else {
                    e.allowed_from.join(", ")
                }),
                match e.intended {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "no policy",
                }
            );
        }
    }
    let _ = writeln!(out, "\n## Evidence\n");
    for c in &r.checks {
        let _ = writeln!(out, "### `{}` — {}\n", c.id, c.status.word());
        let _ = writeln!(out, "{}\n", c.detail);
        for e in &c.evidence {
            let _ = writeln!(out, "- {}", e.replace('\n', " "));
        }
        if !c.evidence.is_empty() {
            out.push('\n');
        }
    }
    out
}
