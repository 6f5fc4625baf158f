//! The few `NETLINK_ROUTE` requests `nftguard demo` needs to wire two
//! network namespaces together without the `ip` tool: create a veth pair
//! whose peer lives in another namespace, give an interface an IPv4
//! address, bring an interface up. No nftables knowledge, no `unsafe`
//! (the socket is [`Socket::with_protocol`]`(NETLINK_ROUTE)`).
//!
//! Layouts (`include/uapi/linux/rtnetlink.h`, `if_link.h`,
//! `if_addr.h`, `veth.h`): a request is `nlmsghdr`, the fixed header
//! (`ifinfomsg`, 16 bytes, or `ifaddrmsg`, 8 bytes), then attributes in
//! host byte order. A veth peer is described inside
//! `IFLA_LINKINFO { IFLA_INFO_KIND "veth", IFLA_INFO_DATA { VETH_INFO_PEER
//! = ifinfomsg + attributes } }`; `IFLA_NET_NS_FD` there moves the peer
//! into the namespace of that descriptor as it is created.

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;

use super::attr::AttrWriter;
use super::message::{
    MessageIter, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST,
};
use super::socket::{interface_index, KernelError, Socket};
use crate::error::{Error, Result};

/// `RTM_NEWLINK`.
pub const RTM_NEWLINK: u16 = 16;
/// `RTM_NEWADDR`.
pub const RTM_NEWADDR: u16 = 20;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFF_UP: u32 = 1;
const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;
const RT_SCOPE_UNIVERSE: u8 = 0;
/// Longest interface name (`IFNAMSIZ` − 1).
const IFNAME_MAX: usize = 15;

/// Opens a route socket in the calling thread's network namespace.
pub fn route_socket() -> Result<Socket> {
    Socket::with_protocol(libc::NETLINK_ROUTE)
}

/// `struct ifinfomsg`.
fn ifinfomsg(index: u32, flags: u32, change: u32) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0] = AF_UNSPEC;
    b[4..8].copy_from_slice(&index.to_ne_bytes());
    b[8..12].copy_from_slice(&flags.to_ne_bytes());
    b[12..16].copy_from_slice(&change.to_ne_bytes());
    b
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > IFNAME_MAX || name.contains(['\0', '/']) {
        return Err(Error::Invalid {
            what: "interface name",
            detail: format!("`{name}` (1 to {IFNAME_MAX} bytes, no `/`)"),
        });
    }
    Ok(())
}

fn index_of(name: &str) -> Result<u32> {
    interface_index(name)?.ok_or_else(|| Error::Invalid {
        what: "interface",
        detail: format!("no interface `{name}` in this network namespace"),
    })
}

