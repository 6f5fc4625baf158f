//! The rollback timer: armed before a commit that could cut access, it
//! runs `nftguard rollback --apply-id ID` when the confirm timeout passes,
//! even if nftguard itself has died (ARCHITECTURE.md, decision 5).
//!
//! Three mechanisms, in order of preference:
//! 1. a systemd transient timer (`systemd-run --on-active=…`), when systemd
//!    is PID 1 and `systemd-run` exists;
//! 2. an `at` job, when `at` exists and `atd` runs (a queued job without a
//!    daemon never fires);
//! 3. a detached watchdog: nftguard's own hidden subcommand
//!    `__rollback-watchdog`, started in a new session (`setsid --fork`, or
//!    its own process group), with its standard streams on /dev/null. It is
//!    not nftguard's child once `setsid` returns, so killing nftguard —
//!    SIGKILL included — or losing its terminal does not stop it.
//!
//! Every command is an argument vector, never a shell string; the only
//! shell text (the `at` job, which `atd` runs with `/bin/sh`) quotes every
//! argument. Apply ids are `[0-9a-f-]` only ([`super::state::check_id`])
//! and paths containing `$` or `%` are refused (systemd expands them in
//! command lines).
//!
//! Disarming cancels exactly this apply's timer, job or watchdog (the seed
//! cancelled *every* `at` job). The watchdog is cancelled through its
//! record in the state directory, which it reads several times a second;
//! a fired timer whose apply was confirmed meanwhile does nothing, because
//! `rollback --apply-id` only undoes an apply still in phase `committed`.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::error::{ApplyError, TxnResult};
use super::state::{check_id, StateDir};

/// The hidden subcommand that runs the watchdog.
pub const WATCHDOG_SUBCOMMAND: &str = "__rollback-watchdog";

/// How often the watchdog looks at its record (cancellation latency).
const WATCHDOG_POLL: Duration = Duration::from_millis(100);

/// How long `arm` waits for a watchdog to report that it runs.
const WATCHDOG_START_WAIT: Duration = Duration::from_secs(5);

/// How long `disarm` waits for a cancelled watchdog to exit.
const WATCHDOG_STOP_WAIT: Duration = Duration::from_secs(3);

/// A rollback mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    /// A systemd transient timer.
    Systemd,
    /// An `at` job.
    At,
    /// A detached watchdog process.
    Watchdog,
}

impl Mechanism {
    /// The name `status` and the audit use (`systemd`, `at`, `watchdog`).
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Systemd => "systemd",
            Mechanism::At => "at",
            Mechanism::Watchdog => "watchdog",
        }
    }
}

/// What identifies an armed timer, to cancel exactly it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArmHandle {
    /// The transient unit's name (without `.timer`).
    SystemdUnit {
        /// `nftguard-rollback-<apply id>`.
        unit: String,
    },
    /// The `at` job number.
    AtJob {
        /// Job number as `at` printed it.
        job: u32,
    },
    /// The watchdog process.
    Watchdog {
        /// Its PID.
        pid: u32,
    },
}

/// Whether an armed rollback is still pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArmState {
    /// Waiting to fire.
    Armed,
    /// Cancelled (confirmed, rolled back by hand, or never committed).
    Disarmed,
}

/// An armed rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Armed {
    /// The apply it undoes.
    pub apply_id: String,
    /// How it was armed.
    pub mechanism: Mechanism,
    /// When it fires (Unix seconds).
    pub fires_at: u64,
    /// When it fires (Unix milliseconds; the watchdog's exact deadline).
    pub fires_at_ms: u64,
    /// What to cancel.
    pub handle: ArmHandle,
}

/// The stored record of an armed rollback (`rollback-<id>.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmRecord {
    /// The armed timer.
    pub armed: Armed,
    /// Pending or cancelled.
    pub state: ArmState,
}

/// File name of apply `id`'s rollback record.
pub fn record_file(id: &str) -> String {
    format!("rollback-{id}.json")
}

/// File name where apply `id`'s watchdog writes its PID.
pub fn watchdog_pid_file(id: &str) -> String {
    format!("watchdog-{id}.pid")
}

