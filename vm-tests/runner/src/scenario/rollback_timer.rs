//! `rollback-timer`: see guest/rollback-timer.sh, which runs inside the full-system VM.

use super::system::Spec;

pub static SPEC: Spec = Spec {
    name: "rollback-timer",
    prelude: "CONFIRM_TIMEOUT=20",
    script: include_str!("../../guest/rollback-timer.sh"),
    reboots: false,
    host: None,
};
