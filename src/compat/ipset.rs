//! ipset names by kernel index, for `-m set` (the xt blob only carries
//! the index; iptables asks the kernel with `SO_IP_SET` getsockopt, we use
//! ipset's netlink command `IPSET_CMD_GET_BYINDEX` instead).

use std::cell::RefCell;
use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::netlink::message::{NLMSG_ERROR, NLM_F_REQUEST};
use crate::netlink::{
    AttrIter, KernelError, MessageIter, MessageWriter, Socket, NLA_F_NET_BYTEORDER,
};

/// `NFNL_SUBSYS_IPSET`.
const NFNL_SUBSYS_IPSET: u16 = 6;
/// `IPSET_CMD_GET_BYINDEX`.
const IPSET_CMD_GET_BYINDEX: u16 = 15;
/// `IPSET_ATTR_PROTOCOL`.
const IPSET_ATTR_PROTOCOL: u16 = 1;
/// `IPSET_ATTR_SETNAME`.
const IPSET_ATTR_SETNAME: u16 = 2;
/// `IPSET_ATTR_INDEX`.
const IPSET_ATTR_INDEX: u16 = 11;
/// `IPSET_PROTOCOL`.
const IPSET_PROTOCOL: u8 = 7;

/// Looks set names up in the calling thread's network namespace, opening
/// the netlink socket on first use and caching answers.
#[derive(Debug, Default)]
pub struct KernelSetNames {
    sock: RefCell<Option<Socket>>,
    cache: RefCell<HashMap<u16, String>>,
}

impl KernelSetNames {
    /// The name of the set with kernel index `index`.
    pub fn name(&self, index: u16) -> Result<String> {
        if let Some(n) = self.cache.borrow().get(&index) {
            return Ok(n.clone());
        }
        let mut slot = self.sock.borrow_mut();
        if slot.is_none() {
            *slot = Some(Socket::new()?);
        }
        let Some(sock) = slot.as_mut() else {
            return Err(Error::Invalid {
                what: "ipset lookup",
                detail: "no socket".into(),
            });
        };
        let name = set_name_by_index(sock, index)?;
        self.cache.borrow_mut().insert(index, name.clone());
        Ok(name)
    }
}

/// Asks the kernel for the name of ipset `index`.
pub fn set_name_by_index(sock: &mut Socket, index: u16) -> Result<String> {
    let seq = sock.next_seq(1);
    let kind = (NFNL_SUBSYS_IPSET << 8) | IPSET_CMD_GET_BYINDEX;
    let mut w = MessageWriter::with_capacity(64);
    w.begin_nfgen(kind, NLM_F_REQUEST, seq, libc::AF_INET as u8, 0);
    {
        let mut a = w.attrs();
        a.put_u8(IPSET_ATTR_PROTOCOL, IPSET_PROTOCOL)?;
        // ipset integer attributes are big-endian and flagged so.
        a.put_be16(IPSET_ATTR_INDEX | NLA_F_NET_BYTEORDER, index)?;
    }
    w.finish_message();
    sock.send(w.as_bytes())?;
    loop {
        let Some(buf) = sock.recv(true)? else {
            continue;
        };
        for m in MessageIter::new(buf) {
            let m = m?;
            if m.header.seq != seq {
                continue;
            }
            if m.header.kind == NLMSG_ERROR {
                let e = KernelError::parse(&m.header, m.payload)?;
                return Err(Error::Kernel {
                    what: format!("looking up ipset index {index}"),
                    errno: e.errno,
                    message: e.message,
                });
            }
            if m.header.kind == kind {
                let (_, _, _, attrs) = m.nfgen()?;
                for a in AttrIter::new(attrs) {
                    let a = a?;
                    if a.kind() == IPSET_ATTR_SETNAME {
                        return Ok(a.strz()?.to_string());
                    }
                }
                return Err(Error::Malformed {
                    what: "ipset reply",
                    detail: "no set name".into(),
                });
            }
        }
    }
}
