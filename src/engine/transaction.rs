//! `Transaction`: an ordered list of operations encoded into one
//! nfnetlink batch (BEGIN, messages, END) and sent with one `sendmsg`.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::netlink::attr::NLA_MAX_LEN;
use crate::netlink::message::{
    NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST,
};
use crate::netlink::MessageWriter;
use crate::nft::consts::*;
use crate::nft::flowtable::{NFTA_FLOWTABLE_NAME, NFTA_FLOWTABLE_TABLE};
use crate::nft::object::{NFTA_OBJ_NAME, NFTA_OBJ_TABLE, NFTA_OBJ_TYPE};
use crate::nft::set::{NFTA_SET_NAME, NFTA_SET_TABLE};
use crate::nft::set_element::{NFTA_SET_ELEM_LIST_SET, NFTA_SET_ELEM_LIST_TABLE};
use crate::nft::{Chain, ElementList, Family, Flowtable, Object, Rule, Set, Table};

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `add table`: create, or leave an existing table as it is.
    AddTable(Table),
    /// `create table`: create; fails with EEXIST if it exists.
    CreateTable(Table),
    /// `delete table` (always by name: nftguard never deletes every table).
    DeleteTable {
        /// Family.
        family: Family,
        /// Name.
        name: String,
    },
    /// `flush table`: delete every rule of the table's chains.
    FlushTable {
        /// Family.
        family: Family,
        /// Name.
        name: String,
    },
    /// `add chain`.
    AddChain(Chain),
    /// `create chain`: fails with EEXIST if it exists.
    CreateChain(Chain),
    /// `delete chain`.
    DeleteChain {
        /// Family.
        family: Family,
        /// Table.
        table: String,
        /// Chain.
        name: String,
    },
    /// `flush chain`.
    FlushChain {
        /// Family.
        family: Family,
        /// Table.
        table: String,
        /// Chain.
        name: String,
    },
    /// `add rule`: append, or place after `rule.position`.
    AddRule(Rule),
    /// `insert rule`: prepend, or place before `rule.position`.
    InsertRule(Rule),
    /// `replace rule`: replace the rule with `rule.handle`.
    ReplaceRule(Rule),
    /// `delete rule … handle N`.
    DeleteRule {
        /// Family.
        family: Family,
        /// Table.
        table: String,
        /// Chain.
        chain: String,
        /// Handle.
        handle: u64,
    },
    /// `add set` / `add map`: create, or leave an existing set as it is.
    AddSet(Set),
    /// `create set`: fails with EEXIST if it exists.
    CreateSet(Set),
    /// `delete set` (EBUSY while a rule uses it).
    DeleteSet {
        /// Family.
        family: Family,
        /// Table.
        table: String,
        /// Set name.
        name: String,
    },
    /// `add element`: add elements (existing ones are left as they are).
    /// Encoded as as many NEWSETELEM messages as the 64 KiB attribute
    /// limit requires, all in the same batch.
    AddElements(ElementList),
    /// `create element`: fails with EEXIST if an element exists.
    CreateElements(ElementList),
    /// `delete element`: delete elements by key (split like `AddElements`).
    DeleteElements(ElementList),
    /// `flush set`: delete every element of a set.
    FlushSet {
        /// Family.
        family: Family,
        /// Table.
        table: String,
        /// Set name.
        name: String,
    },
    /// `add counter|quota|limit|ct helper|…`: create a stateful object,
    /// or leave an existing one as it is.
    AddObject(Object),
    /// Create a stateful object; fails with EEXIST if it exists.
    CreateObject(Object),
    /// Delete a stateful object (EBUSY while referenced).
    DeleteObject {
        /// Family.
        family: Family,
        /// Table.
        table: String,
        /// Object name.
        name: String,
        /// `NFT_OBJECT_*` (names are unique per type).
        obj_type: u32,
    },
    /// `add flowtable`.
    AddFlowtable(Flowtable),
    /// `create flowtable`: fails with EEXIST if it exists.
    CreateFlowtable(Flowtable),
    /// `delete flowtable`.
    DeleteFlowtable {
        /// Family.
        family: Family,
        /// Table.
        table: String,
        /// Flowtable name.
        name: String,
    },
    /// A message encoded elsewhere (objects this enum does not name yet);
    /// `attrs` are the attributes after `nfgenmsg`.
    Raw {
        /// nf_tables message type (`NFT_MSG_*`, not subsystem-shifted).
        kind: u16,
        /// Extra `NLM_F_*` flags.
        flags: u16,
        /// Family.
        family: Family,
        /// Encoded attributes.
        attrs: Vec<u8>,
        /// What it does, for error messages.
        what: String,
    },
}

