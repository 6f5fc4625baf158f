//! The apply journal: what an apply was about to do, written *before* its
//! batch is sent and updated after.
//!
//! The kernel processes a batch inside `sendmsg`; if nftguard dies during
//! processing the batch is aborted, but if it dies after the commit and
//! before reading the replies the change is applied and nobody knows
//! (KERNEL.md, "Batches"). So every apply leaves an entry in phase
//! [`Phase::Prepared`] before sending, and the next run calls
//! [`reconcile`], which asks the kernel what happened:
//! - generation still the plan's: the batch never committed;
//! - otherwise the dumped ruleset decides: the batch's effects are there
//!   (committed), or the touched state is exactly the backup (not
//!   committed), or neither — then the entry stays and every run refuses
//!   with exit 61 until an operator looks.

use serde::{Deserialize, Serialize};

use super::backup::{matches_backup, rule_signature, same_table_content, table_content, Backup};
use super::error::{ApplyError, TxnResult};
use super::rollback::{self, Armed};
use super::state::{check_id, now_unix, StateDir};
use crate::engine::{get_generation, DumpFilter, Op, Ruleset, Transaction};
use crate::netlink::Socket;
use crate::nft::Rule;

/// The file naming the most recent apply.
pub const LAST_APPLY_FILE: &str = "journal-last";

/// Where an apply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Written before the batch was sent; outcome not yet known.
    Prepared,
    /// The batch committed; the rollback is armed until confirmed.
    Committed,
    /// The batch did not commit (rejected, or the process died first).
    Failed,
    /// Confirmed: rollback disarmed, policy persisted.
    Confirmed,
    /// A rollback started and has not finished: its restore may or may
    /// not have committed. The next run that takes the lock (`apply`,
    /// `confirm`, `rollback`, `status`, a fired timer) completes it
    /// ([`super::apply::resume_rollback`]); restoring is idempotent.
    RollingBack,
    /// Undone by a rollback.
    RolledBack,
}

/// One apply's journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Apply id.
    pub apply_id: String,
    /// Id of the backup taken before it.
    pub backup_id: String,
    /// Generation the plan was made against (and the batch checked with).
    pub base_genid: u32,
    /// `sha256:` of the batch's canonical bytes.
    pub batch_sha256: String,
    /// The approval token the apply was authorised with.
    pub approval_token: String,
    /// Task id of the thread that sent the batch ([`sender_task_id`]),
    /// for people reading the journal. Not evidence of a commit: a GETGEN
    /// reply names the *requesting* task (`current` in
    /// `nf_tables_fill_gen_info`), not the last writer; only the NEWGEN
    /// notification multicast after a commit names the committer.
    pub pid: u32,
    /// Phase.
    pub phase: Phase,
    /// Generation after the commit, when known.
    pub committed_genid: Option<u32>,
    /// The armed rollback, if any.
    pub rollback: Option<Armed>,
    /// When the entry was created (Unix seconds).
    pub created_at: u64,
    /// When it last changed (Unix seconds).
    pub updated_at: u64,
    /// What happened, for people (errors, reconcile findings).
    pub detail: Option<String>,
    /// The operator's stated reason when the apply was forced past the
    /// audit (`apply --force REASON`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced: Option<String>,
}

/// File name of apply `id`'s journal entry.
pub fn journal_file(id: &str) -> String {
    format!("journal-{id}.json")
}

/// File name of apply `id`'s batch (the transaction, as JSON).
pub fn batch_file(id: &str) -> String {
    format!("batch-{id}.json")
}

impl JournalEntry {
    /// Writes the entry (atomically) and makes it the most recent apply.
    pub fn write(&mut self, state: &StateDir) -> TxnResult<()> {
        check_id(&self.apply_id)?;
        self.updated_at = now_unix();
        state.write_json(&journal_file(&self.apply_id), self)?;
        state.write_atomic(LAST_APPLY_FILE, self.apply_id.as_bytes())
    }

