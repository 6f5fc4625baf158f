//! The engine works for an unprivileged user inside a user + network
//! namespace (where the kernel allows those).
//!
//! Run as root, the test re-executes its own binary as user `nobody` under
//! `unshare --user --map-root-user --net` (util-linux); the child (an
//! ignored test, selected by name) commits a table, a chain and a rule and
//! dumps them back. When user namespaces are not allowed the test says so
//! on stdout and stderr and returns: it is skipped, never silently passed.
//! `CLONE_NEWUSER` needs a single-threaded process, which is why a fresh
//! process is used instead of a thread of this test binary.

// Test code: failing loudly on unexpected errors is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nftguard::engine::{get_generation, DumpFilter, GenCheck, Ruleset, Transaction};
use nftguard::netlink::Socket;
use nftguard::nft::expr::{Cmp, CmpOp, Meta, MetaKey, Payload, PayloadBase};
use nftguard::nft::{Chain, ChainPolicy, Family, Hook, Rule, Table};

const CHILD_ENV: &str = "NFTGUARD_UNPRIVILEGED_CHILD";
const CHILD_TEST: &str = "unprivileged_child_commits_and_dumps";
const MARKER: &str = "UNPRIVILEGED-ROUNDTRIP-OK";

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Why user namespaces cannot be used here, if they cannot.
fn userns_blocked() -> Option<String> {
    match read_trimmed("/proc/sys/user/max_user_namespaces").as_deref() {
        Some("0") => return Some("user.max_user_namespaces is 0".into()),
        None => return Some("/proc/sys/user/max_user_namespaces is missing".into()),
        _ => {}
    }
    // Debian/Ubuntu kernel patch.
    if read_trimmed("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return Some("kernel.unprivileged_userns_clone is 0".into());
    }
    // Ubuntu 23.10+ AppArmor restriction.
    if read_trimmed("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref()
        == Some("1")
    {
        return Some("kernel.apparmor_restrict_unprivileged_userns is 1".into());
    }
    None
}

fn id_of(flag: &str) -> String {
    let out = Command::new("id")
        .args([flag, "nobody"])
        .output()
        .expect("running id");
    assert!(out.status.success(), "there is no user `nobody`");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `setpriv` (util-linux) drops to `nobody`, then `unshare` creates the
/// namespaces as that user.
fn as_nobody_in_userns(program: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid",
        &id_of("-u"),
        "--regid",
        &id_of("-g"),
        "--clear-groups",
        "--",
        "unshare",
        "--user",
        "--map-root-user",
        "--net",
    ]);
    c.arg(program).args(args);
    c
}

fn skip(reason: &str) {
    println!("SKIPPED unprivileged test: {reason}");
    eprintln!("SKIPPED unprivileged test: {reason}");
}

/// A directory `nobody` can enter, holding a copy of this test binary (the
/// build directory may not be readable by other users).
struct Staged {
    dir: PathBuf,
    exe: PathBuf,
}

impl Staged {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("nftguard-unpriv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let exe = dir.join("unprivileged-test");
        std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        Staged { dir, exe }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn engine_works_unprivileged_in_user_and_net_namespace() {
    if let Some(reason) = userns_blocked() {
        return skip(&reason);
    }
    if !running_as_root() {
        return skip("not running as root: cannot switch to user `nobody` to test");
    }
    let staged = Staged::new();

    // Probe: can `nobody` create a user namespace at all here (seccomp,
    // LSM or container policies can forbid it regardless of sysctls)?
    let probe = as_nobody_in_userns(Path::new("true"), &[])
        .current_dir(&staged.dir)
        .output()
        .expect("running setpriv/unshare (install util-linux)");
    if !probe.status.success() {
        return skip(&format!(
            "unprivileged user namespaces are not allowed here: {}",
            String::from_utf8_lossy(&probe.stderr).trim()
        ));
    }

    let out = as_nobody_in_userns(
        &staged.exe,
        &[
            "--exact",
            CHILD_TEST,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ],
    )
    .env(CHILD_ENV, "1")
    .current_dir(&staged.dir)
    .output()
    .expect("running the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(MARKER),
        "the unprivileged child failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let line = stdout.lines().find(|l| l.contains(MARKER)).unwrap();
    println!("{line}");
}

fn running_as_root() -> bool {
    // The effective uid from /proc (no `unsafe` libc call in tests).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// The child: runs only when launched by the test above, as `nobody`
/// mapped to root inside a new user namespace, in a new network namespace.
#[test]
#[ignore = "launched by engine_works_unprivileged_in_user_and_net_namespace"]
fn unprivileged_child_commits_and_dumps() {
    assert!(
        std::env::var_os(CHILD_ENV).is_some(),
        "this is the child of engine_works_unprivileged_in_user_and_net_namespace"
    );
    // Prove we are unprivileged: root here is a non-root user outside.
    let uid_map = read_trimmed("/proc/self/uid_map").unwrap();
    let outside: u32 = uid_map.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_ne!(
        outside, 0,
        "not in an unprivileged user namespace: {uid_map}"
    );

    let fam = Family::Inet;
    let mut s = Socket::new().expect("netlink socket in the user namespace");
    let mut tx = Transaction::new();
    tx.add_table(Table::new(fam, "unpriv"));
    tx.add_chain(
        Chain::base(fam, "unpriv", "input", Hook::Input, 0).with_policy(ChainPolicy::Drop),
    );
    let rule = Rule::new(fam, "unpriv", "input")
        .push(Meta::load(MetaKey::L4proto, 1))
        .push(Cmp::new(1, CmpOp::Eq, vec![6]))
        .push(Payload::load(PayloadBase::Transport, 2, 2, 1))
        .push(Cmp::new(1, CmpOp::Eq, 22u16.to_be_bytes().to_vec()))
        .counter()
        .accept();
    tx.add_rule(rule.clone());
    let g = get_generation(&mut s).expect("generation").id;
    let done = tx
        .commit(&mut s, GenCheck::Expect(g))
        .expect("unprivileged commit");
    assert_eq!(done.genid, g + 1);

    let rs = Ruleset::dump(&mut s, &DumpFilter::table(fam, "unpriv")).expect("dump");
    assert_eq!(rs.tables.len(), 1);
    assert_eq!(rs.chains.len(), 1);
    assert_eq!(rs.chains[0].policy, Some(ChainPolicy::Drop));
    assert_eq!(rs.rules.len(), 1);
    assert_eq!(rs.rules[0].exprs, rule.exprs);
    println!(
        "{MARKER} uid_map=[{uid_map}] genid={} handles={:?} rcvbuf={}",
        done.genid,
        done.handles,
        s.rcvbuf()
    );
}
