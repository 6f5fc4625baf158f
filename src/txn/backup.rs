//! Backups taken before an apply, and the restore batch that undoes it.
//!
//! A backup holds the exact previous state of everything a transaction
//! touches, in two shapes:
//! - a table nftguard owns (named `nftguard`, normally `inet nftguard`)
//!   that the batch replaces: its whole typed dump plus the transaction
//!   that recreates it. Restoring deletes the live table and recreates the
//!   old one in one batch (or just deletes it when it did not exist);
//! - a foreign user chain (Docker's `DOCKER-USER`) the batch adds rules to
//!   or deletes rules from: its rules as they were, the rules the apply
//!   adds and, after the commit, their handles. Restoring removes exactly
//!   those handles and re-adds exactly the rules the apply deleted, so rules
//!   other programs added meanwhile stay (the seed's rollback clobbered
//!   them).
//!
//! Anything else in a foreign table (new chains, sets, replaced rules,
//! flushes) cannot be undone exactly and is refused before anything
//! changes (exit 42).

use serde::{Deserialize, Serialize};

use super::error::{ApplyError, TxnResult};
use super::state::{check_id, now_unix, StateDir};
use crate::engine::{Committed, DumpFilter, GenCheck, Op, Ruleset, Transaction};
use crate::netlink::{AttrWriter, Socket};
use crate::nft::attr_order::AttrOrder;
use crate::nft::render::nft_text;
use crate::nft::{Chain, Expr, Family, Rule, TableFlags};

/// Name of the tables nftguard owns and replaces wholesale.
pub const OWNED_TABLE_NAME: &str = "nftguard";

/// `NFT_CHAIN_BINDING`: an anonymous chain bound to one rule
/// (`jump { … }`), which cannot be recreated on its own.
const NFT_CHAIN_BINDING: u32 = 0x4;

/// How many times a restore is retried when another program commits
/// between its dump and its commit.
pub const RESTORE_ATTEMPTS: u32 = 5;

/// A chain addressed by family, table and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChainKey {
    /// Family.
    pub family: Family,
    /// Table.
    pub table: String,
    /// Chain.
    pub chain: String,
}

impl ChainKey {
    fn of(r: &Rule) -> Self {
        ChainKey {
            family: r.family,
            table: r.table.clone(),
            chain: r.chain.clone(),
        }
    }
}

impl std::fmt::Display for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.family, self.table, self.chain)
    }
}

/// The previous state of a table the apply replaces wholesale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableBackup {
    /// Family.
    pub family: Family,
    /// Name.
    pub name: String,
    /// Whether the table existed before the apply.
    pub existed: bool,
    /// Its typed dump (empty when it did not exist).
    pub content: Ruleset,
    /// The transaction that recreates it as it was (without deleting the
    /// live one first; [`restore_transaction`] adds that).
    pub recreate: Transaction,
}

/// The previous state of a foreign chain the apply edits rule by rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBackup {
    /// The chain.
    pub key: ChainKey,
    /// Its rules before the apply, in order, with their handles.
    pub rules: Vec<Rule>,
    /// The rules the apply adds to it (as the batch carries them).
    pub adds: Vec<Rule>,
    /// Handles of the rules the apply deletes from it.
    pub deletes: Vec<u64>,
    /// Handles the kernel gave the added rules, once committed (`None`
    /// until then, or when the kernel did not echo them: the restore then
    /// finds them by content among the rules that were not there before).
    pub added_handles: Option<Vec<u64>>,
}

/// A backup: everything needed to undo one apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// Backup id.
    pub id: String,
    /// The apply it was taken for.
    pub apply_id: String,
    /// When it was taken (Unix seconds).
    pub created_at: u64,
    /// Generation of the ruleset it was taken from.
    pub genid: u32,
    /// Tables replaced wholesale.
    pub tables: Vec<TableBackup>,
    /// Foreign chains edited rule by rule.
    pub chains: Vec<ChainBackup>,
}

/// File names of a backup in the state directory.
pub fn backup_file(id: &str) -> String {
    format!("backup-{id}.json")
}

/// The nft text of the touched tables, for people.
pub fn backup_text_file(id: &str) -> String {
    format!("backup-{id}.nft")
}