    /// Updates the entry (atomically) without changing which apply is the
    /// most recent.
    pub fn update(&mut self, state: &StateDir) -> TxnResult<()> {
        check_id(&self.apply_id)?;
        self.updated_at = now_unix();
        state.write_json(&journal_file(&self.apply_id), self)
    }

    /// Loads apply `id`'s entry.
    pub fn load(state: &StateDir, id: &str) -> TxnResult<JournalEntry> {
        check_id(id)?;
        state
            .read_json(&journal_file(id))?
            .ok_or_else(|| ApplyError::Invalid(format!("no apply {id} in the journal")))
    }

    /// The most recent apply's entry, if any.
    pub fn last(state: &StateDir) -> TxnResult<Option<JournalEntry>> {
        let Some(id) = state.read(LAST_APPLY_FILE)? else {
            return Ok(None);
        };
        let id = String::from_utf8_lossy(&id).trim().to_string();
        if check_id(&id).is_err() {
            return Err(ApplyError::Corrupt {
                path: state.file(LAST_APPLY_FILE),
                detail: format!("invalid apply id {id:?}"),
            });
        }
        Self::load(state, &id).map(Some)
    }
}

/// The calling thread's task id (`task_pid_nr(current)` in the kernel).
pub fn sender_task_id() -> u32 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name().and_then(|n| n.to_str()?.parse().ok()))
        .unwrap_or_else(std::process::id)
}

/// Stores an apply's batch next to its journal entry (read by
/// [`reconcile`] when the generation alone cannot tell).
pub fn store_batch(state: &StateDir, apply_id: &str, tx: &Transaction) -> TxnResult<()> {
    check_id(apply_id)?;
    state.write_json(&batch_file(apply_id), tx)
}

/// What [`reconcile`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciled {
    /// The apply that was unfinished.
    pub apply_id: String,
    /// Whether its batch had committed.
    pub committed: bool,
    /// How that was established.
    pub evidence: String,
}

/// Resolves an unfinished journal entry (phase [`Phase::Prepared`]) with
/// the kernel. `Ok(None)`: nothing was unfinished. An entry that cannot be
/// resolved gives [`ApplyError::StaleJournal`] (exit 61) and stays.
///
/// A batch found committed becomes [`Phase::Committed`]: its rollback,
/// armed before the send, stays armed and fires unless confirmed. One
/// found not committed becomes [`Phase::Failed`] and its rollback is
/// disarmed.
pub fn reconcile(sock: &mut Socket, state: &StateDir) -> TxnResult<Option<Reconciled>> {
    let Some(mut entry) = JournalEntry::last(state)? else {
        return Ok(None);
    };
    if entry.phase != Phase::Prepared {
        return Ok(None);
    }
    let gen = get_generation(sock)?;
    let (committed, evidence) = if gen.id == entry.base_genid {
        (
            false,
            format!(
                "the generation is still {}: the batch never committed",
                gen.id
            ),
        )
    } else {
        let backup = Backup::load(state, &entry.backup_id)?;
        let tx: Transaction = state
            .read_json(&batch_file(&entry.apply_id))?
            .ok_or_else(|| ApplyError::StaleJournal {
                apply_id: entry.apply_id.clone(),
                detail: "its batch file is missing; cannot tell whether it committed".into(),
            })?;
        let live = Ruleset::dump(sock, &DumpFilter::all())?;
        match effects_present(&tx, &backup, &live) {
            Some(true) => (
                true,
                format!(
                    "generation {}: the batch's effects are in the ruleset",
                    gen.id
                ),
            ),
            _ if matches_backup(&backup, &live) => (
                false,
                format!(
                    "generation {}: what the batch touches is exactly as backed up",
                    gen.id
                ),
            ),
            _ => {
                return Err(ApplyError::StaleJournal {
                    apply_id: entry.apply_id.clone(),
                    detail: format!(
                        "generation moved from {} to {} and the ruleset matches neither the batch nor the backup {}; inspect, then `nftguard rollback --to {}` or confirm",
                        entry.base_genid, gen.id, entry.backup_id, entry.backup_id
                    ),
                })
            }
        }
    };
    if committed {
        entry.phase = Phase::Committed;
        if gen.id == entry.base_genid.wrapping_add(1) {
            entry.committed_genid = Some(gen.id);
        }
    } else {
        entry.phase = Phase::Failed;
        if let Some(armed) = &entry.rollback {
            rollback::disarm(state, armed)?;
        }
    }
    entry.detail = Some(format!("reconciled after an interrupted apply: {evidence}"));
    entry.update(state)?;
    Ok(Some(Reconciled {
        apply_id: entry.apply_id,
        committed,
        evidence,
    }))
}

