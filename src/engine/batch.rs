//! `BatchBuilder`: the streaming form of a [`Transaction`] for bulk work.
//!
//! A [`Transaction`] keeps every operation typed ([`Transaction::ops`]),
//! which the workflow needs (backups analyse the operations, plans and
//! policies are stored as JSON), and encodes the whole batch only when it
//! is sent. For 100k rules that means every typed rule — its strings, its
//! expression list, each expression's value bytes — stays in memory next
//! to the batch (about 1.5 KiB per rule against 400 bytes encoded).
//!
//! A `BatchBuilder` encodes each operation into the batch buffer the moment
//! it is added and drops the typed form. It keeps only the encoded batch
//! plus, per operation, what an error report needs: an index into a table
//! of distinct descriptions (`add rule ip filter INPUT` is stored once for
//! 100k rules), the per-operation tail of the description (a handle, an
//! element count) and whether the operation creates a rule. Building and
//! committing 100k rules therefore needs about the encoded batch in memory.
//!
//! Set elements given as bare keys ([`BatchBuilder::add_element_keys`]) are
//! encoded straight from the caller's iterator, so a million-element set
//! never exists as a million [`crate::nft::SetElement`]s either.
//!
//! The batch is sent without copying: the buffer starts with room for
//! BATCH_BEGIN, BATCH_END is appended for the send and removed again, and
//! the sequence numbers (and echo flags) of the operation messages are
//! rewritten in place for each commit. The bytes are exactly those
//! [`Transaction::encode`] produces for the same operations.
//!
//! A builder is not serialisable: persist a [`Transaction`] (typed, small)
//! or the bytes of [`BatchBuilder::encode`] instead. Use a builder where
//! nothing needs the typed operations afterwards: bulk loads, benchmarks,
//! big sets.

use super::commit::{batch_numbers, finish_check, finish_commit, prepare_echo, Committed};
use super::transaction::{
    anonymous_set, op_methods, write_batch_begin, write_batch_end, DescribeTail, DEFAULT_ECHO_LIMIT,
};
use super::{GenCheck, Op, Transaction};
use crate::error::{Error, Result};
use crate::netlink::attr::{align4, NLA_HDRLEN, NLA_MAX_LEN};
use crate::netlink::message::{NLMSG_HDRLEN, NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL, NLM_F_REQUEST};
use crate::netlink::{MessageWriter, Socket};
use crate::nft::consts::{msg, NFTA_DATA_VALUE, NFTA_LIST_ELEM};
use crate::nft::set_element::{
    NFTA_SET_ELEM_KEY, NFTA_SET_ELEM_LIST_ELEMENTS, NFTA_SET_ELEM_LIST_SET,
    NFTA_SET_ELEM_LIST_TABLE,
};
use crate::nft::{Chain, ElementList, Family, Flowtable, Object, Rule, Set, SetElement, Table};

/// Room reserved at the start of the buffer for BATCH_BEGIN with a
/// generation attribute (header, `nfgenmsg`, one `u32` attribute).
const BEGIN_SLOT: usize = NLMSG_HDRLEN + 4 + NLA_HDRLEN + 4;

/// What is kept of one operation once it is encoded.
#[derive(Debug, Clone, Copy)]
struct OpRecord {
    /// Index into `BatchBuilder::stems`.
    stem: u32,
    /// The per-operation end of the description.
    tail: DescribeTail,
    /// Whether the kernel may echo the rule it creates.
    creates_rule: bool,
}

/// The family/table/chain of the last rule operation, to reuse its
/// description stem without formatting one per rule.
#[derive(Debug, Clone)]
struct LastRule {
    verb: u8,
    family: Family,
    table: String,
    chain: String,
    stem: u32,
}