/// The per-operation end of [`Op::describe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DescribeTail {
    /// Nothing.
    None,
    /// ` handle N` (`?` when the rule carries none).
    Handle(Option<u64>),
    /// ` (N elements)`.
    Elements(usize),
}

impl DescribeTail {
    /// Appends the tail to a stem.
    pub(crate) fn append_to(self, stem: &mut String) {
        use std::fmt::Write as _;
        let _ = match self {
            DescribeTail::None => Ok(()),
            DescribeTail::Handle(Some(h)) => write!(stem, " handle {h}"),
            DescribeTail::Handle(None) => write!(stem, " handle ?"),
            DescribeTail::Elements(n) => write!(stem, " ({n} elements)"),
        };
    }
}

impl Op {
    /// A short description, as nft would phrase the command
    /// (`add rule inet nftguard input`).
    pub fn describe(&self) -> String {
        let (mut stem, tail) = self.describe_parts();
        tail.append_to(&mut stem);
        stem
    }

    /// [`Op::describe`] split into the part many operations of a bulk batch
    /// share (`add rule ip filter INPUT`) and the part that differs per
    /// operation (a handle, an element count). [`super::BatchBuilder`]
    /// stores each distinct stem once.
    pub(crate) fn describe_parts(&self) -> (String, DescribeTail) {
        let none = DescribeTail::None;
        match self {
            Op::AddTable(t) => (format!("add table {} {}", t.family, t.name), none),
            Op::CreateTable(t) => (format!("create table {} {}", t.family, t.name), none),
            Op::DeleteTable { family, name } => (format!("delete table {family} {name}"), none),
            Op::FlushTable { family, name } => (format!("flush table {family} {name}"), none),
            Op::AddChain(c) => (
                format!("add chain {} {} {}", c.family, c.table, c.name),
                none,
            ),
            Op::CreateChain(c) => (
                format!("create chain {} {} {}", c.family, c.table, c.name),
                none,
            ),
            Op::DeleteChain {
                family,
                table,
                name,
            } => (format!("delete chain {family} {table} {name}"), none),
            Op::FlushChain {
                family,
                table,
                name,
            } => (format!("flush chain {family} {table} {name}"), none),
            Op::AddRule(r) => (
                format!("add rule {} {} {}", r.family, r.table, r.chain),
                none,
            ),
            Op::InsertRule(r) => (
                format!("insert rule {} {} {}", r.family, r.table, r.chain),
                none,
            ),
            Op::ReplaceRule(r) => (
                format!("replace rule {} {} {}", r.family, r.table, r.chain),
                DescribeTail::Handle(r.handle),
            ),
            Op::DeleteRule {
                family,
                table,
                chain,
                handle,
            } => (
                format!("delete rule {family} {table} {chain}"),
                DescribeTail::Handle(Some(*handle)),
            ),
            Op::AddSet(x) => (format!("add set {} {} {}", x.family, x.table, x.name), none),
            Op::CreateSet(x) => (
                format!("create set {} {} {}", x.family, x.table, x.name),
                none,
            ),
            Op::DeleteSet {
                family,
                table,
                name,
            } => (format!("delete set {family} {table} {name}"), none),
            Op::AddElements(l) => (
                format!("add element {} {} {}", l.family, l.table, l.set),
                DescribeTail::Elements(l.elements.len()),
            ),
            Op::CreateElements(l) => (
                format!("create element {} {} {}", l.family, l.table, l.set),
                DescribeTail::Elements(l.elements.len()),
            ),
            Op::DeleteElements(l) => (
                format!("delete element {} {} {}", l.family, l.table, l.set),
                DescribeTail::Elements(l.elements.len()),
            ),
            Op::FlushSet {
                family,
                table,
                name,
            } => (format!("flush set {family} {table} {name}"), none),
            Op::AddObject(o) => (
                format!(
                    "add {} {} {} {}",
                    o.data.kind_name(),
                    o.family,
                    o.table,
                    o.name
                ),
                none,
            ),
            Op::CreateObject(o) => (
                format!(
                    "create {} {} {} {}",
                    o.data.kind_name(),
                    o.family,
                    o.table,
                    o.name
                ),
                none,
            ),
            Op::DeleteObject {
                family,
                table,
                name,
                obj_type,
            } => (
                format!(
                    "delete {} {family} {table} {name}",
                    crate::nft::object::obj_type_name(*obj_type)
                ),
                none,
            ),
            Op::AddFlowtable(f) => (
                format!("add flowtable {} {} {}", f.family, f.table, f.name),
                none,
            ),
            Op::CreateFlowtable(f) => (
                format!("create flowtable {} {} {}", f.family, f.table, f.name),
                none,
            ),
            Op::DeleteFlowtable {
                family,
                table,
                name,
            } => (format!("delete flowtable {family} {table} {name}"), none),
            Op::Raw { what, .. } => (what.clone(), none),
        }
    }

