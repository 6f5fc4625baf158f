//! The `NETLINK_NETFILTER` socket.
//!
//! This is the only module with `unsafe` code: every block is a plain libc
//! call on a file descriptor this type owns, with a `// SAFETY:` note.

#![allow(unsafe_code)] // the one module allowed to call libc on raw descriptors

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use super::attr::AttrIter;
use super::message::{NlMsgHeader, NLMSG_HDRLEN, NLM_F_ACK_TLVS};
use crate::error::{Error, Result};

const SOL_NETLINK: libc::c_int = 270;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSGERR_ATTR_OFFS: u16 = 2;
/// Largest datagram the kernel sends to us: dumps are capped at 32 KiB per
/// skb (`netlink_recvmsg`), errors and echoes are smaller. 64 KiB leaves room.
const RECV_BUF_LEN: usize = 64 * 1024;
/// The kernel rejects a datagram longer than `sk_sndbuf - 32` (`netlink_sendmsg`).
const SNDBUF_SLACK: usize = 32;

/// An error or acknowledgement the kernel sent for one request message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// `errno` (positive), 0 for a plain acknowledgement.
    pub errno: i32,
    /// Sequence number of the request it answers.
    pub seq: u32,
    /// Message type of the request it answers.
    pub request_kind: u16,
    /// The kernel's extended-ack message, when it gave one.
    pub message: Option<String>,
    /// Byte offset of the offending attribute inside the request, when given.
    pub offset: Option<u32>,
}

