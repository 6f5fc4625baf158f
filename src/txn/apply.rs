//! VALIDATE + APPLY, and the commands that finish or undo an apply:
//! `confirm`, `rollback`, `restore --boot`, `status`.
//!
//! `apply` follows WORKFLOW.md's order exactly: lock (61) → the caller's
//! token equals the stored plan's (41) → the live generation is still the
//! plan's (41, "ruleset changed since plan") → backup (42) → journal →
//! rollback armed (31/40) → one atomic generation-checked commit (50) →
//! the verify hook (60) → optionally confirm.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::backup::{restore, Backup};
use super::error::{ApplyError, TxnResult};
use super::journal::{reconcile, store_batch, JournalEntry, Phase, Reconciled};
use super::lock::StateLock;
use super::pause;
use super::persist::{persist, PersistOptions, Persisted, Policy};
use super::rollback::{self, Armed, Mechanisms, RollbackCommand, RollbackStatus};
use super::state::{check_id, new_id, now_unix, StateDir};
use crate::engine::{get_generation, DumpFilter, GenCheck, Ruleset, Transaction};
use crate::netlink::Socket;

/// Default confirm timeout (WORKFLOW.md: `--confirm-timeout`, 300 s).
pub const DEFAULT_CONFIRM_TIMEOUT: Duration = Duration::from_secs(300);

/// How long a fired rollback waits for the lock held by another run.
pub const FIRED_ROLLBACK_LOCK_WAIT: Duration = Duration::from_secs(60);

/// `sha256:` + hex of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// `sha256:` of the transaction's canonical bytes.
pub fn batch_sha256(tx: &Transaction) -> crate::Result<String> {
    Ok(sha256_hex(&tx.canonical_bytes()?))
}

pub use crate::plan::token::approval_token;

/// What `apply` needs from a stored plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPlan {
    /// The exact batch to send.
    pub transaction: Transaction,
    /// The generation it was planned against.
    pub base_genid: u32,
    /// The token the plan printed ([`approval_token`]).
    pub approval_token: String,
}

impl StoredPlan {
    /// The parts of a plan made by `nftguard plan` that `apply` uses.
    pub fn from_bundle(bundle: &crate::plan::PlanBundle) -> StoredPlan {
        StoredPlan {
            transaction: bundle.transaction.clone(),
            base_genid: bundle.plan.base_genid,
            approval_token: bundle.plan.approval_token.clone(),
        }
    }
}

/// The verify stage's hook: runs after the commit, on the same socket;
/// `Err` carries the failed critical checks.
pub type VerifyHook<'a> = Box<dyn FnMut(&mut Socket) -> Result<(), String> + 'a>;

/// Options of `apply`.
pub struct ApplyOptions<'a> {
    /// The token the operator approved (`--approved-plan=sha256:…`).
    pub supplied_token: String,
    /// When the rollback fires unless confirmed.
    pub confirm_timeout: Duration,
    /// Validate in the kernel only (batch without END): nothing changes.
    pub dry_run: bool,
    /// Confirm right after the verify hook passes.
    pub auto_confirm: bool,
    /// What a fired rollback runs.
    pub rollback: RollbackCommand,
    /// Which rollback mechanisms may be used.
    pub mechanisms: Mechanisms,
    /// The verify stage (none: skipped).
    pub verify: Option<VerifyHook<'a>>,
    /// Where `--auto-confirm` persists.
    pub persist: PersistOptions,
    /// The stated reason when the apply is forced past the audit's halt
    /// (`--force REASON`); recorded in the journal.
    pub forced: Option<String>,
}

impl fmt::Debug for ApplyOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("supplied_token", &self.supplied_token)
            .field("confirm_timeout", &self.confirm_timeout)
            .field("dry_run", &self.dry_run)
            .field("auto_confirm", &self.auto_confirm)
            .field("rollback", &self.rollback)
            .field("mechanisms", &self.mechanisms)
            .field("verify", &self.verify.as_ref().map(|_| "hook"))
            .field("persist", &self.persist)
            .field("forced", &self.forced)
            .finish()
    }
}