    /// Whether the operation creates a rule (whose handle the kernel echoes).
    pub fn creates_rule(&self) -> bool {
        matches!(
            self,
            Op::AddRule(_) | Op::InsertRule(_) | Op::ReplaceRule(_)
        )
    }

    /// Encodes the operation as one message with sequence number `seq`.
    pub(crate) fn encode(&self, w: &mut MessageWriter, seq: u32, echo: bool) -> Result<()> {
        let base = NLM_F_REQUEST;
        let echo_flag = if echo && self.creates_rule() {
            NLM_F_ECHO
        } else {
            0
        };
        let (kind, flags, family) = match self {
            Op::AddTable(t) => (msg::NEWTABLE, NLM_F_CREATE, t.family),
            Op::CreateTable(t) => (msg::NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, t.family),
            Op::DeleteTable { family, .. } => (msg::DELTABLE, 0, *family),
            Op::FlushTable { family, .. } => (msg::DELRULE, 0, *family),
            Op::AddChain(c) => (msg::NEWCHAIN, NLM_F_CREATE, c.family),
            Op::CreateChain(c) => (msg::NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, c.family),
            Op::DeleteChain { family, .. } => (msg::DELCHAIN, 0, *family),
            Op::FlushChain { family, .. } => (msg::DELRULE, 0, *family),
            Op::AddRule(r) => (msg::NEWRULE, NLM_F_CREATE | NLM_F_APPEND, r.family),
            Op::InsertRule(r) => (msg::NEWRULE, NLM_F_CREATE, r.family),
            Op::ReplaceRule(r) => (msg::NEWRULE, NLM_F_REPLACE, r.family),
            Op::DeleteRule { family, .. } => (msg::DELRULE, 0, *family),
            Op::AddSet(x) => (msg::NEWSET, NLM_F_CREATE, x.family),
            Op::CreateSet(x) => (msg::NEWSET, NLM_F_CREATE | NLM_F_EXCL, x.family),
            Op::DeleteSet { family, .. } => (msg::DELSET, 0, *family),
            Op::AddElements(l) => {
                return encode_elements(w, msg::NEWSETELEM, NLM_F_CREATE, seq, l);
            }
            Op::CreateElements(l) => {
                return encode_elements(w, msg::NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL, seq, l);
            }
            Op::DeleteElements(l) => return encode_elements(w, msg::DELSETELEM, 0, seq, l),
            Op::FlushSet { family, .. } => (msg::DELSETELEM, 0, *family),
            Op::AddObject(o) => (msg::NEWOBJ, NLM_F_CREATE, o.family),
            Op::CreateObject(o) => (msg::NEWOBJ, NLM_F_CREATE | NLM_F_EXCL, o.family),
            Op::DeleteObject { family, .. } => (msg::DELOBJ, 0, *family),
            Op::AddFlowtable(f) => (msg::NEWFLOWTABLE, NLM_F_CREATE, f.family),
            Op::CreateFlowtable(f) => (msg::NEWFLOWTABLE, NLM_F_CREATE | NLM_F_EXCL, f.family),
            Op::DeleteFlowtable { family, .. } => (msg::DELFLOWTABLE, 0, *family),
            Op::Raw {
                kind,
                flags,
                family,
                ..
            } => (*kind, *flags, *family),
        };
        w.begin_nfgen(
            msg::nft(kind),
            base | flags | echo_flag,
            seq,
            family.number(),
            0,
        );
        let r = {
            let mut a = w.attrs();
            match self {
                Op::AddTable(t) | Op::CreateTable(t) => t.emit(&mut a),
                Op::DeleteTable { name, .. } => a.put_strz(NFTA_TABLE_NAME, name),
                Op::FlushTable { name, .. } => a.put_strz(NFTA_RULE_TABLE, name),
                Op::AddChain(c) | Op::CreateChain(c) => c.emit(&mut a),
                Op::DeleteChain { table, name, .. } => a
                    .put_strz(NFTA_CHAIN_TABLE, table)
                    .and_then(|_| a.put_strz(NFTA_CHAIN_NAME, name)),
                Op::FlushChain { table, name, .. } => a
                    .put_strz(NFTA_RULE_TABLE, table)
                    .and_then(|_| a.put_strz(NFTA_RULE_CHAIN, name)),
                Op::AddRule(r) | Op::InsertRule(r) | Op::ReplaceRule(r) => r.emit(&mut a),
                Op::DeleteRule {
                    table,
                    chain,
                    handle,
                    ..
                } => a
                    .put_strz(NFTA_RULE_TABLE, table)
                    .and_then(|_| a.put_strz(NFTA_RULE_CHAIN, chain))
                    .and_then(|_| a.put_be64(NFTA_RULE_HANDLE, *handle)),
                Op::AddSet(x) | Op::CreateSet(x) => x.emit_request(&mut a),
                Op::DeleteSet { table, name, .. } => a
                    .put_strz(NFTA_SET_TABLE, table)
                    .and_then(|_| a.put_strz(NFTA_SET_NAME, name)),
                // Encoded by `encode_elements` above.
                Op::AddElements(_) | Op::CreateElements(_) | Op::DeleteElements(_) => Ok(()),
                Op::FlushSet { table, name, .. } => a
                    .put_strz(NFTA_SET_ELEM_LIST_TABLE, table)
                    .and_then(|_| a.put_strz(NFTA_SET_ELEM_LIST_SET, name)),
                Op::AddObject(o) | Op::CreateObject(o) => o.emit_request(&mut a),
                Op::DeleteObject {
                    table,
                    name,
                    obj_type,
                    ..
                } => a
                    .put_strz(NFTA_OBJ_TABLE, table)
                    .and_then(|_| a.put_strz(NFTA_OBJ_NAME, name))
                    .and_then(|_| a.put_be32(NFTA_OBJ_TYPE, *obj_type)),
                Op::AddFlowtable(f) | Op::CreateFlowtable(f) => f.emit_request(&mut a),
                Op::DeleteFlowtable { table, name, .. } => a
                    .put_strz(NFTA_FLOWTABLE_TABLE, table)
                    .and_then(|_| a.put_strz(NFTA_FLOWTABLE_NAME, name)),
                Op::Raw { attrs, .. } => {
                    a.put_raw_attrs(attrs);
                    Ok(())
                }
            }
        };
        match r {
            Ok(()) => {
                w.finish_message();
                Ok(())
            }
            Err(e) => {
                w.abandon_message();
                Err(e)
            }
        }
    }
}