impl KernelError {
    /// Decodes the payload of an `NLMSG_ERROR` message.
    pub fn parse(header: &NlMsgHeader, payload: &[u8]) -> Result<Self> {
        if payload.len() < 4 + NLMSG_HDRLEN {
            return Err(Error::Malformed {
                what: "netlink error message",
                detail: format!("payload of {} bytes", payload.len()),
            });
        }
        let code = i32::from_ne_bytes([payload[0], payload[1], payload[2], payload[3]]);
        let request = NlMsgHeader::parse(&payload[4..])?;
        let mut err = KernelError {
            errno: code.checked_neg().unwrap_or(i32::MAX),
            seq: request.seq,
            request_kind: request.kind,
            message: None,
            offset: None,
        };
        if header.flags & NLM_F_ACK_TLVS != 0 {
            // With NETLINK_CAP_ACK the request is echoed as its header only
            // (NLM_F_CAPPED); otherwise the whole request precedes the TLVs.
            let echoed = if header.flags & super::message::NLM_F_CAPPED != 0 {
                NLMSG_HDRLEN
            } else {
                super::attr::align4(request.len as usize)
            };
            let start = 4 + echoed;
            if let Some(tlvs) = payload.get(start..) {
                for attr in AttrIter::new(tlvs) {
                    let Ok(attr) = attr else { break };
                    match attr.kind() {
                        NLMSGERR_ATTR_MSG => {
                            let text = attr.payload.split(|b| *b == 0).next().unwrap_or(&[]);
                            err.message = Some(String::from_utf8_lossy(text).into_owned());
                        }
                        NLMSGERR_ATTR_OFFS => {
                            if let Ok(b) = <[u8; 4]>::try_from(attr.payload) {
                                err.offset = Some(u32::from_ne_bytes(b));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(err)
    }
}

/// A netlink socket speaking to the netfilter subsystem of one network
/// namespace.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
    port_id: u32,
    seq: u32,
    sndbuf: usize,
    rcvbuf: usize,
    recv_buf: Vec<u8>,
}

fn errno_error(what: &'static str) -> Error {
    Error::Io {
        what,
        source: io::Error::last_os_error(),
    }
}

impl Socket {
    /// Opens a netfilter socket in the calling thread's network namespace.
    pub fn new() -> Result<Self> {
        Self::with_protocol(libc::NETLINK_NETFILTER)
    }

    /// Opens a netlink socket of another protocol (`NETLINK_SOCK_DIAG`, …)
    /// in the calling thread's network namespace. The framing helpers
    /// (`send`, `recv`, sequence numbers) work the same for every protocol.
    pub fn with_protocol(protocol: libc::c_int) -> Result<Self> {
        // SAFETY: socket(2) takes no pointers; the returned descriptor is
        // checked and then owned by `OwnedFd`.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                protocol,
            )
        };
        if raw < 0 {
            return Err(errno_error("opening a netlink socket"));
        }
        // SAFETY: `raw` is a freshly created, valid descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut sock = Socket {
            fd,
            port_id: 0,
            seq: initial_seq(),
            sndbuf: 0,
            rcvbuf: 0,
            recv_buf: vec![0; RECV_BUF_LEN],
        };
        sock.bind()?;
        // Extended acks give the kernel's error text and attribute offset;
        // capped acks keep error replies small (no echoed request payload).
        // Both exist since Linux 4.12 / 4.3; failure to set them is harmless.
        let _ = sock.setsockopt_int(SOL_NETLINK, NETLINK_EXT_ACK, 1);
        let _ = sock.setsockopt_int(SOL_NETLINK, NETLINK_CAP_ACK, 1);
        sock.sndbuf = sock.getsockopt_int(libc::SOL_SOCKET, libc::SO_SNDBUF)? as usize;
        sock.rcvbuf = sock.getsockopt_int(libc::SOL_SOCKET, libc::SO_RCVBUF)? as usize;
        Ok(sock)
    }

    /// Opens a socket inside the network namespace at `path` (for example
    /// `/run/netns/NAME` or `/proc/PID/ns/net`). The calling thread's own
    /// namespace is not changed: a short-lived helper thread enters the
    /// namespace, creates the socket and exits; the socket stays bound to
    /// the namespace it was created in.
    pub fn in_netns(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = std::fs::File::open(&path).map_err(|source| Error::Io {
            what: "opening the network namespace",
            source,
        })?;
        std::thread::scope(|s| {
            s.spawn(|| {
                // SAFETY: setns(2) on a descriptor we hold open; it changes
                // only this helper thread's namespace.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                if rc != 0 {
                    return Err(errno_error("entering the network namespace"));
                }
                Socket::new()
            })
            .join()
            .unwrap_or_else(|_| {
                Err(Error::Io {
                    what: "entering the network namespace",
                    source: io::Error::other("helper thread panicked"),
                })
            })
        })
    }

    /// The port id the kernel assigned to this socket.
    pub fn port_id(&self) -> u32 {
        self.port_id
    }

    /// Reserves `n` consecutive sequence numbers and returns the first.
    pub fn next_seq(&mut self, n: u32) -> u32 {
        let first = self.seq;
        self.seq = self.seq.wrapping_add(n.max(1));
        if self.seq < first {
            // Wrapped: skip 0, which the kernel uses for notifications.
            self.seq = 1;
            return self.next_seq(n);
        }
        first
    }

    /// The effective send buffer size (`sk_sndbuf`).
    pub fn sndbuf(&self) -> usize {
        self.sndbuf
    }

    /// The effective receive buffer size (`sk_rcvbuf`).
    pub fn rcvbuf(&self) -> usize {
        self.rcvbuf
    }

    /// Makes sure one datagram of `len` bytes can be sent: raises `SO_SNDBUF`,
    /// then `SO_SNDBUFFORCE` (needs `CAP_NET_ADMIN` in the initial user
    /// namespace) when the plain option is capped by `net.core.wmem_max`.
    pub fn reserve_send(&mut self, len: usize) -> Result<()> {
        let need = len + SNDBUF_SLACK;
        if self.sndbuf >= need {
            return Ok(());
        }
        self.sndbuf = self.grow_buffer(libc::SO_SNDBUF, libc::SO_SNDBUFFORCE, need)?;
        if self.sndbuf < need {
            return Err(Error::BufferTooSmall {
                what: "send",
                needed: need,
                got: self.sndbuf,
            });
        }
        Ok(())
    }

    /// Raises the receive buffer to at least `len` bytes where allowed and
    /// returns the size obtained (it may stay smaller without privileges).
    pub fn reserve_recv(&mut self, len: usize) -> Result<usize> {
        if self.rcvbuf < len {
            self.rcvbuf = self.grow_buffer(libc::SO_RCVBUF, libc::SO_RCVBUFFORCE, len)?;
        }
        Ok(self.rcvbuf)
    }

    fn grow_buffer(&self, plain: libc::c_int, force: libc::c_int, need: usize) -> Result<usize> {
        // The kernel doubles the requested value for bookkeeping overhead
        // and reports the doubled value back.
        let ask = i32::try_from(need.div_ceil(2)).unwrap_or(i32::MAX);
        let _ = self.setsockopt_int(libc::SOL_SOCKET, plain, ask);
        let mut got = self.getsockopt_int(libc::SOL_SOCKET, plain)? as usize;
        if got < need && self.setsockopt_int(libc::SOL_SOCKET, force, ask).is_ok() {
            got = self.getsockopt_int(libc::SOL_SOCKET, plain)? as usize;
        }
        Ok(got)
    }

    /// Sends `bytes` with exactly one `sendmsg` call. A netfilter batch is
    /// processed synchronously inside this call: when it returns, every reply
    /// the batch causes is already queued on the socket.
    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.reserve_send(bytes.len())?;
        // SAFETY: an all-zero sockaddr_nl is valid; we set the family.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        let mut iov = libc::iovec {
            iov_base: bytes.as_ptr() as *mut libc::c_void,
            iov_len: bytes.len(),
        };
        // SAFETY: an all-zero msghdr is valid; the pointers set below refer
        // to `addr` and `iov`, which outlive the call.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = &mut addr as *mut libc::sockaddr_nl as *mut libc::c_void;
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        loop {
            // SAFETY: `msg` points to live, correctly sized buffers; the
            // kernel only reads from `bytes` through the iovec.
            let n = unsafe { libc::sendmsg(self.fd.as_raw_fd(), &msg, 0) };
            if n >= 0 {
                if n as usize != bytes.len() {
                    return Err(Error::Io {
                        what: "sending to netlink",
                        source: io::Error::other(format!(
                            "short send: {n} of {} bytes",
                            bytes.len()
                        )),
                    });
                }
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::Io {
                what: "sending to netlink",
                source: e,
            });
        }
    }

    /// Receives one datagram. With `wait == false` returns `Ok(None)` when
    /// nothing is queued. The returned slice holds one or more messages.
    pub fn recv(&mut self, wait: bool) -> Result<Option<&[u8]>> {
        let flags = libc::MSG_TRUNC | if wait { 0 } else { libc::MSG_DONTWAIT };
        loop {
            // SAFETY: the buffer pointer and length describe `recv_buf`,
            // which we own mutably for the duration of the call.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.recv_buf.as_mut_ptr() as *mut libc::c_void,
                    self.recv_buf.len(),
                    flags,
                )
            };
            if n >= 0 {
                let n = n as usize;
                if n > self.recv_buf.len() {
                    // MSG_TRUNC reports the real length: grow and let the
                    // caller see the error (the datagram is gone).
                    let have = self.recv_buf.len();
                    self.recv_buf.resize(n.next_power_of_two(), 0);
                    return Err(Error::Io {
                        what: "receiving from netlink",
                        source: io::Error::other(format!(
                            "datagram of {n} bytes truncated to {have}"
                        )),
                    });
                }
                return Ok(Some(&self.recv_buf[..n]));
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) if !wait => return Ok(None),
                Some(libc::ENOBUFS) => return Err(Error::ReceiveOverrun),
                _ => {
                    return Err(Error::Io {
                        what: "receiving from netlink",
                        source: e,
                    })
                }
            }
        }
    }

    fn bind(&mut self) -> Result<()> {
        // SAFETY: an all-zero sockaddr_nl is valid; pid 0 lets the kernel
        // pick the port id.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        let len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        // SAFETY: `addr` is a valid sockaddr_nl of `len` bytes.
        let rc = unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
                len,
            )
        };
        if rc != 0 {
            return Err(errno_error("binding the netlink socket"));
        }
        let mut out_len = len;
        // SAFETY: `addr` and `out_len` are valid for writes of that size.
        let rc = unsafe {
            libc::getsockname(
                self.fd.as_raw_fd(),
                &mut addr as *mut libc::sockaddr_nl as *mut libc::sockaddr,
                &mut out_len,
            )
        };
        if rc != 0 {
            return Err(errno_error("reading the netlink port id"));
        }
        self.port_id = addr.nl_pid;
        Ok(())
    }

    fn setsockopt_int(&self, level: libc::c_int, name: libc::c_int, v: i32) -> Result<()> {
        // SAFETY: passes a pointer to a live i32 and its exact size.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                &v as *const i32 as *const libc::c_void,
                std::mem::size_of::<i32>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(errno_error("setting a socket option"));
        }
        Ok(())
    }

    fn getsockopt_int(&self, level: libc::c_int, name: libc::c_int) -> Result<i32> {
        let mut v: i32 = 0;
        let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
        // SAFETY: passes a pointer to a live i32 and its size, for writing.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                &mut v as *mut i32 as *mut libc::c_void,
                &mut len,
            )
        };
        if rc != 0 {
            return Err(errno_error("reading a socket option"));
        }
        Ok(v)
    }
}