/// The nft text of the whole ruleset at backup time, for people.
pub fn backup_ruleset_file(id: &str) -> String {
    format!("backup-{id}.ruleset.nft")
}

/// What a transaction touches: tables replaced wholesale and foreign
/// chains edited rule by rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    /// Owned tables, in order of first mention.
    pub tables: Vec<(Family, String)>,
    /// Foreign chains: the rules added and handles deleted in each.
    pub chains: Vec<(ChainKey, Vec<Rule>, Vec<u64>)>,
}

impl Touched {
    /// Analyses `tx`. Refuses (exit 42) what a backup could not undo
    /// exactly: anything but adding, inserting or deleting rules in a
    /// table nftguard does not own, and raw messages.
    pub fn of(tx: &Transaction) -> TxnResult<Touched> {
        let mut t = Touched::default();
        let refuse = |op: &Op, why: &str| {
            Err(ApplyError::BackupFailed {
                detail: format!("cannot back up `{}`: {why}", op.describe()),
            })
        };
        for op in tx.ops() {
            let (family, table) = match op_table(op) {
                Some(x) => x,
                None => return refuse(op, "a raw message's effect is unknown"),
            };
            if table == OWNED_TABLE_NAME {
                if !t.tables.iter().any(|(f, n)| *f == family && *n == table) {
                    t.tables.push((family, table.to_string()));
                }
                continue;
            }
            let (rule_key, add, delete) = match op {
                Op::AddRule(r) | Op::InsertRule(r) => {
                    if r.handle.is_some() {
                        return refuse(op, "rules added to a foreign chain must not carry a handle");
                    }
                    (ChainKey::of(r), Some(r.clone()), None)
                }
                Op::DeleteRule {
                    family,
                    table,
                    chain,
                    handle,
                } => (
                    ChainKey {
                        family: *family,
                        table: table.clone(),
                        chain: chain.clone(),
                    },
                    None,
                    Some(*handle),
                ),
                _ => {
                    return refuse(
                        op,
                        "nftguard only replaces its own tables and adds or deletes rules in foreign chains",
                    )
                }
            };
            let i = match t.chains.iter().position(|(k, _, _)| *k == rule_key) {
                Some(i) => i,
                None => {
                    t.chains.push((rule_key, Vec::new(), Vec::new()));
                    t.chains.len() - 1
                }
            };
            if let Some(r) = add {
                t.chains[i].1.push(r);
            }
            if let Some(h) = delete {
                t.chains[i].2.push(h);
            }
        }
        Ok(t)
    }
}

/// The table an operation acts on (`None` for a raw message).
fn op_table(op: &Op) -> Option<(Family, &str)> {
    Some(match op {
        Op::AddTable(t) | Op::CreateTable(t) => (t.family, t.name.as_str()),
        Op::DeleteTable { family, name } | Op::FlushTable { family, name } => {
            (*family, name.as_str())
        }
        Op::AddChain(c) | Op::CreateChain(c) => (c.family, c.table.as_str()),
        Op::DeleteChain { family, table, .. } | Op::FlushChain { family, table, .. } => {
            (*family, table.as_str())
        }
        Op::AddRule(r) | Op::InsertRule(r) | Op::ReplaceRule(r) => (r.family, r.table.as_str()),
        Op::DeleteRule { family, table, .. } => (*family, table.as_str()),
        Op::AddSet(s) | Op::CreateSet(s) => (s.family, s.table.as_str()),
        Op::DeleteSet { family, table, .. } | Op::FlushSet { family, table, .. } => {
            (*family, table.as_str())
        }
        Op::AddElements(l) | Op::CreateElements(l) | Op::DeleteElements(l) => {
            (l.family, l.table.as_str())
        }
        Op::AddObject(o) | Op::CreateObject(o) => (o.family, o.table.as_str()),
        Op::DeleteObject { family, table, .. } => (*family, table.as_str()),
        Op::AddFlowtable(f) | Op::CreateFlowtable(f) => (f.family, f.table.as_str()),
        Op::DeleteFlowtable { family, table, .. } => (*family, table.as_str()),
        Op::Raw { .. } => return None,
    })
}

