//! The `engine` scenario: nftguard's kernel-facing test binaries, plus the
//! VM-only kernel feature checks, run inside a busybox initramfs with the
//! kernel's netfilter modules loaded and `nft` / `iptables-nft` as oracles.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{HostContext, Scenario};
use crate::cargo_tests::{self, Artifact};
use crate::cpio::Image;
use crate::guest::{self, Event, GuestJob};
use crate::kernels::PreparedKernel;
use crate::libtest;
use crate::qemu::{Boot, Ending};
use crate::report::{Cell, JobReport, Outcome};
use crate::shared_libs;
use crate::timing::{self, human, Timings};

/// The crate's integration tests that talk to the kernel.
const CRATE_TESTS: [&str; 8] = [
    "engine_roundtrip",
    "engine_transactions",
    "builder",
    "sets_objects",
    "cli",
    // `nft list ruleset` as the oracle of the text renderer, on each
    // kernel's dumps.
    "render_nft_text",
    // `nft -j list ruleset` and `nft list ruleset` as the oracles of both
    // renderers on the corpus of tests/data/json (every family, set
    // options, stateful objects, interfaces, flowtables).
    "json_render",
    // nft's JSON listing loaded back by the JSON loader (anonymous
    // interval sets sized for kernels before 6.5).
    "json_roundtrip",
];
/// vm-tests/runner/tests/kernel_features.rs: version-dependent behaviour.
const FEATURE_TESTS: &str = "kernel_features";
/// Oracles and helpers the tests spawn, copied from the host. `sh` is the
/// host's POSIX shell (dash on Debian): busybox's shell runs its own
/// applets before anything on PATH, so `sh -c "ip link add … type veth
/// peer name …"` would get busybox's `ip`, which ignores the peer name.
const COMMANDS: [&str; 8] = [
    "sh",
    "nft",
    "iptables-nft",
    "iptables-nft-save",
    "iptables-nft-restore",
    "ip6tables-nft",
    "ip",
    "unshare",
];
/// Files the oracles read (protocol and service names, users).
const ETC_FILES: [&str; 6] = [
    "/etc/protocols",
    "/etc/services",
    "/etc/ethertypes",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
];
/// Directories the oracles read: iproute2's names (nft prints `iifgroup
/// "default"` from /etc/iproute2/group, `0` without it).
const ETC_TREES: [&str; 1] = ["/etc/iproute2"];
/// Where test binaries go in the guest.
const GUEST_TESTS: &str = "/opt/nftguard-tests";
/// One test binary may run this long in the guest before it is killed.
const JOB_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Default)]
pub struct Engine {
    /// `(job name, guest path)` in run order.
    jobs: Vec<(String, String)>,
    base: Option<Image>,
    busybox: PathBuf,
}