/// The command a fired timer runs: `<exe> rollback --apply-id ID
/// --state-dir DIR [--netns PATH]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackCommand {
    /// The nftguard executable (absolute path).
    pub exe: PathBuf,
    /// The state directory.
    pub state_dir: PathBuf,
    /// The network namespace nftguard acts on, if not its own.
    pub netns: Option<PathBuf>,
}

impl RollbackCommand {
    /// The command for the running executable.
    pub fn current(state: &StateDir, netns: Option<PathBuf>) -> TxnResult<RollbackCommand> {
        let exe = std::env::current_exe().map_err(|e| {
            ApplyError::state("finding the running executable", "/proc/self/exe", e)
        })?;
        Ok(RollbackCommand {
            exe,
            state_dir: state.path().to_path_buf(),
            netns,
        })
    }

    /// Refuses paths a timer could misread: relative ones, and ones with
    /// `$` or `%` (systemd expands both in command lines) or control
    /// characters.
    pub fn check(&self) -> TxnResult<()> {
        let mut paths = vec![&self.exe, &self.state_dir];
        if let Some(n) = &self.netns {
            paths.push(n);
        }
        for p in paths {
            let bytes = p.as_os_str().as_bytes();
            if !p.is_absolute()
                || bytes
                    .iter()
                    .any(|b| *b == b'$' || *b == b'%' || b.is_ascii_control())
            {
                return Err(ApplyError::Preflight {
                    detail: format!(
                        "path {} cannot be passed to a rollback timer (must be absolute, without $, % or control characters)",
                        p.display()
                    ),
                });
            }
        }
        Ok(())
    }

    /// `rollback --apply-id ID --state-dir DIR [--netns PATH]` (without the
    /// executable).
    pub fn rollback_args(&self, apply_id: &str) -> Vec<OsString> {
        let mut v: Vec<OsString> = vec![
            "rollback".into(),
            "--apply-id".into(),
            apply_id.into(),
            "--state-dir".into(),
            self.state_dir.clone().into(),
        ];
        if let Some(n) = &self.netns {
            v.push("--netns".into());
            v.push(n.clone().into());
        }
        v
    }
}

/// The transient unit name of apply `id`'s timer.
pub fn systemd_unit_name(apply_id: &str) -> String {
    format!("nftguard-rollback-{apply_id}")
}

/// The exact argv that arms a systemd transient timer firing after `secs`.
/// `AccuracySec=1s` because a transient timer's default accuracy is one
/// minute, which would delay the rollback by up to that much.
pub fn systemd_run_argv(cmd: &RollbackCommand, apply_id: &str, secs: u64) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![
        "systemd-run".into(),
        format!("--on-active={secs}").into(),
        format!("--unit={}", systemd_unit_name(apply_id)).into(),
        format!("--description=nftguard rollback of apply {apply_id}").into(),
        "--timer-property=AccuracySec=1s".into(),
        cmd.exe.clone().into(),
    ];
    v.extend(cmd.rollback_args(apply_id));
    v
}

/// The exact argv that cancels apply `id`'s systemd timer (the timer
/// only: a rollback already running is not interrupted).
pub fn systemd_disarm_argv(apply_id: &str) -> Vec<OsString> {
    vec![
        "systemctl".into(),
        "stop".into(),
        format!("{}.timer", systemd_unit_name(apply_id)).into(),
    ]
}

/// The exact argv that queues an `at` job `minutes` from now (`at` counts
/// in whole minutes; `-M`: never mail). The job text goes to its stdin.
pub fn at_argv(minutes: u64) -> Vec<OsString> {
    vec![
        "at".into(),
        "-M".into(),
        "now".into(),
        "+".into(),
        minutes.to_string().into(),
        "minutes".into(),
    ]
}

/// The exact argv that removes `at` job `job` (and no other).
pub fn atrm_argv(job: u32) -> Vec<OsString> {
    vec!["atrm".into(), job.to_string().into()]
}

