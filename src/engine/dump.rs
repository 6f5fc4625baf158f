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
use crate::netlink::dump::read_dump;
use crate::netlink::message::{NLMSG_DONE, NLMSG_ERROR, NLM_F_DUMP, NLM_F_REQUEST};
use crate::netlink::{KernelError, MessageIter, MessageWriter, Socket};
use crate::nft::consts::{msg, NFTA_RULE_CHAIN, NFTA_RULE_TABLE};
use crate::nft::set_element::{NFTA_SET_ELEM_LIST_SET, NFTA_SET_ELEM_LIST_TABLE};
use crate::nft::{Chain, ElementList, Family, Flowtable, Object, Rule, Ruleset, Set, Table};

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
        if !ok {
            return Ok(Attempt::Changed);
        }
        if !Self::dump_sets_objects(sock, family, genid, &keep_table, &mut rs)? {
            return Ok(Attempt::Changed);
        }
        if get_generation(sock)?.id != genid {
            return Ok(Attempt::Changed);
        }
        Ok(Attempt::Done(rs))
    }

    /// Dumps sets, each set's elements, stateful objects and flowtables
    /// into `rs`. Returns `Ok(false)` when the ruleset changed meanwhile.
    /// Filtering by table happens here rather than in the kernel: a GETSET
    /// naming a table that does not exist fails with ENOENT.
    fn dump_sets_objects(
        sock: &mut Socket,
        family: Family,
        genid: u32,
        keep_table: &dyn Fn(&str) -> bool,
        rs: &mut Ruleset,
    ) -> Result<bool> {
        let ok = dump_kind(sock, msg::GETSET, family, &[], genid, |fam, attrs| {
            let s = Set::parse(fam, attrs)?;
            if keep_table(&s.table) {
                rs.sets.push(s);
            }
            Ok(())
        })?;
        if !ok {
            return Ok(false);
        }
        let sets: Vec<(Family, String, String)> = rs
            .sets
            .iter()
            .map(|s| (s.family, s.table.clone(), s.name.clone()))
            .collect();
        for (fam, table, name) in sets {
            let mut list = ElementList::new(fam, table.clone(), name.clone(), Vec::new());
            let req = setelem_request(&table, &name)?;
            let r = dump_kind(sock, msg::GETSETELEM, fam, &req, genid, |fam, attrs| {
                let part = ElementList::parse(fam, attrs)?;
                list.elements.extend(part.elements);
                list.unknown.extend(part.unknown);
                Ok(())
            });
            match r {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                // The set went away between GETSET and GETSETELEM: a
                // concurrent commit, so the snapshot restarts.
                Err(Error::Kernel { errno, .. })
                    if errno == libc::ENOENT && get_generation(sock)?.id != genid =>
                {
                    return Ok(false)
                }
                Err(e) => return Err(e),
            }
            if !list.elements.is_empty() {
                rs.elements.push(list);
            }
        }
        let ok = dump_kind(sock, msg::GETOBJ, family, &[], genid, |fam, attrs| {
            let o = Object::parse(fam, attrs)?;
            if keep_table(&o.table) {
                rs.objects.push(o);
            }
            Ok(())
        })?;
        if !ok {
            return Ok(false);
        }
        dump_kind(sock, msg::GETFLOWTABLE, family, &[], genid, |fam, attrs| {
            let f = Flowtable::parse(fam, attrs)?;
            if keep_table(&f.table) {
                rs.flowtables.push(f);
            }
            Ok(())
        })
    }
}

/// Runs one dump request and feeds every object message to `each`.
/// Returns `Ok(false)` when the dump saw a different generation or was
/// interrupted (the caller restarts).
pub(crate) fn dump_kind<F>(
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
    let reply_kind = msg::nft(kind - 1); // GETx answers with NEWx
    let mut consistent = true;
    let complete = read_dump(sock, seq, &format!("dumping message type {kind}"), |m| {
        if m.header.kind != reply_kind {
            return Ok(());
        }
        let (fam, _, res_id, attrs) = m.nfgen()?;
        // Each message carries the low 16 bits of the generation it
        // belongs to; a different one means a commit landed meanwhile.
        if res_id != (genid & 0xffff) as u16 {
            consistent = false;
        }
        if consistent {
            each(Family::from_number(fam), attrs)?;
        }
        Ok(())
    })?;
    Ok(complete && consistent)
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
    dump_raw_with(sock, get_kind, family, &[])
}

