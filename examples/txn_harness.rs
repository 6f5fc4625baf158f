//! A stand-in for the `nftguard` executable in the VALIDATE + APPLY tests,
//! until the CLI wires the real commands: it runs the library's `apply`,
//! `rollback` and watchdog entry points, as the CLI will.
//!
//! ```text
//! txn_harness apply --state-dir DIR --plan PLAN.json --timeout-ms N [--hold]
//! txn_harness rollback [--apply-id ID] [--to BACKUP_ID] --state-dir DIR [--netns PATH]
//! txn_harness __rollback-watchdog --apply-id ID --state-dir DIR --fires-at-ms MS [--netns PATH]
//! ```
//! `apply` arms only the detached watchdog (this executable's
//! `__rollback-watchdog`), prints the outcome as one JSON line and, with
//! `--hold`, then sleeps until killed. Exit codes are the workflow's.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use nftguard::netlink::Socket;
use nftguard::txn::persist::PersistOptions;
use nftguard::txn::{
    self, ApplyError, ApplyOptions, Mechanisms, RollbackCommand, RollbackRequest, StateDir,
    StoredPlan,
};

fn value(args: &[OsString], name: &str) -> Option<OsString> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn fail(e: ApplyError) -> i32 {
    eprintln!("txn_harness: {e}");
    e.exit_code()
}

fn socket(args: &[OsString]) -> Result<Socket, ApplyError> {
    Ok(match value(args, "--netns") {
        Some(p) => Socket::in_netns(PathBuf::from(p))?,
        None => Socket::new()?,
    })
}

fn run(args: Vec<OsString>) -> i32 {
    let Some(cmd) = args.first().and_then(|a| a.to_str()).map(str::to_string) else {
        eprintln!("usage: txn_harness apply|rollback|__rollback-watchdog …");
        return 2;
    };
    if cmd == txn::rollback::WATCHDOG_SUBCOMMAND {
        return txn::rollback_watchdog_main(&args);
    }
    let Some(state_dir) = value(&args, "--state-dir") else {
        eprintln!("--state-dir is required");
        return 2;
    };
    let state = match StateDir::open(PathBuf::from(state_dir)) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let mut sock = match socket(&args) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    match cmd.as_str() {
        "apply" => {
            let Some(plan) = value(&args, "--plan") else {
                eprintln!("--plan is required");
                return 2;
            };
            let plan: StoredPlan = match std::fs::read(PathBuf::from(plan))
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("reading the plan: {e}");
                    return 2;
                }
            };
            let timeout_ms: u64 = value(&args, "--timeout-ms")
                .and_then(|v| v.to_str().and_then(|s| s.parse().ok()))
                .unwrap_or(300_000);
            let exe = match std::env::current_exe() {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("{e}");
                    return 1;
                }
            };
            let mut opts = ApplyOptions {
                supplied_token: plan.approval_token.clone(),
                confirm_timeout: Duration::from_millis(timeout_ms),
                dry_run: false,
                auto_confirm: false,
                rollback: RollbackCommand {
                    exe: exe.clone(),
                    state_dir: state.path().to_path_buf(),
                    netns: value(&args, "--netns").map(PathBuf::from),
                },
                mechanisms: Mechanisms::watchdog_only(),
                verify: None,
                persist: PersistOptions {
                    unit_dir: state.path().join("units"),
                    exe,
                    nftables_conf: state.path().join("nftables.conf"),
                    enable: false,
                },
                forced: None,
            };
            match txn::apply(&mut sock, &state, &plan, &mut opts) {
                Ok(outcome) => {
                    println!("{}", serde_json::to_string(&outcome).unwrap_or_default());
                    if args.iter().any(|a| a == "--hold") {
                        loop {
                            std::thread::sleep(Duration::from_secs(3600));
                        }
                    }
                    0
                }
                Err(e) => fail(e),
            }
        }
        "rollback" => {
            let req = RollbackRequest {
                apply_id: value(&args, "--apply-id").map(|v| v.to_string_lossy().into_owned()),
                to: value(&args, "--to").map(|v| v.to_string_lossy().into_owned()),
            };
            match txn::rollback(&mut sock, &state, &req) {
                Ok(outcome) => {
                    println!("{}", serde_json::to_string(&outcome).unwrap_or_default());
                    0
                }
                Err(e) => fail(e),
            }
        }
        other => {
            eprintln!("unknown command {other}");
            2
        }
    }
}

fn main() {
    std::process::exit(run(std::env::args_os().skip(1).collect()));
}
