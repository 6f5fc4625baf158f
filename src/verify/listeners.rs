//! The sockets that wait for traffic from the network: listening TCP
//! sockets and unconnected bound UDP sockets, from `NETLINK_SOCK_DIAG`
//! (what `ss -ltun` shows), with the process that holds each one.
//!
//! sock_diag answers for the network namespace the diag socket was opened
//! in, which is the calling thread's: call from a thread inside the
//! namespace being verified.

use std::collections::BTreeMap;
use std::fs;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::netlink::dump::read_dump;
use crate::netlink::sock_diag::{
    InetDiagRequest, InetSocket, NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY,
};
use crate::netlink::Socket;

/// `TCP_CLOSE` (7): the state an unconnected UDP socket reports.
const UDP_UNCONNECTED: u8 = 7;

/// The layer-4 protocol of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// `tcp` or `udp`.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }

    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
        }
    }
}

/// One socket waiting for traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    /// TCP or UDP.
    pub proto: Proto,
    /// Bound address (unspecified: every address).
    pub address: IpAddr,
    /// Port.
    pub port: u16,
    /// Bound interface index (0: any).
    pub interface: u32,
    /// `IPV6_V6ONLY` is unknown to sock_diag: an IPv6 socket bound to `::`
    /// may also receive IPv4 (the default `net.ipv6.bindv6only = 0`).
    pub dual_stack: bool,
    /// The processes holding it, as `comm[pid]` (empty when not found).
    pub processes: Vec<String>,
}

impl Listener {
    /// Whether it can receive packets from outside the host: not bound to
    /// a loopback address.
    pub fn reachable_from_network(&self) -> bool {
        !self.address.is_loopback()
    }
}

/// Lists the listening TCP and unconnected UDP sockets of the calling
/// thread's network namespace, IPv4 and IPv6, with their processes.
pub fn listeners() -> Result<Vec<Listener>> {
    let mut sock = Socket::with_protocol(NETLINK_SOCK_DIAG)?;
    let owners = socket_owners();
    let bindv6only = fs::read_to_string("/proc/sys/net/ipv6/bindv6only")
        .map(|t| t.trim() == "1")
        .unwrap_or(false);
    let mut out = Vec::new();
    for proto in [Proto::Tcp, Proto::Udp] {
        for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
            let req = InetDiagRequest {
                family,
                protocol: proto.number(),
                states: match proto {
                    Proto::Tcp => 1 << crate::netlink::sock_diag::TCP_LISTEN,
                    Proto::Udp => 1 << UDP_UNCONNECTED,
                },
            };
            for s in dump_stable(&mut sock, &req)? {
                if proto == Proto::Udp && !s.remote.is_unspecified() {
                    continue; // connected: a client socket, not a service
                }
                let processes = owners.get(&s.inode).cloned().unwrap_or_default();
                out.push(Listener {
                    proto,
                    dual_stack: s.local.is_ipv6() && s.local.is_unspecified() && !bindv6only,
                    address: s.local,
                    port: s.local_port,
                    interface: s.interface,
                    processes,
                });
            }
        }
    }
    out.sort_by(|a, b| {
        (a.proto, a.port, a.address.is_ipv6(), a.address).cmp(&(
            b.proto,
            b.port,
            b.address.is_ipv6(),
            b.address,
        ))
    });
    out.dedup();
    Ok(out)
}

/// A socket list is not versioned like a ruleset: an interrupted dump is
/// simply repeated a few times.
fn dump_stable(sock: &mut Socket, req: &InetDiagRequest) -> Result<Vec<InetSocket>> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut part = Vec::new();
        let seq = sock.next_seq(1);
        sock.send(&req.message(seq))?;
        let complete = read_dump(sock, seq, "listing sockets (sock_diag)", |m| {
            if m.header.kind == SOCK_DIAG_BY_FAMILY {
                part.push(InetSocket::parse(m.payload)?);
            }
            Ok(())
        })?;
        if complete || attempts >= 4 {
            return Ok(part);
        }
    }
}

/// socket inode → `comm[pid]` of every process holding it, from
/// `/proc/PID/fd`. Processes that vanish while being read are skipped.
pub fn socket_owners() -> BTreeMap<u32, Vec<String>> {
    let mut out: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let Ok(rd) = fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let comm = fs::read_to_string(e.path().join("comm"))
            .map(|c| c.trim_end().to_string())
            .unwrap_or_default();
        let Ok(fds) = fs::read_dir(e.path().join("fd")) else {
            continue;
        };
        for fd in fds.filter_map(|f| f.ok()) {
            let Some(inode) = fs::read_link(fd.path()).ok().and_then(|t| {
                let t = t.to_str()?.to_string();
                t.strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse::<u32>()
                    .ok()
            }) else {
                continue;
            };
            let who = format!("{comm}[{pid}]");
            let list = out.entry(inode).or_default();
            if !list.contains(&who) {
                list.push(who);
            }
        }
    }
    out
}
