//! Side-by-side macro benchmark: nftguard against `nft -f`, `nft -j -f`,
//! `iptables-nft-restore`, libnftnl and the kernel floor (the same
//! pre-encoded batch replayed with one `sendmsg`), on large rulesets, big
//! sets, dumps and a one-rule change.
//!
//! ```text
//! cargo bench --bench side_by_side -- [--rounds R] [--sizes 1000,10000,100000]
//!     [--set-sizes 100000,1000000] [--dump-size N] [--incr-size N]
//!     [--only apply,set,dump,incr] [--results FILE.md] [--plot FILE.svg]
//!     [--criterion target/criterion]
//! ```
//! `scripts/bench` runs it with the full sizes and regenerates
//! `benches/RESULTS.md` and `benches/plot.svg`. Plain `cargo bench` runs a
//! quick pass with small sizes and writes nothing. Needs root.
//!
//! For profiling one tool outside the runner: `side_by_side child encode
//! simple 100000 FILE` writes the batch the kernel floor replays, `child
//! floor FILE` replays it, `child apply simple 100000` is nftguard's run
//! and `child build simple 100000` its user-space part alone (for
//! `valgrind --tool=callgrind`); run them under `unshare -n`.
//!
//! Method: every run happens in a fresh network namespace (a new thread
//! enters one; the timed tool is a child process spawned from that
//! thread, so it inherits it). Runs are interleaved (A B C A B C …) so
//! that machine noise hits every tool alike. Each run's wall time is
//! measured from spawn to `wait4`, and its peak RSS is `ru_maxrss` from
//! `wait4`. Setup (loading the ruleset that a dump or a change works on)
//! and cleanup (deleting the tables) happen in the runner's thread,
//! outside the timed child. The first round checks that every tool really
//! loaded what it was given.

mod child;
mod nftnl;
mod profiles;
mod report;
mod wait;

use std::error::Error;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nftguard::engine::Transaction;
use nftguard::engine::{dump_raw, dump_raw_with, get_generation, setelem_request, GenCheck};
use nftguard::netlink::{enter_new_netns, Socket};
use nftguard::nft::consts::msg;
use nftguard::nft::{ElementList, Family, Rule, Table};

use profiles::Profile;

type Res<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// The largest resident size of the runner when it started a child: no
/// child can report less peak RSS than this (see `wait::reset_peak_rss`).
pub static BASELINE_KIB: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// One timed run.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Wall time from spawn to reaping.
    pub secs: f64,
    /// Peak resident set size of the child, KiB.
    pub rss_kib: u64,
    /// CPU time of the child (user + system), seconds: what it cost,
    /// whatever else the machine was running.
    pub cpu_secs: f64,
}

/// How a tool is started.
#[derive(Debug, Clone)]
enum Launch {
    /// This binary in child mode with these arguments.
    Own(Vec<String>),
    /// An external program with arguments; `stdin` redirected from a file.
    External {
        program: String,
        args: Vec<String>,
        stdin: Option<PathBuf>,
    },
    /// `nft replace rule … handle H …` (the handle is known only after setup).
    NftReplace,
}

/// A tool of a workload.
#[derive(Debug, Clone)]
pub struct Tool {
    /// Name in the tables.
    pub name: String,
    launch: Launch,
    /// Whether its stdout is the count of rules it read (checked).
    prints_count: bool,
}

/// What a run needs in its namespace before the tool starts.
#[derive(Debug, Clone)]
enum Setup {
    Nothing,
    /// Replay this batch (the ruleset to dump or change).
    Load(PathBuf),
}

/// What the first round checks after the tool ran.
#[derive(Debug, Clone, Copy)]
enum Check {
    Rules(usize),
    Elements(usize),
    Replaced,
    Printed(usize),
}

/// One workload: a task every tool of the list performs.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Key (`apply-simple-100000`).
    pub id: String,
    /// Title for the tables.
    pub title: String,
    /// Size of the pre-encoded batch, bytes (when there is one).
    pub batch_bytes: Option<u64>,
    /// The tools, in run order.
    pub tools: Vec<Tool>,
    setup: Setup,
    check: Check,
}

/// The measurements of one workload.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The workload.
    pub workload: Workload,
    /// Samples per tool, in the order of `workload.tools`.
    pub samples: Vec<Vec<Sample>>,
    /// Failures per tool (first error text), if any.
    pub failures: Vec<Option<String>>,
    /// 1-minute load average before the workload and after each round.
    pub loads: Vec<f64>,
}