impl Backup {
    /// Builds the backup of what `tx` touches from `live` (a full dump).
    /// Nothing is written.
    pub fn from_ruleset(
        id: &str,
        apply_id: &str,
        tx: &Transaction,
        live: &Ruleset,
    ) -> TxnResult<Backup> {
        let touched = Touched::of(tx)?;
        let mut tables = Vec::new();
        for (family, name) in &touched.tables {
            let content = table_content(live, *family, name);
            let existed = !content.tables.is_empty();
            let recreate = recreate_transaction(&content)?;
            tables.push(TableBackup {
                family: *family,
                name: name.clone(),
                existed,
                content,
                recreate,
            });
        }
        let mut chains = Vec::new();
        for (key, adds, deletes) in touched.chains {
            if !live
                .chains
                .iter()
                .any(|c| c.family == key.family && c.table == key.table && c.name == key.chain)
            {
                return Err(ApplyError::BackupFailed {
                    detail: format!("chain {key} does not exist"),
                });
            }
            let rules: Vec<Rule> = live
                .rules_of(key.family, &key.table, &key.chain)
                .cloned()
                .collect();
            for h in &deletes {
                if !rules.iter().any(|r| r.handle == Some(*h)) {
                    return Err(ApplyError::BackupFailed {
                        detail: format!("chain {key} has no rule with handle {h} to delete"),
                    });
                }
            }
            chains.push(ChainBackup {
                key,
                rules,
                adds,
                deletes,
                added_handles: None,
            });
        }
        Ok(Backup {
            id: id.to_string(),
            apply_id: apply_id.to_string(),
            created_at: now_unix(),
            genid: live.genid,
            tables,
            chains,
        })
    }

    /// Dumps the whole ruleset, builds the backup of what `tx` touches and
    /// stores it (JSON restore data, nft text of the touched tables, nft
    /// text of the whole ruleset). When `expect_genid` is given and the
    /// dump is of another generation, fails with
    /// [`ApplyError::RulesetChanged`]: the backup must be of the state the
    /// plan was made against. Other failures are exit 42.
    pub fn take(
        sock: &mut Socket,
        state: &StateDir,
        id: &str,
        apply_id: &str,
        tx: &Transaction,
        expect_genid: Option<u32>,
    ) -> TxnResult<Backup> {
        check_id(id)?;
        let live =
            Ruleset::dump(sock, &DumpFilter::all()).map_err(|e| ApplyError::BackupFailed {
                detail: format!("dumping the ruleset: {e}"),
            })?;
        if let Some(g) = expect_genid {
            if live.genid != g {
                return Err(ApplyError::RulesetChanged {
                    base_genid: g,
                    live_genid: Some(live.genid),
                });
            }
        }
        let backup = Backup::from_ruleset(id, apply_id, tx, &live)?;
        backup.store(state)?;
        let mut touched = Ruleset {
            genid: live.genid,
            ..Default::default()
        };
        for t in &backup.tables {
            merge(&mut touched, &t.content);
        }
        for c in &backup.chains {
            touched.rules.extend(c.rules.iter().cloned());
        }
        let to_42 = |e: ApplyError| ApplyError::BackupFailed {
            detail: e.to_string(),
        };
        state
            .write_atomic(&backup_text_file(id), nft_text(&touched).as_bytes())
            .map_err(to_42)?;
        state
            .write_atomic(&backup_ruleset_file(id), nft_text(&live).as_bytes())
            .map_err(to_42)?;
        Ok(backup)
    }

    /// Writes the backup's JSON (atomically). Failures are exit 42.
    pub fn store(&self, state: &StateDir) -> TxnResult<()> {
        state
            .write_json(&backup_file(&self.id), self)
            .map_err(|e| ApplyError::BackupFailed {
                detail: e.to_string(),
            })
    }

    /// Loads backup `id`.
    pub fn load(state: &StateDir, id: &str) -> TxnResult<Backup> {
        check_id(id)?;
        state.read_json(&backup_file(id))?.ok_or_else(|| {
            ApplyError::Invalid(format!("no backup {id} in {}", state.path().display()))
        })
    }

