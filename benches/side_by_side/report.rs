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
    /// 1-minute load average at the start, around every workload and after
    /// every round, and at the end.
    pub loads: Vec<f64>,
    /// The runner's arguments (sizes, rounds).
    pub args: String,
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
    (
        "json/load",
        "load one rule from libnftables JSON into a `Transaction` (`engine::load`, document of 10k)",
        10_000,
    ),
    (
        "json/load_encode",
        "load one rule from JSON and encode it (what `nftguard load` does before sending)",
        10_000,
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

fn med_cpu(s: &[Sample]) -> Option<f64> {
    median(&s.iter().map(|x| x.cpu_secs).collect::<Vec<_>>())
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

fn cpu(all: &[Measured], id: &str, tool: &str) -> Option<f64> {
    lookup(all, id)
        .and_then(|m| tool_samples(m, tool))
        .and_then(med_cpu)
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

/// How a target came out.
enum Verdict {
    /// Measured and within the goal.
    Met,
    /// Measured and outside the goal, although the floor measured in the
    /// same run leaves room for it.
    Missed,
    /// Outside the goal, and the floor measured in the same run shows that
    /// no tool can reach it: why, with the numbers.
    Impossible(String),
    /// The wall-time medians miss the goal but the CPU-time medians meet
    /// it: the difference is the machine's other load, not the work.
    MetOnCpu,
    /// Not measured in this run.
    Unknown,
}

struct Target {
    what: String,
    goal: String,
    measured: String,
    verdict: Verdict,
}

/// A bound on a ratio.
#[derive(Clone, Copy)]
enum Goal {
    AtMost(f64),
    AtLeast(f64),
}

impl Goal {
    fn holds(self, r: f64) -> bool {
        match self {
            Goal::AtMost(m) => r <= m,
            Goal::AtLeast(m) => r >= m,
        }
    }

    fn text(self) -> String {
        match self {
            Goal::AtMost(m) => format!("≤ {m}"),
            Goal::AtLeast(m) => format!("≥ {m}"),
        }
    }
}

/// One side of a ratio: a tool's name and medians (wall, CPU).
#[derive(Clone, Copy)]
struct Side<'a> {
    name: &'a str,
    secs: Option<f64>,
    cpu: Option<f64>,
}

fn side<'a>(all: &[Measured], id: &str, name: &'a str) -> Side<'a> {
    Side {
        name,
        secs: med(all, id, name),
        cpu: cpu(all, id, name),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// `num / den` against `goal`. `best` is the best ratio any tool could
/// reach in this run (bounded by a floor) with the reason; when the goal
/// is missed and `best` misses it too, the target is impossible.
fn ratio_target(
    what: String,
    goal: Goal,
    num: Side,
    den: Side,
    best: Option<(f64, String)>,
) -> Target {
    let r = ratio(num.secs, den.secs);
    let rc = ratio(num.cpu, den.cpu);
    let (measured, verdict) = match r {
        None => ("not measured".to_string(), Verdict::Unknown),
        Some(r) => {
            let mut text = format!(
                "{r:.3} ({} {}, {} {})",
                num.name,
                secs(num.secs.unwrap_or(0.0)),
                den.name,
                secs(den.secs.unwrap_or(0.0))
            );
            if let Some(rc) = rc {
                let _ = write!(
                    text,
                    "; CPU time {rc:.3} ({} / {})",
                    secs(num.cpu.unwrap_or(0.0)),
                    secs(den.cpu.unwrap_or(0.0))
                );
            }
            let verdict = if goal.holds(r) {
                Verdict::Met
            } else {
                match best {
                    Some((b, why)) if !goal.holds(b) => Verdict::Impossible(format!(
                        "{why}; so the best reachable ratio is {b:.3}, not {}",
                        goal.text()
                    )),
                    _ if rc.is_some_and(|rc| goal.holds(rc)) => Verdict::MetOnCpu,
                    _ => Verdict::Missed,
                }
            };
            (text, verdict)
        }
    };
    Target {
        what,
        goal: goal.text(),
        measured,
        verdict,
    }
}

/// The best `peer / nftguard` can be: nftguard cannot take less time than
/// `floor` (the same kernel work with nothing else), so the ratio is at
/// most `peer / floor`. No bound when this run's medians contradict the
/// premise (nftguard faster than the floor: noise), so that a target is
/// called impossible only on consistent data.
fn peer_bound(peer: Side, floor: Side, nftguard: Side) -> Option<(f64, String)> {
    let (p, f, n) = (peer.secs?, floor.secs?, nftguard.secs?);
    let cpu = ratio(peer.cpu, floor.cpu).map_or(String::new(), |c| format!(", CPU time {c:.2} ×"));
    (f > 0.0 && n >= f).then(|| {
        (
            p / f,
            format!(
                "{} takes {} and the {} {} in this run ({:.2} ×{cpu}); nftguard cannot take \
                 less than the {}",
                peer.name,
                secs(p),
                floor.name,
                secs(f),
                p / f,
                floor.name
            ),
        )
    })
}

/// `n` of a workload id ending in `-N`, as `100k`.
fn size_of(id: &str) -> String {
    id.rsplit('-')
        .next()
        .and_then(|x| x.parse().ok())
        .map(count)
        .unwrap_or_default()
}

fn targets(run: &Run, all: &[Measured]) -> Vec<Target> {
    let mut t = Vec::new();
    for profile in ["simple", "mixed"] {
        let Some(id) = largest(all, &format!("apply-{profile}-")) else {
            continue;
        };
        let n = size_of(&id);
        let ng = side(all, &id, "nftguard");
        let floor = side(all, &id, "kernel floor");
        t.push(ratio_target(
            format!("apply {n} rules ({profile}): nftguard / kernel floor"),
            Goal::AtMost(1.10),
            ng,
            floor,
            None,
        ));
        for (peer, goal) in [("nft -f", 2.5), ("iptables-nft-restore", 1.4)] {
            let peer = side(all, &id, peer);
            t.push(ratio_target(
                format!("apply {n} rules ({profile}): `{}` / nftguard", peer.name),
                Goal::AtLeast(goal),
                peer,
                ng,
                peer_bound(peer, floor, ng),
            ));
        }
        if let Some(m) = lookup(all, &id) {
            t.push(rss_target(&format!("apply {n} rules ({profile})"), m));
        }
    }
    if let Some(id) = largest(all, "set-") {
        let n = size_of(&id);
        t.push(ratio_target(
            format!("{n}-element set: nftguard / kernel floor"),
            Goal::AtMost(1.15),
            side(all, &id, "nftguard"),
            side(all, &id, "kernel floor"),
            None,
        ));
        if let Some(m) = lookup(all, &id) {
            t.push(rss_target(&format!("{n}-element set"), m));
        }
    }
    if let Some(id) = largest(all, "dump-") {
        let n = size_of(&id);
        let ng = side(all, &id, "nftguard");
        let raw = side(all, &id, "raw dump (floor)");
        t.push(ratio_target(
            format!("dump + decode {n} rules: nftguard / raw dump"),
            Goal::AtMost(1.2),
            ng,
            raw,
            None,
        ));
        let nft = side(all, &id, "nft list ruleset");
        t.push(ratio_target(
            format!("dump + decode {n} rules: `nft list ruleset` / nftguard"),
            Goal::AtLeast(4.0),
            nft,
            ng,
            peer_bound(nft, raw, ng),
        ));
    }
    if let Some(id) = largest(all, "incr-") {
        let n: usize = id
            .rsplit('-')
            .next()
            .and_then(|x| x.parse().ok())
            .unwrap_or(0);
        let full_id = format!("apply-simple-{n}");
        let full = Side {
            name: "nftguard full apply",
            secs: med(all, &full_id, "nftguard"),
            cpu: cpu(all, &full_id, "nftguard"),
        };
        let floor = side(all, &id, "kernel floor");
        let ng = side(all, &id, "nftguard");
        // As in `peer_bound`: only when nftguard is not below the floor.
        let consistent = floor.secs.zip(ng.secs).is_some_and(|(f, n)| n >= f);
        let best = floor
            .secs
            .zip(full.secs)
            .filter(|_| consistent)
            .map(|(f, a)| {
                (
                    f / a,
                    format!(
                        "the kernel alone takes {} to replace one rule in a {}-rule chain (the \
                     one-message batch replayed), {:.3} × the full apply ({})",
                        secs(f),
                        count(n),
                        f / a,
                        secs(a)
                    ),
                )
            });
        t.push(ratio_target(
            format!(
                "replace one rule among {} (plan + commit): nftguard / nftguard full apply",
                count(n)
            ),
            Goal::AtMost(0.02),
            ng,
            full,
            best,
        ));
        let m = lookup(all, &id);
        let ok = m.and_then(|m| {
            let i = m.workload.tools.iter().position(|t| t.name == "nftguard")?;
            Some(m.failures[i].is_none() && !m.samples[i].is_empty())
        });
        t.push(Target {
            what: format!(
                "replace one rule among {}: no dump when the generation is unchanged",
                count(n)
            ),
            goal: "no dump".into(),
            measured: match ok {
                Some(true) => "no dump (the child reported `no-dump`, checked in round 1)".into(),
                Some(false) => "the child dumped or failed".into(),
                None => "not measured".into(),
            },
            verdict: match ok {
                Some(true) => Verdict::Met,
                Some(false) => Verdict::Missed,
                None => Verdict::Unknown,
            },
        });
    }
    let enc = run
        .codec
        .as_ref()
        .and_then(|c| c.per_item("encode one rule"));
    t.push(Target {
        what: "encode one rule (criterion median, `Transaction::encode`)".into(),
        goal: "≤ 0.5 µs".into(),
        measured: enc.map_or("not measured".into(), |ns| format!("{:.3} µs", ns / 1000.0)),
        verdict: match enc {
            Some(ns) if ns <= 500.0 => Verdict::Met,
            Some(_) => Verdict::Missed,
            None => Verdict::Unknown,
        },
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
        verdict: match rss.zip(limit) {
            Some((r, l)) if r <= l => Verdict::Met,
            Some(_) => Verdict::Missed,
            None => Verdict::Unknown,
        },
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
        "Regenerate (as root): `scripts/bench` (see its header for shorter runs). This run \
         took {:.0} min of side-by-side runs; its runner arguments are in the table below.\n",
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
    let _ = writeln!(s, "| runner arguments | `{}` |", run.args);
    let _ = writeln!(
        s,
        "| 1-min load average | {} (2 cores; the machine is shared with other build jobs, so every tool runs under the same load: rounds are interleaved; each workload below gives its own range) |",
        load_summary(&run.loads)
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
         operation in a `Transaction` and encodes at commit, as the workflow does; \
         **nftguard load (CLI, JSON)** is the `nftguard load FILE.json` command on the \
         file `nft -j -f` reads), timed from \
         spawn to `wait4`, its CPU time (`ru_utime` + `ru_stime`) and peak RSS \
         (`ru_maxrss`) taken from `wait4`. Tools run \
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
         `engine::dump_raw` of the rules (copied out, not decoded). The one-rule change \
         is timed against its own **kernel floor**: the one-message replace batch, encoded \
         during the setup, replayed with one `sendmsg`. The first round checks \
         every tool's result (rule count, element count, the replaced rule, the dumped count, \
         and that nftguard's one-rule change did not dump because the generation was \
         unchanged).\n"
    );
    let _ = writeln!(s, "![medians](plot.svg)\n");
    let _ = writeln!(s, "## Targets\n");
    let _ = writeln!(
        s,
        "A target is **impossible** when it is missed and the floor measured in the same run \
         shows that no tool could meet it: a peer can be at most `peer / floor` times slower \
         than nftguard, because nftguard cannot take less time than the kernel floor (the \
         same batch, pre-encoded, sent with one `sendmsg`) or the raw dump (the same dump, \
         not decoded); a one-rule change cannot take less than the kernel takes to apply \
         that one message. The generator decides this from the medians below. Ratios are \
         of wall-time medians, as the targets are stated; each also gives the ratio of the \
         CPU-time medians (user + system time of the child from `wait4`: nf_tables \
         processes a batch inside `sendmsg`, in the sender's context, so this is the \
         work each tool caused, whatever else the shared machine was running). A target \
         missed on wall time but met on CPU time is marked so.\n"
    );
    let _ = writeln!(
        s,
        "| target | goal | measured | verdict |\n|---|---|---|---|"
    );
    for t in targets(run, all) {
        let verdict = match &t.verdict {
            Verdict::Met => "met".to_string(),
            Verdict::Missed => "**missed**".to_string(),
            Verdict::Impossible(why) => format!("impossible: {why}"),
            Verdict::MetOnCpu => "met on CPU time; the wall-time median misses under the \
                                  machine's other load"
                .to_string(),
            Verdict::Unknown => "—".to_string(),
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
        let base_cpu = med_cpu(&m.samples[b]);
        let _ = writeln!(s, "### {}\n", m.workload.title);
        let _ = writeln!(
            s,
            "1-min load average during these runs: {}.\n",
            load_summary(&m.loads)
        );
        if let Some(bytes) = m.workload.batch_bytes {
            let _ = writeln!(
                s,
                "Encoded batch: {:.2} MiB.\n",
                bytes as f64 / (1024.0 * 1024.0)
            );
        }
        let _ = writeln!(
            s,
            "| tool | median | min | max | × {base_name} | CPU time (median) | CPU × {base_name} | peak RSS (median) |\n|---|---|---|---|---|---|---|---|"
        );
        for (i, t) in m.workload.tools.iter().enumerate() {
            let v = &m.samples[i];
            if let Some(err) = &m.failures[i] {
                if v.is_empty() {
                    let err = err.replace('|', "/").replace('\n', " ");
                    let _ = writeln!(s, "| {} | failed: {err} | | | | | | |", t.name);
                    continue;
                }
            }
            let (Some(md), Some(rss)) = (med_secs(v), med_rss_mib(v)) else {
                continue;
            };
            let mn = v.iter().map(|x| x.secs).fold(f64::INFINITY, f64::min);
            let mx = v.iter().map(|x| x.secs).fold(0.0, f64::max);
            let ratio = base.map_or("—".into(), |b| format!("{:.2}", md / b));
            let c = med_cpu(v).unwrap_or(0.0);
            let cpu_ratio = base_cpu
                .filter(|b| *b > 0.0)
                .map_or("—".into(), |b| format!("{:.2}", c / b));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {ratio} | {} | {cpu_ratio} | {rss:.1} MiB |",
                t.name,
                secs(md),
                secs(mn),
                secs(mx),
                secs(c)
            );
        }
        let _ = writeln!(s);
    }
    s
}

/// `start S, min A, median M, max B` of load-average readings.
fn load_summary(loads: &[f64]) -> String {
    let ok: Vec<f64> = loads.iter().copied().filter(|x| x.is_finite()).collect();
    match (ok.first(), median(&ok)) {
        (Some(first), Some(md)) => format!(
            "{first:.2} at the start; min {:.2}, median {md:.2}, max {:.2} over {} readings",
            ok.iter().copied().fold(f64::INFINITY, f64::min),
            ok.iter().copied().fold(0.0, f64::max),
            ok.len()
        ),
        _ => "unknown".into(),
    }
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

const PALETTE: [&str; 9] = [
    "#2b6cb0", "#718096", "#d69e2e", "#c53030", "#dd6b20", "#38a169", "#805ad5", "#319795",
    "#b83280",
];

/// A log-log chart of median time against ruleset size, one line per tool,
/// for the workloads whose id starts with `prefix` (at least two sizes).
/// Returns the height used.
fn line_panel(body: &mut String, all: &[Measured], prefix: &str, title: &str, top: f64) -> f64 {
    let mut ws: Vec<(usize, &Measured)> = all
        .iter()
        .filter_map(|m| Some((m.workload.id.strip_prefix(prefix)?.parse().ok()?, m)))
        .collect();
    ws.sort_by_key(|x| x.0);
    if ws.len() < 2 {
        return 0.0;
    }
    let tools: Vec<&str> = ws[0]
        .1
        .workload
        .tools
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let series: Vec<Vec<(f64, f64)>> = tools
        .iter()
        .map(|name| {
            ws.iter()
                .filter_map(|(n, m)| {
                    let v = tool_samples(m, name).and_then(med_secs)?;
                    Some(((*n as f64).log10(), v.log10()))
                })
                .collect()
        })
        .collect();
    let pts = series.iter().flatten();
    let (xmin, xmax) = (
        (ws[0].0 as f64).log10(),
        (ws[ws.len() - 1].0 as f64).log10(),
    );
    let ymin = pts
        .clone()
        .map(|p| p.1)
        .fold(f64::INFINITY, f64::min)
        .floor();
    let ymax = pts.map(|p| p.1).fold(f64::NEG_INFINITY, f64::max).ceil();
    if !ymin.is_finite() || !ymax.is_finite() {
        return 0.0;
    }
    let ymax = if ymax <= ymin { ymin + 1.0 } else { ymax };
    let (left, width, height) = (80.0, 420.0, 220.0);
    let plot_top = top + 26.0;
    let x = |v: f64| left + (v - xmin) / (xmax - xmin).max(1e-9) * width;
    let y = |v: f64| plot_top + height - (v - ymin) / (ymax - ymin) * height;
    let _ = writeln!(
        body,
        r#"<text x="10" y="{:.0}" font-weight="bold">{}</text>"#,
        top + 14.0,
        esc(title)
    );
    let _ = writeln!(
        body,
        r##"<rect x="{left}" y="{plot_top:.0}" width="{width}" height="{height}" fill="none" stroke="#a0aec0"/>"##
    );
    let mut d = ymin;
    while d <= ymax + 1e-9 {
        let _ = writeln!(
            body,
            r##"<line x1="{left}" x2="{:.0}" y1="{:.1}" y2="{:.1}" stroke="#e2e8f0"/><text x="{:.0}" y="{:.1}" text-anchor="end">{}</text>"##,
            left + width,
            y(d),
            y(d),
            left - 6.0,
            y(d) + 4.0,
            secs(10f64.powf(d))
        );
        d += 1.0;
    }
    for (n, _) in &ws {
        let px = x((*n as f64).log10());
        let _ = writeln!(
            body,
            r#"<text x="{px:.1}" y="{:.0}" text-anchor="middle">{} rules</text>"#,
            plot_top + height + 16.0,
            count(*n)
        );
    }
    for (i, (name, pts)) in tools.iter().zip(&series).enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|(a, b)| format!("{:.1},{:.1}", x(*a), y(*b)))
            .collect();
        let _ = writeln!(
            body,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            path.join(" ")
        );
        for (a, b) in pts {
            let _ = writeln!(
                body,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#,
                x(*a),
                y(*b)
            );
        }
        let ly = plot_top + 10.0 + i as f64 * 18.0;
        let _ = writeln!(
            body,
            r#"<line x1="{:.0}" x2="{:.0}" y1="{ly:.0}" y2="{ly:.0}" stroke="{color}" stroke-width="3"/><text x="{:.0}" y="{:.0}">{}</text>"#,
            left + width + 16.0,
            left + width + 36.0,
            left + width + 42.0,
            ly + 4.0,
            esc(name)
        );
    }
    26.0 + height + 40.0
}

/// The plot: median time against ruleset size for every tool (log-log, one
/// chart per apply profile), then a bar chart of the medians of each
/// workload kind at its largest size, bars scaled to the slowest tool.
pub fn svg(all: &[Measured]) -> String {
    let ids: Vec<String> = ["apply-simple-", "apply-mixed-", "set-", "dump-", "incr-"]
        .iter()
        .filter_map(|p| largest(all, p))
        .collect();
    let panels: Vec<&Measured> = ids.iter().filter_map(|id| lookup(all, id)).collect();
    let (w, label_w, bar_w, row_h) = (800.0, 230.0, 440.0, 20.0);
    let mut body = String::new();
    let mut y = 30.0;
    for (prefix, title) in [
        (
            "apply-simple-",
            "apply, simple rules: median time vs rules (log-log)",
        ),
        (
            "apply-mixed-",
            "apply, mixed rules: median time vs rules (log-log)",
        ),
    ] {
        y += line_panel(&mut body, all, prefix, title, y);
    }
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
            let color = PALETTE[i % PALETTE.len()];
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
<text x="10" y="18" font-size="14" font-weight="bold">nftguard side by side: median wall time per run (lower is better)</text>
{body}</svg>
"#,
        y + 10.0
    )
}
