//! The ruleset generation id (`NFT_MSG_GETGEN`): every commit bumps it by
//! one, so it proves whether anything changed between two points in time.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::netlink::message::{NLMSG_DONE, NLMSG_ERROR, NLM_F_REQUEST};
use crate::netlink::{AttrIter, KernelError, MessageIter, MessageWriter, Socket};
use crate::nft::consts::{msg, NFTA_GEN_ID, NFTA_GEN_PROC_NAME, NFTA_GEN_PROC_PID};

/// The current generation and the last process that committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    /// Generation id.
    pub id: u32,
    /// PID of the last writer, when the kernel reports it.
    pub proc_pid: Option<u32>,
    /// Name of the last writer, when the kernel reports it.
    pub proc_name: Option<String>,
}

/// Asks the kernel for the current generation.
pub fn get_generation(sock: &mut Socket) -> Result<Generation> {
    let seq = sock.next_seq(1);
    let mut w = MessageWriter::with_capacity(32);
    w.begin_nfgen(msg::nft(msg::GETGEN), NLM_F_REQUEST, seq, 0, 0);
    w.finish_message();
    sock.send(w.as_bytes())?;
    loop {
        let Some(buf) = sock.recv(true)? else {
            continue;
        };
        for m in MessageIter::new(buf) {
            let m = m?;
            if m.header.seq != seq {
                continue; // a stale reply to an earlier request
            }
            match m.header.kind {
                NLMSG_ERROR => {
                    let e = KernelError::parse(&m.header, m.payload)?;
                    if e.errno != 0 {
                        return Err(Error::Kernel {
                            what: "reading the ruleset generation".into(),
                            errno: e.errno,
                            message: e.message,
                        });
                    }
                }
                NLMSG_DONE => {}
                k if k == msg::nft(msg::NEWGEN) => {
                    let (_, _, _, attrs) = m.nfgen()?;
                    let mut g = Generation {
                        id: 0,
                        proc_pid: None,
                        proc_name: None,
                    };
                    let mut id = None;
                    for a in AttrIter::new(attrs) {
                        let a = a?;
                        match a.kind() {
                            NFTA_GEN_ID => id = Some(a.be32()?),
                            NFTA_GEN_PROC_PID => g.proc_pid = Some(a.be32()?),
                            NFTA_GEN_PROC_NAME => g.proc_name = a.strz().ok().map(str::to_string),
                            _ => {}
                        }
                    }
                    g.id = id.ok_or_else(|| Error::Malformed {
                        what: "generation reply",
                        detail: "no generation id".into(),
                    })?;
                    return Ok(g);
                }
                k => {
                    return Err(Error::Malformed {
                        what: "generation reply",
                        detail: format!("unexpected message type {k:#x}"),
                    })
                }
            }
        }
    }
}