/// The job text `at` runs with `/bin/sh`: one `exec` line whose every
/// word is single-quoted, so nothing in it is interpreted by the shell.
pub fn at_job_text(cmd: &RollbackCommand, apply_id: &str) -> String {
    let mut line = String::from("exec");
    let mut words: Vec<OsString> = vec![cmd.exe.clone().into()];
    words.extend(cmd.rollback_args(apply_id));
    for w in words {
        line.push(' ');
        line.push_str(&shell_quote(&w));
    }
    line.push('\n');
    line
}

/// `'…'` with every `'` written as `'\''`.
fn shell_quote(w: &OsStr) -> String {
    let s = String::from_utf8_lossy(w.as_bytes());
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The job number from `at`'s report (`job 12 at Thu Jan  1 00:00:00 2025`,
/// on stderr).
pub fn parse_at_job(report: &str) -> Option<u32> {
    report.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next() == Some("job"))
            .then(|| w.next().and_then(|n| n.parse().ok()))
            .flatten()
    })
}

/// The argv that starts the watchdog (without the leading `setsid --fork`).
pub fn watchdog_argv(cmd: &RollbackCommand, apply_id: &str, fires_at_ms: u64) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![
        cmd.exe.clone().into(),
        WATCHDOG_SUBCOMMAND.into(),
        "--apply-id".into(),
        apply_id.into(),
        "--state-dir".into(),
        cmd.state_dir.clone().into(),
        "--fires-at-ms".into(),
        fires_at_ms.to_string().into(),
    ];
    if let Some(n) = &cmd.netns {
        v.push("--netns".into());
        v.push(n.clone().into());
    }
    v
}

/// Which mechanisms may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mechanisms {
    /// systemd transient timers.
    pub systemd: bool,
    /// `at` jobs.
    pub at: bool,
    /// The detached watchdog.
    pub watchdog: bool,
}

impl Mechanisms {
    /// What this host offers: systemd when it is PID 1 (with
    /// `/run/systemd/system`) and `systemd-run` is on PATH; `at` when it is
    /// on PATH and `atd` runs; the watchdog always.
    pub fn detect() -> Mechanisms {
        let pid1_systemd = std::fs::read_to_string("/proc/1/comm")
            .is_ok_and(|c| c.trim() == "systemd")
            && Path::new("/run/systemd/system").is_dir();
        Mechanisms {
            systemd: pid1_systemd && find_program("systemd-run").is_some(),
            at: find_program("at").is_some() && process_running("atd"),
            watchdog: true,
        }
    }

    /// Only the watchdog (tests, and hosts where timers are unwanted).
    pub fn watchdog_only() -> Mechanisms {
        Mechanisms {
            systemd: false,
            at: false,
            watchdog: true,
        }
    }
}

/// The first `name` on `PATH` (or the usual system directories).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn process_running(comm: &str) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|e| {
        e.file_name().as_bytes().iter().all(u8::is_ascii_digit)
            && std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == comm)
    })
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Arms a rollback of apply `apply_id` firing after `timeout`, with the
/// first mechanism of `allowed` that works (systemd, at, watchdog), and
/// stores its record. No mechanism allowed or available: exit 31; one
/// that exists but fails to arm: exit 40.
pub fn arm(
    state: &StateDir,
    cmd: &RollbackCommand,
    apply_id: &str,
    timeout: Duration,
    allowed: &Mechanisms,
) -> TxnResult<Armed> {
    check_id(apply_id)?;
    cmd.check()?;
    let secs = timeout.as_secs().max(1);
    let armed = if allowed.systemd {
        arm_systemd(cmd, apply_id, secs)?
    } else if allowed.at {
        arm_at(cmd, apply_id, secs)?
    } else if allowed.watchdog {
        arm_watchdog(state, cmd, apply_id, timeout)?
    } else {
        return Err(ApplyError::NoRollbackMechanism {
            detail: "systemd is not PID 1 or systemd-run is missing, at/atd is unavailable, and the watchdog is not allowed".into(),
        });
    };
    if armed.mechanism != Mechanism::Watchdog {
        // The watchdog stored its record before starting (it reads it).
        state.write_json(
            &record_file(apply_id),
            &ArmRecord {
                armed: armed.clone(),
                state: ArmState::Armed,
            },
        )?;
    }
    Ok(armed)
}

