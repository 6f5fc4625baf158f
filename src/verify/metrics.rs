//! `nftguard metrics`: the Prometheus text exposition format (version
//! 0.0.4: `# HELP`, `# TYPE`, samples), fit for node_exporter's textfile
//! collector ([`write_textfile`] replaces the file atomically, so the
//! collector never reads half of it).
//!
//! Exported:
//! - `nftguard_rule_packets_total` / `nftguard_rule_bytes_total`: every
//!   rule of `table inet nftguard` holding a counter, labelled by chain,
//!   handle, comment and verdict (`accept`, `drop`, `continue`, …).
//! - `nftguard_dropped_packets_total` / `…_bytes_total` per chain: what
//!   the counters of dropping rules (`drop`, `reject`) saw, plus — labelled
//!   `source="policy"` — a counter in an unconditional last rule of a
//!   base chain whose policy is drop. **A policy drop itself has no
//!   counter in nf_tables**: packets dropped by the policy are counted only
//!   when the chain ends with such a counter rule (`counter` alone, or
//!   `counter` before a rate-limited `log`), so these numbers are a lower
//!   bound when there is none (`nftguard_policy_drops_counted 0`).
//! - `nftguard_conntrack_entries` / `nftguard_conntrack_entries_limit`:
//!   `/proc/sys/net/netfilter/nf_conntrack_{count,max}` of the calling
//!   thread's network namespace (absent when conntrack is not loaded).
//! - `nftguard_rollback_pending`, `nftguard_rollback_fires_at_seconds`,
//!   `nftguard_last_apply_timestamp_seconds`, `nftguard_last_apply_success`,
//!   `nftguard_last_apply_info{apply_id,phase}` from the state directory.
//! - `nftguard_table_present`, `nftguard_ruleset_generation`.
//!
//! A node_exporter textfile collector run every minute:
//! `* * * * * root nftguard metrics --output /var/lib/node_exporter/textfile_collector/nftguard.prom`
//! (or a systemd timer with `OnCalendar=minutely` running the same).

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::{DumpFilter, Ruleset};
use crate::error::{Error, Result};
use crate::netlink::Socket;
use crate::nft::{ChainPolicy, Data, Expr, Family, Rule, Verdict};
use crate::txn::backup::OWNED_TABLE_NAME;
use crate::txn::StateDir;

/// One counted rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCounter {
    /// Chain.
    pub chain: String,
    /// Handle.
    pub handle: u64,
    /// The rule's comment (empty when none).
    pub comment: String,
    /// `accept`, `drop` (also for reject), `jump X`, `continue`, ….
    pub verdict: String,
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
    /// Counts packets the base chain's drop policy drops (see the module
    /// documentation).
    pub counts_policy_drops: bool,
}

/// Everything `metrics` exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// `table inet nftguard` exists.
    pub table_present: bool,
    /// Ruleset generation.
    pub genid: u32,
    /// Counted rules of our table.
    pub rules: Vec<RuleCounter>,
    /// Chains of our table whose policy drops, and whether their policy
    /// drops are counted.
    pub policy_drop_chains: Vec<(String, bool)>,
    /// `nf_conntrack_count`.
    pub conntrack_count: Option<u64>,
    /// `nf_conntrack_max`.
    pub conntrack_max: Option<u64>,
    /// Rollback armed and not fired (None: no state directory given).
    pub rollback_pending: Option<bool>,
    /// When it fires (Unix seconds).
    pub rollback_fires_at: Option<u64>,
    /// The last apply: id, phase, last change (Unix seconds).
    pub last_apply: Option<(String, String, u64)>,
}

/// The verdict word of a rule, and whether it drops.
fn verdict_of(r: &Rule) -> (String, bool) {
    if r.exprs.iter().any(|e| matches!(e, Expr::Reject(_))) {
        return ("reject".into(), true);
    }
    for e in r.exprs.iter().rev() {
        if let Expr::Immediate(i) = e {
            if let Data::Verdict(v) = &i.data {
                return (super::trace::verdict_text(v), *v == Verdict::Drop);
            }
        }
    }
    ("continue".into(), false)
}

/// Whether the rule counts everything reaching it: a counter before any
/// condition and no verdict.
fn unconditional_counter(r: &Rule) -> bool {
    for e in &r.exprs {
        match e {
            Expr::Counter(_) => return verdict_of(r).0 == "continue",
            Expr::Cmp(_)
            | Expr::Lookup(_)
            | Expr::Range(_)
            | Expr::Limit(_)
            | Expr::Quota(_)
            | Expr::Dynset(_) => return false,
            _ => {}
        }
    }
    false
}

