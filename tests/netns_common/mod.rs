//! Shared by the namespace tests that need real traffic: named network
//! namespaces (so that the binary, its rollback watchdog and `ip netns
//! exec` find them), veth pairs, listeners and TCP probes run from test
//! threads moved into a namespace.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Runs a command and asserts it succeeds.
pub fn run(args: &[&str]) -> String {
    let o = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A named network namespace, deleted on drop.
pub struct Netns {
    /// Its name under /run/netns.
    pub name: String,
}

impl Netns {
    /// `ip netns add nfg-<tag>-<pid>` with `lo` up.
    pub fn new(tag: &str) -> Netns {
        let name = format!("nfg-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        run(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        ns.exec(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    /// `/run/netns/NAME`.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// `ip netns exec NAME args…`, asserting success; stdout.
    pub fn exec(&self, args: &[&str]) -> String {
        let mut all = vec!["ip", "netns", "exec", &self.name];
        all.extend_from_slice(args);
        run(&all)
    }

    /// `ip netns exec NAME args…`, the raw output.
    pub fn exec_output(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A veth pair `a_if` in `a` (address `a_addr`, CIDR) and `b_if` in `b`.
pub fn veth(a: &Netns, a_if: &str, a_addr: &str, b: &Netns, b_if: &str, b_addr: &str) {
    a.exec(&[
        "ip", "link", "add", a_if, "type", "veth", "peer", "name", b_if,
    ]);
    a.exec(&["ip", "link", "set", b_if, "netns", &b.name]);
    a.exec(&["ip", "addr", "add", a_addr, "dev", a_if]);
    b.exec(&["ip", "addr", "add", b_addr, "dev", b_if]);
    a.exec(&["ip", "link", "set", a_if, "up"]);
    b.exec(&["ip", "link", "set", b_if, "up"]);
}

/// Runs `f` on a new thread inside namespace `ns` and returns its result.
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        nftguard::netlink::enter_netns(&path).unwrap();
        f()
    })
    .join()
    .unwrap()
}

/// A TCP listener on `addr` inside `ns` that accepts every connection and
/// closes it once the client has (so the client side ends in TIME_WAIT
/// and never reuses the 4-tuple while the server still remembers it: a
/// SYN meeting a server TIME_WAIT can be answered with a bare ACK and look
/// like a dropped SYN), on a thread that lives as long as the test process.
pub fn listen(ns: &str, addr: &str) {
    let path = format!("/run/netns/{ns}");
    let addr: SocketAddr = addr.parse().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        nftguard::netlink::enter_netns(&path).unwrap();
        let l = TcpListener::bind(addr).unwrap();
        tx.send(()).unwrap();
        for mut c in l.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::Read;
                let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = c.read(&mut [0u8; 1]);
            });
        }
    });
    rx.recv().unwrap();
}

/// Whether a TCP connection from `ns` to `addr` is established within
/// `timeout` (a dropped SYN times out; a missing listener is refused).
pub fn connects(ns: &str, addr: &str, timeout: Duration) -> bool {
    let addr: SocketAddr = addr.parse().unwrap();
    in_netns(ns, move || {
        TcpStream::connect_timeout(&addr, timeout).is_ok()
    })
}

/// A private state directory under the target directory.
pub fn state_dir(tag: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("state-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Runs the nftguard binary with `--netns NS --state-dir DIR args…`.
pub fn nftguard(ns: &Netns, state: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nftguard"))
        .arg("--netns")
        .arg(ns.path())
        .arg("--state-dir")
        .arg(state)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Stdout as JSON (panics with both streams otherwise).
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Asserts exit code `code`, showing both streams otherwise.
pub fn expect_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A UDP echo server on `addr` inside `ns` (a thread living as long as
/// the test process).
pub fn udp_echo(ns: &str, addr: &str) {
    let path = format!("/run/netns/{ns}");
    let addr: SocketAddr = addr.parse().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        nftguard::netlink::enter_netns(&path).unwrap();
        let s = UdpSocket::bind(addr).unwrap();
        tx.send(()).unwrap();
        let mut buf = [0u8; 64];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let _ = s.send_to(&buf[..n], from);
        }
    });
    rx.recv().unwrap();
}

/// One UDP probe from a fresh socket (a new source port, so a new
/// conntrack entry that the ruleset judges): whether the echo came back
/// within `timeout`. Call from a thread already inside the namespace.
pub fn udp_answered(addr: SocketAddr, timeout: Duration) -> bool {
    let s = UdpSocket::bind("0.0.0.0:0").unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    if s.send_to(b"probe", addr).is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    matches!(s.recv_from(&mut buf), Ok((5, from)) if from == addr)
}