impl Scenario for Engine {
    fn name(&self) -> &'static str {
        "engine"
    }

    fn prepare(&mut self, ctx: &HostContext, busybox: &Path) -> Result<(), String> {
        let target = ctx.repo.join("target");
        let mut artifacts =
            cargo_tests::build_tests(&ctx.repo.join("Cargo.toml"), &CRATE_TESTS, &target)?;
        artifacts.extend(cargo_tests::build_tests(
            &ctx.repo.join("vm-tests/runner/Cargo.toml"),
            &[FEATURE_TESTS],
            &target,
        )?);
        let mut img = Image::new();
        let mut names: Vec<&str> = vec![FEATURE_TESTS];
        names.extend(CRATE_TESTS);
        for name in names {
            let a = find(&artifacts, "test", name)?;
            let guest = format!("{GUEST_TESTS}/{name}");
            shared_libs::add_executable(&mut img, &stripped(ctx, &a.executable)?, &guest)?;
            self.jobs.push((name.to_string(), guest));
        }
        // tests/cli.rs runs the binary at the path cargo compiled into it
        // (CARGO_BIN_EXE_nftguard): the same absolute path in the guest.
        let bin = find(&artifacts, "bin", "nftguard")?;
        shared_libs::add_executable(
            &mut img,
            &stripped(ctx, &bin.executable)?,
            &bin.executable.to_string_lossy(),
        )?;
        for c in COMMANDS {
            shared_libs::add_command(&mut img, c)?;
        }
        // iptables-nft loads its matches and targets with dlopen.
        let xtables = Path::new("/usr/lib/x86_64-linux-gnu/xtables");
        if xtables.is_dir() {
            img.add_host_tree(xtables, &xtables.to_string_lossy())?;
            for e in std::fs::read_dir(xtables)
                .map_err(|e| format!("reading {}: {e}", xtables.display()))?
                .flatten()
            {
                shared_libs::add_libraries_of(&mut img, &e.path())?;
            }
        }
        for f in ETC_FILES {
            if Path::new(f).is_file() {
                img.add_host_file(Path::new(f), f)?;
            }
        }
        for d in ETC_TREES {
            if Path::new(d).is_dir() {
                img.add_host_tree(Path::new(d), d)?;
            }
        }
        self.base = Some(img);
        self.busybox = busybox.to_path_buf();
        Ok(())
    }

    fn run(&self, kernel: &PreparedKernel, ctx: &HostContext, timings: &mut Timings) -> Cell {
        let mut cell = Cell::new(kernel.series, self.name());
        let t = timing::start();
        let initrd = match self.image(kernel, ctx) {
            Ok(p) => p,
            Err(e) => {
                cell.outcome = Outcome::Error(e);
                return cell;
            }
        };
        timings.add("initramfs build", Some(kernel.series), t.elapsed());

        let stem = format!("{}-{}", self.name(), kernel.series);
        let console_log = ctx.logs.join(format!("{stem}.console.log"));
        let results_log = ctx.logs.join(format!("{stem}.results.log"));
        let boot = Boot {
            kernel,
            initrd: &initrd,
            append: crate::qemu::INITRAMFS_APPEND.into(),
            extra: Vec::new(),
            reboot: false,
            settings: ctx.vm,
            timeout: ctx.timeout,
            console_log: console_log.clone(),
            results_log: results_log.clone(),
        };
        let out = match boot.run(|at, line| {
            if line.starts_with(guest::MARK) {
                println!("  [{:7.1} s] {line}", at.as_secs_f64());
            }
        }) {
            Ok(o) => o,
            Err(e) => {
                cell.outcome = Outcome::Error(e);
                return cell;
            }
        };
        self.judge(kernel, &out, &mut cell, timings);
        cell.notes.push(format!(
            "logs: {} and {}",
            console_log.display(),
            results_log.display()
        ));
        cell
    }
}

impl Engine {
    fn image(&self, kernel: &PreparedKernel, ctx: &HostContext) -> Result<PathBuf, String> {
        let mut img = self
            .base
            .clone()
            .ok_or("engine scenario was not prepared")?;
        img.add_host_tree(&kernel.modules_root.join("lib/modules"), "/lib/modules")?;
        let jobs: Vec<GuestJob> = self
            .jobs
            .iter()
            .map(|(name, path)| GuestJob {
                name: name.clone(),
                // --show-output: what passing tests print, e.g. the lines a
                // test leaves out on a kernel too old for them (reported).
                argv: vec![
                    path.clone(),
                    format!("--test-threads={}", ctx.vm.cpus),
                    "--show-output".into(),
                ],
                timeout: JOB_TIMEOUT.min(ctx.timeout),
            })
            .collect();
        guest::add_init(&mut img, &self.busybox, &kernel.load_list, &jobs)?;
        let dir = ctx.cache.join("images");
        crate::apt::mkdir(&dir)?;
        let out = dir.join(format!("{}-{}.cpio", self.name(), kernel.series));
        let size = img.write(&out)?;
        println!("vm-tests: {} ({} MiB)", out.display(), size >> 20);
        Ok(out)
    }

