//! `NETLINK_SOCK_DIAG`: listing the TCP sockets of a network namespace
//! (what `ss -ltn` shows) without parsing `/proc/net/tcp`.
//!
//! The request is `SOCK_DIAG_BY_FAMILY` with a `struct inet_diag_req_v2`
//! (`include/uapi/linux/inet_diag.h`); the kernel answers with one
//! `struct inet_diag_msg` per socket. Addresses and ports in `inet_diag_sockid`
//! are big-endian; the other integers are in host order.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::dump::read_dump;
use super::message::{NlMsgHeader, NLMSG_HDRLEN, NLM_F_DUMP, NLM_F_REQUEST};
use super::Socket;
use crate::error::{Error, Result};

/// `NETLINK_SOCK_DIAG`, the netlink protocol number to open the socket with.
pub const NETLINK_SOCK_DIAG: libc::c_int = 4;
/// `SOCK_DIAG_BY_FAMILY`, the request and reply message type.
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `TCP_LISTEN` in the kernel's TCP state numbering.
pub const TCP_LISTEN: u8 = 10;

/// Size of `struct inet_diag_sockid`.
const SOCKID_LEN: usize = 48;
/// Size of `struct inet_diag_req_v2`.
pub const REQ_V2_LEN: usize = 8 + SOCKID_LEN;
/// Size of `struct inet_diag_msg`.
pub const DIAG_MSG_LEN: usize = 4 + SOCKID_LEN + 20;

/// A `struct inet_diag_req_v2` asking for every socket of one family and
/// protocol in the given states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InetDiagRequest {
    /// `AF_INET` or `AF_INET6`.
    pub family: u8,
    /// `IPPROTO_TCP`, `IPPROTO_UDP`, …
    pub protocol: u8,
    /// Bit mask of states (`1 << TCP_LISTEN`, …).
    pub states: u32,
}

impl InetDiagRequest {
    /// Listening TCP sockets of `family`.
    pub fn tcp_listeners(family: u8) -> Self {
        InetDiagRequest {
            family,
            protocol: libc::IPPROTO_TCP as u8,
            states: 1 << TCP_LISTEN,
        }
    }

    /// Appends the 56-byte request (no extensions, any address) to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.family);
        out.push(self.protocol);
        out.push(0); // idiag_ext: no extra attributes wanted
        out.push(0); // pad
        out.extend_from_slice(&self.states.to_ne_bytes());
        out.extend_from_slice(&[0; SOCKID_LEN]); // wildcard socket id
    }

    /// The whole netlink dump request message with sequence number `seq`.
    pub fn message(&self, seq: u32) -> Vec<u8> {
        let mut out = vec![0; NLMSG_HDRLEN];
        self.emit(&mut out);
        NlMsgHeader {
            len: out.len() as u32,
            kind: SOCK_DIAG_BY_FAMILY,
            flags: NLM_F_REQUEST | NLM_F_DUMP,
            seq,
            pid: 0,
        }
        .emit(&mut out[..NLMSG_HDRLEN]);
        out
    }
}

/// One socket from a `struct inet_diag_msg` reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InetSocket {
    /// Kernel state (`TCP_LISTEN` = 10, …).
    pub state: u8,
    /// Local address.
    pub local: IpAddr,
    /// Local port.
    pub local_port: u16,
    /// Remote address (unspecified for listeners).
    pub remote: IpAddr,
    /// Remote port.
    pub remote_port: u16,
    /// Bound interface index (0: any).
    pub interface: u32,
    /// Owner's user id.
    pub uid: u32,
    /// Socket inode: `/proc/PID/fd/N` links to `socket:[inode]`.
    pub inode: u32,
}