fn run_argv(argv: &[OsString], stdin: Option<&str>) -> TxnResult<(bool, String)> {
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| ApplyError::Invalid("empty command".into()))?;
    let mut child = Command::new(prog)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ApplyError::Preflight {
            detail: format!("running {}: {e}", prog.to_string_lossy()),
        })?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .map_err(|e| ApplyError::Preflight {
                detail: format!("writing to {}: {e}", prog.to_string_lossy()),
            })?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| ApplyError::Preflight {
            detail: format!("waiting for {}: {e}", prog.to_string_lossy()),
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text))
}

fn arm_systemd(cmd: &RollbackCommand, apply_id: &str, secs: u64) -> TxnResult<Armed> {
    let fires_at_ms = now_ms() + secs * 1000;
    let (ok, text) = run_argv(&systemd_run_argv(cmd, apply_id, secs), None)?;
    if !ok {
        return Err(ApplyError::Preflight {
            detail: format!("systemd-run refused the rollback timer: {}", text.trim()),
        });
    }
    Ok(Armed {
        apply_id: apply_id.into(),
        mechanism: Mechanism::Systemd,
        fires_at: fires_at_ms / 1000,
        fires_at_ms,
        handle: ArmHandle::SystemdUnit {
            unit: systemd_unit_name(apply_id),
        },
    })
}

fn arm_at(cmd: &RollbackCommand, apply_id: &str, secs: u64) -> TxnResult<Armed> {
    let minutes = secs.div_ceil(60);
    let (ok, text) = run_argv(&at_argv(minutes), Some(&at_job_text(cmd, apply_id)))?;
    let job = parse_at_job(&text)
        .filter(|_| ok)
        .ok_or_else(|| ApplyError::Preflight {
            detail: format!("at did not queue the rollback job: {}", text.trim()),
        })?;
    // atd runs jobs at the start of a minute: at most `minutes` from now.
    let fires_at_ms = (now_ms() / 60_000 + minutes) * 60_000;
    Ok(Armed {
        apply_id: apply_id.into(),
        mechanism: Mechanism::At,
        fires_at: fires_at_ms / 1000,
        fires_at_ms,
        handle: ArmHandle::AtJob { job },
    })
}