    /// Turns the guest's lines into job reports, timings and the outcome.
    fn judge(
        &self,
        kernel: &PreparedKernel,
        out: &crate::qemu::BootOutput,
        cell: &mut Cell,
        timings: &mut Timings,
    ) {
        let k = Some(kernel.series);
        let mut booted = None;
        let mut modules_at = None;
        let mut done = false;
        let mut current: Option<(String, Duration, Vec<&str>)> = None;
        for (at, line) in &out.lines {
            match guest::parse_line(line) {
                Event::Booted(release) => {
                    booted = Some(*at);
                    if release != kernel.release {
                        cell.notes.push(format!(
                            "guest reports kernel {release}, expected {}",
                            kernel.release
                        ));
                    }
                }
                Event::Modules { loaded, failed } => {
                    modules_at = Some(*at);
                    if !failed.is_empty() {
                        cell.notes.push(format!(
                            "{loaded} modules loaded; modprobe failed for: {}",
                            failed.join(", ")
                        ));
                    }
                }
                Event::Begin(job) => current = Some((job, *at, Vec::new())),
                Event::End { job, rc } => {
                    let (name, started, lines) =
                        current.take().unwrap_or((job.clone(), *at, Vec::new()));
                    let took = at.saturating_sub(started);
                    timings.add(&format!("tests: {name}"), k, took);
                    cell.jobs.push(report(&name, Some(rc), &lines, Some(took)));
                }
                Event::Done => done = true,
                Event::Output(_) => {
                    if let Some((_, _, lines)) = current.as_mut() {
                        lines.push(line.as_str());
                    }
                }
            }
        }
        if let Some((name, _, lines)) = current.take() {
            cell.jobs.push(report(&name, None, &lines, None));
        }
        if let Some(b) = booted {
            timings.add("boot to init (qemu start → BOOTED)", k, b);
            if let Some(m) = modules_at {
                timings.add("modprobe netfilter modules", k, m.saturating_sub(b));
            }
        }
        timings.add("VM total", k, out.took);

        let tests: usize = cell.jobs.iter().map(|j| j.passed + j.failures.len()).sum();
        let failed: usize = cell.jobs.iter().map(|j| j.failures.len()).sum();
        let bad_rc: Vec<String> = cell
            .jobs
            .iter()
            .filter(|j| j.rc != Some(0) && j.failures.is_empty())
            .map(|j| match j.rc {
                Some(rc) => format!(
                    "{} exited {rc}{}",
                    j.job,
                    if rc == 137 {
                        " (killed at the in-VM timeout?)"
                    } else {
                        ""
                    }
                ),
                None => format!("{} did not finish", j.job),
            })
            .collect();
        cell.outcome = if out.ending == Ending::TimedOut {
            Outcome::TimedOut { after: out.took }
        } else if booted.is_none() {
            Outcome::Error("the guest never reported BOOTED (see the console log)".into())
        } else if !done {
            Outcome::Error(format!(
                "the VM stopped before DONE after {} (crash? see the console log)",
                human(out.took)
            ))
        } else if cell.jobs.len() < self.jobs.len() {
            Outcome::Error(format!(
                "{} of {} jobs reported",
                cell.jobs.len(),
                self.jobs.len()
            ))
        } else if failed > 0 || !bad_rc.is_empty() {
            Outcome::Failed {
                failed,
                tests,
                why: bad_rc.join("; "),
            }
        } else {
            Outcome::Passed { tests }
        };
    }
}

fn report(job: &str, rc: Option<i32>, lines: &[&str], took: Option<Duration>) -> JobReport {
    let r = libtest::parse(lines);
    JobReport {
        job: job.to_string(),
        rc,
        passed: r.passed.len(),
        failures: r.failed,
        ignored: r.ignored.len(),
        skipped: r.skipped,
        took,
    }
}

/// A copy of `exe` without debug info (release builds keep line tables:
/// 12–15 MB per binary, a third of that stripped), cached under
/// vm-tests/cache/stripped/. A smaller initramfs boots faster under TCG.
/// Falls back to `exe` itself when objcopy is missing.
pub(crate) fn stripped(ctx: &HostContext, exe: &Path) -> Result<PathBuf, String> {
    let dir = ctx.cache.join("stripped");
    crate::apt::mkdir(&dir)?;
    let name = exe
        .file_name()
        .ok_or_else(|| format!("{} has no file name", exe.display()))?;
    let out = dir.join(name);
    let newer = |a: &Path, b: &Path| -> bool {
        let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        matches!((m(a), m(b)), (Some(x), Some(y)) if x >= y)
    };
    if out.is_file() && newer(&out, exe) {
        return Ok(out);
    }
    match std::process::Command::new("objcopy")
        .arg("--strip-debug")
        .arg(exe)
        .arg(&out)
        .status()
    {
        Ok(st) if st.success() => Ok(out),
        _ => Ok(exe.to_path_buf()),
    }
}

fn find<'a>(artifacts: &'a [Artifact], kind: &str, name: &str) -> Result<&'a Artifact, String> {
    artifacts
        .iter()
        .find(|a| a.kind == kind && a.name == name)
        .ok_or_else(|| format!("cargo built no {kind} named {name}"))
}
