//! `reboot-persistence`: see guest/reboot-persistence.sh, which runs inside the full-system VM.

use super::system::Spec;

pub static SPEC: Spec = Spec {
    name: "reboot-persistence",
    prelude: "",
    script: include_str!("../../guest/reboot-persistence.sh"),
    reboots: true,
    host: None,
};