/// A batch encoded as operations are added: the bulk form of a
/// [`Transaction`] (see the module documentation). The methods that add
/// operations have the same names and signatures as [`Transaction`]'s; an
/// operation that cannot be encoded (an attribute over 64 KiB, a rule the
/// builder refused) is remembered and reported by [`BatchBuilder::commit`],
/// [`BatchBuilder::check`] and [`BatchBuilder::encode`], as
/// [`Transaction`] reports it when encoding.
#[derive(Debug)]
pub struct BatchBuilder {
    /// BEGIN slot, then the operation messages.
    w: MessageWriter,
    records: Vec<OpRecord>,
    stems: Vec<String>,
    last_rule: Option<LastRule>,
    rules: usize,
    next_id: u32,
    echo: Option<bool>,
    /// The sequence base the messages' numbers currently count from
    /// (operation *i* carries `applied_base + 1 + i`).
    applied_base: u32,
    /// Whether rule messages currently carry `NLM_F_ECHO`.
    applied_echo: bool,
    /// The first operation that failed to encode, and why.
    error: Option<(usize, Error)>,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchBuilder {
    /// An empty batch.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty batch with room for `bytes` encoded bytes (about 400 per
    /// simple rule, 16 per 4-byte set element), so that the buffer does
    /// not grow in steps.
    pub fn with_capacity(bytes: usize) -> Self {
        let mut w = MessageWriter::with_capacity(BEGIN_SLOT + bytes);
        // Placeholder; rewritten for every send. Its size is the slot's.
        if write_batch_begin(&mut w, 0, 1).is_err() || w.len() != BEGIN_SLOT {
            unreachable_slot();
        }
        BatchBuilder {
            w,
            records: Vec::new(),
            stems: Vec::new(),
            last_rule: None,
            rules: 0,
            next_id: 0,
            echo: None,
            applied_base: 0,
            applied_echo: false,
            error: None,
        }
    }

    /// A builder holding `tx`'s operations, echo setting and id counter.
    pub fn from_transaction(tx: &Transaction) -> Self {
        let mut b = BatchBuilder::new();
        for op in tx.ops() {
            b.push_ref(op);
        }
        b.next_id = tx.last_id();
        b.echo = tx.echo_setting();
        b
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no operations.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes of the encoded operations (without BATCH_BEGIN and END).
    pub fn encoded_len(&self) -> usize {
        self.w.len() - BEGIN_SLOT
    }

    /// The first operation that could not be encoded, if any, and why.
    pub fn error(&self) -> Option<(usize, &Error)> {
        self.error.as_ref().map(|(i, e)| (*i, e))
    }

    /// The description of operation `index` (as [`Op::describe`] gives it).
    pub fn describe(&self, index: usize) -> Option<String> {
        let r = self.records.get(index)?;
        let mut s = self.stems.get(r.stem as usize)?.clone();
        r.tail.append_to(&mut s);
        Some(s)
    }

    /// Encodes and adds an operation.
    pub fn push(&mut self, op: Op) -> &mut Self {
        self.push_ref(&op)
    }

    /// Encodes and adds an operation the caller keeps.
    pub fn push_ref(&mut self, op: &Op) -> &mut Self {
        let index = self.records.len();
        if self.error.is_none() {
            let seq = self.seq_of(index);
            if let Err(e) = op.encode(&mut self.w, seq, self.applied_echo) {
                self.error = Some((index, e));
            }
        }
        let (stem, tail) = self.stem_of(op);
        let creates_rule = op.creates_rule();
        self.rules += usize::from(creates_rule);
        self.records.push(OpRecord {
            stem,
            tail,
            creates_rule,
        });
        self
    }

    /// The sequence number operation `index` carries in the buffer now.
    fn seq_of(&self, index: usize) -> u32 {
        self.applied_base.wrapping_add(1 + index as u32)
    }

    /// The description stem of `op`, stored once per distinct text.
    fn stem_of(&mut self, op: &Op) -> (u32, DescribeTail) {
        let rule = match op {
            Op::AddRule(r) => Some((0u8, r)),
            Op::InsertRule(r) => Some((1, r)),
            Op::ReplaceRule(r) => Some((2, r)),
            _ => None,
        };
        if let (Some((verb, r)), Some(last)) = (rule, &self.last_rule) {
            if last.verb == verb
                && last.family == r.family
                && last.table == r.table
                && last.chain == r.chain
            {
                let tail = match op {
                    Op::ReplaceRule(r) => DescribeTail::Handle(r.handle),
                    _ => DescribeTail::None,
                };
                return (last.stem, tail);
            }
        }
        let (text, tail) = op.describe_parts();
        let stem = self.intern(text);
        if let Some((verb, r)) = rule {
            self.last_rule = Some(LastRule {
                verb,
                family: r.family,
                table: r.table.clone(),
                chain: r.chain.clone(),
                stem,
            });
        }
        (stem, tail)
    }

    fn intern(&mut self, text: String) -> u32 {
        match self.stems.iter().rposition(|s| *s == text) {
            Some(i) => i as u32,
            None => {
                self.stems.push(text);
                (self.stems.len() - 1) as u32
            }
        }
    }

    /// A fresh transaction id for `NFTA_*_ID` references within this batch.
    pub fn next_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// Whether the kernel should echo created rules so that
    /// [`Committed::handles`] is filled. Default: on for up to
    /// [`DEFAULT_ECHO_LIMIT`] created rules.
    pub fn set_echo(&mut self, echo: bool) -> &mut Self {
        self.echo = Some(echo);
        self
    }

    fn wants_echo(&self) -> bool {
        self.echo.unwrap_or(self.rules <= DEFAULT_ECHO_LIMIT)
    }

    op_methods!();

    /// `add element` (split into as many messages as needed).
    pub fn add_elements(&mut self, l: ElementList) -> &mut Self {
        self.push(Op::AddElements(l))
    }

    /// `add element` of plain keys (no data, flags or timeouts), encoded
    /// straight from `keys`: the same messages as [`BatchBuilder::add_elements`]
    /// with [`SetElement::new`]`(key)` for each key, without building the
    /// elements.
    pub fn add_element_keys<I>(
        &mut self,
        family: Family,
        table: &str,
        set: &str,
        keys: I,
    ) -> &mut Self
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.push_keys(
            "add",
            msg::NEWSETELEM,
            NLM_F_CREATE,
            family,
            table,
            set,
            keys,
        )
    }

    /// `create element` of plain keys (EEXIST if one is present); see
    /// [`BatchBuilder::add_element_keys`].
    pub fn create_element_keys<I>(
        &mut self,
        family: Family,
        table: &str,
        set: &str,
        keys: I,
    ) -> &mut Self
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let flags = NLM_F_CREATE | NLM_F_EXCL;
        self.push_keys("create", msg::NEWSETELEM, flags, family, table, set, keys)
    }