/// What `apply` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyOutcome {
    /// The apply's id (`None` for a dry run).
    pub apply_id: Option<String>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The plan's generation.
    pub base_genid: u32,
    /// The generation afterwards.
    pub genid: u32,
    /// The backup taken.
    pub backup_id: Option<String>,
    /// The armed rollback.
    pub rollback: Option<Armed>,
    /// An interrupted earlier apply resolved first, if any.
    pub reconciled: Option<Reconciled>,
    /// Whether the verify hook ran and passed.
    pub verified: Option<bool>,
    /// What `--auto-confirm` persisted.
    pub confirmed: Option<Persisted>,
}

fn map_commit_error(e: crate::Error) -> ApplyError {
    match e {
        crate::Error::Conflict { expected, current } => ApplyError::RulesetChanged {
            base_genid: expected,
            live_genid: current,
        },
        crate::Error::Rejected {
            op_index,
            op,
            errno,
            message,
            ..
        } => ApplyError::Rejected {
            op_index,
            op,
            errno,
            message: format!(
                "{}{}",
                crate::error::errno_text(errno),
                message.map(|m| format!(": {m}")).unwrap_or_default()
            ),
        },
        other => ApplyError::Engine(other),
    }
}

/// Refuses to start while an earlier apply awaits confirmation: its
/// pending rollback would later undo this one too.
fn refuse_unconfirmed(state: &StateDir) -> TxnResult<()> {
    if let Some(e) = JournalEntry::last(state)? {
        if e.phase == Phase::Committed {
            return Err(ApplyError::StaleJournal {
                apply_id: e.apply_id.clone(),
                detail: "it awaits `nftguard confirm` (its rollback is pending); confirm or roll it back first".into(),
            });
        }
    }
    Ok(())
}