fn arm_watchdog(
    state: &StateDir,
    cmd: &RollbackCommand,
    apply_id: &str,
    timeout: Duration,
) -> TxnResult<Armed> {
    let fires_at_ms = now_ms() + timeout.as_millis() as u64;
    // The record exists before the watchdog starts: it exits at once when
    // it finds none (or a disarmed one).
    let mut armed = Armed {
        apply_id: apply_id.into(),
        mechanism: Mechanism::Watchdog,
        fires_at: fires_at_ms.div_ceil(1000),
        fires_at_ms,
        handle: ArmHandle::Watchdog { pid: 0 },
    };
    state.write_json(
        &record_file(apply_id),
        &ArmRecord {
            armed: armed.clone(),
            state: ArmState::Armed,
        },
    )?;
    state.remove(&watchdog_pid_file(apply_id))?;
    let argv = watchdog_argv(cmd, apply_id, fires_at_ms);
    let fail = |detail: String| ApplyError::Preflight {
        detail: format!("starting the rollback watchdog: {detail}"),
    };
    // No setsid(1) that forks: its own process group, so signals sent to
    // nftguard's group do not reach it. It is nftguard's child until
    // nftguard exits, then init's.
    let spawn_in_own_group = || -> TxnResult<()> {
        let (prog, args) = argv
            .split_first()
            .ok_or_else(|| fail("empty command".into()))?;
        Command::new(prog)
            .args(args)
            .env_remove(super::pause::ENV)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| fail(e.to_string()))?;
        Ok(())
    };
    match find_program("setsid") {
        // util-linux setsid: forks, the child calls setsid(2) (a new
        // session without a controlling terminal, so no SIGHUP when the
        // operator's connection drops) and execs the watchdog; the parent
        // returns at once and is reaped here. A setsid without --fork
        // (busybox's) refuses the option and starts nothing: fall back.
        Some(setsid) => {
            let status = Command::new(setsid)
                .arg("--fork")
                .args(&argv)
                .env_remove(super::pause::ENV)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| fail(e.to_string()))?;
            if !status.success() {
                spawn_in_own_group()?;
            }
        }
        None => spawn_in_own_group()?,
    }
    let until = Instant::now() + WATCHDOG_START_WAIT;
    let pid = loop {
        if let Some(pid) = read_watchdog_pid(state, apply_id)? {
            break pid;
        }
        if Instant::now() >= until {
            let _ = state.remove(&record_file(apply_id));
            return Err(fail(format!(
                "it did not report running within {} s",
                WATCHDOG_START_WAIT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    armed.handle = ArmHandle::Watchdog { pid };
    state.write_json(
        &record_file(apply_id),
        &ArmRecord {
            armed: armed.clone(),
            state: ArmState::Armed,
        },
    )?;
    Ok(armed)
}

fn read_watchdog_pid(state: &StateDir, apply_id: &str) -> TxnResult<Option<u32>> {
    Ok(state
        .read(&watchdog_pid_file(apply_id))?
        .and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok()))
}

/// Whether `pid` is apply `apply_id`'s watchdog (checked through its
/// command line, so a recycled PID is never mistaken for it).
pub fn watchdog_alive(pid: u32, apply_id: &str) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    args.contains(&WATCHDOG_SUBCOMMAND.as_bytes()) && args.contains(&apply_id.as_bytes())
}

/// Cancels exactly this armed rollback: marks its record disarmed, then
/// stops its systemd timer, removes its `at` job, or waits for its
/// watchdog to see the mark and exit. Returns whether a pending timer was
/// cancelled (false when it had already fired or was gone).
pub fn disarm(state: &StateDir, armed: &Armed) -> TxnResult<bool> {
    check_id(&armed.apply_id)?;
    let name = record_file(&armed.apply_id);
    let was_armed = state
        .read_json::<ArmRecord>(&name)?
        .is_some_and(|r| r.state == ArmState::Armed);
    state.write_json(
        &name,
        &ArmRecord {
            armed: armed.clone(),
            state: ArmState::Disarmed,
        },
    )?;
    match &armed.handle {
        ArmHandle::SystemdUnit { .. } => {
            let (ok, text) = run_argv(&systemd_disarm_argv(&armed.apply_id), None)?;
            if !ok && was_armed {
                return Err(ApplyError::Preflight {
                    detail: format!("stopping the rollback timer: {}", text.trim()),
                });
            }
            Ok(was_armed && ok)
        }
        ArmHandle::AtJob { job } => {
            // A job that already ran is gone: atrm fails, which is fine.
            let (ok, _) = run_argv(&atrm_argv(*job), None)?;
            Ok(was_armed && ok)
        }
        ArmHandle::Watchdog { pid } => {
            let until = Instant::now() + WATCHDOG_STOP_WAIT;
            while watchdog_alive(*pid, &armed.apply_id) {
                if Instant::now() >= until {
                    return Err(ApplyError::Preflight {
                        detail: format!(
                            "the rollback watchdog (pid {pid}) did not stop; its record is marked disarmed"
                        ),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(was_armed)
        }
    }
}

/// What `status` reports about the rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackStatus {
    /// Whether a rollback is armed and has not fired.
    pub pending: bool,
    /// When it fires (Unix seconds).
    pub fires_at: Option<u64>,
    /// `systemd`, `at` or `watchdog`.
    pub mechanism: Option<String>,
    /// The apply it would undo.
    pub apply_id: Option<String>,
    /// For a watchdog: whether its process is alive.
    pub watchdog_alive: Option<bool>,
}

/// The rollback state of apply `apply_id` (its record, checked against
/// the watchdog process where there is one).
pub fn status(state: &StateDir, apply_id: &str) -> TxnResult<RollbackStatus> {
    check_id(apply_id)?;
    let Some(rec) = state.read_json::<ArmRecord>(&record_file(apply_id))? else {
        return Ok(RollbackStatus {
            pending: false,
            fires_at: None,
            mechanism: None,
            apply_id: Some(apply_id.into()),
            watchdog_alive: None,
        });
    };
    let alive = match rec.armed.handle {
        ArmHandle::Watchdog { pid } => Some(watchdog_alive(pid, apply_id)),
        _ => None,
    };
    let not_fired = now_ms() < rec.armed.fires_at_ms || alive == Some(true);
    Ok(RollbackStatus {
        pending: rec.state == ArmState::Armed && not_fired && alive != Some(false),
        fires_at: Some(rec.armed.fires_at),
        mechanism: Some(rec.armed.mechanism.name().into()),
        apply_id: Some(apply_id.into()),
        watchdog_alive: alive,
    })
}

/// Arguments of the watchdog subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WatchdogArgs {
    apply_id: String,
    state_dir: PathBuf,
    fires_at_ms: u64,
    netns: Option<PathBuf>,
}

fn parse_watchdog_args(args: &[OsString]) -> Result<WatchdogArgs, String> {
    let mut apply_id = None;
    let mut state_dir = None;
    let mut fires_at_ms = None;
    let mut netns = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{} needs a value", a.to_string_lossy()))
        };
        match a.to_str() {
            Some(WATCHDOG_SUBCOMMAND) => {}
            Some("--apply-id") => apply_id = Some(value()?.to_string_lossy().into_owned()),
            Some("--state-dir") => state_dir = Some(PathBuf::from(value()?)),
            Some("--fires-at-ms") => {
                fires_at_ms = Some(
                    value()?
                        .to_string_lossy()
                        .parse::<u64>()
                        .map_err(|e| format!("--fires-at-ms: {e}"))?,
                )
            }
            Some("--netns") => netns = Some(PathBuf::from(value()?)),
            _ => return Err(format!("unexpected argument {}", a.to_string_lossy())),
        }
    }
    Ok(WatchdogArgs {
        apply_id: apply_id.ok_or("--apply-id is required")?,
        state_dir: state_dir.ok_or("--state-dir is required")?,
        fires_at_ms: fires_at_ms.ok_or("--fires-at-ms is required")?,
        netns,
    })
}

/// The watchdog: the body of the hidden subcommand `nftguard
/// __rollback-watchdog --apply-id ID --state-dir DIR --fires-at-ms MS
/// [--netns PATH]`. `args` are the arguments after the program name (the
/// subcommand name itself may be included).
///
/// It writes its PID to `watchdog-<id>.pid`, waits until the deadline
/// while its record stays armed, then replaces itself (exec, same PID)
/// with `<this executable> rollback --apply-id ID --state-dir DIR`. Returns
/// an exit code only when it does not exec: 0 when disarmed, 2 on bad
/// arguments, 1 on other errors.
pub fn rollback_watchdog_main(args: &[OsString]) -> i32 {
    let a = match parse_watchdog_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{WATCHDOG_SUBCOMMAND}: {e}");
            return 2;
        }
    };
    if check_id(&a.apply_id).is_err() {
        eprintln!("{WATCHDOG_SUBCOMMAND}: invalid apply id");
        return 2;
    }
    let state = match StateDir::open(&a.state_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{WATCHDOG_SUBCOMMAND}: {e}");
            return 1;
        }
    };
    let pid_file = watchdog_pid_file(&a.apply_id);
    if state
        .write_atomic(&pid_file, std::process::id().to_string().as_bytes())
        .is_err()
    {
        return 1;
    }
    let still_armed = || {
        state
            .read_json::<ArmRecord>(&record_file(&a.apply_id))
            .ok()
            .flatten()
            .is_some_and(|r| r.state == ArmState::Armed)
    };
    loop {
        if !still_armed() {
            let _ = state.remove(&pid_file);
            return 0;
        }
        let now = now_ms();
        if now >= a.fires_at_ms {
            break;
        }
        std::thread::sleep(WATCHDOG_POLL.min(Duration::from_millis(a.fires_at_ms - now)));
    }
    let _ = state.remove(&pid_file);
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(_) => return 1,
    };
    let cmd = RollbackCommand {
        exe: exe.clone(),
        state_dir: a.state_dir.clone(),
        netns: a.netns.clone(),
    };
    // Only returns on failure.
    let err = Command::new(&exe)
        .args(cmd.rollback_args(&a.apply_id))
        .exec();
    eprintln!("{WATCHDOG_SUBCOMMAND}: exec {}: {err}", exe.display());
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd() -> RollbackCommand {
        RollbackCommand {
            exe: "/usr/sbin/nftguard".into(),
            state_dir: "/var/lib/nftguard".into(),
            netns: None,
        }
    }

    fn strs(v: &[OsString]) -> Vec<String> {
        v.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn systemd_argv_is_exact() {
        assert_eq!(
            strs(&systemd_run_argv(&cmd(), "1700000000-0badcafe", 300)),
            [
                "systemd-run",
                "--on-active=300",
                "--unit=nftguard-rollback-1700000000-0badcafe",
                "--description=nftguard rollback of apply 1700000000-0badcafe",
                "--timer-property=AccuracySec=1s",
                "/usr/sbin/nftguard",
                "rollback",
                "--apply-id",
                "1700000000-0badcafe",
                "--state-dir",
                "/var/lib/nftguard",
            ]
        );
        assert_eq!(
            strs(&systemd_disarm_argv("1-a")),
            ["systemctl", "stop", "nftguard-rollback-1-a.timer"]
        );
    }

    #[test]
    fn at_argv_and_job_text_are_exact_and_quoted() {
        assert_eq!(strs(&at_argv(5)), ["at", "-M", "now", "+", "5", "minutes"]);
        assert_eq!(strs(&atrm_argv(12)), ["atrm", "12"]);
        let mut c = cmd();
        c.exe = "/opt/it's here/nftguard".into();
        c.netns = Some("/run/netns/blue".into());
        assert_eq!(
            at_job_text(&c, "1-ab"),
            "exec '/opt/it'\\''s here/nftguard' 'rollback' '--apply-id' '1-ab' '--state-dir' '/var/lib/nftguard' '--netns' '/run/netns/blue'\n"
        );
        // What sh makes of it: exactly the intended words.
        let out = Command::new("sh")
            .arg("-c")
            .arg(at_job_text(&c, "1-ab").replacen("exec", "printf '%s\\n'", 1))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "/opt/it's here/nftguard\nrollback\n--apply-id\n1-ab\n--state-dir\n/var/lib/nftguard\n--netns\n/run/netns/blue\n"
        );
    }

    #[test]
    fn at_job_number_is_parsed() {
        assert_eq!(
            parse_at_job("warning: commands will be executed using /bin/sh\njob 17 at Thu Jan  1 00:05:00 2026\n"),
            Some(17)
        );
        assert_eq!(
            parse_at_job("Can't open /var/run/atd.pid to signal atd. No atd running?\n"),
            None
        );
    }

    #[test]
    fn dangerous_paths_are_refused() {
        for p in ["relative/nftguard", "/usr/bin/$HOME", "/usr/%n", "/a\nb"] {
            let mut c = cmd();
            c.exe = p.into();
            assert_eq!(c.check().unwrap_err().exit_code(), 40, "{p}");
        }
        cmd().check().unwrap();
    }

    #[test]
    fn watchdog_arguments_round_trip() {
        let mut c = cmd();
        c.netns = Some("/run/netns/x".into());
        let argv = watchdog_argv(&c, "5-ff", 1234);
        let parsed = parse_watchdog_args(&argv[1..]).unwrap();
        assert_eq!(
            parsed,
            WatchdogArgs {
                apply_id: "5-ff".into(),
                state_dir: "/var/lib/nftguard".into(),
                fires_at_ms: 1234,
                netns: Some("/run/netns/x".into()),
            }
        );
        assert!(parse_watchdog_args(&["--apply-id".into()]).is_err());
        assert!(parse_watchdog_args(&["--bogus".into()]).is_err());
    }

    #[test]
    fn nothing_allowed_is_exit_31() {
        let dir = std::env::current_dir().unwrap().join("target/txn-unit-31");
        let _ = std::fs::remove_dir_all(&dir);
        let state = StateDir::open(&dir).unwrap();
        let none = Mechanisms {
            systemd: false,
            at: false,
            watchdog: false,
        };
        let e = arm(&state, &cmd(), "1-a", Duration::from_secs(5), &none).unwrap_err();
        assert_eq!(e.exit_code(), 31);
    }
}
