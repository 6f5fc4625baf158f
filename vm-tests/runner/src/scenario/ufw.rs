//! `ufw`: the real ufw service owns the firewall in the full-system VM;
//! nftguard must stay read-only (guest/frontend.sh).

use super::system::Spec;

pub static SPEC: Spec = Spec {
    name: "ufw",
    prelude: "FRONTEND=ufw",
    script: include_str!("../../guest/frontend.sh"),
    reboots: false,
    host: None,
};
