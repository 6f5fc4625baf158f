//! The exclusive state lock: one nftguard run at a time may change the
//! ruleset or the state directory.
//!
//! `flock(2)` on `<state>/lock` (through `std::fs::File::try_lock`, which
//! is `flock` on Linux): the kernel releases it when the holder exits, even
//! on SIGKILL, so a crashed run never leaves a stale lock behind (a stale
//! *journal* is handled by [`super::journal::reconcile`]). The holder writes
//! its PID into the file so a refused second run can name it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::error::{ApplyError, TxnResult};
use super::state::StateDir;

/// File name of the lock inside the state directory.
pub const LOCK_FILE: &str = "lock";

/// A held state lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct StateLock {
    file: File,
    path: PathBuf,
}

impl StateLock {
    /// Takes the lock without waiting. A run already holding it gives
    /// [`ApplyError::Locked`] (exit 61) naming the holder's PID.
    pub fn acquire(state: &StateDir) -> TxnResult<StateLock> {
        let path = state.file(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| ApplyError::state("opening the lock file", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let pid = file
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse().ok());
                return Err(ApplyError::Locked { path, pid });
            }
            Err(TryLockError::Error(e)) => {
                return Err(ApplyError::state("locking", &path, e));
            }
        }
        // Record who holds it, for the error a second run prints.
        let pid = std::process::id().to_string();
        file.set_len(0)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(pid.as_bytes()))
            .map_err(|e| ApplyError::state("writing the lock holder", &path, e))?;
        Ok(StateLock { file, path })
    }

    /// Takes the lock, retrying for up to `wait` while another run holds
    /// it. Used by a fired rollback timer, which must not be skipped
    /// because `confirm` or `status` happens to run at that moment.
    pub fn acquire_waiting(state: &StateDir, wait: Duration) -> TxnResult<StateLock> {
        let until = Instant::now() + wait;
        loop {
            match Self::acquire(state) {
                Err(ApplyError::Locked { .. }) if Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                other => return other,
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // Clear the PID so nobody reads a dead holder's; the kernel drops
        // the flock when the descriptor closes right after.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}