/// Encodes an element list as consecutive messages of type `kind`, each
/// with as many elements as fit one 64 KiB element nest. They share the
/// operation's sequence number, so a kernel error in any of them is
/// reported against this operation.
pub(crate) fn encode_elements(
    w: &mut MessageWriter,
    kind: u16,
    flags: u16,
    seq: u32,
    list: &ElementList,
) -> Result<()> {
    let mut scratch = Vec::new();
    let mut from = 0;
    loop {
        w.begin_nfgen(
            msg::nft(kind),
            NLM_F_REQUEST | flags,
            seq,
            list.family.number(),
            0,
        );
        let r = list.emit_chunk(&mut w.attrs(), from, NLA_MAX_LEN, &mut scratch);
        match r {
            Ok(next) => {
                w.finish_message();
                from = next;
            }
            Err(e) => {
                w.abandon_message();
                return Err(e);
            }
        }
        if from >= list.elements.len() {
            return Ok(());
        }
    }
}

/// Prepares an anonymous set with transaction id `id` (see
/// [`Transaction::add_anonymous_set`]): the set to add, and its elements
/// when there are any.
pub(crate) fn anonymous_set(
    id: u32,
    mut set: Set,
    elements: Vec<crate::nft::SetElement>,
) -> (Set, Option<ElementList>) {
    set.name = crate::nft::set::ANONYMOUS_SET_NAME.into();
    set.flags = Some(
        set.flags.unwrap_or_default()
            | crate::nft::SetFlags::ANONYMOUS
            | crate::nft::SetFlags::CONSTANT,
    );
    set.id = Some(id);
    if set.size().is_none() {
        let size = anonymous_set_size(&set, &elements);
        set.desc.get_or_insert_with(Default::default).size = Some(size);
    }
    let list = (!elements.is_empty()).then(|| {
        ElementList::new(set.family, set.table.clone(), set.name.clone(), elements).with_set_id(id)
    });
    (set, list)
}

