//! `docker`: see guest/docker.sh, which runs inside the full-system VM.

use super::system::Spec;

pub static SPEC: Spec = Spec {
    name: "docker",
    prelude: "",
    script: include_str!("../../guest/docker.sh"),
    reboots: false,
    host: None,
};