/// VALIDATE + APPLY (see the module documentation for the order).
pub fn apply(
    sock: &mut Socket,
    state: &StateDir,
    plan: &StoredPlan,
    opts: &mut ApplyOptions<'_>,
) -> TxnResult<ApplyOutcome> {
    let _lock = StateLock::acquire(state)?;
    let reconciled = settle(sock, state)?;
    refuse_unconfirmed(state)?;

    if opts.supplied_token != plan.approval_token {
        return Err(ApplyError::TokenMismatch {
            detail: format!(
                "the approved token {} is not the stored plan's {}",
                opts.supplied_token, plan.approval_token
            ),
        });
    }
    let recomputed = approval_token(&plan.transaction, plan.base_genid)?;
    if recomputed != plan.approval_token {
        return Err(ApplyError::TokenMismatch {
            detail: format!(
                "the stored plan's batch hashes to {recomputed}, not to its token {}: the plan file was altered",
                plan.approval_token
            ),
        });
    }
    let live = get_generation(sock)?.id;
    if live != plan.base_genid {
        return Err(ApplyError::RulesetChanged {
            base_genid: plan.base_genid,
            live_genid: Some(live),
        });
    }
    let tx = &plan.transaction;

    if opts.dry_run {
        tx.check(sock, GenCheck::Expect(plan.base_genid))
            .map_err(map_commit_error)?;
        return Ok(ApplyOutcome {
            apply_id: None,
            dry_run: true,
            base_genid: plan.base_genid,
            genid: get_generation(sock)?.id,
            backup_id: None,
            rollback: None,
            reconciled,
            verified: None,
            confirmed: None,
        });
    }

    let apply_id = new_id()?;
    let backup_id = new_id()?;
    let mut backup = Backup::take(
        sock,
        state,
        &backup_id,
        &apply_id,
        tx,
        Some(plan.base_genid),
    )?;
    store_batch(state, &apply_id, tx)?;
    let now = now_unix();
    let mut entry = JournalEntry {
        apply_id: apply_id.clone(),
        backup_id: backup_id.clone(),
        base_genid: plan.base_genid,
        batch_sha256: batch_sha256(tx)?,
        approval_token: plan.approval_token.clone(),
        pid: super::journal::sender_task_id(),
        phase: Phase::Prepared,
        committed_genid: None,
        rollback: None,
        created_at: now,
        updated_at: now,
        detail: None,
        forced: opts.forced.clone(),
    };
    entry.write(state)?;

    let armed = match rollback::arm(
        state,
        &opts.rollback,
        &apply_id,
        opts.confirm_timeout,
        &opts.mechanisms,
    ) {
        Ok(a) => a,
        Err(e) => {
            entry.phase = Phase::Failed;
            entry.detail = Some(format!("rollback not armed: {e}"));
            entry.update(state)?;
            return Err(e);
        }
    };
    entry.rollback = Some(armed.clone());
    entry.update(state)?;

    pause::point(state, pause::BEFORE_SEND);
    if pause::requested(pause::AFTER_SEND) {
        // The same batch, sent the same way (one sendmsg, which commits
        // it), then a pause before any reply is read.
        let seq = sock.next_seq(tx.len() as u32 + 2);
        sock.send(&tx.encode(seq, plan.base_genid, true, false)?)?;
        pause::point(state, pause::AFTER_SEND);
    }
    let done = match tx.commit(sock, GenCheck::Expect(plan.base_genid)) {
        Ok(done) => done,
        Err(e @ (crate::Error::Conflict { .. } | crate::Error::Rejected { .. })) => {
            rollback::disarm(state, &armed)?;
            let err = map_commit_error(e);
            entry.phase = Phase::Failed;
            entry.detail = Some(err.to_string());
            entry.update(state)?;
            return Err(err);
        }
        Err(e) => {
            // The batch may or may not have committed (a failure after the
            // send): ask the kernel, as after a crash.
            let found = reconcile(sock, state)?;
            if !found.as_ref().is_some_and(|r| r.committed) {
                return Err(ApplyError::Engine(e));
            }
            entry = JournalEntry::load(state, &apply_id)?;
            crate::engine::Committed {
                genid: get_generation(sock)?.id,
                handles: Vec::new(),
                end_acked: false,
            }
        }
    };
    backup.record_commit(tx, &done);
    backup.store(state)?;
    entry.phase = Phase::Committed;
    entry.committed_genid = Some(done.genid);
    entry.update(state)?;

    let mut outcome = ApplyOutcome {
        apply_id: Some(apply_id.clone()),
        dry_run: false,
        base_genid: plan.base_genid,
        genid: done.genid,
        backup_id: Some(backup_id),
        rollback: Some(armed),
        reconciled,
        verified: None,
        confirmed: None,
    };
    pause::point(state, pause::VERIFY);
    if let Some(verify) = opts.verify.as_mut() {
        if let Err(detail) = verify(sock) {
            entry.detail = Some(format!("verify failed: {detail}"));
            entry.update(state)?;
            return Err(ApplyError::VerifyFailed { detail });
        }
        outcome.verified = Some(true);
    }
    if opts.auto_confirm {
        outcome.confirmed = Some(confirm_locked(sock, state, &opts.persist)?);
    }
    Ok(outcome)
}

/// `confirm`: disarms the pending rollback of the last apply and persists
/// its tables for boot. (The verify stage runs before, in the caller.)
pub fn confirm(sock: &mut Socket, state: &StateDir, opts: &PersistOptions) -> TxnResult<Persisted> {
    let _lock = StateLock::acquire(state)?;
    settle(sock, state)?;
    confirm_locked(sock, state, opts)
}

fn confirm_locked(
    sock: &mut Socket,
    state: &StateDir,
    opts: &PersistOptions,
) -> TxnResult<Persisted> {
    let mut entry = JournalEntry::last(state)?
        .ok_or_else(|| ApplyError::Invalid("nothing to confirm: no apply in the journal".into()))?;
    if entry.phase != Phase::Committed {
        return Err(ApplyError::Invalid(format!(
            "nothing to confirm: apply {} is {:?}{}",
            entry.apply_id,
            entry.phase,
            entry
                .detail
                .as_ref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        )));
    }
    pause::point(state, pause::CONFIRM);
    if let Some(armed) = &entry.rollback {
        rollback::disarm(state, armed)?;
    }
    let backup = Backup::load(state, &entry.backup_id)?;
    let tables: Vec<_> = backup
        .tables
        .iter()
        .map(|t| (t.family, t.name.clone()))
        .collect();
    let live = Ruleset::dump(sock, &DumpFilter::all())?;
    let policy = Policy::from_live(&entry.apply_id, &tables, &live)?;
    let persisted = persist(state, &policy, opts)?;
    entry.phase = Phase::Confirmed;
    entry.detail = Some("confirmed; rollback disarmed, policy persisted".into());
    entry.update(state)?;
    Ok(persisted)
}