    /// Records the handles of the rules the apply added to foreign
    /// chains, from the kernel's echo. Rules whose handle was not echoed
    /// leave that chain's handles unknown (found by content at restore).
    pub fn record_commit(&mut self, tx: &Transaction, done: &Committed) {
        for c in &mut self.chains {
            let mut handles = Vec::new();
            let mut complete = true;
            for (i, op) in tx.ops().iter().enumerate() {
                let r = match op {
                    Op::AddRule(r) | Op::InsertRule(r) => r,
                    _ => continue,
                };
                if ChainKey::of(r) != c.key {
                    continue;
                }
                match done.handles.iter().find(|(idx, _)| *idx == i) {
                    Some((_, h)) => handles.push(*h),
                    None => complete = false,
                }
            }
            c.added_handles = complete.then_some(handles);
        }
    }
}

/// The part of `live` that belongs to table `family`/`name`.
pub fn table_content(live: &Ruleset, family: Family, name: &str) -> Ruleset {
    let mine = |f: Family, t: &str| f == family && t == name;
    Ruleset {
        genid: live.genid,
        tables: live
            .tables
            .iter()
            .filter(|t| mine(t.family, &t.name))
            .cloned()
            .collect(),
        chains: live
            .chains
            .iter()
            .filter(|c| mine(c.family, &c.table))
            .cloned()
            .collect(),
        rules: live
            .rules
            .iter()
            .filter(|r| mine(r.family, &r.table))
            .cloned()
            .collect(),
        sets: live
            .sets
            .iter()
            .filter(|s| mine(s.family, &s.table))
            .cloned()
            .collect(),
        elements: live
            .elements
            .iter()
            .filter(|l| mine(l.family, &l.table))
            .cloned()
            .collect(),
        objects: live
            .objects
            .iter()
            .filter(|o| mine(o.family, &o.table))
            .cloned()
            .collect(),
        flowtables: live
            .flowtables
            .iter()
            .filter(|f| mine(f.family, &f.table))
            .cloned()
            .collect(),
    }
}

fn merge(into: &mut Ruleset, part: &Ruleset) {
    into.tables.extend(part.tables.iter().cloned());
    into.chains.extend(part.chains.iter().cloned());
    into.rules.extend(part.rules.iter().cloned());
    into.sets.extend(part.sets.iter().cloned());
    into.elements.extend(part.elements.iter().cloned());
    into.objects.extend(part.objects.iter().cloned());
    into.flowtables.extend(part.flowtables.iter().cloned());
}

/// The transaction that creates the dumped table `content` (one table)
/// as it is: table, chains, stateful objects, flowtables, sets and their
/// elements, then rules in order (jumps, lookups and object references
/// need their targets first). Kernel-assigned attributes (handles, use
/// counts, owner, counters, expirations) are dropped: the kernel refuses a
/// NEWRULE or NEWCHAIN naming a handle that does not exist. An empty
/// `content` gives an empty transaction.
///
/// The OWNER flag is dropped too: a table recreated with it would belong
/// to the restoring process's socket and vanish when it exits.
/// Anonymous sets keep their kernel names (`__set3`): the kernel accepts
/// an explicit name for an anonymous set, and the rules refer to it by
/// that name.
pub fn recreate_transaction(content: &Ruleset) -> TxnResult<Transaction> {
    let mut tx = Transaction::new();
    for t in &content.tables {
        let mut t = t.clone();
        t.handle = None;
        t.use_count = None;
        t.owner = None;
        t.flags = t.flags.map(|f| f - TableFlags::OWNER - TableFlags::PERSIST);
        t.order = AttrOrder::default();
        tx.create_table(t);
    }
    for c in &content.chains {
        if c.flags.unwrap_or(0) & NFT_CHAIN_BINDING != 0 {
            return Err(ApplyError::BackupFailed {
                detail: format!(
                    "chain {} {} {} is bound to a rule (jump {{ … }}); recreating it is not supported",
                    c.family, c.table, c.name
                ),
            });
        }
        tx.add_chain(clean_chain(c));
    }
    for o in &content.objects {
        let mut o = o.clone();
        o.handle = None;
        o.use_count = None;
        tx.add_object(o);
    }
    for f in &content.flowtables {
        let mut f = f.clone();
        f.handle = None;
        f.use_count = None;
        tx.add_flowtable(f);
    }
    for s in &content.sets {
        let mut s = s.clone();
        s.handle = None;
        s.count = None;
        s.id = None;
        tx.add_set(s);
    }
    for l in &content.elements {
        let mut l = l.clone();
        l.set_id = None;
        for e in &mut l.elements {
            e.expiration = None;
        }
        tx.add_elements(l);
    }
    for r in &content.rules {
        tx.add_rule(clean_rule(r));
    }
    Ok(tx)
}

