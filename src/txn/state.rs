//! The state directory (`/var/lib/nftguard` by default): plans, backups,
//! the journal, rollback records and the persisted policy.
//!
//! It must be root-only (ARCHITECTURE.md, decision 7): created with mode
//! 0700, files 0600, and a directory that others could write to — or, when
//! running as root, one not owned by root — is refused, because whoever can
//! write there can make nftguard restore a ruleset of their choosing.
//! Temporary directories shared by all users are refused outright (the seed
//! kept its caches in world-writable `/tmp`).
//!
//! Every write is atomic: a temporary file in the same directory, fsync,
//! rename over the target, fsync of the directory. A crash leaves either
//! the old or the new content, never a torn file.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{ApplyError, TxnResult};

/// The default state directory.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/nftguard";

/// Directories every user can write to: never acceptable for state.
const SHARED_TEMP_DIRS: &[&str] = &["/tmp", "/var/tmp", "/dev/shm"];

/// Distinguishes temporary files of concurrent writers in one process.
static TEMP_COUNTER: AtomicU32 = AtomicU32::new(0);

/// An opened, checked state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    path: PathBuf,
}

impl StateDir {
    /// Opens the state directory at `path`, creating it (mode 0700, parents
    /// included) when missing, and refuses it (exit 40) when it is a
    /// symlink, not a directory, writable by group or others, under a
    /// shared temporary directory, or — when running as root — not owned
    /// by root.
    pub fn open(path: impl AsRef<Path>) -> TxnResult<StateDir> {
        let path = path.as_ref();
        if !path.is_absolute() {
            return Err(ApplyError::Preflight {
                detail: format!(
                    "state directory {} must be an absolute path",
                    path.display()
                ),
            });
        }
        if SHARED_TEMP_DIRS
            .iter()
            .any(|t| path.starts_with(t) || path == Path::new(t))
        {
            return Err(ApplyError::Preflight {
                detail: format!(
                    "state directory {} is under a directory every user can write to",
                    path.display()
                ),
            });
        }
        let created = match fs::symlink_metadata(path) {
            Ok(_) => false,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(path)
                    .map_err(|e| ApplyError::state("creating the state directory", path, e))?;
                true
            }
            Err(e) => return Err(ApplyError::state("inspecting the state directory", path, e)),
        };
        if created {
            // The umask may have narrowed the mode, never widened it; make
            // it exactly 0700.
            fs::set_permissions(path, fs::Permissions::from_mode(0o700))
                .map_err(|e| ApplyError::state("setting the state directory's mode", path, e))?;
        }
        let meta = fs::symlink_metadata(path)
            .map_err(|e| ApplyError::state("inspecting the state directory", path, e))?;
        check_dir_metadata(path, &meta, effective_uid())?;
        Ok(StateDir {
            path: path.to_path_buf(),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of file `name` inside the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes `bytes` to file `name` atomically, mode 0600.
    pub fn write_atomic(&self, name: &str, bytes: &[u8]) -> TxnResult<()> {
        write_file_atomic(&self.path, name, bytes, 0o600)
    }

    /// Reads file `name`; `None` when it does not exist.
    pub fn read(&self, name: &str) -> TxnResult<Option<Vec<u8>>> {
        check_file_name(name)?;
        let p = self.file(name);
        match File::open(&p) {
            Ok(mut f) => {
                let mut buf = Vec::new();
                f.read_to_end(&mut buf)
                    .map_err(|e| ApplyError::state("reading", &p, e))?;
                Ok(Some(buf))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ApplyError::state("opening", &p, e)),
        }
    }

    /// Writes `value` as pretty JSON to file `name`, atomically.
    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> TxnResult<()> {
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| ApplyError::Corrupt {
            path: self.file(name),
            detail: format!("cannot encode: {e}"),
        })?;
        bytes.push(b'\n');
        self.write_atomic(name, &bytes)
    }

    /// Reads file `name` as JSON; `None` when it does not exist.
    pub fn read_json<T: DeserializeOwned>(&self, name: &str) -> TxnResult<Option<T>> {
        match self.read(name)? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| ApplyError::Corrupt {
                        path: self.file(name),
                        detail: e.to_string(),
                    })
            }
        }
    }

    /// Removes file `name` (no error when it does not exist).
    pub fn remove(&self, name: &str) -> TxnResult<()> {
        check_file_name(name)?;
        let p = self.file(name);
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ApplyError::state("removing", &p, e)),
        }
    }

    /// Whether file `name` exists.
    pub fn exists(&self, name: &str) -> bool {
        check_file_name(name).is_ok() && self.file(name).exists()
    }
}