/// `NFTA_SET_DESC_SIZE` of an anonymous set holding `elems`. The kernel
/// counts every element against it, and an interval of a non-concatenated
/// key is two elements: its start and, flagged `INTERVAL_END`, the value
/// after its end (left out when the interval reaches the top of the key
/// space). Like nft, each interval counts twice whether or not its end is
/// sent (nft adds one more for the `0` end element it sends first when the
/// first interval does not start at 0; nftguard sends none). Kernels
/// before 6.5 ("netfilter: nf_tables: fix set size with rbtree backend")
/// do not make room for the ends themselves: a size of one per interval
/// fails there with `ENFILE`.
pub(crate) fn anonymous_set_size(set: &Set, elems: &[crate::nft::SetElement]) -> u32 {
    let starts = elems.iter().filter(|e| !e.is_interval_end()).count();
    let n = if set.is_interval() && set.desc.as_ref().and_then(|d| d.concat.as_ref()).is_none() {
        2 * starts
    } else {
        elems.len()
    };
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Writes BATCH_BEGIN with sequence `seq`, carrying `genid` unless it is 0.
pub(crate) fn write_batch_begin(w: &mut MessageWriter, seq: u32, genid: u32) -> Result<()> {
    w.begin_nfgen(
        NFNL_MSG_BATCH_BEGIN,
        NLM_F_REQUEST,
        seq,
        0,
        NFNL_SUBSYS_NFTABLES,
    );
    if genid != 0 {
        if let Err(e) = w.attrs().put_be32(NFNL_BATCH_GENID, genid) {
            w.abandon_message();
            return Err(e);
        }
    }
    w.finish_message();
    Ok(())
}

/// Writes BATCH_END with sequence `seq` and an ACK request (kernels
/// ≥ 6.10 acknowledge END only when the commit succeeded).
pub(crate) fn write_batch_end(w: &mut MessageWriter, seq: u32) {
    w.begin_nfgen(
        NFNL_MSG_BATCH_END,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        0,
        NFNL_SUBSYS_NFTABLES,
    );
    w.finish_message();
}

/// The operation methods shared by [`Transaction`] and
/// [`super::BatchBuilder`]: each wraps its arguments in an [`Op`] and hands
/// it to the type's own `push`.
macro_rules! op_methods {
    () => {
        /// `add table`.
        pub fn add_table(&mut self, t: Table) -> &mut Self {
            self.push(Op::AddTable(t))
        }

        /// `create table` (EEXIST if present).
        pub fn create_table(&mut self, t: Table) -> &mut Self {
            self.push(Op::CreateTable(t))
        }

        /// `delete table FAMILY NAME`.
        pub fn delete_table(&mut self, family: Family, name: &str) -> &mut Self {
            self.push(Op::DeleteTable {
                family,
                name: name.into(),
            })
        }

        /// `flush table FAMILY NAME`.
        pub fn flush_table(&mut self, family: Family, name: &str) -> &mut Self {
            self.push(Op::FlushTable {
                family,
                name: name.into(),
            })
        }

        /// `add chain`.
        pub fn add_chain(&mut self, c: Chain) -> &mut Self {
            self.push(Op::AddChain(c))
        }

        /// `create chain` (EEXIST if present).
        pub fn create_chain(&mut self, c: Chain) -> &mut Self {
            self.push(Op::CreateChain(c))
        }

        /// `delete chain`.
        pub fn delete_chain(&mut self, family: Family, table: &str, name: &str) -> &mut Self {
            self.push(Op::DeleteChain {
                family,
                table: table.into(),
                name: name.into(),
            })
        }

        /// `flush chain`.
        pub fn flush_chain(&mut self, family: Family, table: &str, name: &str) -> &mut Self {
            self.push(Op::FlushChain {
                family,
                table: table.into(),
                name: name.into(),
            })
        }

        /// `add rule` (append; after `rule.position` when set).
        pub fn add_rule(&mut self, r: Rule) -> &mut Self {
            self.push(Op::AddRule(r))
        }

        /// `insert rule` (prepend; before `rule.position` when set).
        pub fn insert_rule(&mut self, r: Rule) -> &mut Self {
            self.push(Op::InsertRule(r))
        }

        /// `replace rule` (`rule.handle` must be set).
        pub fn replace_rule(&mut self, r: Rule) -> &mut Self {
            self.push(Op::ReplaceRule(r))
        }

        /// `delete rule … handle N`.
        pub fn delete_rule(
            &mut self,
            family: Family,
            table: &str,
            chain: &str,
            handle: u64,
        ) -> &mut Self {
            self.push(Op::DeleteRule {
                family,
                table: table.into(),
                chain: chain.into(),
                handle,
            })
        }

        /// `add set` / `add map`.
        pub fn add_set(&mut self, s: Set) -> &mut Self {
            self.push(Op::AddSet(s))
        }

        /// `create set` (EEXIST if present).
        pub fn create_set(&mut self, s: Set) -> &mut Self {
            self.push(Op::CreateSet(s))
        }

        /// `delete set`.
        pub fn delete_set(&mut self, family: Family, table: &str, name: &str) -> &mut Self {
            self.push(Op::DeleteSet {
                family,
                table: table.into(),
                name: name.into(),
            })
        }

        /// `create element` (EEXIST if an element is present).
        pub fn create_elements(&mut self, l: ElementList) -> &mut Self {
            self.push(Op::CreateElements(l))
        }

        /// `delete element`.
        pub fn delete_elements(&mut self, l: ElementList) -> &mut Self {
            self.push(Op::DeleteElements(l))
        }

        /// `flush set`.
        pub fn flush_set(&mut self, family: Family, table: &str, name: &str) -> &mut Self {
            self.push(Op::FlushSet {
                family,
                table: table.into(),
                name: name.into(),
            })
        }

        /// Adds a stateful object.
        pub fn add_object(&mut self, o: Object) -> &mut Self {
            self.push(Op::AddObject(o))
        }

        /// Creates a stateful object (EEXIST if present).
        pub fn create_object(&mut self, o: Object) -> &mut Self {
            self.push(Op::CreateObject(o))
        }

        /// Deletes a stateful object of type `obj_type` (`NFT_OBJECT_*`).
        pub fn delete_object(
            &mut self,
            family: Family,
            table: &str,
            name: &str,
            obj_type: u32,
        ) -> &mut Self {
            self.push(Op::DeleteObject {
                family,
                table: table.into(),
                name: name.into(),
                obj_type,
            })
        }

        /// `add flowtable`.
        pub fn add_flowtable(&mut self, f: Flowtable) -> &mut Self {
            self.push(Op::AddFlowtable(f))
        }

        /// `delete flowtable`.
        pub fn delete_flowtable(&mut self, family: Family, table: &str, name: &str) -> &mut Self {
            self.push(Op::DeleteFlowtable {
                family,
                table: table.into(),
                name: name.into(),
            })
        }
    };
}
pub(crate) use op_methods;

/// An ordered set of operations applied atomically: all or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    ops: Vec<Op>,
    next_id: u32,
    echo: Option<bool>,
}

