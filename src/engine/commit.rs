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
        let rules = self.ops().iter().filter(|o| o.creates_rule()).count();
        let echo = prepare_echo(sock, self.wants_echo(), rules)?;
        let n = self.len();
        let (seq_base, genid) = batch_numbers(sock, gen, n)?;
        let bytes = self.encode(seq_base, genid, true, echo)?;
        sock.send(&bytes)?;
        drop(bytes);
        finish_commit(sock, gen, seq_base, n, &|i| self.ops()[i].describe())
    }

    /// Validates the transaction in the kernel without committing: the
    /// batch is sent without BATCH_END, so the kernel checks every message
    /// and then aborts. Nothing changes and the generation stays the same.
    pub fn check(&self, sock: &mut Socket, gen: GenCheck) -> Result<()> {
        let n = self.len();
        let (seq_base, genid) = batch_numbers(sock, gen, n)?;
        let bytes = self.encode(seq_base, genid, false, false)?;
        sock.send(&bytes)?;
        finish_check(sock, gen, seq_base, n, &|i| self.ops()[i].describe())
    }
}

/// Whether to ask for echoed rules, reserving the receive buffer the
/// replies need: the error reserve, plus room for every echoed rule when
/// `wants_echo` and the batch creates `rules` rules.
pub(crate) fn prepare_echo(sock: &mut Socket, wants_echo: bool, rules: usize) -> Result<bool> {
    let mut echo = wants_echo && rules > 0;
    let need = ERROR_RESERVE + if echo { rules * ECHO_BYTES_PER_RULE } else { 0 };
    let got = sock.reserve_recv(need)?;
    if echo && got < need {
        // Without privileges the receive buffer stays small; echoes
        // would overflow it and hide error reports. Go without handles.
        echo = false;
    }
    Ok(echo)
}

/// Reserves the sequence numbers of a batch of `n` operations (BEGIN,
/// the operations, END) and returns the first one with the generation the
/// batch carries.
pub(crate) fn batch_numbers(sock: &mut Socket, gen: GenCheck, n: usize) -> Result<(u32, u32)> {
    let seq_base = sock.next_seq(n as u32 + 2);
    let genid = match gen {
        GenCheck::Expect(g) => g,
        GenCheck::Unconditional => 0,
    };
    if genid == 0 && matches!(gen, GenCheck::Expect(_)) {
        // Generation 0 would silently disable the kernel's check.
        return Err(Error::Invalid {
            what: "generation check",
            detail: "generation 0 cannot be checked; use GenCheck::Unconditional explicitly".into(),
        });
    }
    Ok((seq_base, genid))
}

/// After a committing batch was sent: reads the replies, turns errors into
/// [`Error`]s (operations named by `describe(index)`), and returns what
/// was committed.
pub(crate) fn finish_commit(
    sock: &mut Socket,
    gen: GenCheck,
    seq_base: u32,
    n: usize,
    describe: &dyn Fn(usize) -> String,
) -> Result<Committed> {
    let replies = drain(sock, seq_base, n)?;
    judge(sock, gen, seq_base, n, &replies, describe)?;
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

/// After a checking batch (no END) was sent: reads the replies and turns
/// errors into [`Error`]s.
pub(crate) fn finish_check(
    sock: &mut Socket,
    gen: GenCheck,
    seq_base: u32,
    n: usize,
    describe: &dyn Fn(usize) -> String,
) -> Result<()> {
    let replies = drain(sock, seq_base, n)?;
    judge(sock, gen, seq_base, n, &replies, describe)
}

fn drain(sock: &mut Socket, seq_base: u32, n: usize) -> Result<Replies> {
    let n = n as u32;
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

fn judge(
    sock: &mut Socket,
    gen: GenCheck,
    seq_base: u32,
    n: usize,
    r: &Replies,
    describe: &dyn Fn(usize) -> String,
) -> Result<()> {
    if r.errors.is_empty() {
        return Ok(());
    }
    let n = n as u32;
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
            op: describe(op_index),
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