/// Moves the calling thread into a new, empty network namespace (its own
/// nf_tables world, with only a loopback interface, down). Other threads of
/// the process are not affected; processes the thread spawns afterwards
/// inherit the new namespace. Needs `CAP_SYS_ADMIN` (root, or inside a user
/// namespace). Used by tests and by `nftguard demo`.
pub fn enter_new_netns() -> Result<()> {
    // SAFETY: unshare(2) takes only a flag and affects the calling thread.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    if rc != 0 {
        return Err(errno_error("creating a network namespace"));
    }
    Ok(())
}

/// The index of network interface `name` in the calling thread's network
/// namespace, or `None` when no interface has that name.
///
/// nf_tables matches `iif`/`oif` by index, so a rule naming an interface
/// must resolve it when it is built (as nft does when it parses a rule).
pub fn interface_index(name: &str) -> Result<Option<u32>> {
    let Ok(c_name) = std::ffi::CString::new(name) else {
        // A name with a NUL byte cannot name any interface.
        return Ok(None);
    };
    // SAFETY: `c_name` is a valid NUL-terminated string that outlives the
    // call; if_nametoindex(3) only reads it.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    if index != 0 {
        return Ok(Some(index));
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ENODEV) {
        return Ok(None);
    }
    Err(Error::Io {
        what: "looking up a network interface",
        source: err,
    })
}