/// Sends one request (`kind`, `flags`, fixed header, attributes written
/// by `attrs`) and waits for its acknowledgement.
fn request(
    sock: &mut Socket,
    what: &str,
    kind: u16,
    flags: u16,
    fixed: &[u8],
    attrs: impl FnOnce(&mut AttrWriter<'_>) -> Result<()>,
) -> Result<()> {
    let seq = sock.next_seq(1);
    let mut buf = vec![0u8; NLMSG_HDRLEN];
    buf.extend_from_slice(fixed);
    attrs(&mut AttrWriter::new(&mut buf))?;
    let len = u32::try_from(buf.len()).map_err(|_| Error::Invalid {
        what: "route request",
        detail: "too long".into(),
    })?;
    buf[0..4].copy_from_slice(&len.to_ne_bytes());
    buf[4..6].copy_from_slice(&kind.to_ne_bytes());
    buf[6..8].copy_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    buf[8..12].copy_from_slice(&seq.to_ne_bytes());
    sock.send(&buf)?;
    loop {
        let Some(reply) = sock.recv(true)? else {
            continue;
        };
        for m in MessageIter::new(reply) {
            let m = m?;
            if m.header.kind != NLMSG_ERROR || m.header.seq != seq {
                continue;
            }
            let e = KernelError::parse(&m.header, m.payload)?;
            if e.errno == 0 {
                return Ok(());
            }
            return Err(Error::Kernel {
                what: what.to_string(),
                errno: e.errno,
                message: e.message,
            });
        }
    }
}

/// Creates the veth pair `name` (in the calling thread's namespace) and
/// `peer`, created directly inside the network namespace `peer_netns` (an
/// open `/proc/…/ns/net` or `/run/netns/NAME`). Both start down.
pub fn create_veth_pair(
    sock: &mut Socket,
    name: &str,
    peer: &str,
    peer_netns: &impl AsRawFd,
) -> Result<()> {
    check_name(name)?;
    check_name(peer)?;
    let ns_fd = u32::try_from(peer_netns.as_raw_fd()).map_err(|_| Error::Invalid {
        what: "network namespace descriptor",
        detail: "negative".into(),
    })?;
    request(
        sock,
        &format!("creating veth pair {name}/{peer}"),
        RTM_NEWLINK,
        NLM_F_CREATE | NLM_F_EXCL,
        &ifinfomsg(0, 0, 0),
        |w| {
            w.put_strz(IFLA_IFNAME, name)?;
            w.nested(IFLA_LINKINFO, |w| {
                w.put_strz(IFLA_INFO_KIND, "veth")?;
                w.nested(IFLA_INFO_DATA, |w| {
                    w.nested(VETH_INFO_PEER, |w| {
                        // The peer's own ifinfomsg precedes its attributes.
                        w.put_raw_attrs(&ifinfomsg(0, 0, 0));
                        w.put_strz(IFLA_IFNAME, peer)?;
                        w.put(IFLA_NET_NS_FD, &ns_fd.to_ne_bytes())
                    })
                })
            })
        },
    )
}

/// Brings interface `name` up.
pub fn set_link_up(sock: &mut Socket, name: &str) -> Result<()> {
    check_name(name)?;
    let index = index_of(name)?;
    request(
        sock,
        &format!("bringing {name} up"),
        RTM_NEWLINK,
        0,
        &ifinfomsg(index, IFF_UP, IFF_UP),
        |_| Ok(()),
    )
}

/// Adds `addr/prefix` to interface `name`.
pub fn add_ipv4_address(sock: &mut Socket, name: &str, addr: Ipv4Addr, prefix: u8) -> Result<()> {
    check_name(name)?;
    if prefix > 32 {
        return Err(Error::Invalid {
            what: "prefix length",
            detail: format!("{prefix} > 32"),
        });
    }
    let index = index_of(name)?;
    let mut fixed = [0u8; 8];
    fixed[0] = AF_INET;
    fixed[1] = prefix;
    fixed[3] = RT_SCOPE_UNIVERSE;
    fixed[4..8].copy_from_slice(&index.to_ne_bytes());
    request(
        sock,
        &format!("adding {addr}/{prefix} to {name}"),
        RTM_NEWADDR,
        NLM_F_CREATE | NLM_F_EXCL,
        &fixed,
        |w| {
            w.put(IFA_LOCAL, &addr.octets())?;
            w.put(IFA_ADDRESS, &addr.octets())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifinfomsg_layout() {
        let b = ifinfomsg(7, IFF_UP, IFF_UP);
        assert_eq!(&b[4..8], &7u32.to_ne_bytes());
        assert_eq!(&b[8..12], &1u32.to_ne_bytes());
        assert_eq!(&b[12..16], &1u32.to_ne_bytes());
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(check_name("").is_err());
        assert!(check_name("a-very-long-name0").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name("veth0").is_ok());
    }

    #[test]
    fn veth_pair_across_namespaces() {
        // Server side in this thread's fresh namespace, the peer in a
        // second thread's; then addresses, links up, and a TCP connect.
        crate::netlink::enter_new_netns().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let peer = std::thread::spawn(move || {
            crate::netlink::enter_new_netns().unwrap();
            tx.send(std::fs::File::open("/proc/thread-self/ns/net").unwrap())
                .unwrap();
            done_rx.recv().unwrap();
            let mut s = route_socket().unwrap();
            add_ipv4_address(&mut s, "rt-b", Ipv4Addr::new(10, 254, 0, 2), 24).unwrap();
            set_link_up(&mut s, "rt-b").unwrap();
            let addr: std::net::SocketAddr = "10.254.0.1:7".parse().unwrap();
            let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                if std::net::TcpStream::connect_timeout(
                    &addr,
                    std::time::Duration::from_millis(200),
                )
                .is_ok()
                {
                    break true;
                }
                if std::time::Instant::now() > until {
                    break false;
                }
            }
        });
        let ns = rx.recv().unwrap();
        let mut s = route_socket().unwrap();
        create_veth_pair(&mut s, "rt-a", "rt-b", &ns).unwrap();
        // The peer is not here: it was created in the other namespace.
        assert_eq!(interface_index("rt-b").unwrap(), None);
        assert!(create_veth_pair(&mut s, "rt-a", "rt-c", &ns).is_err()); // EEXIST
        add_ipv4_address(&mut s, "rt-a", Ipv4Addr::new(10, 254, 0, 1), 24).unwrap();
        set_link_up(&mut s, "rt-a").unwrap();
        let _l = std::net::TcpListener::bind("10.254.0.1:7").unwrap();
        done_tx.send(()).unwrap();
        assert!(peer.join().unwrap(), "no TCP path over the veth pair");
    }
}