/// The attributes of a GETSETELEM dump request for set `set` of `table`.
pub fn setelem_request(table: &str, set: &str) -> Result<Vec<u8>> {
    let mut req = Vec::new();
    let mut w = crate::netlink::AttrWriter::new(&mut req);
    w.put_strz(NFTA_SET_ELEM_LIST_TABLE, table)?;
    w.put_strz(NFTA_SET_ELEM_LIST_SET, set)?;
    Ok(req)
}

/// Like [`dump_raw`], with request attributes `attrs` (for example
/// [`setelem_request`] for `msg::GETSETELEM`, which dumps one set and needs
/// its family).
pub fn dump_raw_with(
    sock: &mut Socket,
    get_kind: u16,
    family: Family,
    attrs: &[u8],
) -> Result<Vec<RawObject>> {
    for _ in 0..MAX_ATTEMPTS {
        let genid = get_generation(sock)?.id;
        let mut out = Vec::new();
        let ok = dump_kind(sock, get_kind, family, attrs, genid, |family, attrs| {
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

/// Reads stateful objects and resets their state (counters to zero, quota
/// consumption to zero) in one step (`NFT_MSG_GETOBJ_RESET`), returning
/// them as they were just before the reset.
///
/// This is not a transaction operation: the kernel serves GETOBJ_RESET as
/// a read request and refuses it inside a batch (EINVAL), so a reset can
/// be neither atomic with other changes nor checked against a generation.
///
/// With `name`, exactly one object is reset; then `table` and `obj_type`
/// are required (the kernel looks single objects up by table, name and
/// type). Without `name`, every object of `family` (narrowed to `table`
/// and `obj_type` when given) is reset.
pub fn reset_objects(
    sock: &mut Socket,
    family: Family,
    table: Option<&str>,
    name: Option<&str>,
    obj_type: Option<u32>,
) -> Result<Vec<Object>> {
    use crate::netlink::message::NLM_F_ACK;
    use crate::nft::object::{NFTA_OBJ_NAME, NFTA_OBJ_TABLE, NFTA_OBJ_TYPE};
    if name.is_some() && (table.is_none() || obj_type.is_none() || family == Family::Unspec) {
        return Err(Error::Invalid {
            what: "object reset",
            detail: "resetting one object by name needs its family, table and type".into(),
        });
    }
    let mut req = Vec::new();
    {
        let mut w = crate::netlink::AttrWriter::new(&mut req);
        if let Some(t) = table {
            w.put_strz(NFTA_OBJ_TABLE, t)?;
        }
        if let Some(n) = name {
            w.put_strz(NFTA_OBJ_NAME, n)?;
        }
        if let Some(t) = obj_type {
            w.put_be32(NFTA_OBJ_TYPE, t)?;
        }
    }
    // A dump ignores the name (it filters by table and type only), so one
    // object is asked for with a plain request, acknowledged after its reply.
    let flags = if name.is_some() {
        NLM_F_REQUEST | NLM_F_ACK
    } else {
        NLM_F_REQUEST | NLM_F_DUMP
    };
    let seq = sock.next_seq(1);
    let mut w = MessageWriter::with_capacity(64 + req.len());
    w.begin_nfgen(msg::nft(msg::GETOBJ_RESET), flags, seq, family.number(), 0);
    w.attrs().put_raw_attrs(&req);
    w.finish_message();
    sock.send(w.as_bytes())?;
    let mut out = Vec::new();
    loop {
        let Some(buf) = sock.recv(true)? else {
            continue;
        };
        for m in MessageIter::new(buf) {
            let m = m?;
            if m.header.seq != seq {
                continue;
            }
            match m.header.kind {
                NLMSG_DONE => return Ok(out),
                NLMSG_ERROR => {
                    let e = KernelError::parse(&m.header, m.payload)?;
                    if e.errno != 0 {
                        return Err(Error::Kernel {
                            what: "resetting stateful objects".into(),
                            errno: e.errno,
                            message: e.message,
                        });
                    }
                    return Ok(out); // the acknowledgement of a single reset
                }
                k if k == msg::nft(msg::NEWOBJ) => {
                    let (fam, _, _, attrs) = m.nfgen()?;
                    out.push(Object::parse(Family::from_number(fam), attrs)?);
                }
                _ => {}
            }
        }
    }
}