/// What to roll back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackRequest {
    /// Set by a fired timer: undo this apply if it is still unconfirmed
    /// (a confirmed or finished one is left alone).
    pub apply_id: Option<String>,
    /// `--to BACKUP_ID`: restore what that backup recorded, whatever the
    /// apply's phase.
    pub to: Option<String>,
}

/// What `rollback` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackOutcome {
    /// The apply undone (or considered).
    pub apply_id: Option<String>,
    /// The backup restored.
    pub backup_id: Option<String>,
    /// Whether anything was restored.
    pub restored: bool,
    /// Generation afterwards.
    pub genid: u32,
    /// What happened, for people.
    pub detail: String,
}

/// `rollback`: atomically restores what an apply changed (only that).
/// Without arguments: the last apply, if unconfirmed or confirmed.
pub fn rollback(
    sock: &mut Socket,
    state: &StateDir,
    req: &RollbackRequest,
) -> TxnResult<RollbackOutcome> {
    let fired = req.apply_id.is_some();
    let _lock = if fired {
        StateLock::acquire_waiting(state, FIRED_ROLLBACK_LOCK_WAIT)?
    } else {
        StateLock::acquire(state)?
    };
    settle(sock, state)?;
    let (backup, mut entry) = match (&req.to, &req.apply_id) {
        (Some(to), _) => {
            let b = Backup::load(state, to)?;
            let e = JournalEntry::load(state, &b.apply_id).ok();
            (b, e)
        }
        (None, Some(id)) => {
            check_id(id)?;
            let e = JournalEntry::load(state, id)?;
            let b = Backup::load(state, &e.backup_id)?;
            (b, Some(e))
        }
        (None, None) => {
            let e = JournalEntry::last(state)?.ok_or_else(|| {
                ApplyError::Invalid("nothing to roll back: the journal is empty".into())
            })?;
            let b = Backup::load(state, &e.backup_id)?;
            (b, Some(e))
        }
    };
    if req.to.is_none() {
        let phase = entry.as_ref().map(|e| e.phase);
        let allowed = if fired {
            phase == Some(Phase::Committed)
        } else {
            matches!(phase, Some(Phase::Committed | Phase::Confirmed))
        };
        if !allowed {
            return Ok(RollbackOutcome {
                apply_id: entry.as_ref().map(|e| e.apply_id.clone()),
                backup_id: Some(backup.id.clone()),
                restored: false,
                genid: get_generation(sock)?.id,
                detail: format!("nothing to roll back: the apply is {phase:?}"),
            });
        }
    }
    // Journaled first: a rollback killed from here on is completed by the
    // next run (resume_rollback).
    if let Some(e) = entry.as_mut() {
        e.phase = Phase::RollingBack;
        e.detail = Some(format!("rollback to backup {} started", backup.id));
        e.update(state)?;
    }
    pause::point(state, pause::ROLLBACK);
    let genid = restore_journaled(sock, state, &backup, entry.as_mut())?;
    pause::point(state, pause::ROLLBACK_SENT);
    let detail = format!(
        "restored backup {} ({} table(s), {} foreign chain(s)){}",
        backup.id,
        backup.tables.len(),
        backup.chains.len(),
        if fired {
            " because the apply was not confirmed in time"
        } else {
            ""
        }
    );
    if let Some(e) = entry.as_mut() {
        // A fired timer is spent (marked, not stopped: it may be this
        // very process); a manual rollback cancels it.
        finish_rollback(state, e, !fired, detail.clone())?;
    }
    Ok(RollbackOutcome {
        apply_id: entry.map(|e| e.apply_id),
        backup_id: Some(backup.id),
        restored: true,
        genid,
        detail,
    })
}

