//! VALIDATE + APPLY: the state directory, the lock, the journal, backups
//! and restores, the rollback timer that outlives nftguard, and the
//! `apply` / `confirm` / `rollback` / `restore --boot` / `status` steps.
//!
//! - [`state`]: the root-only state directory, atomic writes;
//! - [`lock`]: one run at a time (exit 61);
//! - [`journal`]: written before a batch is sent, reconciled with the
//!   kernel after a crash;
//! - [`backup`]: the exact previous state of what a batch touches, and the
//!   restore batch that undoes only that;
//! - [`rollback`](mod@rollback): systemd timer, `at` job or detached watchdog;
//! - [`persist`]: the confirmed policy and its boot unit;
//! - [`apply`](mod@apply): the steps, in WORKFLOW.md's order;
//! - [`error`]: [`ApplyError`] and its exit codes;
//! - [`pause`]: test-only pause points for the crash-safety tests.

pub mod apply;
pub mod backup;
pub mod error;
pub mod journal;
pub mod lock;
pub mod pause;
pub mod persist;
pub mod rollback;
pub mod state;

pub use apply::{
    apply, approval_token, batch_sha256, complete_interrupted_rollback, confirm, restore_boot,
    resume_rollback, rollback, status, ApplyOptions, ApplyOutcome, BootRestoreOutcome,
    RollbackOutcome, RollbackRequest, StatusReport, StoredPlan, VerifyHook,
};
pub use backup::{restore_transaction, Backup};
pub use error::{ApplyError, TxnResult};
pub use journal::{reconcile, JournalEntry, Phase, Reconciled};
pub use lock::StateLock;
pub use persist::{PersistOptions, Persisted, Policy};
pub use rollback::{
    arm, disarm, rollback_watchdog_main, Armed, Mechanism, Mechanisms, RollbackCommand,
};
pub use state::StateDir;