/// Writes `bytes` to `dir/name` atomically (temporary file in `dir`,
/// fsync, rename, fsync of `dir`) with permissions `mode`. For files
/// outside the state directory, such as the boot unit.
pub fn write_file_atomic(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> TxnResult<()> {
    check_file_name(name)?;
    let target = dir.join(name);
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!(".{name}.tmp.{}.{n}", std::process::id()));
    let result = (|| {
        let create = || {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&temp)
        };
        // A temporary file left by a killed writer whose PID this process
        // now has is stale: remove it and create afresh.
        let mut f = match create() {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                fs::remove_file(&temp).and_then(|()| create())
            }
            r => r,
        }
        .map_err(|e| ApplyError::state("creating", &temp, e))?;
        // The umask may have narrowed the mode.
        f.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| ApplyError::state("setting the mode of", &temp, e))?;
        f.write_all(bytes)
            .map_err(|e| ApplyError::state("writing", &temp, e))?;
        f.sync_all()
            .map_err(|e| ApplyError::state("syncing", &temp, e))?;
        fs::rename(&temp, &target)
            .map_err(|e| ApplyError::state("renaming into place", &target, e))?;
        // The rename is durable only once the directory entry is.
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| ApplyError::state("syncing the directory", dir, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Refuses a state directory others could write to (or, as root, one
/// owned by another user).
fn check_dir_metadata(path: &Path, meta: &fs::Metadata, euid: Option<u32>) -> TxnResult<()> {
    let refuse = |why: String| {
        Err(ApplyError::Preflight {
            detail: format!("refusing state directory {}: {why}", path.display()),
        })
    };
    if meta.file_type().is_symlink() {
        return refuse("it is a symbolic link".into());
    }
    if !meta.is_dir() {
        return refuse("it is not a directory".into());
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return refuse(format!(
            "mode {mode:04o} lets group or others write (expected 0700)"
        ));
    }
    if euid == Some(0) && meta.uid() != 0 {
        return refuse(format!(
            "owned by uid {} while running as root (expected root)",
            meta.uid()
        ));
    }
    Ok(())
}

/// File names are plain names inside the directory: no separators, no
/// leading dot (reserved for temporary files), not empty.
fn check_file_name(name: &str) -> TxnResult<()> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') || name.contains('\0') {
        return Err(ApplyError::Invalid(format!(
            "invalid state file name {name:?}"
        )));
    }
    Ok(())
}

/// The effective uid, from `/proc/self/status` (no unsafe `geteuid()`).
pub fn effective_uid() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A fresh identifier for an apply or a backup: `<unix seconds>-<8 hex
/// digits from /dev/urandom>`. Only `[0-9a-f-]`, so it is safe in file
/// names, systemd unit names and `at` job text.
pub fn new_id() -> TxnResult<String> {
    let mut rnd = [0u8; 4];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut rnd))
        .map_err(|e| ApplyError::state("reading", "/dev/urandom", e))?;
    Ok(format!("{}-{:08x}", now_unix(), u32::from_be_bytes(rnd)))
}

/// Checks that `id` (from a command line or a file) has the shape
/// [`new_id`] produces, so it can be used in file and unit names.
pub fn check_id(id: &str) -> TxnResult<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')
        && !id.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApplyError::Invalid(format!(
            "invalid id {id:?}: expected digits, a-f and '-' (as nftguard prints them)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_well_formed_and_distinct() {
        let a = new_id().unwrap();
        let b = new_id().unwrap();
        assert_ne!(a, b);
        check_id(&a).unwrap();
        for bad in ["", "../x", "-rf", "a b", "1;reboot", "ABC", "x\n"] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_names_stay_inside_the_directory() {
        for bad in ["", "a/b", "../x", ".hidden", "nul\0"] {
            assert!(check_file_name(bad).is_err(), "{bad:?}");
        }
        check_file_name("journal-1-ab.json").unwrap();
    }

    #[test]
    fn shared_temporary_directories_are_refused() {
        for p in ["/tmp/nftguard", "/var/tmp/x", "/dev/shm/s", "relative/dir"] {
            let e = StateDir::open(p).unwrap_err();
            assert_eq!(e.exit_code(), 40, "{p}: {e}");
        }
    }
}
