//! Each profile compiled, committed in a network namespace and exercised
//! with real TCP traffic from two client namespaces over veth pairs, IPv4
//! and IPv6: allowed ports connect, the others time out, the per-source SSH
//! limit trips for one source while the other still connects.
//!
//! Topology (names unique per test): server namespace S with `va`
//! (10.91.1.1, fd91:1::1) ↔ client A `eth0` (10.91.1.2, fd91:1::2) and `vb`
//! (10.91.2.1, fd91:2::1) ↔ client B `eth0` (10.91.2.2, fd91:2::2). All
//! three namespaces are deleted when the test ends, pass or fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod plan_common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use nftguard::engine::{DumpFilter, GenCheck, Ruleset};
use nftguard::netlink::{enter_netns, Socket};
use nftguard::plan::{self, ProfileName, ProfileParams, Selection};
use nftguard::policy::IpNet;

/// How long a dropped SYN is waited for: enough for a veth round trip,
/// short enough to keep the suite quick. Not an assertion on time.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(700);

static NEXT: AtomicU32 = AtomicU32::new(0);

struct Lab {
    server: String,
    a: String,
    b: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("running ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Lab {
    fn new() -> Lab {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let id = format!("{}x{n}", std::process::id());
        let lab = Lab {
            server: format!("ngS{id}"),
            a: format!("ngA{id}"),
            b: format!("ngB{id}"),
        };
        for ns in [&lab.server, &lab.a, &lab.b] {
            ip(&["netns", "add", ns]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        for (dev, client, net) in [("va", &lab.a, 1), ("vb", &lab.b, 2)] {
            ip(&[
                "-n",
                &lab.server,
                "link",
                "add",
                dev,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                client,
            ]);
            let s4 = format!("10.91.{net}.1/24");
            let s6 = format!("fd91:{net}::1/64");
            let c4 = format!("10.91.{net}.2/24");
            let c6 = format!("fd91:{net}::2/64");
            ip(&["-n", &lab.server, "addr", "add", &s4, "dev", dev]);
            ip(&["-n", &lab.server, "addr", "add", &s6, "dev", dev, "nodad"]);
            ip(&["-n", client, "addr", "add", &c4, "dev", "eth0"]);
            ip(&["-n", client, "addr", "add", &c6, "dev", "eth0", "nodad"]);
            ip(&["-n", &lab.server, "link", "set", dev, "up"]);
            ip(&["-n", client, "link", "set", "eth0", "up"]);
        }
        lab
    }

    fn path(ns: &str) -> String {
        format!("/run/netns/{ns}")
    }

    /// Runs `f` on a thread inside namespace `ns`.
    fn within<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
        let p = Lab::path(ns);
        thread::spawn(move || {
            enter_netns(&p).unwrap();
            f()
        })
        .join()
        .unwrap()
    }

    /// TCP listeners on `ports` (IPv4 and IPv6) in namespace `ns`,
    /// accepting until the process ends.
    fn listen(ns: &str, ports: &[u16]) {
        for &port in ports {
            let p = Lab::path(ns);
            let (tx, rx) = std::sync::mpsc::channel();
            thread::spawn(move || {
                enter_netns(&p).unwrap();
                // `[::]` with IPV6_V6ONLY off (Linux default): IPv4 too.
                let l = TcpListener::bind(("::", port)).unwrap();
                tx.send(()).unwrap();
                for c in l.incoming() {
                    drop(c);
                }
            });
            rx.recv().unwrap();
        }
    }

    /// Commits the plan for `selection` in the server namespace.
    fn apply(&self, selection: Selection, params: ProfileParams) -> plan::Plan {
        Lab::within(&self.server, move || {
            let mut s = Socket::new().unwrap();
            let live = Ruleset::dump(&mut s, &DumpFilter::all()).unwrap();
            let mut req = plan_common::request(selection);
            req.params = params;
            let b = plan::build(
                &req,
                &plan_common::plain_audit(),
                &live,
                &plan_common::fixed_source(),
            )
            .unwrap();
            b.transaction
                .commit(&mut s, GenCheck::Expect(b.plan.base_genid))
                .unwrap();
            b.plan
        })
    }

    /// Tries every `(port, address)` from namespace `ns` in parallel;
    /// returns whether each connected.
    fn probe(ns: &str, targets: &[(&str, u16)]) -> Vec<bool> {
        let handles: Vec<_> = targets
            .iter()
            .map(|(addr, port)| {
                let p = Lab::path(ns);
                let sa: SocketAddr = if addr.contains(':') {
                    format!("[{addr}]:{port}").parse().unwrap()
                } else {
                    format!("{addr}:{port}").parse().unwrap()
                };
                thread::spawn(move || {
                    enter_netns(&p).unwrap();
                    TcpStream::connect_timeout(&sa, CONNECT_TIMEOUT).is_ok()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    }

    fn connects(ns: &str, addr: &str, port: u16) -> bool {
        Lab::probe(ns, &[(addr, port)])[0]
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.server, &self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

const S_A4: &str = "10.91.1.1";
const S_A6: &str = "fd91:1::1";
const S_B4: &str = "10.91.2.1";
const S_B6: &str = "fd91:2::1";

#[test]
fn public_web_server_answers_alike_on_ipv4_and_ipv6() {
    let lab = Lab::new();
    Lab::listen(&lab.server, &[22, 80, 443, 8080]);
    // Before: everything open.
    assert_eq!(
        Lab::probe(&lab.a, &[(S_A4, 8080), (S_A6, 8080)]),
        [true, true]
    );
    let plan = lab.apply(
        Selection::Profile(ProfileName::PublicWebServer),
        ProfileParams::default(),
    );
    assert_eq!(plan.ssh_port, 22);
    let targets = [
        (S_A4, 22),
        (S_A4, 80),
        (S_A4, 443),
        (S_A4, 8080),
        (S_A6, 22),
        (S_A6, 80),
        (S_A6, 443),
        (S_A6, 8080),
    ];
    let got = Lab::probe(&lab.a, &targets);
    assert_eq!(
        got,
        [true, true, true, false, true, true, true, false],
        "{targets:?}"
    );
    // Established sessions keep working and loopback is open.
    assert!(Lab::within(&lab.server, || TcpStream::connect_timeout(
        &"127.0.0.1:8080".parse().unwrap(),
        CONNECT_TIMEOUT
    )
    .is_ok()));
}

#[test]
fn bastion_ssh_limit_is_per_source() {
    let lab = Lab::new();
    Lab::listen(&lab.server, &[22, 80]);
    lab.apply(
        Selection::Profile(ProfileName::BastionHost),
        ProfileParams::default(),
    );
    assert_eq!(
        Lab::probe(&lab.a, &[(S_A4, 80), (S_A6, 80)]),
        [false, false]
    );
    for (addr_a, addr_b) in [(S_A4, S_B4), (S_A6, S_B6)] {
        // Client A connects until its own bucket (5/minute burst 10) is empty.
        let mut ok = 0;
        let mut tripped = false;
        for _ in 0..40 {
            if Lab::connects(&lab.a, addr_a, 22) {
                ok += 1;
            } else {
                tripped = true;
                break;
            }
        }
        assert!(
            tripped,
            "{addr_a}: the per-source limit never tripped ({ok} connections)"
        );
        assert!(ok >= 5, "{addr_a}: only {ok} connections before the limit");
        // Client B has a bucket of its own.
        assert!(
            Lab::connects(&lab.b, addr_b, 22),
            "{addr_b}: second source blocked"
        );
        assert!(
            !Lab::connects(&lab.a, addr_a, 22),
            "{addr_a}: limit did not hold"
        );
    }
}

#[test]
fn internal_database_restricts_by_subnet() {
    let lab = Lab::new();
    Lab::listen(&lab.server, &[22, 3306, 5432]);
    let params = ProfileParams {
        mgmt_subnet: Some(IpNet::parse("10.91.1.0/24").unwrap()),
        app_subnet: Some(IpNet::parse("10.91.2.0/24").unwrap()),
        ..ProfileParams::default()
    };
    lab.apply(Selection::Profile(ProfileName::InternalDatabase), params);
    assert_eq!(
        Lab::probe(
            &lab.a,
            &[(S_A4, 22), (S_A4, 3306), (S_A4, 5432), (S_A6, 22)]
        ),
        [true, false, false, false]
    );
    assert_eq!(
        Lab::probe(
            &lab.b,
            &[(S_B4, 22), (S_B4, 3306), (S_B4, 5432), (S_B6, 3306)]
        ),
        [false, true, false, false]
    );
}

#[test]
fn zero_trust_node_limits_outbound_too() {
    let lab = Lab::new();
    Lab::listen(&lab.server, &[22, 80]);
    Lab::listen(&lab.a, &[443, 8443]);
    let params = ProfileParams {
        mgmt_subnet: Some(IpNet::parse("10.91.1.0/24").unwrap()),
        ..ProfileParams::default()
    };
    lab.apply(Selection::Profile(ProfileName::ZeroTrustNode), params);
    assert_eq!(Lab::probe(&lab.a, &[(S_A4, 22), (S_A4, 80)]), [true, false]);
    assert_eq!(Lab::probe(&lab.b, &[(S_B4, 22)]), [false]);
    // Outbound: 443 allowed, 8443 not, IPv4 and IPv6 alike.
    assert_eq!(
        Lab::probe(
            &lab.server,
            &[
                ("10.91.1.2", 443),
                ("10.91.1.2", 8443),
                ("fd91:1::2", 443),
                ("fd91:1::2", 8443)
            ]
        ),
        [true, false, true, false]
    );
}

#[test]
fn ports_list_opens_exactly_those_ports() {
    let lab = Lab::new();
    Lab::listen(&lab.server, &[22, 8000, 8050, 8101, 9000]);
    let ports = plan::parse_ports("8000-8100/tcp,9000").unwrap();
    lab.apply(Selection::Ports(ports), ProfileParams::default());
    let got = Lab::probe(
        &lab.b,
        &[
            (S_B4, 22),
            (S_B4, 8000),
            (S_B4, 8050),
            (S_B4, 8101),
            (S_B4, 9000),
            (S_B6, 8050),
            (S_B6, 8101),
        ],
    );
    assert_eq!(got, [true, true, true, false, true, true, false]);
}
