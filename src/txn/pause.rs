//! Test-only pause points, for the crash-safety tests
//! (`tests/apply_faults.rs`): with `NFTGUARD_TEST_PAUSE_AT=STEP` in its
//! environment, nftguard stops at that step, writes
//! `paused-at-STEP` (its PID) into the state directory and sleeps until it
//! is killed — so a test can SIGKILL it at exactly that point.
//!
//! Only debug builds (`cfg(debug_assertions)`, what `cargo test` builds)
//! and builds with the `fault-injection` feature (what `scripts/test-all`
//! uses for its release build) look at the variable; in a normal release
//! build every point is a no-op. The
//! rollback watchdog is started without the variable, so a fired rollback
//! never pauses.
//!
//! Steps: [`BEFORE_SEND`], [`AFTER_SEND`], [`VERIFY`], [`CONFIRM`],
//! [`ROLLBACK`], [`ROLLBACK_SENT`].

use super::state::StateDir;

/// The environment variable (test-only).
pub const ENV: &str = "NFTGUARD_TEST_PAUSE_AT";
/// apply: journal written and rollback armed, batch not yet sent.
pub const BEFORE_SEND: &str = "before-send";
/// apply: the batch was sent (`sendmsg` returned: the kernel has
/// committed it), its replies not yet read, the journal still `prepared`.
pub const AFTER_SEND: &str = "after-send";
/// apply: committed and journaled, in the verify stage.
pub const VERIFY: &str = "verify";
/// confirm: lock held, rollback not yet disarmed.
pub const CONFIRM: &str = "confirm";
/// rollback: lock held, journal says rolling back, restore batch not yet
/// sent.
pub const ROLLBACK: &str = "rollback";
/// rollback: the restore batch committed, the journal still says rolling
/// back.
pub const ROLLBACK_SENT: &str = "rollback-sent";

/// Whether this run was asked to pause at `step`.
pub fn requested(step: &str) -> bool {
    cfg!(any(debug_assertions, feature = "fault-injection"))
        && std::env::var(ENV).is_ok_and(|v| v == step)
}

/// Pauses forever at `step` when [`requested`]; otherwise returns at once.
pub fn point(state: &StateDir, step: &str) {
    if !requested(step) {
        return;
    }
    let _ = state.write_atomic(
        &format!("paused-at-{step}"),
        std::process::id().to_string().as_bytes(),
    );
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