fn clean_chain(c: &Chain) -> Chain {
    let mut c = c.clone();
    c.handle = None;
    c.use_count = None;
    c.counters = None;
    c.id = None;
    c.order = AttrOrder::default();
    c
}

/// A rule without anything the kernel assigned or that positions it.
pub fn clean_rule(r: &Rule) -> Rule {
    let mut r = r.clone();
    r.handle = None;
    r.position = None;
    r.id = None;
    r.position_id = None;
    r.chain_id = None;
    r.order = AttrOrder::default();
    r
}

/// The bytes identifying a rule's content (table, chain, expressions,
/// user data), whatever its handle or position.
///
/// `NFTA_RULE_COMPAT` is left out: iptables-nft sends it (and so do
/// rules encoded like it, e.g. nftguard's `DOCKER-USER` rules), but the
/// kernel only uses it to validate xt extensions and never dumps it back
/// (checked on 6.18), so a rule as sent and the same rule as dumped must
/// compare equal without it.
pub fn rule_signature(r: &Rule) -> Vec<u8> {
    let mut r = clean_rule(r);
    r.compat = None;
    let mut b = Vec::new();
    // An encoding error (a rule the builder marked invalid) gives a
    // signature no dumped rule has, which is the right answer.
    let _ = r.emit(&mut AttrWriter::new(&mut b));
    b
}

/// The batch that undoes the apply recorded in `backup`, given the live
/// ruleset `current`:
/// - each owned table is deleted (when present) and recreated as it was
///   (or only deleted, when it did not exist before);
/// - in each foreign chain, the rules the apply added are deleted by
///   handle (those still present), and the rules it deleted are added back
///   at their old place; every other rule is left alone.
///
/// An empty batch means there is nothing to undo.
pub fn restore_transaction(backup: &Backup, current: &Ruleset) -> Transaction {
    let mut tx = Transaction::new();
    for t in &backup.tables {
        if current.table(t.family, &t.name).is_some() {
            tx.delete_table(t.family, &t.name);
        }
        if t.existed {
            for op in t.recreate.ops() {
                tx.push(op.clone());
            }
        }
    }
    for c in &backup.chains {
        let k = &c.key;
        if !current
            .chains
            .iter()
            .any(|x| x.family == k.family && x.table == k.table && x.name == k.chain)
        {
            continue; // the chain went away meanwhile: nothing of ours is left
        }
        let live: Vec<&Rule> = current.rules_of(k.family, &k.table, &k.chain).collect();
        let remove = added_rule_handles(c, &live);
        for h in &remove {
            tx.delete_rule(k.family, &k.table, &k.chain, *h);
        }
        let present = |h: Option<u64>| {
            h.is_some_and(|h| !remove.contains(&h) && live.iter().any(|r| r.handle == Some(h)))
        };
        // Runs of deleted rules go back after the nearest earlier rule that
        // is still there (added after it in reverse order, so they end up
        // in their old order), or at the top of the chain.
        let mut anchor: Option<u64> = None;
        let mut run: Vec<&Rule> = Vec::new();
        let flush = |tx: &mut Transaction, anchor: Option<u64>, run: &mut Vec<&Rule>| {
            for r in run.drain(..).rev() {
                let mut r = clean_rule(r);
                match anchor {
                    Some(a) => {
                        r.position = Some(a);
                        tx.add_rule(r);
                    }
                    None => {
                        tx.insert_rule(r);
                    }
                }
            }
        };
        for r in &c.rules {
            let deleted_by_apply = r.handle.is_some_and(|h| c.deletes.contains(&h));
            if deleted_by_apply && !present(r.handle) {
                run.push(r);
            } else if present(r.handle) {
                flush(&mut tx, anchor, &mut run);
                anchor = r.handle;
            }
        }
        flush(&mut tx, anchor, &mut run);
    }
    tx
}