/// Reads a number from a `/proc/sys` file.
fn proc_number(path: &str) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Collects the metrics: our table's counters through `sock`, conntrack
/// from the calling thread's namespace, rollback and apply state from
/// `state` when given.
pub fn collect(sock: &mut Socket, state: Option<&StateDir>) -> Result<Metrics> {
    let rs = Ruleset::dump(sock, &DumpFilter::all())?;
    let mut m = from_ruleset(&rs);
    m.conntrack_count = proc_number("/proc/sys/net/netfilter/nf_conntrack_count");
    m.conntrack_max = proc_number("/proc/sys/net/netfilter/nf_conntrack_max");
    if let Some(state) = state {
        let st = crate::txn::status(state).map_err(|e| Error::Invalid {
            what: "transaction state",
            detail: e.to_string(),
        })?;
        m.rollback_pending = Some(st.rollback.pending);
        m.rollback_fires_at = st.rollback.fires_at.filter(|_| st.rollback.pending);
        m.last_apply = st.last_apply.map(|e| {
            let phase = serde_json::to_value(e.phase)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            (e.apply_id, phase, e.updated_at)
        });
    }
    Ok(m)
}

/// The ruleset part of the metrics (counters of our table).
pub fn from_ruleset(rs: &Ruleset) -> Metrics {
    let (f, t) = (Family::Inet, OWNED_TABLE_NAME);
    let mut rules = Vec::new();
    let mut policy_drop_chains = Vec::new();
    for c in rs.chains_of(f, t) {
        let drops = c.hook.is_some() && c.policy == Some(ChainPolicy::Drop);
        let chain_rules: Vec<&Rule> = rs.rules_of(f, t, &c.name).collect();
        let last_counts = drops && chain_rules.last().is_some_and(|r| unconditional_counter(r));
        if drops {
            policy_drop_chains.push((c.name.clone(), last_counts));
        }
        for (i, r) in chain_rules.iter().enumerate() {
            let Some((packets, bytes)) = r.exprs.iter().find_map(|e| match e {
                Expr::Counter(k) => Some((k.packets.unwrap_or(0), k.bytes.unwrap_or(0))),
                _ => None,
            }) else {
                continue;
            };
            rules.push(RuleCounter {
                chain: c.name.clone(),
                handle: r.handle.unwrap_or(0),
                comment: r.comment_text().map(|s| s.to_string()).unwrap_or_default(),
                verdict: verdict_of(r).0,
                packets,
                bytes,
                counts_policy_drops: last_counts && i + 1 == chain_rules.len(),
            });
        }
    }
    Metrics {
        table_present: rs.table(f, t).is_some(),
        genid: rs.genid,
        rules,
        policy_drop_chains,
        conntrack_count: None,
        conntrack_max: None,
        rollback_pending: None,
        rollback_fires_at: None,
        last_apply: None,
    }
}