    /// `delete element` by key; see [`BatchBuilder::add_element_keys`].
    pub fn delete_element_keys<I>(
        &mut self,
        family: Family,
        table: &str,
        set: &str,
        keys: I,
    ) -> &mut Self
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.push_keys("delete", msg::DELSETELEM, 0, family, table, set, keys)
    }

    #[allow(clippy::too_many_arguments)]
    fn push_keys<I>(
        &mut self,
        verb: &str,
        kind: u16,
        flags: u16,
        family: Family,
        table: &str,
        set: &str,
        keys: I,
    ) -> &mut Self
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let index = self.records.len();
        let mut count = 0;
        if self.error.is_none() {
            let seq = self.seq_of(index);
            let r = encode_keys(&mut self.w, kind, flags, seq, family, table, set, keys);
            match r {
                Ok(n) => count = n,
                Err(e) => self.error = Some((index, e)),
            }
        }
        let stem = self.intern(format!("{verb} element {family} {table} {set}"));
        self.records.push(OpRecord {
            stem,
            tail: DescribeTail::Elements(count),
            creates_rule: false,
        });
        self
    }

    /// Creates an anonymous set and its elements in this batch; see
    /// [`Transaction::add_anonymous_set`].
    pub fn add_anonymous_set(&mut self, set: Set, elements: Vec<SetElement>) -> u32 {
        let id = self.next_id();
        let (set, list) = anonymous_set(id, set, elements);
        self.push(Op::AddSet(set));
        if let Some(list) = list {
            self.push(Op::AddElements(list));
        }
        id
    }

    /// Fails with the encoding error of an earlier operation, if any.
    fn ready(&self) -> Result<()> {
        match &self.error {
            None => Ok(()),
            Some((_, e)) => Err(replay_error(e)),
        }
    }

    /// The batch as [`Transaction::encode`] would encode the same
    /// operations (a copy; [`BatchBuilder::commit`] sends without one).
    pub fn encode(&self, seq_base: u32, genid: u32, with_end: bool, echo: bool) -> Result<Vec<u8>> {
        self.ready()?;
        let mut begin = MessageWriter::new();
        write_batch_begin(&mut begin, seq_base, genid)?;
        let mut out = begin.into_bytes();
        let start = out.len();
        out.reserve(self.encoded_len() + 2 * NLMSG_HDRLEN + 8);
        out.extend_from_slice(&self.w.as_bytes()[BEGIN_SLOT..]);
        self.patch(&mut out[start..], self.applied_base, seq_base, echo);
        if with_end {
            let mut end = MessageWriter::new();
            write_batch_end(&mut end, self.end_seq(seq_base));
            out.extend_from_slice(end.as_bytes());
        }
        Ok(out)
    }

    /// The canonical bytes (see [`Transaction::canonical_bytes`]).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>> {
        self.encode(0, 0, true, false)
    }

    fn end_seq(&self, seq_base: u32) -> u32 {
        seq_base.wrapping_add(1 + self.records.len() as u32)
    }

    /// Rewrites the operation messages in `body` from sequence base `from`
    /// to `to`, and sets `NLM_F_ECHO` on rule-creating messages exactly
    /// when `echo`.
    fn patch(&self, body: &mut [u8], from: u32, to: u32, echo: bool) {
        let mut off = 0;
        while let Some(h) = body.get_mut(off..off + NLMSG_HDRLEN) {
            let len = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
            let seq = u32::from_ne_bytes([h[8], h[9], h[10], h[11]]);
            let rel = seq.wrapping_sub(from);
            h[8..12].copy_from_slice(&to.wrapping_add(rel).to_ne_bytes());
            let creates_rule = (rel as usize)
                .checked_sub(1)
                .and_then(|i| self.records.get(i))
                .is_some_and(|r| r.creates_rule);
            if creates_rule {
                let mut flags = u16::from_ne_bytes([h[6], h[7]]);
                if echo {
                    flags |= NLM_F_ECHO;
                } else {
                    flags &= !NLM_F_ECHO;
                }
                h[6..8].copy_from_slice(&flags.to_ne_bytes());
            }
            if len < NLMSG_HDRLEN {
                break; // not reachable: every message was written here
            }
            off += align4(len);
        }
    }

    /// Prepares the buffer for one send: sequence numbers from `seq_base`,
    /// echo flags, BATCH_BEGIN in its slot. Returns where the batch starts.
    fn frame(&mut self, seq_base: u32, genid: u32, echo: bool) -> Result<usize> {
        if self.applied_base != seq_base || self.applied_echo != echo {
            let (from, mut buf) = (self.applied_base, std::mem::take(&mut self.w));
            self.patch(&mut buf.as_bytes_mut()[BEGIN_SLOT..], from, seq_base, echo);
            self.w = buf;
            self.applied_base = seq_base;
            self.applied_echo = echo;
        }
        let mut begin = MessageWriter::new();
        write_batch_begin(&mut begin, seq_base, genid)?;
        let b = begin.as_bytes();
        let start = BEGIN_SLOT - b.len();
        self.w.as_bytes_mut()[start..BEGIN_SLOT].copy_from_slice(b);
        Ok(start)
    }

    /// Sends the batch (with END when `with_end`) with one `sendmsg`.
    fn send(
        &mut self,
        sock: &mut Socket,
        seq_base: u32,
        genid: u32,
        with_end: bool,
        echo: bool,
    ) -> Result<()> {
        let start = self.frame(seq_base, genid, echo)?;
        let body_end = self.w.len();
        if with_end {
            let end_seq = self.end_seq(seq_base);
            write_batch_end(&mut self.w, end_seq);
        }
        let sent = sock.send(&self.w.as_bytes()[start..]);
        self.w.truncate(body_end);
        sent
    }

    /// Applies the batch atomically, as [`Transaction::commit`] does.
    /// Takes `&mut self` because the batch is sent from its own buffer,
    /// whose sequence numbers are rewritten for the send.
    pub fn commit(&mut self, sock: &mut Socket, gen: GenCheck) -> Result<Committed> {
        self.ready()?;
        let echo = prepare_echo(sock, self.wants_echo(), self.rules)?;
        let n = self.len();
        let (seq_base, genid) = batch_numbers(sock, gen, n)?;
        self.send(sock, seq_base, genid, true, echo)?;
        finish_commit(sock, gen, seq_base, n, &|i| {
            self.describe(i).unwrap_or_default()
        })
    }

    /// Validates the batch in the kernel without committing, as
    /// [`Transaction::check`] does.
    pub fn check(&mut self, sock: &mut Socket, gen: GenCheck) -> Result<()> {
        self.ready()?;
        let n = self.len();
        let (seq_base, genid) = batch_numbers(sock, gen, n)?;
        self.send(sock, seq_base, genid, false, false)?;
        finish_check(sock, gen, seq_base, n, &|i| {
            self.describe(i).unwrap_or_default()
        })
    }
}

