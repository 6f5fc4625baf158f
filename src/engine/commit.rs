//! Sending a transaction: one `sendmsg`, then every reply drained and
//! matched to its operation by sequence number.
//!
//! The kernel processes a batch synchronously inside `sendmsg` (nfnetlink
//! runs in the sender's context), so when `send` returns all replies —
//! errors, the END acknowledgement, echoed rules — are already queued on the
//! socket and a non-blocking drain sees all of them.

use serde::{Deserialize, Serialize};

use super::generation::get_generation;
use super::transaction::Transaction;
use crate::error::{Error, Result};
use crate::netlink::message::{NLMSG_DONE, NLMSG_ERROR};
use crate::netlink::{AttrIter, KernelError, MessageIter, Socket};
use crate::nft::consts::{msg, NFTA_RULE_HANDLE};

/// How a commit guards against concurrent writers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenCheck {
    /// Commit only if the ruleset is still at this generation; otherwise
    /// fail with [`Error::Conflict`] and apply nothing.
    Expect(u32),
    /// Commit whatever changed meanwhile (sends generation 0, which
    /// disables the kernel's check). Only when the caller explicitly wants it.
    Unconditional,
}

/// What a successful commit returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committed {
    /// Generation after the commit. With [`GenCheck::Expect`]`(g)` this is
    /// exactly `g + 1`; unconditionally it is read back afterwards.
    pub genid: u32,
    /// `(operation index, rule handle)` of every rule the batch created,
    /// when the kernel echoed them (see [`Transaction::set_echo`]).
    pub handles: Vec<(usize, u64)>,
    /// Whether the kernel acknowledged BATCH_END (kernels ≥ 6.10 do so only
    /// for a committed batch; older kernels never do).
    pub end_acked: bool,
}

/// Bytes of receive buffer reserved per echoed rule (an echoed NEWRULE
/// message plus skb overhead).
const ECHO_BYTES_PER_RULE: usize = 2048;
/// Receive buffer reserved for error reports.
const ERROR_RESERVE: usize = 1 << 20;
/// `ERESTART`: the generation check failed.
const ERESTART: i32 = 85;

struct Replies {
    errors: Vec<KernelError>,
    handles: Vec<(usize, u64)>,
    end_acked: bool,
}

impl Transaction {
    /// Applies the transaction atomically. Nothing is applied unless every
    /// operation is accepted (and, with [`GenCheck::Expect`], the generation
    /// still matches).
    pub fn commit(&self, sock: &mut Socket, gen: GenCheck) -> Result<Committed> {
        let echo = self.prepare_echo(sock)?;
        let (seq_base, replies) = self.send(sock, gen, true, echo)?;
        self.judge(sock, gen, seq_base, &replies)?;
        let genid = match gen {
            GenCheck::Expect(g) => g.wrapping_add(1),
            GenCheck::Unconditional => get_generation(sock)?.id,
        };
        Ok(Committed {
            genid,
            handles: replies.handles,
            end_acked: replies.end_acked,
        })
    }

    /// Validates the transaction in the kernel without committing: the
    /// batch is sent without BATCH_END, so the kernel checks every message
    /// and then aborts. Nothing changes and the generation stays the same.
    pub fn check(&self, sock: &mut Socket, gen: GenCheck) -> Result<()> {
        let (seq_base, replies) = self.send(sock, gen, false, false)?;
        self.judge(sock, gen, seq_base, &replies)
    }

    fn prepare_echo(&self, sock: &mut Socket) -> Result<bool> {
        let rules = self.ops().iter().filter(|o| o.creates_rule()).count();
        let mut echo = self.wants_echo() && rules > 0;
        let need = ERROR_RESERVE + if echo { rules * ECHO_BYTES_PER_RULE } else { 0 };
        let got = sock.reserve_recv(need)?;
        if echo && got < need {
            // Without privileges the receive buffer stays small; echoes
            // would overflow it and hide error reports. Go without handles.
            echo = false;
        }
        Ok(echo)
    }