/// Restores `backup` (idempotent: the batch is computed from the live
/// ruleset); a failure is left in `entry` where `status` shows it (a
/// fired timer has nobody watching its output).
fn restore_journaled(
    sock: &mut Socket,
    state: &StateDir,
    backup: &Backup,
    entry: Option<&mut JournalEntry>,
) -> TxnResult<u32> {
    restore(sock, backup).inspect_err(|e| {
        if let Some(entry) = entry {
            entry.detail = Some(format!("rollback to backup {} failed: {e}", backup.id));
            let _ = entry.update(state);
        }
    })
}

/// Marks `entry` rolled back. Its armed timer is cancelled when `disarm`
/// (it cannot be the running process), otherwise only marked spent.
fn finish_rollback(
    state: &StateDir,
    entry: &mut JournalEntry,
    disarm: bool,
    detail: String,
) -> TxnResult<()> {
    if let Some(armed) = entry.rollback.clone() {
        if disarm {
            rollback::disarm(state, &armed)?;
        } else {
            let _ = state.write_json(
                &rollback::record_file(&armed.apply_id),
                &rollback::ArmRecord {
                    armed,
                    state: rollback::ArmState::Disarmed,
                },
            );
        }
    }
    entry.phase = Phase::RolledBack;
    entry.detail = Some(detail);
    entry.update(state)
}

/// Completes a rollback that was interrupted (the last apply's journal
/// entry still [`Phase::RollingBack`]): restores its backup again —
/// idempotent, so whether the first attempt's batch committed does not
/// matter — and marks the apply rolled back. Returns the apply id when
/// there was one to complete. The caller holds the state lock.
pub fn resume_rollback(sock: &mut Socket, state: &StateDir) -> TxnResult<Option<String>> {
    let Some(mut entry) = JournalEntry::last(state)? else {
        return Ok(None);
    };
    if entry.phase != Phase::RollingBack {
        return Ok(None);
    }
    let backup = Backup::load(state, &entry.backup_id)?;
    restore_journaled(sock, state, &backup, Some(&mut entry))?;
    // Before its deadline the timer has not fired, so this process is not
    // it: cancel it. After, it has fired (maybe as this process): mark it.
    let before_deadline = entry
        .rollback
        .as_ref()
        .is_some_and(|a| now_unix().saturating_mul(1000) < a.fires_at_ms);
    let detail = format!(
        "restored backup {} ({} table(s), {} foreign chain(s)), completing an interrupted rollback",
        backup.id,
        backup.tables.len(),
        backup.chains.len()
    );
    finish_rollback(state, &mut entry, before_deadline, detail)?;
    Ok(Some(entry.apply_id))
}

/// What every locked command does first: completes an interrupted
/// rollback, then resolves an interrupted apply ([`reconcile`]).
fn settle(sock: &mut Socket, state: &StateDir) -> TxnResult<Option<Reconciled>> {
    resume_rollback(sock, state)?;
    reconcile(sock, state)
}

/// `status`'s repair step: with the lock (waiting as a fired rollback
/// does), completes an interrupted rollback. `Ok(None)` when there was
/// none (then no lock is taken and no socket opened).
pub fn complete_interrupted_rollback(state: &StateDir) -> TxnResult<Option<String>> {
    let interrupted = JournalEntry::last(state)?.is_some_and(|e| e.phase == Phase::RollingBack);
    if !interrupted {
        return Ok(None);
    }
    let _lock = StateLock::acquire_waiting(state, FIRED_ROLLBACK_LOCK_WAIT)?;
    let mut sock = Socket::new()?;
    resume_rollback(&mut sock, state)
}

/// What `restore --boot` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootRestoreOutcome {
    /// Whether a policy was found and applied.
    pub restored: bool,
    /// The confirmed apply it came from.
    pub apply_id: Option<String>,
    /// Generation afterwards.
    pub genid: u32,
    /// An unconfirmed apply found in the journal (the machine rebooted
    /// before confirm), now marked rolled back.
    pub abandoned_apply: Option<String>,
}

