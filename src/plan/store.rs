//! The plan and the audit cache in the state directory.
//!
//! The directory and the writes are [`crate::txn::state`]'s: created mode
//! 0700 and refused when others could write to it (or under a shared
//! temporary directory: the seed kept its caches in `/tmp`, where anyone
//! could plant a plan); files are written mode 0600, atomically (a
//! temporary file in the same directory, fsync, rename, fsync of the
//! directory).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{PlanBundle, PlanError};
use crate::detect::Audit;
use crate::txn::state::{now_unix, StateDir};

/// The stored plan's file name.
pub const PLAN_FILE: &str = "plan.json";
/// The audit cache's file name.
pub const AUDIT_CACHE_FILE: &str = "audit-cache.json";
/// How long a cached audit stays valid.
pub const AUDIT_TTL_SECS: u64 = 300;

fn io(path: &Path, what: &str, e: std::io::Error) -> PlanError {
    PlanError::State(format!("{what} {}: {e}", path.display()))
}

fn state_dir(dir: &Path) -> Result<StateDir, PlanError> {
    StateDir::open(dir).map_err(|e| PlanError::State(e.to_string()))
}

/// Opens the state directory as [`StateDir::open`] does (creating it mode
/// 0700 when missing, refusing one others could write to).
pub fn ensure_state_dir(dir: &Path) -> Result<(), PlanError> {
    state_dir(dir).map(|_| ())
}

/// Writes `bytes` to `dir/name` atomically with mode 0600
/// ([`StateDir::write_atomic`]).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, PlanError> {
    let state = state_dir(dir)?;
    state
        .write_atomic(name, bytes)
        .map_err(|e| PlanError::State(e.to_string()))?;
    Ok(state.file(name))
}

/// Stores the plan (and the exact batch) as `plan.json`.
pub fn save_plan(dir: &Path, bundle: &PlanBundle) -> Result<PathBuf, PlanError> {
    let json = serde_json::to_vec_pretty(bundle)
        .map_err(|e| PlanError::State(format!("encoding the plan: {e}")))?;
    write_atomic(dir, PLAN_FILE, &json)
}

/// Reads the stored plan.
pub fn load_plan(dir: &Path) -> Result<PlanBundle, PlanError> {
    let path = dir.join(PLAN_FILE);
    let bytes = fs::read(&path).map_err(|e| io(&path, "reading", e))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| PlanError::State(format!("reading {}: {e}", path.display())))
}

/// The audit cache file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditCache {
    /// When it was written (seconds since the epoch).
    pub written_at: u64,
    /// The ruleset generation it was taken at.
    pub genid: u32,
    /// The audit.
    pub audit: Audit,
}

/// Stores `audit`, taken at generation `genid`.
pub fn save_audit(dir: &Path, audit: &Audit, genid: u32) -> Result<PathBuf, PlanError> {
    save_audit_at(dir, audit, genid, now_unix())
}

/// [`save_audit`] with an explicit time.
pub fn save_audit_at(
    dir: &Path,
    audit: &Audit,
    genid: u32,
    now: u64,
) -> Result<PathBuf, PlanError> {
    let c = AuditCache {
        written_at: now,
        genid,
        audit: audit.clone(),
    };
    let json = serde_json::to_vec_pretty(&c)
        .map_err(|e| PlanError::State(format!("encoding the audit cache: {e}")))?;
    write_atomic(dir, AUDIT_CACHE_FILE, &json)
}

/// The cached audit, if it exists, is younger than [`AUDIT_TTL_SECS`] and
/// was taken at generation `genid`. A stale, foreign or unreadable cache is
/// no cache.
pub fn load_audit(dir: &Path, genid: u32) -> Option<Audit> {
    load_audit_at(dir, genid, now_unix())
}

/// [`load_audit`] at an explicit time.
pub fn load_audit_at(dir: &Path, genid: u32, now: u64) -> Option<Audit> {
    let path = dir.join(AUDIT_CACHE_FILE);
    let meta = fs::symlink_metadata(&path).ok()?;
    // Only a regular file only we can write counts.
    if !meta.is_file() || meta.permissions().mode() & 0o022 != 0 {
        return None;
    }
    let bytes = fs::read(&path).ok()?;
    let c: AuditCache = serde_json::from_slice(&bytes).ok()?;
    let fresh = now >= c.written_at && now - c.written_at < AUDIT_TTL_SECS;
    (fresh && c.genid == genid).then_some(c.audit)
}