/// Handles of the rules the apply added to chain `c` that are still in
/// `live`: the recorded handles, or — when the kernel did not echo them —
/// the rules that were not there before and whose content is one the
/// apply added.
fn added_rule_handles(c: &ChainBackup, live: &[&Rule]) -> Vec<u64> {
    let live_handles: Vec<u64> = live.iter().filter_map(|r| r.handle).collect();
    if let Some(hs) = &c.added_handles {
        return hs
            .iter()
            .copied()
            .filter(|h| live_handles.contains(h))
            .collect();
    }
    let before: Vec<u64> = c.rules.iter().filter_map(|r| r.handle).collect();
    let mut wanted: Vec<Vec<u8>> = c.adds.iter().map(rule_signature).collect();
    let mut out = Vec::new();
    for r in live {
        let Some(h) = r.handle else { continue };
        if before.contains(&h) {
            continue;
        }
        let sig = rule_signature(r);
        if let Some(i) = wanted.iter().position(|w| *w == sig) {
            wanted.swap_remove(i);
            out.push(h);
        }
    }
    out
}

/// Restores `backup` in the live ruleset: dumps, builds
/// [`restore_transaction`] and commits it checked against the dumped
/// generation, retrying with a fresh dump (up to [`RESTORE_ATTEMPTS`]
/// times) when another program commits in between. Returns the generation
/// after the restore (the dumped one when there was nothing to undo).
pub fn restore(sock: &mut Socket, backup: &Backup) -> TxnResult<u32> {
    let mut last = None;
    for _ in 0..RESTORE_ATTEMPTS {
        let current = Ruleset::dump(sock, &DumpFilter::all())?;
        let tx = restore_transaction(backup, &current);
        if tx.is_empty() {
            return Ok(current.genid);
        }
        match tx.commit(sock, GenCheck::Expect(current.genid)) {
            Ok(done) => return Ok(done.genid),
            Err(e @ crate::Error::Conflict { .. }) => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(match last {
        Some(e) => ApplyError::Engine(e),
        None => ApplyError::Invalid("restore was not attempted".into()),
    })
}

/// Whether the restorable parts of `live` are exactly as in `backup`
/// (owned tables equal to their backup, foreign chains holding none of
/// the apply's additions and all of its deletions): proof that the apply
/// did not land or was undone.
pub fn matches_backup(backup: &Backup, live: &Ruleset) -> bool {
    let chains_only = Backup {
        tables: Vec::new(),
        ..backup.clone()
    };
    restore_transaction(&chains_only, live).is_empty()
        && backup.tables.iter().all(|t| {
            let now = table_content(live, t.family, &t.name);
            same_table_content(&now, &t.content)
        })
}

/// Compares two dumps of one table by what they do, ignoring handles,
/// use counts, counter and quota state, and attribute order.
pub fn same_table_content(a: &Ruleset, b: &Ruleset) -> bool {
    match (recreate_transaction(a), recreate_transaction(b)) {
        (Ok(x), Ok(y)) => {
            let x = without_runtime_state(&x).canonical_bytes();
            let y = without_runtime_state(&y).canonical_bytes();
            matches!((x, y), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

/// `tx` with counters and quota consumption zeroed in its rules: state
/// the packet path changes, not configuration.
fn without_runtime_state(tx: &Transaction) -> Transaction {
    let mut out = Transaction::new();
    for op in tx.ops() {
        let mut op = op.clone();
        if let Op::AddRule(r) = &mut op {
            for e in &mut r.exprs {
                match e {
                    Expr::Counter(c) => {
                        c.bytes = Some(0);
                        c.packets = Some(0);
                    }
                    Expr::Quota(q) => q.consumed = Some(0),
                    _ => {}
                }
            }
        }
        out.push(op);
    }
    out
}