/// `restore --boot`: re-applies the persisted confirmed policy (replacing
/// live copies of its tables), generation-checked with retries. An apply
/// still awaiting confirmation is abandoned: the persisted policy is the
/// last confirmed one, which is what its rollback would have restored.
pub fn restore_boot(sock: &mut Socket, state: &StateDir) -> TxnResult<BootRestoreOutcome> {
    let _lock = StateLock::acquire_waiting(state, FIRED_ROLLBACK_LOCK_WAIT)?;
    let mut abandoned_apply = None;
    if let Some(mut e) = JournalEntry::last(state)? {
        if matches!(
            e.phase,
            Phase::Committed | Phase::Prepared | Phase::RollingBack
        ) {
            if let Some(armed) = &e.rollback {
                let _ = rollback::disarm(state, armed);
            }
            e.phase = Phase::RolledBack;
            e.detail = Some("abandoned: the host restarted before confirm; the last confirmed policy was restored".into());
            e.update(state)?;
            abandoned_apply = Some(e.apply_id.clone());
        }
    }
    let Some(policy) = Policy::load(state)? else {
        return Ok(BootRestoreOutcome {
            restored: false,
            apply_id: None,
            genid: get_generation(sock)?.id,
            abandoned_apply,
        });
    };
    let mut last = None;
    for _ in 0..super::backup::RESTORE_ATTEMPTS {
        let live = Ruleset::dump(sock, &DumpFilter::all())?;
        let mut tx = Transaction::new();
        for (family, name) in &policy.tables {
            if live.table(*family, name).is_some() {
                tx.delete_table(*family, name);
            }
        }
        for op in policy.transaction.ops() {
            tx.push(op.clone());
        }
        match tx.commit(sock, GenCheck::Expect(live.genid)) {
            Ok(done) => {
                return Ok(BootRestoreOutcome {
                    restored: true,
                    apply_id: Some(policy.apply_id),
                    genid: done.genid,
                    abandoned_apply,
                })
            }
            Err(e @ crate::Error::Conflict { .. }) => last = Some(e),
            Err(e) => return Err(map_commit_error(e)),
        }
    }
    Err(last.map_or_else(
        || ApplyError::Invalid("restore was not attempted".into()),
        ApplyError::Engine,
    ))
}

/// What `status` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The most recent apply's journal entry.
    pub last_apply: Option<JournalEntry>,
    /// The rollback of the most recent apply.
    pub rollback: RollbackStatus,
    /// The confirmed apply whose policy is persisted, if any.
    pub persisted_apply: Option<String>,
}

/// `status`: journal state, pending rollback, persisted policy. Read-only
/// (takes no lock).
pub fn status(state: &StateDir) -> TxnResult<StatusReport> {
    let last_apply = JournalEntry::last(state)?;
    let rollback = match &last_apply {
        Some(e) => rollback::status(state, &e.apply_id)?,
        None => RollbackStatus {
            pending: false,
            fires_at: None,
            mechanism: None,
            apply_id: None,
            watchdog_alive: None,
        },
    };
    let persisted_apply = Policy::load(state)?.map(|p| p.apply_id);
    Ok(StatusReport {
        last_apply,
        rollback,
        persisted_apply,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_covers_batch_and_generation() {
        let mut tx = Transaction::new();
        tx.add_table(crate::nft::Table::new(crate::nft::Family::Inet, "nftguard"));
        let a = approval_token(&tx, 7).unwrap();
        assert!(a.starts_with("sha256:") && a.len() == 7 + 64);
        assert_ne!(a, approval_token(&tx, 8).unwrap());
        let mut tx2 = tx.clone();
        tx2.delete_table(crate::nft::Family::Inet, "nftguard");
        assert_ne!(a, approval_token(&tx2, 7).unwrap());
        // The batch hash is a plain SHA-256: the known digest of "abc".
        assert_eq!(
            sha256_hex(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