impl InetSocket {
    /// Parses the fixed part of an `inet_diag_msg` (trailing attributes are
    /// ignored).
    pub fn parse(b: &[u8]) -> Result<Self> {
        if b.len() < DIAG_MSG_LEN {
            return Err(Error::Malformed {
                what: "inet_diag_msg",
                detail: format!("{} bytes, need {DIAG_MSG_LEN}", b.len()),
            });
        }
        let family = b[0];
        let ne32 = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let addr = |at: usize| -> Result<IpAddr> {
            let mut raw = [0u8; 16];
            raw.copy_from_slice(&b[at..at + 16]);
            match i32::from(family) {
                libc::AF_INET => Ok(IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))),
                libc::AF_INET6 => Ok(IpAddr::V6(Ipv6Addr::from(raw))),
                _ => Err(Error::Malformed {
                    what: "inet_diag_msg",
                    detail: format!("address family {family}"),
                }),
            }
        };
        // inet_diag_sockid starts at offset 4: sport, dport, src[16], dst[16],
        // if, cookie[2].
        Ok(InetSocket {
            state: b[1],
            local_port: u16::from_be_bytes([b[4], b[5]]),
            remote_port: u16::from_be_bytes([b[6], b[7]]),
            local: addr(8)?,
            remote: addr(24)?,
            interface: ne32(40),
            // after the sockid: expires 52, rqueue 56, wqueue 60, uid 64, inode 68
            uid: ne32(64),
            inode: ne32(68),
        })
    }
}

/// Lists the listening TCP sockets (IPv4 and IPv6) of the namespace the
/// `NETLINK_SOCK_DIAG` socket `sock` was opened in.
pub fn tcp_listeners(sock: &mut Socket) -> Result<Vec<InetSocket>> {
    let mut out = Vec::new();
    for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
        // A socket list is not versioned like a ruleset: an interrupted dump
        // is simply repeated a few times.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut part = Vec::new();
            let complete = dump(sock, &InetDiagRequest::tcp_listeners(family), &mut part)?;
            if complete || attempts >= 4 {
                out.extend(part);
                break;
            }
        }
    }
    Ok(out)
}

/// Runs one dump; returns `Ok(false)` when the kernel flagged it as
/// interrupted.
fn dump(sock: &mut Socket, req: &InetDiagRequest, out: &mut Vec<InetSocket>) -> Result<bool> {
    let seq = sock.next_seq(1);
    sock.send(&req.message(seq))?;
    read_dump(sock, seq, "listing sockets (sock_diag)", |m| {
        if m.header.kind == SOCK_DIAG_BY_FAMILY {
            out.push(InetSocket::parse(m.payload)?);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emits_listener_request() {
        let msg = InetDiagRequest::tcp_listeners(libc::AF_INET6 as u8).message(7);
        assert_eq!(msg.len(), NLMSG_HDRLEN + REQ_V2_LEN);
        let h = NlMsgHeader::parse(&msg).unwrap();
        assert_eq!((h.len, h.kind, h.flags, h.seq), (72, 20, 0x301, 7));
        let body = &msg[NLMSG_HDRLEN..];
        assert_eq!(&body[..4], &[10, 6, 0, 0]);
        assert_eq!(&body[4..8], &(1u32 << 10).to_ne_bytes());
        assert!(body[8..].iter().all(|b| *b == 0));
    }

    fn sample(family: u8) -> Vec<u8> {
        let mut b = vec![family, TCP_LISTEN, 0, 0];
        b.extend_from_slice(&2222u16.to_be_bytes());
        b.extend_from_slice(&0u16.to_be_bytes());
        let mut src = [0u8; 16];
        src[..4].copy_from_slice(&[127, 0, 0, 1]);
        if family == libc::AF_INET6 as u8 {
            src = Ipv6Addr::LOCALHOST.octets();
        }
        b.extend_from_slice(&src);
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&3u32.to_ne_bytes()); // if
        b.extend_from_slice(&[0xff; 8]); // cookie
        for v in [0u32, 0, 128, 0, 4242] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        b
    }

    #[test]
    fn parses_v4_and_v6_replies() {
        let s = InetSocket::parse(&sample(libc::AF_INET as u8)).unwrap();
        assert_eq!(s.local, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!((s.state, s.local_port, s.interface), (TCP_LISTEN, 2222, 3));
        assert_eq!((s.uid, s.inode), (0, 4242));
        let s = InetSocket::parse(&sample(libc::AF_INET6 as u8)).unwrap();
        assert_eq!(s.local, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(s.remote, IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    }

    #[test]
    fn rejects_short_or_foreign_replies() {
        let b = sample(libc::AF_INET as u8);
        for cut in 0..b.len() {
            assert!(InetSocket::parse(&b[..cut]).is_err());
        }
        let mut b = sample(libc::AF_INET as u8);
        b[0] = 1; // AF_UNIX
        assert!(InetSocket::parse(&b).is_err());
    }
}
