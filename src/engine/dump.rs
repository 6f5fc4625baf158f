//! `Ruleset::dump`: a typed snapshot of the live ruleset, consistent with
//! one generation.
//!
//! Tables, chains and rules are dumped separately, so a commit by another
//! program could land between them. Each dump message carries the low 16
//! bits of the generation in `res_id`, and the kernel flags a dump that a
//! commit interrupted with `NLM_F_DUMP_INTR`; the generation is also read
//! before and after. Any sign of change restarts the whole snapshot.

use serde::{Deserialize, Serialize};

use super::generation::get_generation;
use crate::error::{Error, Result};
use crate::netlink::message::{
    NLMSG_DONE, NLMSG_ERROR, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use crate::netlink::{KernelError, MessageIter, MessageWriter, Socket};
use crate::nft::consts::{msg, NFTA_RULE_CHAIN, NFTA_RULE_TABLE};
use crate::nft::{Chain, Family, Rule, Ruleset, Table};

/// What to dump. Empty fields mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpFilter {
    /// Only this family.
    pub family: Option<Family>,
    /// Only this table.
    pub table: Option<String>,
    /// Only this chain (with `table`).
    pub chain: Option<String>,
}

impl DumpFilter {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// One table.
    pub fn table(family: Family, name: &str) -> Self {
        DumpFilter {
            family: Some(family),
            table: Some(name.into()),
            chain: None,
        }
    }
}

/// How many times a dump is restarted before giving up.
const MAX_ATTEMPTS: u32 = 16;

enum Attempt {
    Done(Ruleset),
    Changed,
}

impl Ruleset {
    /// Dumps the live ruleset selected by `filter`.
    pub fn dump(sock: &mut Socket, filter: &DumpFilter) -> Result<Ruleset> {
        for _ in 0..MAX_ATTEMPTS {
            if let Attempt::Done(rs) = Self::try_dump(sock, filter)? {
                return Ok(rs);
            }
        }
        Err(Error::DumpUnstable {
            attempts: MAX_ATTEMPTS,
        })
    }

    fn try_dump(sock: &mut Socket, filter: &DumpFilter) -> Result<Attempt> {
        let genid = get_generation(sock)?.id;
        let family = filter.family.unwrap_or(Family::Unspec);
        let mut rs = Ruleset {
            genid,
            ..Default::default()
        };
        let keep_table = |name: &str| filter.table.as_deref().is_none_or(|t| t == name);
        let keep_chain = |name: &str| filter.chain.as_deref().is_none_or(|c| c == name);

        let ok = dump_kind(sock, msg::GETTABLE, family, &[], genid, |fam, attrs| {
            let t = Table::parse(fam, attrs)?;
            if keep_table(&t.name) {
                rs.tables.push(t);
            }
            Ok(())
        })?;
        if !ok {
            return Ok(Attempt::Changed);
        }
        let ok = dump_kind(sock, msg::GETCHAIN, family, &[], genid, |fam, attrs| {
            let c = Chain::parse(fam, attrs)?;
            if keep_table(&c.table) && keep_chain(&c.name) {
                rs.chains.push(c);
            }
            Ok(())
        })?;
        if !ok {
            return Ok(Attempt::Changed);
        }
        // The kernel filters rule dumps by table and chain itself.
        let mut req = Vec::new();
        {
            let mut w = crate::netlink::AttrWriter::new(&mut req);
            if let Some(t) = &filter.table {
                w.put_strz(NFTA_RULE_TABLE, t)?;
                if let Some(c) = &filter.chain {
                    w.put_strz(NFTA_RULE_CHAIN, c)?;
                }
            }
        }
        let ok = dump_kind(sock, msg::GETRULE, family, &req, genid, |fam, attrs| {
            let r = Rule::parse(fam, attrs)?;
            if keep_table(&r.table) && keep_chain(&r.chain) {
                rs.rules.push(r);
            }
            Ok(())
        })?;
        if !ok || get_generation(sock)?.id != genid {
            return Ok(Attempt::Changed);
        }
        Ok(Attempt::Done(rs))
    }
}

/// Runs one dump request and feeds every object message to `each`.
/// Returns `Ok(false)` when the dump saw a different generation or was
/// interrupted (the caller restarts).
fn dump_kind<F>(
    sock: &mut Socket,
    kind: u16,
    family: Family,
    attrs: &[u8],
    genid: u32,
    mut each: F,
) -> Result<bool>
where
    F: FnMut(Family, &[u8]) -> Result<()>,
{
    let seq = sock.next_seq(1);
    let mut w = MessageWriter::with_capacity(64 + attrs.len());
    w.begin_nfgen(
        msg::nft(kind),
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        family.number(),
        0,
    );
    w.attrs().put_raw_attrs(attrs);
    w.finish_message();
    sock.send(w.as_bytes())?;
    let mut consistent = true;
    let reply_kind = msg::nft(kind - 1); // GETx answers with NEWx
    loop {
        let Some(buf) = sock.recv(true)? else {
            continue;
        };
        for m in MessageIter::new(buf) {
            let m = m?;
            if m.header.seq != seq {
                continue;
            }
            if m.header.flags & NLM_F_DUMP_INTR != 0 {
                consistent = false;
            }
            match m.header.kind {
                NLMSG_DONE => return Ok(consistent),
                NLMSG_ERROR => {
                    let e = KernelError::parse(&m.header, m.payload)?;
                    if e.errno == libc::EINTR {
                        // The dump could not be completed consistently.
                        return Ok(false);
                    }
                    if e.errno != 0 {
                        return Err(Error::Kernel {
                            what: format!("dumping message type {kind}"),
                            errno: e.errno,
                            message: e.message,
                        });
                    }
                }
                k if k == reply_kind => {
                    let (fam, _, res_id, attrs) = m.nfgen()?;
                    if res_id != (genid & 0xffff) as u16 {
                        consistent = false;
                    }
                    if consistent {
                        each(Family::from_number(fam), attrs)?;
                    }
                }
                _ => {}
            }
        }
    }
}

/// One object message of a raw dump: its family and the attribute bytes
/// after `nfgenmsg`, exactly as the kernel sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawObject {
    /// Family from `nfgenmsg`.
    pub family: Family,
    /// Attribute bytes.
    pub attrs: Vec<u8>,
}

/// Dumps one object kind (`msg::GETTABLE`, `msg::GETCHAIN`, `msg::GETRULE`,
/// …) without decoding it: the bytes as the kernel sent them, for
/// diagnostics and for checking that decoding and re-encoding is lossless.
pub fn dump_raw(sock: &mut Socket, get_kind: u16, family: Family) -> Result<Vec<RawObject>> {
    for _ in 0..MAX_ATTEMPTS {
        let genid = get_generation(sock)?.id;
        let mut out = Vec::new();
        let ok = dump_kind(sock, get_kind, family, &[], genid, |family, attrs| {
            out.push(RawObject {
                family,
                attrs: attrs.to_vec(),
            });
            Ok(())
        })?;
        if ok {
            return Ok(out);
        }
    }
    Err(Error::DumpUnstable {
        attempts: MAX_ATTEMPTS,
    })
}