    fn send(
        &self,
        sock: &mut Socket,
        gen: GenCheck,
        with_end: bool,
        echo: bool,
    ) -> Result<(u32, Replies)> {
        let seq_base = sock.next_seq(self.len() as u32 + 2);
        let genid = match gen {
            GenCheck::Expect(g) => g,
            GenCheck::Unconditional => 0,
        };
        if genid == 0 && matches!(gen, GenCheck::Expect(_)) {
            // Generation 0 would silently disable the kernel's check.
            return Err(Error::Invalid {
                what: "generation check",
                detail: "generation 0 cannot be checked; use GenCheck::Unconditional explicitly"
                    .into(),
            });
        }
        let bytes = self.encode(seq_base, genid, with_end, echo)?;
        sock.send(&bytes)?;
        let replies = self.drain(sock, seq_base)?;
        Ok((seq_base, replies))
    }

    fn drain(&self, sock: &mut Socket, seq_base: u32) -> Result<Replies> {
        let n = self.len() as u32;
        let end_seq = seq_base.wrapping_add(1 + n);
        let mut r = Replies {
            errors: Vec::new(),
            handles: Vec::new(),
            end_acked: false,
        };
        while let Some(buf) = sock.recv(false)? {
            for m in MessageIter::new(buf) {
                let m = m?;
                let off = m.header.seq.wrapping_sub(seq_base);
                if off > n + 1 {
                    continue; // not ours: a stale reply of an earlier request
                }
                match m.header.kind {
                    NLMSG_ERROR => {
                        let e = KernelError::parse(&m.header, m.payload)?;
                        if e.errno == 0 {
                            if e.seq == end_seq {
                                r.end_acked = true;
                            }
                        } else if !r
                            .errors
                            .iter()
                            .any(|x| x.seq == e.seq && x.errno == e.errno)
                        {
                            // A batch replayed after module autoload reports
                            // the same error twice: keep one.
                            r.errors.push(e);
                        }
                    }
                    NLMSG_DONE => {}
                    k if k == msg::nft(msg::NEWRULE) && off >= 1 && off <= n => {
                        let (_, _, _, attrs) = m.nfgen()?;
                        for a in AttrIter::new(attrs) {
                            let a = a?;
                            if a.kind() == NFTA_RULE_HANDLE {
                                let idx = (off - 1) as usize;
                                let h = a.be64()?;
                                if !r.handles.iter().any(|(i, _)| *i == idx) {
                                    r.handles.push((idx, h));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        r.handles.sort_unstable();
        Ok(r)
    }

    fn judge(&self, sock: &mut Socket, gen: GenCheck, seq_base: u32, r: &Replies) -> Result<()> {
        if r.errors.is_empty() {
            return Ok(());
        }
        let n = self.len() as u32;
        if let GenCheck::Expect(expected) = gen {
            if r.errors
                .iter()
                .any(|e| e.errno == ERESTART && e.seq == seq_base)
            {
                let current = get_generation(sock).ok().map(|g| g.id);
                return Err(Error::Conflict { expected, current });
            }
        }
        let mut ops: Vec<(usize, &KernelError)> = r
            .errors
            .iter()
            .filter_map(|e| {
                let off = e.seq.wrapping_sub(seq_base);
                (off >= 1 && off <= n).then(|| ((off - 1) as usize, e))
            })
            .collect();
        ops.sort_by_key(|(i, _)| *i);
        if let Some(&(op_index, e)) = ops.first() {
            return Err(Error::Rejected {
                op_index,
                op: self.ops()[op_index].describe(),
                errno: e.errno,
                message: e.message.clone(),
                offset: e.offset,
                others: ops[1..].iter().map(|(i, e)| (*i, e.errno)).collect(),
            });
        }
        // Errors on BEGIN or END themselves.
        let e = &r.errors[0];
        Err(Error::Kernel {
            what: if e.seq == seq_base {
                "starting the batch".into()
            } else {
                "ending the batch".into()
            },
            errno: e.errno,
            message: e.message.clone(),
        })
    }
}