/// Whether the effects of `tx` are visible in `live`: every owned table
/// the batch replaces holds what the batch puts there, every rule it adds
/// to a foreign chain is there (and was not before), every rule it deletes
/// is gone. `None` when the batch's shape does not allow telling (an owned
/// table edited in place rather than replaced).
pub fn effects_present(tx: &Transaction, backup: &Backup, live: &Ruleset) -> Option<bool> {
    for t in &backup.tables {
        let ops = ops_after_last_delete(tx, t.family, &t.name)?;
        let expected = expected_content(&ops);
        let now = table_content(live, t.family, &t.name);
        if !same_shape(&expected, &now) {
            return Some(false);
        }
    }
    for c in &backup.chains {
        let before: Vec<u64> = c.rules.iter().filter_map(|r| r.handle).collect();
        let now: Vec<&Rule> = live
            .rules_of(c.key.family, &c.key.table, &c.key.chain)
            .collect();
        let mut new_sigs: Vec<Vec<u8>> = now
            .iter()
            .filter(|r| r.handle.is_some_and(|h| !before.contains(&h)))
            .map(|r| rule_signature(r))
            .collect();
        for add in &c.adds {
            let sig = rule_signature(add);
            match new_sigs.iter().position(|s| *s == sig) {
                Some(i) => {
                    new_sigs.swap_remove(i);
                }
                None => return Some(false),
            }
        }
        if c.deletes
            .iter()
            .any(|h| now.iter().any(|r| r.handle == Some(*h)))
        {
            return Some(false);
        }
    }
    Some(true)
}

/// The operations of `tx` on table `family`/`name` after its last
/// deletion (the replace pattern: delete, then create anew). `None` when
/// the batch does not delete the table but it existed (edited in place).
fn ops_after_last_delete(
    tx: &Transaction,
    family: crate::nft::Family,
    name: &str,
) -> Option<Vec<Op>> {
    let on_table = |op: &Op| match op {
        Op::DeleteTable { family: f, name: n } => *f == family && n == name,
        Op::AddTable(t) | Op::CreateTable(t) => t.family == family && t.name == name,
        Op::AddChain(c) | Op::CreateChain(c) => c.family == family && c.table == name,
        Op::AddRule(r) | Op::InsertRule(r) => r.family == family && r.table == name,
        Op::AddSet(s) | Op::CreateSet(s) => s.family == family && s.table == name,
        Op::AddElements(l) | Op::CreateElements(l) => l.family == family && l.table == name,
        Op::AddObject(o) | Op::CreateObject(o) => o.family == family && o.table == name,
        Op::AddFlowtable(f) | Op::CreateFlowtable(f) => f.family == family && f.table == name,
        _ => false,
    };
    let ops: Vec<&Op> = tx.ops().iter().filter(|op| on_table(op)).collect();
    let last_delete = ops
        .iter()
        .rposition(|op| matches!(op, Op::DeleteTable { .. }));
    let creates = ops
        .iter()
        .any(|op| matches!(op, Op::AddTable(_) | Op::CreateTable(_)));
    match last_delete {
        Some(i) => Some(ops[i + 1..].iter().map(|o| (*o).clone()).collect()),
        // A batch that only creates the table (it did not exist before,
        // which the genid-checked commit guarantees).
        None if creates => Some(ops.into_iter().cloned().collect()),
        None => None,
    }
}