/// Above this many created rules, handles are not echoed unless asked for
/// (each echo is a kernel message the receive buffer must hold).
pub const DEFAULT_ECHO_LIMIT: usize = 20_000;

impl Transaction {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// The operations, in order.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there are no operations.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Adds an operation.
    pub fn push(&mut self, op: Op) -> &mut Self {
        self.ops.push(op);
        self
    }

    /// A fresh transaction id for `NFTA_*_ID` references within this batch.
    pub fn next_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// Whether the kernel should echo created rules so that
    /// [`super::Committed::handles`] is filled. Default: on for up to
    /// [`DEFAULT_ECHO_LIMIT`] created rules.
    pub fn set_echo(&mut self, echo: bool) -> &mut Self {
        self.echo = Some(echo);
        self
    }

    /// The echo preference set with [`Transaction::set_echo`], if any.
    pub(crate) fn echo_setting(&self) -> Option<bool> {
        self.echo
    }

    /// The last id [`Transaction::next_id`] handed out (0: none).
    pub(crate) fn last_id(&self) -> u32 {
        self.next_id
    }

    pub(crate) fn wants_echo(&self) -> bool {
        self.echo.unwrap_or_else(|| {
            self.ops.iter().filter(|o| o.creates_rule()).count() <= DEFAULT_ECHO_LIMIT
        })
    }

