//! The state directory and the lock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod txn_common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use nftguard::txn::{ApplyError, StateDir, StateLock};
use txn_common::{state_dir, target_profile_dir};

#[test]
fn created_0700_and_files_written_atomically_0600() {
    let state = state_dir("perm");
    let meta = std::fs::metadata(state.path()).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o700);

    state.write_atomic("a.json", b"one").unwrap();
    state.write_atomic("a.json", b"two").unwrap();
    assert_eq!(state.read("a.json").unwrap().unwrap(), b"two");
    let f = std::fs::metadata(state.file("a.json")).unwrap();
    assert_eq!(f.mode() & 0o7777, 0o600);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(state.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["a.json"]);
    assert_eq!(state.read("missing").unwrap(), None);

    // Writing over a file another process has open: readers keep the old
    // content (a new inode), never a torn one.
    let held = std::fs::read(state.file("a.json")).unwrap();
    state.write_atomic("a.json", b"three").unwrap();
    assert_eq!(held, b"two");
    assert_eq!(state.read("a.json").unwrap().unwrap(), b"three");

    state.write_json("j.json", &vec![1, 2, 3]).unwrap();
    let v: Vec<u32> = state.read_json("j.json").unwrap().unwrap();
    assert_eq!(v, [1, 2, 3]);
    std::fs::write(state.file("bad.json"), b"{").unwrap();
    let e = state.read_json::<Vec<u32>>("bad.json").unwrap_err();
    assert!(matches!(e, ApplyError::Corrupt { .. }), "{e}");
}

#[test]
fn unsafe_directories_are_refused() {
    let base = target_profile_dir()
        .join("txn-tests")
        .join(format!("unsafe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();

    let writable = base.join("world-writable");
    std::fs::create_dir(&writable).unwrap();
    std::fs::set_permissions(&writable, std::fs::Permissions::from_mode(0o777)).unwrap();
    let e = StateDir::open(&writable).unwrap_err();
    assert_eq!(e.exit_code(), 40, "{e}");

    let group = base.join("group-writable");
    std::fs::create_dir(&group).unwrap();
    std::fs::set_permissions(&group, std::fs::Permissions::from_mode(0o770)).unwrap();
    assert_eq!(StateDir::open(&group).unwrap_err().exit_code(), 40);

    // Running as root: a directory owned by someone else is refused.
    let foreign = base.join("not-root");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
    assert_eq!(
        nftguard::txn::state::effective_uid(),
        Some(0),
        "run as root"
    );
    assert_eq!(StateDir::open(&foreign).unwrap_err().exit_code(), 40);

    let link = base.join("link");
    std::os::unix::fs::symlink(state_dir("link-target").path(), &link).unwrap();
    assert_eq!(StateDir::open(&link).unwrap_err().exit_code(), 40);

    let file = base.join("file");
    std::fs::write(&file, b"").unwrap();
    assert_eq!(StateDir::open(&file).unwrap_err().exit_code(), 40);

    // Missing parents are created, all 0700.
    let nested = base.join("a/b/c");
    StateDir::open(&nested).unwrap();
    assert_eq!(std::fs::metadata(&nested).unwrap().mode() & 0o7777, 0o700);
}

#[test]
fn a_second_holder_gets_exit_61_naming_the_pid() {
    let state = state_dir("lock");
    let held = StateLock::acquire(&state).unwrap();
    let e = StateLock::acquire(&state).unwrap_err();
    match &e {
        ApplyError::Locked { pid, .. } => assert_eq!(*pid, Some(std::process::id())),
        other => panic!("{other}"),
    }
    assert_eq!(e.exit_code(), 61);
    assert!(e
        .to_string()
        .contains(&format!("pid {}", std::process::id())));

    // Another process is refused too (flock is per open file, and
    // `flock -n` exits 1 when the lock is taken).
    let out = std::process::Command::new("flock")
        .args(["-n", state.file("lock").to_str().unwrap(), "true"])
        .status()
        .unwrap();
    assert!(!out.success());

    drop(held);
    let again = StateLock::acquire(&state).unwrap();
    drop(again);
    // A holder that dies (here: `flock` killed) releases the lock. `-o`:
    // its `sleep` child does not inherit the locked descriptor.
    let mut child = std::process::Command::new("flock")
        .args(["-o", state.file("lock").to_str().unwrap(), "sleep", "30"])
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while StateLock::acquire(&state).is_ok() {
        assert!(
            std::time::Instant::now() < until,
            "flock never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match StateLock::acquire(&state) {
            Ok(_) => break,
            Err(e) => {
                assert_eq!(e.exit_code(), 61);
                assert!(std::time::Instant::now() < until, "lock never released");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
}

#[test]
fn atomic_write_replaces_a_stale_temporary_file() {
    let state = state_dir("stale-temp");
    // Temporary files a killed writer with this PID would have left, for
    // every counter value the writes of this test process can reach.
    for n in 0..1024 {
        let stale = state
            .path()
            .join(format!(".f.tmp.{}.{n}", std::process::id()));
        std::fs::write(&stale, b"stale").unwrap();
        std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    state.write_atomic("f", b"new").unwrap();
    assert_eq!(state.read("f").unwrap().unwrap(), b"new");
    let f = std::fs::metadata(state.file("f")).unwrap();
    assert_eq!(f.mode() & 0o7777, 0o600);
}