/// The table a list of creating operations builds, as a [`Ruleset`].
fn expected_content(ops: &[Op]) -> Ruleset {
    let mut rs = Ruleset::default();
    for op in ops {
        match op {
            Op::AddTable(t) | Op::CreateTable(t) => rs.tables.push(t.clone()),
            Op::AddChain(c) | Op::CreateChain(c) => rs.chains.push(c.clone()),
            Op::AddRule(r) => rs.rules.push(r.clone()),
            Op::InsertRule(r) => rs.rules.insert(0, r.clone()),
            Op::AddSet(s) | Op::CreateSet(s) => rs.sets.push(s.clone()),
            Op::AddObject(o) | Op::CreateObject(o) => rs.objects.push(o.clone()),
            Op::AddFlowtable(f) | Op::CreateFlowtable(f) => rs.flowtables.push(f.clone()),
            _ => {}
        }
    }
    rs
}

/// Whether a built table and a dumped one have the same shape: the same
/// chains (name, hook, priority, policy), in each chain the same rules in
/// the same order (by content, counters ignored), the same named sets and
/// objects. Kernel-filled attributes that a built object lacks (flags 0,
/// use counts) do not count. Equal dumps always compare equal.
fn same_shape(expected: &Ruleset, now: &Ruleset) -> bool {
    if expected.tables.is_empty() != now.tables.is_empty() {
        return false;
    }
    if same_table_content(expected, now) {
        return true;
    }
    let chain_key = |c: &crate::nft::Chain| {
        (
            c.name.clone(),
            c.hook.as_ref().map(|h| (h.hooknum, h.priority)),
            c.policy.map(|p| p.number()),
        )
    };
    let mut a: Vec<_> = expected.chains.iter().map(chain_key).collect();
    let mut b: Vec<_> = now.chains.iter().map(chain_key).collect();
    a.sort();
    b.sort();
    if a != b {
        return false;
    }
    for c in &expected.chains {
        let sigs = |rs: &Ruleset| -> Vec<Vec<u8>> {
            rs.rules_of(c.family, &c.table, &c.name)
                .map(|r| rule_signature(&zero_counters(r)))
                .collect()
        };
        if sigs(expected) != sigs(now) {
            return false;
        }
    }
    let named = |rs: &Ruleset| -> Vec<String> {
        let mut v: Vec<String> = rs
            .sets
            .iter()
            .filter(|s| !s.name.starts_with("__set"))
            .map(|s| s.name.clone())
            .chain(rs.objects.iter().map(|o| format!("obj:{}", o.name)))
            .collect();
        v.sort();
        v
    };
    named(expected) == named(now)
}

/// `r` with packet-path state zeroed and the attributes the kernel fills
/// in when it dumps what a batch left out: a `dynset` sent without
/// `NFTA_DYNSET_TIMEOUT`/`NFTA_DYNSET_FLAGS` (as nft 1.0.6 and the
/// planner send `update @ssh4 { … }`) is dumped with both, as 0 (6.18).
/// Without this a committed plan with per-source limits would not be
/// recognised after a crash between send and reply.
fn zero_counters(r: &Rule) -> Rule {
    let mut r = r.clone();
    for e in &mut r.exprs {
        match e {
            crate::nft::Expr::Counter(c) => {
                c.bytes = Some(0);
                c.packets = Some(0);
            }
            crate::nft::Expr::Quota(q) => q.consumed = Some(0),
            crate::nft::Expr::Dynset(d) => {
                d.timeout.get_or_insert(0);
                d.flags.get_or_insert(0);
            }
            _ => {}
        }
    }
    r
}
