//! The detached watchdog: it outlives the process that armed it (SIGKILL
//! included) and restores the previous state when the confirm timeout
//! passes; disarming cancels only its own apply's watchdog.
//!
//! The arming process is the `txn_harness` example, standing in for
//! `nftguard apply`; the watchdog execs `txn_harness rollback …` as it
//! will exec `nftguard rollback …`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod txn_common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{genid, netns, nft_apply, sock};
use nftguard::txn::journal::{JournalEntry, Phase};
use nftguard::txn::rollback::{self, watchdog_alive, ArmHandle};
use nftguard::txn::{ApplyOutcome, Mechanisms, RollbackCommand};
use txn_common::{harness_exe, nft_list_table, plan, replace_owned_table, state_dir, RICH_TABLE};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn the_rollback_fires_after_the_arming_process_is_sigkilled() {
    netns();
    let state = state_dir("watchdog-sigkill");
    nft_apply(RICH_TABLE);
    let before = nft_list_table("inet", "nftguard");
    let mut s = sock();
    let base = genid(&mut s);
    let p = plan(replace_owned_table(true, &[22]), base);
    let plan_file = state.file("plan.json");
    std::fs::write(&plan_file, serde_json::to_vec(&p).unwrap()).unwrap();

    // The arming process: applies, arms a 2 s watchdog, then waits for
    // `confirm` forever.
    let mut child = Command::new(harness_exe())
        .args(["apply", "--state-dir"])
        .arg(state.path())
        .arg("--plan")
        .arg(&plan_file)
        .args(["--timeout-ms", "2000", "--hold"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let out: ApplyOutcome = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let armed = out.rollback.clone().unwrap();
    let ArmHandle::Watchdog { pid } = armed.handle else {
        panic!("{armed:?}")
    };
    assert_ne!(nft_list_table("inet", "nftguard"), before, "applied");

    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        watchdog_alive(pid, &armed.apply_id),
        "the watchdog must survive its parent's SIGKILL"
    );

    // Give up at the deadline + 5 s: a rollback that never comes fails
    // the test instead of hanging it.
    let give_up = armed.fires_at_ms + 5_000;
    let restored_at = loop {
        if nft_list_table("inet", "nftguard") == before
            && JournalEntry::last(&state).unwrap().unwrap().phase == Phase::RolledBack
        {
            break now_ms();
        }
        assert!(
            now_ms() < give_up,
            "no rollback by the deadline + 5 s; journal: {:?}",
            JournalEntry::last(&state).unwrap()
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(restored_at + 50 >= armed.fires_at_ms, "fired early");
    eprintln!(
        "rollback latency (deadline to restored, polled every 10 ms): {} ms",
        restored_at.saturating_sub(armed.fires_at_ms)
    );
    let status = nftguard::txn::status(&state).unwrap();
    assert!(!status.rollback.pending, "{status:?}");
}

#[test]
fn disarm_cancels_only_its_own_watchdog() {
    netns();
    let state = state_dir("watchdog-disarm");
    let cmd = RollbackCommand {
        exe: harness_exe(),
        state_dir: state.path().to_path_buf(),
        netns: None,
    };
    let only = Mechanisms::watchdog_only();
    let a = rollback::arm(&state, &cmd, "100-aa", Duration::from_secs(120), &only).unwrap();
    let b = rollback::arm(&state, &cmd, "100-bb", Duration::from_secs(120), &only).unwrap();
    let pid = |x: &nftguard::txn::Armed| match x.handle {
        ArmHandle::Watchdog { pid } => pid,
        _ => unreachable!(),
    };
    assert_ne!(pid(&a), pid(&b));
    assert!(watchdog_alive(pid(&a), "100-aa") && watchdog_alive(pid(&b), "100-bb"));
    // The PID check names the apply: one watchdog is not the other's.
    assert!(!watchdog_alive(pid(&a), "100-bb"));
    // Detached: not a child of this process (setsid re-parents it).
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid(&a))).unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_comm.split(' ').collect();
    let (ppid, sid): (u32, u32) = (fields[1].parse().unwrap(), fields[3].parse().unwrap());
    assert_ne!(ppid, std::process::id());
    assert_eq!(sid, pid(&a), "the watchdog leads its own session");

    assert!(rollback::disarm(&state, &a).unwrap());
    assert!(!watchdog_alive(pid(&a), "100-aa"));
    assert!(
        watchdog_alive(pid(&b), "100-bb"),
        "the other watchdog must keep running"
    );
    assert!(!rollback::status(&state, "100-aa").unwrap().pending);
    let sb = rollback::status(&state, "100-bb").unwrap();
    assert!(sb.pending && sb.watchdog_alive == Some(true));
    assert_eq!(sb.fires_at, Some(b.fires_at));

    // Disarming again reports nothing was pending.
    assert!(!rollback::disarm(&state, &a).unwrap());
    assert!(rollback::disarm(&state, &b).unwrap());
    assert!(!watchdog_alive(pid(&b), "100-bb"));
}
