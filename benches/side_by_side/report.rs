//! RESULTS.md and plot.svg from the measurements: medians, ratios, the
//! target table, and a hand-written SVG bar chart (no plotting crate).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::{Measured, Sample};

/// What the runner knows about the whole run.
pub struct Run {
    /// UTC date and time of the start.
    pub date: String,
    /// Wall time of the whole run.
    pub wall_secs: f64,
    /// 1-minute load average at the start and after every round.
    pub loads: Vec<String>,
    /// Rounds per tool.
    pub rounds: usize,
    /// Codec micro-benchmark results (criterion), when asked for.
    pub codec: Option<Codec>,
}

/// Medians of the criterion codec benchmarks (`benches/codec.rs`), per item.
#[derive(Debug, Default)]
pub struct Codec {
    /// (name, nanoseconds per item, items per iteration), in display order.
    pub rows: Vec<(String, f64, u64)>,
    /// Why nothing could be read, if so.
    pub missing: Vec<String>,
}

/// The criterion benchmarks of `benches/codec.rs`, as
/// (group/function directory, label, items per iteration).
const CODEC: &[(&str, &str, u64)] = &[
    (
        "rule/encode_batch",
        "encode one rule (batch of 10k, `Transaction::encode`)",
        10_000,
    ),
    (
        "rule/emit",
        "emit one rule's attributes (`Rule::emit`)",
        10_000,
    ),
    (
        "rule/batch_builder",
        "encode one rule into a `BatchBuilder` (batch of 10k, per-op record included)",
        10_000,
    ),
    ("rule/decode", "decode one rule (`Rule::parse`)", 10_000),
    (
        "set/encode_elements",
        "encode one ipv4 set element (batch of 100k)",
        100_000,
    ),
    (
        "set/element_keys",
        "encode one ipv4 key (`BatchBuilder::add_element_keys`, 100k)",
        100_000,
    ),
];

impl Codec {
    /// Reads criterion's `estimates.json` (median) under `dir`.
    pub fn read(dir: &Path) -> Codec {
        let mut c = Codec::default();
        for (id, label, items) in CODEC {
            let p = dir.join(id).join("new").join("estimates.json");
            let v: Option<f64> = std::fs::read_to_string(&p)
                .ok()
                .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
                .and_then(|j| j["median"]["point_estimate"].as_f64());
            match v {
                Some(ns) => c.rows.push((label.to_string(), ns / *items as f64, *items)),
                None => c.missing.push(p.display().to_string()),
            }
        }
        c
    }

    fn per_item(&self, label_start: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|(l, _, _)| l.starts_with(label_start))
            .map(|r| r.1)
    }
}

/// `1000` → `1k`, `1000000` → `1M`.
pub fn count(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// The current UTC time, `YYYY-MM-DD HH:MM UTC`.
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

fn med_secs(s: &[Sample]) -> Option<f64> {
    median(&s.iter().map(|x| x.secs).collect::<Vec<_>>())
}

fn med_rss_mib(s: &[Sample]) -> Option<f64> {
    median(
        &s.iter()
            .map(|x| x.rss_kib as f64 / 1024.0)
            .collect::<Vec<_>>(),
    )
}

fn first_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "?".into())
}

fn proc_field(path: &str, key: &str) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// The base a workload's ratios are taken against: its floor, else its
/// first tool.
fn base_index(m: &Measured) -> usize {
    m.workload
        .tools
        .iter()
        .position(|t| t.name.contains("floor"))
        .unwrap_or(0)
}

fn lookup<'a>(all: &'a [Measured], id: &str) -> Option<&'a Measured> {
    all.iter().find(|m| m.workload.id == id)
}

fn tool_samples<'a>(m: &'a Measured, tool: &str) -> Option<&'a [Sample]> {
    let i = m.workload.tools.iter().position(|t| t.name == tool)?;
    Some(&m.samples[i])
}

fn med(all: &[Measured], id: &str, tool: &str) -> Option<f64> {
    lookup(all, id)
        .and_then(|m| tool_samples(m, tool))
        .and_then(med_secs)
}

/// The id of the largest workload whose id starts with `prefix`.
fn largest(all: &[Measured], prefix: &str) -> Option<String> {
    all.iter()
        .filter_map(|m| {
            let n: usize = m.workload.id.strip_prefix(prefix)?.parse().ok()?;
            Some((n, m.workload.id.clone()))
        })
        .max()
        .map(|x| x.1)
}

struct Target {
    what: String,
    goal: String,
    measured: String,
    pass: Option<bool>,
}