#[derive(Debug, Clone)]
struct Options {
    rounds: usize,
    sizes: Vec<usize>,
    set_sizes: Vec<usize>,
    dump_size: usize,
    incr_size: usize,
    only: Vec<String>,
    results: Option<PathBuf>,
    plot: Option<PathBuf>,
    criterion: Option<PathBuf>,
}

fn list(s: &str) -> Res<Vec<usize>> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(|x| Ok(x.replace('_', "").parse::<usize>()?))
        .collect()
}

fn parse_options(args: &[String]) -> Res<Options> {
    let quick = args.is_empty();
    let mut o = Options {
        rounds: if quick { 3 } else { 5 },
        sizes: if quick {
            vec![1000]
        } else {
            vec![1000, 10_000, 100_000]
        },
        set_sizes: if quick {
            vec![10_000]
        } else {
            vec![100_000, 1_000_000]
        },
        dump_size: if quick { 10_000 } else { 100_000 },
        incr_size: if quick { 10_000 } else { 100_000 },
        only: vec!["apply".into(), "set".into(), "dump".into(), "incr".into()],
        results: None,
        plot: None,
        criterion: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut v =
            || -> Res<&String> { it.next().ok_or_else(|| format!("{a} needs a value").into()) };
        match a.as_str() {
            "--rounds" => o.rounds = v()?.parse()?,
            "--sizes" => o.sizes = list(v()?)?,
            "--set-sizes" => o.set_sizes = list(v()?)?,
            "--dump-size" => o.dump_size = v()?.replace('_', "").parse()?,
            "--incr-size" => o.incr_size = v()?.replace('_', "").parse()?,
            "--only" => o.only = v()?.split(',').map(str::to_string).collect(),
            "--results" => o.results = Some(v()?.into()),
            "--plot" => o.plot = Some(v()?.into()),
            "--criterion" => o.criterion = Some(v()?.into()),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    if o.rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    Ok(o)
}

fn main() {
    // `cargo bench` passes `--bench`; it means nothing here.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let r = if args.first().map(String::as_str) == Some("child") {
        child::run(&args[1..])
    } else {
        parse_options(&args).and_then(|o| runner(&o, &args))
    };
    if let Err(e) = r {
        eprintln!("side_by_side: {e}");
        std::process::exit(1);
    }
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn own(args: &[&str]) -> Launch {
    Launch::Own(args.iter().map(|s| s.to_string()).collect())
}

fn ext(program: &str, args: &[&str], stdin: Option<PathBuf>) -> Launch {
    Launch::External {
        program: program.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin,
    }
}

fn tool(name: &str, launch: Launch) -> Tool {
    Tool {
        name: name.into(),
        launch,
        prints_count: false,
    }
}

/// Writes the input files and lists the workloads.
fn prepare(o: &Options, dir: &Path) -> Res<Vec<Workload>> {
    let nft = have("nft");
    let ipt = have("iptables-nft-restore");
    if !nft {
        eprintln!("nft not found: its columns stay empty");
    }
    if !ipt {
        eprintln!("iptables-nft-restore not found: its column stays empty");
    }
    let s = |p: &Path| p.display().to_string();
    let mut out = Vec::new();
    let write_batch = |name: &str, tx: &Transaction| -> Res<(PathBuf, u64)> {
        let p = dir.join(name);
        let bytes = tx.encode(1, 0, true, false)?;
        std::fs::write(&p, &bytes)?;
        Ok((p, bytes.len() as u64))
    };
    // The bulk path must send exactly what the typed transaction sends
    // (the floor replays the latter).
    let same_bytes = |what: &str, b: &nftguard::engine::BatchBuilder, p: &Path| -> Res<()> {
        if b.encode(1, 0, true, false)? != std::fs::read(p)? {
            return Err(format!("{what}: BatchBuilder and Transaction encode differently").into());
        }
        Ok(())
    };
    let wants = |w: &str| o.only.iter().any(|x| x == w);
    if wants("apply") {
        for profile in [Profile::Simple, Profile::Mixed] {
            for &n in &o.sizes {
                let base = format!("apply-{}-{n}", profile.name());
                let (batch, len) =
                    write_batch(&format!("{base}.batch"), &profiles::transaction(profile, n))?;
                same_bytes(&base, &profiles::batch(profile, n), &batch)?;
                let text = dir.join(format!("{base}.nft"));
                std::fs::write(&text, profiles::nft_text(profile, n))?;
                let json = dir.join(format!("{base}.json"));
                std::fs::write(&json, profiles::nft_json(profile, n))?;
                let iptf = dir.join(format!("{base}.ipt"));
                std::fs::write(&iptf, profiles::iptables(profile, n))?;
                let ns = n.to_string();
                let mut tools = vec![
                    tool("nftguard", own(&["apply", profile.name(), &ns])),
                    tool(
                        "nftguard (typed Transaction)",
                        own(&["apply-tx", profile.name(), &ns]),
                    ),
                    tool(
                        "nftguard load (CLI, JSON)",
                        ext(env!("CARGO_BIN_EXE_nftguard"), &["load", &s(&json)], None),
                    ),
                    tool("kernel floor", own(&["floor", &s(&batch)])),
                    tool("libnftnl", own(&["nftnl", profile.name(), &ns])),
                ];
                if nft {
                    tools.push(tool("nft -f", ext("nft", &["-f", &s(&text)], None)));
                    tools.push(tool(
                        "nft -j -f",
                        ext("nft", &["-j", "-f", &s(&json)], None),
                    ));
                }
                if ipt {
                    tools.push(tool(
                        "iptables-nft-restore",
                        ext("iptables-nft-restore", &[], Some(iptf)),
                    ));
                }
                out.push(Workload {
                    id: base,
                    title: format!("apply {} rules ({})", report::count(n), profile.name()),
                    batch_bytes: Some(len),
                    tools,
                    setup: Setup::Nothing,
                    check: Check::Rules(n),
                });
            }
        }
    }
    if wants("set") {
        for &n in &o.set_sizes {
            let base = format!("set-{n}");
            let (batch, len) =
                write_batch(&format!("{base}.batch"), &profiles::set_transaction(n))?;
            same_bytes(&base, &profiles::set_batch(n), &batch)?;
            let text = dir.join(format!("{base}.nft"));
            std::fs::write(&text, profiles::set_nft_text(n))?;
            let mut tools = vec![
                tool("nftguard", own(&["set", &n.to_string()])),
                tool(
                    "nftguard (typed Transaction)",
                    own(&["set-tx", &n.to_string()]),
                ),
                tool("kernel floor", own(&["floor", &s(&batch)])),
            ];
            if nft {
                tools.push(tool("nft -f", ext("nft", &["-f", &s(&text)], None)));
            }
            out.push(Workload {
                id: base,
                title: format!("load a {}-element ipv4 set", report::count(n)),
                batch_bytes: Some(len),
                tools,
                setup: Setup::Nothing,
                check: Check::Elements(n),
            });
        }
    }
    let n = o.dump_size;
    if wants("dump") {
        let (batch, len) = write_batch(
            &format!("dump-{n}.batch"),
            &profiles::transaction(Profile::Simple, n),
        )?;
        let mut tools = vec![
            Tool {
                prints_count: true,
                ..tool("nftguard", own(&["dump"]))
            },
            Tool {
                prints_count: true,
                ..tool("raw dump (floor)", own(&["dump-raw"]))
            },
        ];
        if nft {
            tools.push(tool(
                "nft list ruleset",
                ext("nft", &["list", "ruleset"], None),
            ));
            tools.push(tool(
                "nft -j list ruleset",
                ext("nft", &["-j", "list", "ruleset"], None),
            ));
        }
        out.push(Workload {
            id: format!("dump-{n}"),
            title: format!("dump and decode {} rules", report::count(n)),
            batch_bytes: Some(len),
            tools,
            setup: Setup::Load(batch),
            check: Check::Printed(n),
        });
    }
    let n = o.incr_size;
    if wants("incr") {
        let (batch, len) = write_batch(
            &format!("incr-{n}.batch"),
            &profiles::transaction(Profile::Simple, n),
        )?;
        let state = dir.join("incr.state");
        let mut tools = vec![
            Tool {
                prints_count: true,
                ..tool("nftguard", own(&["replace", &s(&state)]))
            },
            // The same one-message batch, encoded during the setup.
            tool(
                "kernel floor",
                own(&["floor", &s(&dir.join("incr-replace.batch"))]),
            ),
        ];
        if nft {
            tools.push(tool("nft replace rule", Launch::NftReplace));
        }
        out.push(Workload {
            id: format!("incr-{n}"),
            title: format!("replace one rule among {}", report::count(n)),
            batch_bytes: Some(len),
            tools,
            setup: Setup::Load(batch),
            check: Check::Replaced,
        });
    }
    Ok(out)
}

/// Runs `cmd`, returning its wall time and peak RSS, or its failure.
fn run_child(mut cmd: Command) -> Res<Sample> {
    let baseline = wait::reset_peak_rss();
    BASELINE_KIB.fetch_max(baseline, std::sync::atomic::Ordering::Relaxed);
    let t = Instant::now();
    let child = cmd.spawn()?;
    let u = wait::wait_rusage(child.id())?;
    let secs = t.elapsed().as_secs_f64();
    if u.status != 0 {
        return Err(format!("exit status {:#x}", u.status).into());
    }
    Ok(Sample {
        secs,
        rss_kib: u.rss_kib,
        cpu_secs: u.cpu_secs,
    })
}

/// Deletes every table of the namespace (so that its teardown does not
/// overlap the next run).
fn cleanup(sock: &mut Socket) -> Res<()> {
    let tables = dump_raw(sock, msg::GETTABLE, Family::Unspec)?;
    let mut tx = Transaction::new();
    for t in tables {
        let t = Table::parse(t.family, &t.attrs)?;
        tx.delete_table(t.family, &t.name);
    }
    if !tx.is_empty() {
        tx.commit(sock, GenCheck::Unconditional)?;
    }
    Ok(())
}

fn rule_count(sock: &mut Socket) -> Res<usize> {
    Ok(dump_raw(sock, msg::GETRULE, Family::Unspec)?.len())
}

/// One run of `tool` in a fresh namespace.
fn run_once(w: &Workload, t: &Tool, dir: &Path, check: bool) -> Res<Sample> {
    let exe = std::env::current_exe()?;
    std::thread::scope(|scope| {
        scope
            .spawn(|| -> Res<Sample> {
                enter_new_netns()?;
                let mut sock = Socket::new()?;
                let mut handle = 0u64;
                if let Setup::Load(batch) = &w.setup {
                    child::replay(&mut sock, &std::fs::read(batch)?)?;
                    if matches!(w.check, Check::Replaced) {
                        // The middle rule, and the generation nftguard left.
                        let rules = dump_raw(&mut sock, msg::GETRULE, Family::Unspec)?;
                        let mid = rules.get(rules.len() / 2).ok_or("no rules loaded")?;
                        handle = Rule::parse(mid.family, &mid.attrs)?
                            .handle
                            .ok_or("dumped rule without handle")?;
                        let genid = get_generation(&mut sock)?.id;
                        std::fs::write(dir.join("incr.state"), format!("{genid} {handle}\n"))?;
                        let mut rule = child::replacement_rule();
                        rule.handle = Some(handle);
                        let mut tx = Transaction::new();
                        tx.replace_rule(rule);
                        std::fs::write(
                            dir.join("incr-replace.batch"),
                            tx.encode(1, genid, true, false)?,
                        )?;
                    }
                }
                let out_path = dir.join("stdout.txt");
                let err_path = dir.join("stderr.txt");
                let mut cmd = match &t.launch {
                    Launch::Own(args) => {
                        let mut c = Command::new(&exe);
                        c.arg("child").args(args);
                        c
                    }
                    Launch::External {
                        program,
                        args,
                        stdin,
                    } => {
                        let mut c = Command::new(program);
                        c.args(args);
                        if let Some(p) = stdin {
                            c.stdin(File::open(p)?);
                        }
                        c
                    }
                    Launch::NftReplace => {
                        let mut c = Command::new("nft");
                        c.arg(format!(
                            "replace rule ip {} {} handle {handle} ip saddr 10.255.255.254 tcp dport 22 counter accept",
                            profiles::TABLE,
                            profiles::CHAIN
                        ));
                        c
                    }
                };
                if !matches!(t.launch, Launch::External { stdin: Some(_), .. }) {
                    cmd.stdin(Stdio::null());
                }
                if t.prints_count {
                    cmd.stdout(File::create(&out_path)?);
                } else {
                    cmd.stdout(Stdio::null());
                }
                cmd.stderr(File::create(&err_path)?);
                let sample = run_child(cmd).map_err(|e| {
                    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
                    let err: String = err.chars().take(400).collect();
                    format!("{e}: {}", err.trim())
                })?;
                if check {
                    verify(w, t, &mut sock, &out_path, handle)?;
                }
                cleanup(&mut sock)?;
                Ok(sample)
            })
            .join()
            .map_err(|_| "run thread panicked")?
    })
}

fn verify(w: &Workload, t: &Tool, sock: &mut Socket, out: &Path, handle: u64) -> Res<()> {
    match w.check {
        Check::Rules(n) => {
            let got = rule_count(sock)?;
            if got != n {
                return Err(format!("{}: {got} rules loaded, expected {n}", t.name).into());
            }
        }
        Check::Elements(n) => {
            let req = setelem_request(profiles::TABLE, profiles::SET)?;
            let parts = dump_raw_with(sock, msg::GETSETELEM, Family::Ipv4, &req)?;
            let mut got = 0;
            for p in parts {
                got += ElementList::parse(p.family, &p.attrs)?.elements.len();
            }
            if got != n {
                return Err(format!("{}: {got} set elements loaded, expected {n}", t.name).into());
            }
        }
        Check::Printed(n) => {
            if t.prints_count {
                let got: usize = std::fs::read_to_string(out)?.trim().parse()?;
                if got != n {
                    return Err(format!("{}: read {got} rules, expected {n}", t.name).into());
                }
            }
        }
        Check::Replaced => {
            if t.prints_count {
                let said = std::fs::read_to_string(out)?;
                if said.trim() != "no-dump" {
                    return Err(format!(
                        "{}: dumped although the generation was unchanged ({})",
                        t.name,
                        said.trim()
                    )
                    .into());
                }
            }
            let rules = dump_raw(sock, msg::GETRULE, Family::Unspec)?;
            let r = rules
                .iter()
                .map(|r| Rule::parse(r.family, &r.attrs))
                .find(|r| {
                    r.as_ref()
                        .map(|r| r.handle == Some(handle))
                        .unwrap_or(false)
                })
                .ok_or("the replaced rule is gone")??;
            let want = child::replacement_rule();
            if r.exprs != want.exprs {
                return Err(format!("{}: rule {handle} was not replaced as asked", t.name).into());
            }
        }
    }
    Ok(())
}

/// The 1-minute load average (NaN when unreadable).
fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(f64::NAN)
}

fn runner(o: &Options, args: &[String]) -> Res<()> {
    let dir = std::env::temp_dir().join(format!("nftguard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let started = Instant::now();
    let date = report::now_utc();
    let mut loads = vec![loadavg()];
    let mut all_loads = loads.clone();
    eprintln!("preparing inputs in {}", dir.display());
    let workloads = prepare(o, &dir)?;
    let mut measured = Vec::new();
    for w in workloads {
        eprintln!(
            "== {} ({} tools × {} rounds)",
            w.title,
            w.tools.len(),
            o.rounds
        );
        let mut w_loads = vec![loadavg()];
        let mut samples = vec![Vec::new(); w.tools.len()];
        let mut failures = vec![None; w.tools.len()];
        for round in 0..o.rounds {
            for (i, t) in w.tools.iter().enumerate() {
                if failures[i].is_some() {
                    continue;
                }
                match run_once(&w, t, &dir, round == 0) {
                    Ok(s) => {
                        eprintln!(
                            "   round {round} {:<24} {:>9.4} s {:>9.4} s CPU {:>8} KiB",
                            t.name, s.secs, s.cpu_secs, s.rss_kib
                        );
                        samples[i].push(s);
                    }
                    Err(e) => {
                        eprintln!("   round {round} {:<24} FAILED: {e}", t.name);
                        failures[i] = Some(e.to_string());
                    }
                }
                // Let the namespace's teardown finish before the next run.
                std::thread::sleep(Duration::from_millis(100));
            }
            w_loads.push(loadavg());
        }
        all_loads.extend(&w_loads);
        measured.push(Measured {
            workload: w,
            samples,
            failures,
            loads: w_loads,
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
    loads.push(loadavg());
    all_loads.extend(&loads[1..]);
    let run = report::Run {
        date,
        wall_secs: started.elapsed().as_secs_f64(),
        loads: all_loads,
        args: args.join(" "),
        rounds: o.rounds,
        codec: o.criterion.as_deref().map(report::Codec::read),
    };
    let md = report::markdown(&run, &measured);
    println!("{md}");
    if let Some(p) = &o.results {
        std::fs::write(p, &md)?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &o.plot {
        std::fs::write(p, report::svg(&measured))?;
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}