    op_methods!();

    /// `add element` (any number of elements: split into as many
    /// messages as needed, all in this batch).
    pub fn add_elements(&mut self, l: ElementList) -> &mut Self {
        self.push(Op::AddElements(l))
    }

    /// Creates an anonymous set and its elements in this batch, as nft does
    /// for `{ 22, 80 }` in a rule. `set` gets name `__set%d`, flags
    /// `anonymous | constant` (added to its own) and a fresh transaction id,
    /// which is returned: a rule added afterwards in the same transaction
    /// refers to the set as `lookup`/`dynset`/`objref` with set name
    /// `__set%d` and that set id. The kernel names the set `__set<N>`.
    pub fn add_anonymous_set(&mut self, set: Set, elements: Vec<crate::nft::SetElement>) -> u32 {
        let id = self.next_id();
        let (set, list) = anonymous_set(id, set, elements);
        self.push(Op::AddSet(set));
        if let Some(list) = list {
            self.push(Op::AddElements(list));
        }
        id
    }

    /// Encodes the batch: BEGIN with sequence `seq_base` (carrying `genid`
    /// unless 0), operation *i* with `seq_base + 1 + i`, and, when
    /// `with_end`, END with `seq_base + 1 + len` and an ACK request (kernels
    /// ≥ 6.10 acknowledge END only when the commit succeeded).
    pub fn encode(&self, seq_base: u32, genid: u32, with_end: bool, echo: bool) -> Result<Vec<u8>> {
        let mut w = MessageWriter::with_capacity(64 + self.ops.len() * 160);
        write_batch_begin(&mut w, seq_base, genid)?;
        for (i, op) in self.ops.iter().enumerate() {
            op.encode(&mut w, seq_base.wrapping_add(1 + i as u32), echo)?;
        }
        if with_end {
            write_batch_end(&mut w, seq_base.wrapping_add(1 + self.ops.len() as u32));
        }
        Ok(w.into_bytes())
    }

    /// The canonical bytes of this transaction: the batch as it would be
    /// sent, with sequence numbers from 0, no generation and no echo
    /// requests. Equal transactions give equal bytes (used for approval
    /// tokens).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>> {
        self.encode(0, 0, true, false)
    }
}