/// Moves the calling thread into the existing network namespace at `path`
/// (`/run/netns/NAME`, `/proc/PID/ns/net`). Other threads are not affected.
/// Used to run read-only probes that are scoped to the calling thread's
/// namespace (sock_diag, `/proc/thread-self/net/*`) inside another one.
pub fn enter_netns(path: impl AsRef<Path>) -> Result<()> {
    let file = std::fs::File::open(path.as_ref()).map_err(|source| Error::Io {
        what: "opening the network namespace",
        source,
    })?;
    // SAFETY: setns(2) on a descriptor we hold open; it changes only the
    // calling thread's network namespace.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc != 0 {
        return Err(errno_error("entering the network namespace"));
    }
    Ok(())
}

/// The name of interface `index` in the calling thread's current network
/// namespace, or `None` if there is no such interface (`if_indextoname(3)`).
/// The nft text renderer uses it to print `iif "lo"` as nft does.
pub fn interface_name(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE bytes if_indextoname(3) may write;
    // the returned pointer is either null or `buf`, NUL-terminated.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    let bytes: Vec<u8> = buf
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    String::from_utf8(bytes).ok()
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A starting sequence number that differs between processes and sockets,
/// so that stale replies of an earlier socket are never mistaken for ours.
fn initial_seq() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(1);
    (t ^ std::process::id().rotate_left(16)).max(1)
}
