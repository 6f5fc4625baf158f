//! Reaping a child with its resource usage: `std::process::Child::wait`
//! does not report `ru_maxrss`, so the runner calls `wait4(2)` itself.

#![allow(unsafe_code)]

use std::io;

/// What `wait4` reports of a child.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Raw wait status.
    pub status: i32,
    /// Peak resident set size, KiB.
    pub rss_kib: u64,
    /// User plus system CPU time, seconds.
    pub cpu_secs: f64,
}

/// Waits for process `pid`; returns its wait status, peak RSS and CPU time.
pub fn wait_rusage(pid: u32) -> io::Result<Usage> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers refer to live locals of the right types.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            return Ok(Usage {
                status,
                rss_kib: usage.ru_maxrss.max(0) as u64,
                cpu_secs: secs(usage.ru_utime) + secs(usage.ru_stime),
            });
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Lowers this process's peak-RSS mark to its current RSS, after giving
/// freed heap memory back to the kernel.
///
/// Why: a child started with `posix_spawn` (or `fork`) inherits the
/// parent's peak-RSS mark — `exec` folds the old address space's peak into
/// the new process's `ru_maxrss` — so without this every child would
/// report at least the runner's own peak (the runner reads batches and
/// dumps 100k-rule rulesets for setup and checks). Returns the runner's
/// resident size afterwards (KiB): the smallest value a child can report.
pub fn reset_peak_rss() -> u64 {
    // SAFETY: malloc_trim only releases free heap memory; no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
    // "5" resets the peak RSS ("high water mark") to the current RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