fn ratio_target(
    what: String,
    goal: &str,
    num: Option<f64>,
    den: Option<f64>,
    max: Option<f64>,
    min: Option<f64>,
) -> Target {
    let r = match (num, den) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    Target {
        what,
        goal: goal.into(),
        measured: r.map_or("not measured".into(), |r| format!("{r:.3}")),
        pass: r.map(|r| max.is_none_or(|m| r <= m) && min.is_none_or(|m| r >= m)),
    }
}

fn targets(run: &Run, all: &[Measured]) -> Vec<Target> {
    let mut t = Vec::new();
    for profile in ["simple", "mixed"] {
        let Some(id) = largest(all, &format!("apply-{profile}-")) else {
            continue;
        };
        let n = id
            .rsplit('-')
            .next()
            .unwrap_or("?")
            .parse()
            .map(count)
            .unwrap_or_default();
        let ng = med(all, &id, "nftguard");
        t.push(ratio_target(
            format!("apply {n} rules ({profile}): nftguard / kernel floor"),
            "≤ 1.10",
            ng,
            med(all, &id, "kernel floor"),
            Some(1.10),
            None,
        ));
        t.push(ratio_target(
            format!("apply {n} rules ({profile}): `nft -f` / nftguard"),
            "≥ 2.5",
            med(all, &id, "nft -f"),
            ng,
            None,
            Some(2.5),
        ));
        t.push(ratio_target(
            format!("apply {n} rules ({profile}): `iptables-nft-restore` / nftguard"),
            "≥ 1.4",
            med(all, &id, "iptables-nft-restore"),
            ng,
            None,
            Some(1.4),
        ));
        if let Some(m) = lookup(all, &id) {
            t.push(rss_target(&format!("apply {n} rules ({profile})"), m));
        }
    }
    if let Some(id) = largest(all, "set-") {
        let n = id
            .rsplit('-')
            .next()
            .unwrap_or("?")
            .parse()
            .map(count)
            .unwrap_or_default();
        t.push(ratio_target(
            format!("{n}-element set: nftguard / kernel floor"),
            "≤ 1.15",
            med(all, &id, "nftguard"),
            med(all, &id, "kernel floor"),
            Some(1.15),
            None,
        ));
        if let Some(m) = lookup(all, &id) {
            t.push(rss_target(&format!("{n}-element set"), m));
        }
    }
    if let Some(id) = largest(all, "dump-") {
        let n = id
            .rsplit('-')
            .next()
            .unwrap_or("?")
            .parse()
            .map(count)
            .unwrap_or_default();
        let ng = med(all, &id, "nftguard");
        t.push(ratio_target(
            format!("dump + decode {n} rules: nftguard / raw dump"),
            "≤ 1.2",
            ng,
            med(all, &id, "raw dump (floor)"),
            Some(1.2),
            None,
        ));
        t.push(ratio_target(
            format!("dump + decode {n} rules: `nft list ruleset` / nftguard"),
            "≥ 4",
            med(all, &id, "nft list ruleset"),
            ng,
            None,
            Some(4.0),
        ));
    }
    if let Some(id) = largest(all, "incr-") {
        let n: usize = id
            .rsplit('-')
            .next()
            .and_then(|x| x.parse().ok())
            .unwrap_or(0);
        let full = format!("apply-simple-{n}");
        t.push(ratio_target(
            format!(
                "replace one rule among {}: nftguard / nftguard full apply",
                count(n)
            ),
            "≤ 0.02",
            med(all, &id, "nftguard"),
            med(all, &full, "nftguard"),
            Some(0.02),
            None,
        ));
    }
    let enc = run
        .codec
        .as_ref()
        .and_then(|c| c.per_item("encode one rule"));
    t.push(Target {
        what: "encode one rule (criterion median)".into(),
        goal: "≤ 0.5 µs".into(),
        measured: enc.map_or("not measured".into(), |ns| format!("{:.3} µs", ns / 1000.0)),
        pass: enc.map(|ns| ns <= 500.0),
    });
    t
}

/// Peak RSS of nftguard ≤ 2 × the encoded batch + 16 MiB.
fn rss_target(what: &str, m: &Measured) -> Target {
    let rss = tool_samples(m, "nftguard").and_then(med_rss_mib);
    let batch = m.workload.batch_bytes.map(|b| b as f64 / (1024.0 * 1024.0));
    let limit = batch.map(|b| 2.0 * b + 16.0);
    Target {
        what: format!("{what}: nftguard peak RSS"),
        goal: limit.map_or("≤ 2 × batch + 16 MiB".into(), |l| {
            format!("≤ 2 × {:.1} + 16 = {l:.1} MiB", batch.unwrap_or(0.0))
        }),
        measured: rss.map_or("not measured".into(), |r| format!("{r:.1} MiB")),
        pass: rss.zip(limit).map(|(r, l)| r <= l),
    }
}