/// The slot size is a constant of the message layout; a mismatch is a bug
/// in this file, caught by every test that builds a batch.
#[cold]
fn unreachable_slot() {
    debug_assert!(false, "BATCH_BEGIN slot size mismatch");
}

/// Encodes plain keys as element-list messages of type `kind` (as
/// [`encode_elements`] does for [`SetElement::new`] elements: the same
/// splitting at the 64 KiB nest limit, the same bytes). Returns how many
/// keys were written.
#[allow(clippy::too_many_arguments)]
fn encode_keys<I>(
    w: &mut MessageWriter,
    kind: u16,
    flags: u16,
    seq: u32,
    family: Family,
    table: &str,
    set: &str,
    keys: I,
) -> Result<usize>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let begin = |w: &mut MessageWriter| -> Result<usize> {
        w.begin_nfgen(
            msg::nft(kind),
            NLM_F_REQUEST | flags,
            seq,
            family.number(),
            0,
        );
        let mut a = w.attrs();
        a.put_strz(NFTA_SET_ELEM_LIST_TABLE, table)?;
        a.put_strz(NFTA_SET_ELEM_LIST_SET, set)?;
        // Closed by `close` below, from its start offset.
        let _ = a.begin_nested(NFTA_SET_ELEM_LIST_ELEMENTS);
        Ok(w.len() - NLA_HDRLEN)
    };
    let close = |w: &mut MessageWriter, nest_start: usize| -> Result<()> {
        let len = w.len() - nest_start;
        if len > NLA_MAX_LEN {
            // One element alone over the limit (a key of almost 64 KiB).
            return Err(Error::AttributeTooLong {
                kind: NFTA_SET_ELEM_LIST_ELEMENTS,
                len,
            });
        }
        w.as_bytes_mut()[nest_start..nest_start + 2].copy_from_slice(&(len as u16).to_ne_bytes());
        w.finish_message();
        Ok(())
    };
    let run = |w: &mut MessageWriter| -> Result<usize> {
        let mut nest_start = begin(w)?;
        let (mut total, mut in_message) = (0usize, 0usize);
        for key in keys {
            let key = key.as_ref();
            let elem = 3 * NLA_HDRLEN + align4(key.len());
            if w.len() - nest_start + elem > NLA_MAX_LEN && in_message > 0 {
                close(w, nest_start)?;
                nest_start = begin(w)?;
                in_message = 0;
            }
            let mut a = w.attrs();
            a.nested(NFTA_LIST_ELEM, |a| {
                a.nested(NFTA_SET_ELEM_KEY, |a| a.put(NFTA_DATA_VALUE, key))
            })?;
            total += 1;
            in_message += 1;
        }
        close(w, nest_start)?;
        Ok(total)
    };
    let start = w.len();
    let r = run(w);
    if r.is_err() {
        w.truncate(start);
    }
    r
}

/// A copy of an encoding error, to report it again on every send attempt.
fn replay_error(e: &Error) -> Error {
    match e {
        Error::AttributeTooLong { kind, len } => Error::AttributeTooLong {
            kind: *kind,
            len: *len,
        },
        Error::Invalid { what, detail } => Error::Invalid {
            what,
            detail: detail.clone(),
        },
        Error::Malformed { what, detail } => Error::Malformed {
            what,
            detail: detail.clone(),
        },
        other => Error::Invalid {
            what: "batch",
            detail: other.to_string(),
        },
    }
}
