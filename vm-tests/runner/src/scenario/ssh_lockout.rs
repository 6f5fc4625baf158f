//! `ssh-lockout`: the host reaches the guest's sshd through qemu's port
//! forwarding and, over SSH, applies a policy that locks itself out (SSH
//! only from a management subnet the host is not in) without confirming
//! it. New SSH sessions must then fail, and work again within the confirm
//! timeout + 10 s (the rollback timer). Then a good policy is applied and
//! confirmed from a *new* SSH session.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::system::{Check, HostSide, Spec};
use crate::qemu::Running;

pub static SPEC: Spec = Spec {
    name: "ssh-lockout",
    prelude: "",
    script: include_str!("../../guest/ssh-lockout.sh"),
    reboots: false,
    host: Some(drive),
};

/// Seconds until the lockout policy's rollback fires.
const CONFIRM_TIMEOUT: u64 = 60;
/// How long one SSH attempt may take: under TCG on a busy host the key
/// exchange alone takes seconds. An attempt made while SSH is dropped
/// keeps retrying its SYN, so it succeeds as soon as the rollback lands.
const ATTEMPT: Duration = Duration::from_secs(20);
/// A subnet the host (10.0.2.2 as the guest sees it) is not in.
const FOREIGN_MGMT: &str = "192.0.2.0/24";

/// One `ssh` run: exit code (None when killed at `limit`) and output.
fn ssh(h: &HostSide, cmd: &str, limit: Duration) -> (Option<i32>, String) {
    let mut c = Command::new("ssh");
    c.arg("-i")
        .arg(&h.ssh_key)
        .args(["-p", &h.ssh_port.to_string()])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=30",
            "-o",
            "LogLevel=ERROR",
            "root@127.0.0.1",
            cmd,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let Ok(mut child) = c.spawn() else {
        return (None, "could not start ssh".into());
    };
    let end = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st.code(),
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return (None, format!("killed after {} s", limit.as_secs()));
            }
        }
    };
    let out = child.wait_with_output().map_or_else(
        |e| e.to_string(),
        |o| {
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )
        },
    );
    (status, out)
}

struct Driver<'a> {
    vm: &'a mut Running,
    h: &'a HostSide,
    checks: &'a mut Vec<Check>,
}

impl Driver<'_> {
    fn check(&mut self, ok: bool, what: String) {
        let line = format!("CHECK {} {what} (host)", if ok { "ok" } else { "FAIL" });
        println!("  [{:7.1} s] host: {line}", self.vm.elapsed().as_secs_f64());
        self.vm.note(&line);
        self.checks.push(Check {
            ok,
            what: format!("{what} (host)"),
        });
    }

    /// Runs `cmd` over a new SSH session and logs it.
    fn run(&mut self, cmd: &str, limit: Duration) -> (Option<i32>, String) {
        let (rc, out) = ssh(self.h, cmd, limit);
        self.vm.note(&format!(
            "ssh `{cmd}` -> {}",
            rc.map_or("no answer".into(), |r| format!("exit {r}"))
        ));
        for l in out.lines().take(60) {
            self.vm.note(&format!("  | {l}"));
        }
        (rc, out)
    }

    /// `nftguard --json plan ARGS` over SSH; the approval token.
    fn plan(&mut self, args: &str) -> Option<String> {
        let (rc, out) = self.run(
            &format!("nftguard --json plan {args}"),
            Duration::from_secs(180),
        );
        let token = serde_json::from_str::<serde_json::Value>(&out)
            .ok()
            .and_then(|v| v["approval_token"].as_str().map(String::from));
        self.check(
            rc == Some(0) && token.is_some(),
            format!("plan {args} over SSH gives a token"),
        );
        token
    }

    /// Polls new TCP connections to the forwarded port until the guest's
    /// sshd answers with its banner, or `within` passes; how long it took.
    /// (A cheap probe: a whole SSH session costs the loaded guest seconds.)
    fn wait_for_banner(&mut self, within: Duration) -> Option<Duration> {
        let start = Instant::now();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.h.ssh_port));
        while start.elapsed() < within {
            let t = Instant::now();
            if let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 4];
                if std::io::Read::read_exact(&mut s, &mut buf).is_ok() && &buf == b"SSH-" {
                    return Some(start.elapsed());
                }
            }
            let spent = t.elapsed();
            if spent < Duration::from_secs(1) {
                std::thread::sleep(Duration::from_secs(1) - spent);
            }
        }
        None
    }

    /// Polls new SSH sessions until one works or `within` passes; how long
    /// it took.
    fn wait_for_ssh(&mut self, within: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < within {
            let t = Instant::now();
            if ssh(self.h, "true", ATTEMPT).0 == Some(0) {
                return Some(start.elapsed());
            }
            let spent = t.elapsed();
            if spent < Duration::from_secs(1) {
                std::thread::sleep(Duration::from_secs(1) - spent);
            }
        }
        None
    }
}

