//! Human output of a plan: the diff with `+` / `-` / `=`, risk, warnings,
//! the desired table as nft text, the token and the apply command. Colour
//! only when wanted ([`color_wanted`]: a terminal and no `NO_COLOR`).

use std::fmt::Write as _;
use std::io::IsTerminal;

use super::diff::DiffEntry;
use super::{Plan, RiskLevel};

/// Whether to colour output on stdout: stdout is a terminal and
/// `NO_COLOR` is unset or empty (<https://no-color.org>).
pub fn color_wanted() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// One diff line without its marker: `input  inet  tcp 80  from any  accept  (http)`.
pub fn entry_line(e: &DiffEntry) -> String {
    let port = match &e.port {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut s = format!("{:<8} {:<5} ", e.chain, e.family);
    if e.matches.as_deref() == Some("policy") {
        s.push_str(&format!("default policy {}", e.action));
        return s;
    }
    if e.proto != "any" || port != "any" {
        s.push_str(&e.proto);
        if port != "any" {
            s.push_str(&format!(" {port}"));
        }
        s.push(' ');
    }
    if e.source != "any" {
        s.push_str(&format!("from {} ", e.source));
    }
    if let Some(d) = &e.destination {
        s.push_str(&format!("to {d} "));
    }
    if let Some(m) = &e.matches {
        s.push_str(&format!("[{m}] "));
    }
    if let Some(r) = &e.rate_limit {
        s.push_str(&format!("limit {r} "));
    }
    s.push_str(&e.action);
    if let Some(c) = &e.comment {
        s.push_str(&format!("  # {c}"));
    }
    s
}

/// The plan for people. `color`: ANSI colours (see [`color_wanted`]).
pub fn human(plan: &Plan, color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Plan: {} {} — backend {}{}",
        plan.selection,
        plan.profile,
        plan.backend,
        if plan.read_only { " (read-only)" } else { "" }
    );
    let _ = writeln!(
        out,
        "Live ruleset generation {}; table inet nftguard {}; SSH port {}{}",
        plan.base_genid,
        if plan.table_exists {
            "exists (it will be replaced atomically)"
        } else {
            "does not exist (it will be created)"
        },
        plan.ssh_port,
        plan.operator_source
            .as_ref()
            .map(|s| format!("; you connect from {s}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "Audit: {}{}",
        if plan.audit_cached {
            "cached, "
        } else {
            "fresh, "
        },
        plan.audit_cache_file
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Diff (+ add {}, = unchanged {}, - remove {}):",
        plan.diff.add.len(),
        plan.diff.skip.len(),
        plan.diff.remove.len()
    );
    for e in &plan.diff.add {
        let _ = writeln!(out, "{}", p.wrap("32", &format!("  + {}", entry_line(e))));
    }
    for e in &plan.diff.skip {
        let _ = writeln!(out, "{}", p.wrap("2", &format!("  = {}", entry_line(e))));
    }
    for e in &plan.diff.remove {
        let _ = writeln!(out, "{}", p.wrap("31", &format!("  - {}", entry_line(e))));
    }
    if let Some(d) = &plan.docker_user {
        let _ = writeln!(
            out,
            "DOCKER-USER ({}){}:",
            d.chains.join(", "),
            if d.unchanged { ", unchanged" } else { "" }
        );
        for r in &d.rules {
            let _ = writeln!(out, "  {r}");
        }
    }
    let _ = writeln!(out);
    let risk_colour = match plan.risk_assessment {
        RiskLevel::Low => "32",
        RiskLevel::Medium => "33",
        RiskLevel::High => "1;31",
    };
    let _ = writeln!(
        out,
        "Risk: {}   Estimated disruption: {}",
        p.wrap(risk_colour, plan.risk_assessment.name()),
        plan.estimated_disruption
    );
    for r in &plan.risk_reasons {
        let _ = writeln!(out, "  - {r}");
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "Warnings:");
        for w in &plan.warnings {
            let _ = writeln!(out, "{}", p.wrap("33", &format!("  ! {w}")));
        }
    }
    if !plan.frontend_commands.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Equivalent {} commands (run them yourself):",
            plan.backend
        );
        for c in &plan.frontend_commands {
            let _ = writeln!(out, "  {c}");
        }
    }
    if !plan.nft.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Desired table:");
        for l in plan.nft.lines() {
            let _ = writeln!(out, "  {l}");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Approval token: {}", plan.approval_token);
    match &plan.apply_command {
        Some(c) => {
            let _ = writeln!(out, "To apply after review:\n  {}", p.wrap("1", c));
        }
        None => {
            let _ = writeln!(out, "nftguard will not apply this plan.");
        }
    }
    out
}
