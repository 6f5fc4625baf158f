//! The plan and the audit cache in the state directory.
//!
//! The directory (default `/var/lib/nftguard`) is created mode 0700 and
//! refused when group- or world-writable (the seed kept its caches in
//! `/tmp`, where anyone could plant a plan). Files are written mode 0600,
//! atomically: a temporary file in the same directory, fsync, rename, fsync
//! of the directory. Small and self-contained so that a general state-dir
//! module can replace it.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{PlanBundle, PlanError};
use crate::detect::Audit;

/// The stored plan's file name.
pub const PLAN_FILE: &str = "plan.json";
/// The audit cache's file name.
pub const AUDIT_CACHE_FILE: &str = "audit-cache.json";
/// How long a cached audit stays valid.
pub const AUDIT_TTL_SECS: u64 = 300;

fn io(path: &Path, what: &str, e: std::io::Error) -> PlanError {
    PlanError::State(format!("{what} {}: {e}", path.display()))
}

/// Creates the state directory (0700) if needed and checks that only its
/// owner can write to it.
pub fn ensure_state_dir(dir: &Path) -> Result<(), PlanError> {
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(|e| io(dir, "creating", e))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| io(dir, "setting the mode of", e))?;
    }
    let meta = fs::metadata(dir).map_err(|e| io(dir, "reading", e))?;
    if !meta.is_dir() {
        return Err(PlanError::State(format!(
            "state directory {} is not a directory",
            dir.display()
        )));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Err(PlanError::State(format!(
            "state directory {} is writable by group or others (mode {:o}); refusing to keep plans there",
            dir.display(),
            meta.permissions().mode() & 0o7777
        )));
    }
    Ok(())
}

/// Writes `bytes` to `dir/name` atomically with mode 0600.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, PlanError> {
    ensure_state_dir(dir)?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        // A leftover temp file of an earlier run keeps its old mode.
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)?;
        File::open(dir)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io(&path, "writing", e));
    }
    Ok(path)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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
    save_audit_at(dir, audit, genid, now_secs())
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
    load_audit_at(dir, genid, now_secs())
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
