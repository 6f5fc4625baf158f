//! `ApplyError`: everything the VALIDATE + APPLY stage can refuse or fail
//! with, each mapped to the exit code of the workflow's contract
//! (WORKFLOW.md, "Exit codes").

use std::io;
use std::path::PathBuf;

/// An error of the VALIDATE + APPLY stage (and of `confirm`, `rollback`,
/// `restore --boot`, which share its state directory).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Another nftguard run holds the state lock (exit 61).
    #[error("another nftguard run holds the lock {}{}", path.display(), pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The PID written by the holder, when readable.
        pid: Option<u32>,
    },

    /// The journal holds an apply whose outcome could not be established
    /// (exit 61): an operator must look before anything else is applied.
    #[error("stale journal: apply {apply_id}: {detail}")]
    StaleJournal {
        /// The unfinished apply.
        apply_id: String,
        /// What is known.
        detail: String,
    },

    /// The caller's approval token differs from the stored plan's, or the
    /// stored plan's token does not match its own batch (exit 41).
    #[error("approval token mismatch: {detail}")]
    TokenMismatch {
        /// Which tokens differed.
        detail: String,
    },

    /// The live ruleset changed since the plan was made (exit 41).
    #[error("ruleset changed since plan: planned against generation {base_genid}, live generation is {}", live_genid.map_or_else(|| "unknown".to_string(), |g| g.to_string()))]
    RulesetChanged {
        /// The plan's generation.
        base_genid: u32,
        /// The generation found, when it could be read.
        live_genid: Option<u32>,
    },

    /// The backup could not be taken or stored (exit 42).
    #[error("backup failed: {detail}")]
    BackupFailed {
        /// Why.
        detail: String,
    },

    /// No rollback mechanism is available here (exit 31).
    #[error("no rollback mechanism can be armed: {detail}")]
    NoRollbackMechanism {
        /// What was tried and why each was unusable.
        detail: String,
    },

    /// A preflight step failed, e.g. a rollback mechanism that exists
    /// refused to arm, or the state directory is unsafe (exit 40).
    #[error("preflight failed: {detail}")]
    Preflight {
        /// What failed.
        detail: String,
    },

    /// The kernel rejected the batch; nothing was applied (exit 50).
    #[error("apply rejected, nothing changed: operation {op_index} ({op}): {message}")]
    Rejected {
        /// Index of the failing operation in the batch.
        op_index: usize,
        /// The failing operation, as nft phrases it.
        op: String,
        /// The kernel's errno.
        errno: i32,
        /// The kernel's explanation (errno text plus extended ack).
        message: String,
    },

    /// The verify hook reported a failed critical check (exit 60). The
    /// rollback stays armed and fires unless confirmed.
    #[error("verify failed: {detail}")]
    VerifyFailed {
        /// The hook's report.
        detail: String,
    },

    /// A file of the state directory could not be read or written (exit 1).
    #[error("{what} {}: {source}", path.display())]
    State {
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// A stored file is not what nftguard wrote (exit 1).
    #[error("{} is corrupt: {detail}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },

    /// The caller asked for something that does not exist or cannot be
    /// done (unknown apply or backup id, nothing to confirm, …) (exit 1).
    #[error("{0}")]
    Invalid(String),

    /// An engine error (netlink, dump, encode) (exit 1).
    #[error(transparent)]
    Engine(#[from] crate::Error),
}

impl ApplyError {
    /// The exit code of the workflow's contract this error maps to.
    pub fn exit_code(&self) -> i32 {
        match self {
            ApplyError::Locked { .. } | ApplyError::StaleJournal { .. } => 61,
            ApplyError::TokenMismatch { .. } | ApplyError::RulesetChanged { .. } => 41,
            ApplyError::BackupFailed { .. } => 42,
            ApplyError::NoRollbackMechanism { .. } => 31,
            ApplyError::Preflight { .. } => 40,
            ApplyError::Rejected { .. } => 50,
            ApplyError::VerifyFailed { .. } => 60,
            ApplyError::State { .. }
            | ApplyError::Corrupt { .. }
            | ApplyError::Invalid(_)
            | ApplyError::Engine(_) => 1,
        }
    }

    /// An I/O error on a state file.
    pub(crate) fn state(what: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        ApplyError::State {
            what,
            path: path.into(),
            source,
        }
    }
}

/// Result alias of this module.
pub type TxnResult<T> = std::result::Result<T, ApplyError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_contract_code() {
        let cases: Vec<(ApplyError, i32)> = vec![
            (
                ApplyError::Locked {
                    path: "/x".into(),
                    pid: Some(7),
                },
                61,
            ),
            (
                ApplyError::StaleJournal {
                    apply_id: "a".into(),
                    detail: "d".into(),
                },
                61,
            ),
            (ApplyError::TokenMismatch { detail: "d".into() }, 41),
            (
                ApplyError::RulesetChanged {
                    base_genid: 1,
                    live_genid: Some(2),
                },
                41,
            ),
            (ApplyError::BackupFailed { detail: "d".into() }, 42),
            (ApplyError::NoRollbackMechanism { detail: "d".into() }, 31),
            (ApplyError::Preflight { detail: "d".into() }, 40),
            (
                ApplyError::Rejected {
                    op_index: 0,
                    op: "add rule".into(),
                    errno: 22,
                    message: "m".into(),
                },
                50,
            ),
            (ApplyError::VerifyFailed { detail: "d".into() }, 60),
            (ApplyError::Invalid("x".into()), 1),
        ];
        for (e, code) in cases {
            assert_eq!(e.exit_code(), code, "{e}");
        }
        let locked = ApplyError::Locked {
            path: "/var/lib/nftguard/lock".into(),
            pid: Some(42),
        };
        assert!(locked.to_string().contains("pid 42"));
    }
}
