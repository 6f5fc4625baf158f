//! Shared harness for the audit tests.
//!
//! Real-path scenarios run the audit with `Host::default()` (the real `/`)
//! inside a throwaway root: the test thread enters a fresh network
//! namespace, then `unshare -m` builds a private root on a tmpfs (host
//! `/usr`, `/proc`, `/sys`, `/dev`, `/work` and the test binary's own
//! directory bind-mounted; a private copy of
//! `/etc`; empty `/run` and `/var`), `chroot`s into it, runs the scenario's
//! setup (real ufw, firewalld, sshd, iptables-legacy …), and re-executes
//! this test binary's ignored `audit_common::audit_child_entry` test, which
//! prints the audit JSON and exits with the audit's exit code. Nothing
//! touches the host's `/etc`, `/run` or ruleset. The synthetic root also
//! hides this machine's own `/.dockerenv`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test harness code

use std::process::Command;

use serde_json::Value;

const MARK: &str = "@@NFTGUARD-AUDIT-JSON@@";

/// The child side: runs the audit on the real paths and prints the report.
#[test]
#[ignore = "entry point re-executed inside a mount namespace by the audit tests"]
fn audit_child_entry() {
    use nftguard::detect::{audit, AuditOptions, Host};
    let mut sock = nftguard::netlink::Socket::new().expect("netfilter socket");
    let a = audit(&mut sock, &Host::default(), &AuditOptions::default()).expect("audit");
    println!("{MARK}\n{}\n{MARK}", a.to_json());
    std::process::exit(i32::from(a.exit_code()));
}

/// Whether `program` is installed (in a standard directory).
pub fn have(program: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| std::path::Path::new(d).join(program).is_file())
}

/// Skips the test with a printed reason when a program is missing.
#[macro_export]
macro_rules! require {
    ($($prog:expr => $pkg:expr),+ $(,)?) => {
        $(
            if !audit_common::have($prog) {
                eprintln!("SKIPPED: `{}` is not installed (Debian package {})", $prog, $pkg);
                return;
            }
        )+
    };
}

/// Runs `setup` (sh, `set -e`) in a fresh private root and mount namespace
/// in the calling thread's network namespace, then the audit, then
/// `teardown` (always). Returns the JSON report and the exit code.
pub fn audit_in_sandbox(setup: &str, teardown: &str) -> (Value, i32) {
    let exe = std::env::current_exe().expect("test binary path");
    let inner = format!(
        r#"set -e
{setup}
set +e
NFTGUARD_AUDIT_CHILD=1 "$SELF" --exact audit_common::audit_child_entry --ignored --nocapture --test-threads=1
rc=$?
{teardown}
exit $rc
"#
    );
    let outer = r#"set -e
mount -t tmpfs -o mode=0755 nftguard-audit "$R"
for d in usr opt work root; do
  if [ -d "/$d" ]; then mkdir "$R/$d"; mount --rbind "/$d" "$R/$d"; fi
done
for l in bin sbin lib lib64 lib32 libx32; do
  if [ -L "/$l" ]; then cp -P "/$l" "$R/$l"; elif [ -d "/$l" ]; then mkdir "$R/$l"; mount --rbind "/$l" "$R/$l"; fi
done
mkdir "$R/etc" "$R/proc" "$R/sys" "$R/dev" "$R/run" "$R/tmp" "$R/var"
cp -a /etc/. "$R/etc/"
mount --rbind /proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
mkdir -p "$R/var/lib" "$R/var/log" "$R/var/tmp" "$R/var/spool" "$R/run/lock"
ln -s ../run "$R/var/run"
ln -s ../run/lock "$R/var/lock"
if [ -d /var/lib/dbus ]; then cp -a /var/lib/dbus "$R/var/lib/"; fi
# The test binary itself, wherever the checkout lives (CI clones elsewhere
# than /work): its directory is bound at the same path inside the root.
exe_dir=$(dirname "$SELF")
mkdir -p "$R$exe_dir"
mount --bind "$exe_dir" "$R$exe_dir"
exec chroot "$R" /bin/sh -c "$INNER"
"#;
    // The mount point lives on the host's /tmp (empty: the tmpfs on it
    // exists only in the child's mount namespace); removed afterwards.
    let root = std::env::temp_dir().join(format!(
        "nftguard-audit-root-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&root).expect("sandbox mount point");
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", outer])
        .env("INNER", inner)
        .env("SELF", &exe)
        .env("R", &root)
        .output()
        .expect("running unshare");
    let _ = std::fs::remove_dir(&root);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json = stdout.split(MARK).nth(1).unwrap_or_else(|| {
        panic!(
            "no audit report; status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status
        )
    });
    let v: Value = serde_json::from_str(json.trim()).expect("audit JSON");
    (v, out.status.code().unwrap_or(-1))
}

/// A temporary directory used as a planted host root, removed on drop.
pub struct PlantedRoot(pub std::path::PathBuf);

impl PlantedRoot {
    /// A new empty root.
    pub fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("nftguard-audit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        PlantedRoot(p)
    }

    /// Writes `content` to `rel` below the root, creating directories.
    pub fn plant(&self, rel: &str, content: &str) -> &Self {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }

    /// Runs the audit with this root in the calling thread's namespace.
    pub fn audit(&self) -> (Value, i32) {
        use nftguard::detect::{audit, AuditOptions, Host};
        let mut sock = nftguard::netlink::Socket::new().unwrap();
        let a = audit(&mut sock, &Host::under(&self.0), &AuditOptions::default()).unwrap();
        let code = i32::from(a.exit_code());
        (serde_json::to_value(&a).unwrap(), code)
    }
}

impl Drop for PlantedRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a shell command in the calling thread's namespaces; panics on failure.
pub fn sh(cmd: &str) {
    let out = Command::new("sh").args(["-ec", cmd]).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `tables[]` entries as `(family, name, managed_by)`.
pub fn table_owners(v: &Value) -> Vec<(String, String, String)> {
    v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["family"].as_str().unwrap().to_string(),
                t["name"].as_str().unwrap().to_string(),
                t["managed_by"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