/// The whole RESULTS.md.
pub fn markdown(run: &Run, all: &[Measured]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# nftguard benchmarks: side by side with every peer and the kernel floor\n"
    );
    let _ = writeln!(
        s,
        "Regenerate (as root; takes about {:.0} minutes): `scripts/bench`\n",
        (run.wall_secs / 60.0).ceil().max(1.0)
    );
    let _ = writeln!(s, "## Machine\n");
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| date | {} |", run.date);
    let _ = writeln!(
        s,
        "| kernel | {} |",
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
    );
    let _ = writeln!(
        s,
        "| CPU | {} × {} |",
        proc_field("/proc/cpuinfo", "model name"),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let _ = writeln!(
        s,
        "| memory | {} |",
        proc_field("/proc/meminfo", "MemTotal")
    );
    let _ = writeln!(s, "| nft | {} |", first_line("nft", &["--version"]));
    let _ = writeln!(
        s,
        "| iptables-nft-restore | {} |",
        first_line("iptables-nft-restore", &["--version"])
    );
    let _ = writeln!(
        s,
        "| libnftnl | {} |",
        first_line("pkg-config", &["--modversion", "libnftnl"])
    );
    let _ = writeln!(s, "| rounds per tool | {} (interleaved) |", run.rounds);
    let _ = writeln!(
        s,
        "| 1-min load average | {} at the start, then after each round: {} (other helpers were compiling on this 2-core machine) |",
        run.loads.first().map(String::as_str).unwrap_or("?"),
        run.loads.get(1..).map(|l| l.join(", ")).unwrap_or_default()
    );
    let _ = writeln!(s, "| wall time of the run | {:.0} s |", run.wall_secs);
    let _ = writeln!(
        s,
        "| smallest measurable peak RSS | {:.1} MiB (the runner's resident size when it spawns a child, which the child's `ru_maxrss` starts from) |\n",
        crate::BASELINE_KIB.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0
    );
    let _ = writeln!(s, "## Method\n");
    let _ = writeln!(
        s,
        "Every run happens in a fresh network namespace; each tool is a child process \
         (nftguard too: `side_by_side child …`, a library user that builds the ruleset \
         and commits it checked against the generation; the **nftguard** row uses the bulk \
         path, `engine::BatchBuilder`, which encodes each rule as it is added and streams \
         set keys from an iterator; **nftguard (typed Transaction)** keeps every typed \
         operation in a `Transaction` and encodes at commit, as the workflow does), timed from \
         spawn to `wait4`, its peak RSS taken from `wait4`'s `ru_maxrss`. Tools run \
         interleaved (A B C A B C …); the tables show medians. Every tool loads the same \
         ruleset: table `ip filter`, base chain `INPUT` (hook input, priority 0, policy \
         accept); *simple* rules are `ip saddr A tcp dport P counter accept`, *mixed* rules \
         cycle through that, `ip saddr N/24 udp dport P counter drop`, `ct state \
         established,related counter accept`, `iifname \"eth1\" ip daddr A tcp dport 443 \
         counter accept comment \"…\"` and `ip protocol icmp limit rate 10/second counter \
         accept` (iptables-restore spells them with `-m conntrack`, `-m comment`, `-m limit`, \
         which iptables-nft encodes as xt matches). The **kernel floor** replays the batch \
         nftguard encodes (`Transaction::encode`, byte-identical to the `BatchBuilder`'s, \
         read from a file) with one `sendmsg` and \
         reads the replies. **libnftnl** builds the same messages with libnftnl 1.2 (through \
         `nftnl-sys`) into one buffer, sent with one `sendmsg`. The **raw dump** is \
         `engine::dump_raw` of the rules (copied out, not decoded). The first round checks \
         every tool's result (rule count, element count, the replaced rule, the dumped count).\n"
    );
    let _ = writeln!(s, "![medians](plot.svg)\n");
    let _ = writeln!(s, "## Targets\n");
    let _ = writeln!(s, "| target | goal | measured | |\n|---|---|---|---|");
    for t in targets(run, all) {
        let verdict = match t.pass {
            Some(true) => "pass",
            Some(false) => "**FAIL**",
            None => "—",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {verdict} |",
            t.what, t.goal, t.measured
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## Codec (criterion, `cargo bench --bench codec`)\n");
    match &run.codec {
        Some(c) => {
            let _ = writeln!(s, "| what | median per item |\n|---|---|");
            for (label, ns, _) in &c.rows {
                let _ = writeln!(s, "| {label} | {:.1} ns |", ns);
            }
            for p in &c.missing {
                let _ = writeln!(s, "| (missing: {p}) | |");
            }
            let _ = writeln!(
                s,
                "| JSON policy load per rule | TODO: measured once the policy loader's JSON \
                 input is merged |"
            );
        }
        None => {
            let _ = writeln!(s, "(not read in this run)");
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## Workloads\n");
    for m in all {
        let b = base_index(m);
        let base_name = &m.workload.tools[b].name;
        let base = med_secs(&m.samples[b]);
        let _ = writeln!(s, "### {}\n", m.workload.title);
        if let Some(bytes) = m.workload.batch_bytes {
            let _ = writeln!(
                s,
                "Encoded batch: {:.2} MiB.\n",
                bytes as f64 / (1024.0 * 1024.0)
            );
        }
        let _ = writeln!(
            s,
            "| tool | median | min | max | × {base_name} | peak RSS (median) |\n|---|---|---|---|---|---|"
        );
        for (i, t) in m.workload.tools.iter().enumerate() {
            let v = &m.samples[i];
            if let Some(err) = &m.failures[i] {
                if v.is_empty() {
                    let err = err.replace('|', "/").replace('\n', " ");
                    let _ = writeln!(s, "| {} | failed: {err} | | | | |", t.name);
                    continue;
                }
            }
            let (Some(md), Some(rss)) = (med_secs(v), med_rss_mib(v)) else {
                continue;
            };
            let mn = v.iter().map(|x| x.secs).fold(f64::INFINITY, f64::min);
            let mx = v.iter().map(|x| x.secs).fold(0.0, f64::max);
            let ratio = base.map_or("—".into(), |b| format!("{:.2}", md / b));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {ratio} | {rss:.1} MiB |",
                t.name,
                secs(md),
                secs(mn),
                secs(mx)
            );
        }
        let _ = writeln!(s);
    }
    s
}

fn secs(x: f64) -> String {
    if x < 1.0 {
        format!("{:.1} ms", x * 1000.0)
    } else {
        format!("{x:.3} s")
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A bar chart of the medians: one panel per workload kind at its
/// largest size, bars scaled to the panel's slowest tool.
pub fn svg(all: &[Measured]) -> String {
    let ids: Vec<String> = ["apply-simple-", "apply-mixed-", "set-", "dump-", "incr-"]
        .iter()
        .filter_map(|p| largest(all, p))
        .collect();
    let panels: Vec<&Measured> = ids.iter().filter_map(|id| lookup(all, id)).collect();
    let (w, label_w, bar_w, row_h) = (760.0, 190.0, 440.0, 20.0);
    let mut body = String::new();
    let mut y = 30.0;
    let colors = [
        "#2b6cb0", "#718096", "#d69e2e", "#c53030", "#dd6b20", "#38a169",
    ];
    for m in &panels {
        let _ = writeln!(
            body,
            r#"<text x="10" y="{:.0}" font-weight="bold">{}</text>"#,
            y + 14.0,
            esc(&m.workload.title)
        );
        y += 22.0;
        let meds: Vec<Option<f64>> = m.samples.iter().map(|v| med_secs(v)).collect();
        let max = meds
            .iter()
            .flatten()
            .fold(0.0f64, |a, b| a.max(*b))
            .max(1e-9);
        for (i, t) in m.workload.tools.iter().enumerate() {
            let color = if t.name == "nftguard" {
                colors[0]
            } else if t.name.contains("floor") {
                colors[1]
            } else {
                colors[2 + i % 4]
            };
            let _ = writeln!(
                body,
                r#"<text x="{:.0}" y="{:.0}" text-anchor="end">{}</text>"#,
                label_w - 8.0,
                y + 14.0,
                esc(&t.name)
            );
            match meds[i] {
                Some(md) => {
                    let len = (md / max * bar_w).max(1.0);
                    let _ = writeln!(
                        body,
                        r#"<rect x="{label_w:.0}" y="{:.0}" width="{len:.1}" height="{:.0}" fill="{color}"/><text x="{:.1}" y="{:.0}">{}</text>"#,
                        y + 3.0,
                        row_h - 6.0,
                        label_w + len + 6.0,
                        y + 14.0,
                        secs(md)
                    );
                }
                None => {
                    let _ = writeln!(
                        body,
                        r#"<text x="{label_w:.0}" y="{:.0}">not measured</text>"#,
                        y + 14.0
                    );
                }
            }
            y += row_h;
        }
        y += 14.0;
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{:.0}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="18" font-size="14" font-weight="bold">nftguard side by side: median wall time per run (shorter is better)</text>
{body}</svg>
"#,
        y + 10.0
    )
}