/// A label value escaped as the exposition format requires.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The metrics in the Prometheus text exposition format.
pub fn render_prometheus(m: &Metrics) -> String {
    let mut out = String::new();
    head(
        &mut out,
        "nftguard_table_present",
        "gauge",
        "Whether table inet nftguard exists.",
    );
    let _ = writeln!(out, "nftguard_table_present {}", u8::from(m.table_present));
    head(
        &mut out,
        "nftguard_ruleset_generation",
        "gauge",
        "nf_tables ruleset generation id.",
    );
    let _ = writeln!(out, "nftguard_ruleset_generation {}", m.genid);
    for (name, what, pick) in [
        (
            "nftguard_rule_packets_total",
            "Packets counted by a rule of table inet nftguard.",
            true,
        ),
        (
            "nftguard_rule_bytes_total",
            "Bytes counted by a rule of table inet nftguard.",
            false,
        ),
    ] {
        head(&mut out, name, "counter", what);
        for r in &m.rules {
            let _ = writeln!(
                out,
                "{name}{{chain=\"{}\",handle=\"{}\",comment=\"{}\",verdict=\"{}\"}} {}",
                esc(&r.chain),
                r.handle,
                esc(&r.comment),
                esc(&r.verdict),
                if pick { r.packets } else { r.bytes }
            );
        }
    }
    for (name, what, pick) in [
        (
            "nftguard_dropped_packets_total",
            "Packets dropped in table inet nftguard as its counters saw them (policy drops only when the chain ends with a counter rule).",
            true,
        ),
        (
            "nftguard_dropped_bytes_total",
            "Bytes dropped in table inet nftguard as its counters saw them.",
            false,
        ),
    ] {
        head(&mut out, name, "counter", what);
        let mut chains: Vec<&str> = m.rules.iter().map(|r| r.chain.as_str()).collect();
        chains.sort();
        chains.dedup();
        for c in chains {
            let mut sums = [0u64; 2];
            for r in m.rules.iter().filter(|r| r.chain == c) {
                let v = if pick { r.packets } else { r.bytes };
                if r.counts_policy_drops {
                    sums[1] += v;
                } else if r.verdict == "drop" || r.verdict == "reject" {
                    sums[0] += v;
                }
            }
            let _ = writeln!(out, "{name}{{chain=\"{}\",source=\"rules\"}} {}", esc(c), sums[0]);
            if m.rules.iter().any(|r| r.chain == c && r.counts_policy_drops) {
                let _ = writeln!(out, "{name}{{chain=\"{}\",source=\"policy\"}} {}", esc(c), sums[1]);
            }
        }
    }
    head(
        &mut out,
        "nftguard_policy_drops_counted",
        "gauge",
        "1 when a base chain with policy drop ends with a counter rule, so its policy drops are counted.",
    );
    for (c, counted) in &m.policy_drop_chains {
        let _ = writeln!(
            out,
            "nftguard_policy_drops_counted{{chain=\"{}\"}} {}",
            esc(c),
            u8::from(*counted)
        );
    }
    if let Some(n) = m.conntrack_count {
        head(
            &mut out,
            "nftguard_conntrack_entries",
            "gauge",
            "Conntrack entries (nf_conntrack_count).",
        );
        let _ = writeln!(out, "nftguard_conntrack_entries {n}");
    }
    if let Some(n) = m.conntrack_max {
        head(
            &mut out,
            "nftguard_conntrack_entries_limit",
            "gauge",
            "Conntrack table size (nf_conntrack_max).",
        );
        let _ = writeln!(out, "nftguard_conntrack_entries_limit {n}");
    }
    if let Some(p) = m.rollback_pending {
        head(
            &mut out,
            "nftguard_rollback_pending",
            "gauge",
            "1 while an apply awaits confirmation with its rollback armed.",
        );
        let _ = writeln!(out, "nftguard_rollback_pending {}", u8::from(p));
        if let Some(t) = m.rollback_fires_at {
            head(
                &mut out,
                "nftguard_rollback_fires_at_seconds",
                "gauge",
                "When the pending rollback fires (Unix time).",
            );
            let _ = writeln!(out, "nftguard_rollback_fires_at_seconds {t}");
        }
    }
    if let Some((id, phase, at)) = &m.last_apply {
        head(
            &mut out,
            "nftguard_last_apply_timestamp_seconds",
            "gauge",
            "When the last apply last changed state (Unix time).",
        );
        let _ = writeln!(out, "nftguard_last_apply_timestamp_seconds {at}");
        head(
            &mut out,
            "nftguard_last_apply_success",
            "gauge",
            "1 when the last apply committed (awaiting confirmation or confirmed), 0 when it failed or was rolled back.",
        );
        let ok = phase == "committed" || phase == "confirmed";
        let _ = writeln!(out, "nftguard_last_apply_success {}", u8::from(ok));
        head(
            &mut out,
            "nftguard_last_apply_info",
            "gauge",
            "The last apply's id and phase.",
        );
        let _ = writeln!(
            out,
            "nftguard_last_apply_info{{apply_id=\"{}\",phase=\"{}\"}} 1",
            esc(id),
            esc(phase)
        );
    }
    out
}

/// Writes `text` to `path` atomically (a temporary file beside it, fsync,
/// rename, mode 0644) for node_exporter's textfile collector, which must
/// never read a half-written file. The directory must exist.
pub fn write_textfile(path: &Path, text: &str) -> Result<()> {
    let io = |what: &'static str| move |source: std::io::Error| Error::Io { what, source };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| Error::Invalid {
        what: "metrics output path",
        detail: format!("{} names no file", path.display()),
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)
            .map_err(io("creating the metrics temporary file"))?;
        f.write_all(text.as_bytes())
            .map_err(io("writing the metrics file"))?;
        f.sync_all().map_err(io("syncing the metrics file"))?;
        fs::rename(&tmp, path).map_err(io("renaming the metrics file into place"))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_label_values() {
        assert_eq!(esc("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn render_has_help_and_type_for_every_sample() {
        let m = Metrics {
            table_present: true,
            genid: 7,
            rules: vec![RuleCounter {
                chain: "input".into(),
                handle: 4,
                comment: "ssh".into(),
                verdict: "accept".into(),
                packets: 3,
                bytes: 180,
                counts_policy_drops: false,
            }],
            policy_drop_chains: vec![("input".into(), false)],
            conntrack_count: Some(2),
            conntrack_max: Some(65536),
            rollback_pending: Some(false),
            rollback_fires_at: None,
            last_apply: None,
        };
        let text = render_prometheus(&m);
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
        }
        assert!(text.contains(
            "nftguard_rule_packets_total{chain=\"input\",handle=\"4\",comment=\"ssh\",verdict=\"accept\"} 3\n"
        ));
    }
}