fn drive(vm: &mut Running, h: &HostSide, checks: &mut Vec<Check>) {
    let mut d = Driver { vm, h, checks };
    let up = d.wait_for_ssh(Duration::from_secs(180));
    d.check(
        up.is_some(),
        "SSH from the host works before any apply".into(),
    );
    if up.is_none() {
        return;
    }
    let (_, env) = d.run("echo $SSH_CONNECTION", Duration::from_secs(30));
    d.vm.note(&format!("operator session: {}", env.trim()));

    // 1. A policy that locks the operator out, not confirmed.
    let Some(token) = d.plan(&format!(
        "--profile internal-database --mgmt-subnet {FOREIGN_MGMT}"
    )) else {
        return;
    };
    let (rc, _) = d.run(
        &format!("nftguard apply --approved-plan {token} --confirm-timeout {CONFIRM_TIMEOUT}"),
        Duration::from_secs(180),
    );
    let applied = Instant::now();
    d.check(
        rc == Some(0),
        format!("lockout policy applied over SSH (exit {rc:?})"),
    );
    let (rc, _) = d.run("true", ATTEMPT);
    d.check(
        rc != Some(0),
        "a new SSH session fails under the lockout policy".into(),
    );
    let limit = Duration::from_secs(CONFIRM_TIMEOUT + 10);
    let back = d.wait_for_banner(limit + Duration::from_secs(180));
    let since_apply = applied.elapsed();
    match back {
        Some(_) => d.check(
            since_apply <= limit,
            format!(
                "sshd reachable again {:.1} s after the apply (limit: {} s = timeout + 10 s)",
                since_apply.as_secs_f64(),
                limit.as_secs()
            ),
        ),
        None => {
            d.check(
                false,
                format!(
                    "sshd not reachable again within {} s",
                    limit.as_secs() + 180
                ),
            );
            return;
        }
    }
    let again = d.wait_for_ssh(Duration::from_secs(120));
    d.check(
        again.is_some(),
        "a new SSH session works after the rollback".into(),
    );
    d.run(
        "journalctl --no-pager -o short-monotonic -u 'nftguard-rollback-*'",
        Duration::from_secs(180),
    );
    let (rc, out) = d.run("nftguard --json status", Duration::from_secs(180));
    let pending = serde_json::from_str::<serde_json::Value>(&out)
        .ok()
        .and_then(|v| v["rollback"]["pending"].as_bool());
    d.check(
        rc == Some(0) && pending == Some(false),
        "status after the rollback: nothing pending".into(),
    );
    let (rc, _) = d.run("nft list table inet nftguard", Duration::from_secs(30));
    d.check(rc != Some(0), "the lockout table is gone".into());

    // 2. A good policy, confirmed from a new session.
    let Some(token) = d.plan("--profile bastion-host") else {
        return;
    };
    let (rc, _) = d.run(
        &format!("nftguard apply --approved-plan {token} --confirm-timeout 120"),
        Duration::from_secs(180),
    );
    d.check(
        rc == Some(0),
        format!("good policy applied over SSH (exit {rc:?})"),
    );
    let (rc, _) = d.run("nftguard confirm", Duration::from_secs(180));
    d.check(
        rc == Some(0),
        format!("`nftguard confirm` from a new SSH session (exit {rc:?})"),
    );
    let (rc, out) = d.run("nftguard --json status", Duration::from_secs(180));
    let v = serde_json::from_str::<serde_json::Value>(&out).unwrap_or_default();
    d.check(
        rc == Some(0) && v["rollback"]["pending"] == false && v["persisted_apply"].is_string(),
        "status after confirm: nothing pending, policy persisted".into(),
    );
    let (rc, _) = d.run(
        "nft list chain inet nftguard input | grep -q 'dport 22'",
        Duration::from_secs(30),
    );
    d.check(rc == Some(0), "the confirmed table allows SSH".into());
    // Over: the guest reports DONE and powers off.
    d.run(
        "echo '@@VMTEST DONE' >/dev/ttyS1; systemctl --no-block poweroff",
        Duration::from_secs(30),
    );
}
