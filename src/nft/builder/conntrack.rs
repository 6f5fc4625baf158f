//! Conntrack matches: `ct state`, `ct status`.

use serde::{Deserialize, Serialize};

use super::BuildError;
use crate::nft::consts::NFT_REG_1;
use crate::nft::expr::{ct, Bitwise, Cmp, CmpOp, Ct, CtKey};
use crate::nft::Rule;

bitflags::bitflags! {
    /// Connection states (`ct state`). A packet is in exactly one.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub struct CtState: u32 {
        /// invalid
        const INVALID = ct::state::INVALID;
        /// established
        const ESTABLISHED = ct::state::ESTABLISHED;
        /// related
        const RELATED = ct::state::RELATED;
        /// new
        const NEW = ct::state::NEW;
        /// untracked
        const UNTRACKED = ct::state::UNTRACKED;
    }
}

bitflags::bitflags! {
    /// Connection status bits (`ct status`, `IPS_*`). Several can be set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub struct CtStatus: u32 {
        /// expected
        const EXPECTED = 1;
        /// seen-reply
        const SEEN_REPLY = 1 << 1;
        /// assured
        const ASSURED = 1 << 2;
        /// confirmed
        const CONFIRMED = 1 << 3;
        /// snat
        const SNAT = 1 << 4;
        /// dnat
        const DNAT = 1 << 5;
        /// dying
        const DYING = 1 << 9;
    }
}

impl Rule {
    /// `ct KEY & mask != 0` (`any`) or `ct KEY & mask == 0` (none): nft's
    /// encoding of a flag list.
    fn ct_flags(self, what: &str, key: CtKey, mask: u32, any: bool) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        if mask == 0 {
            return self.fail(BuildError::invalid(what, "no value given"));
        }
        let op = if any { CmpOp::Neq } else { CmpOp::Eq };
        // ct state and status are host-endian 32-bit values.
        self.append([
            Ct::load(key, NFT_REG_1).into(),
            Bitwise::mask(NFT_REG_1, mask.to_ne_bytes().to_vec()).into(),
            Cmp::new(NFT_REG_1, op, 0u32.to_ne_bytes().to_vec()).into(),
        ])
    }

    /// `ct state established,related`: the connection is in one of
    /// `states`.
    pub fn ct_state(self, states: CtState) -> Rule {
        self.ct_flags("ct state", CtKey::State, states.bits(), true)
    }

    /// `ct state ! established,related`: the connection is in none of
    /// `states`. (nft's `ct state != a,b` compares with the single value
    /// a|b, which a state never equals: not offered.)
    pub fn ct_state_not(self, states: CtState) -> Rule {
        self.ct_flags("ct state", CtKey::State, states.bits(), false)
    }

    /// `ct status snat,dnat`: at least one of `bits` is set.
    pub fn ct_status(self, bits: CtStatus) -> Rule {
        self.ct_flags("ct status", CtKey::Status, bits.bits(), true)
    }

    /// `ct status ! snat,dnat`: none of `bits` is set.
    pub fn ct_status_not(self, bits: CtStatus) -> Rule {
        self.ct_flags("ct status", CtKey::Status, bits.bits(), false)
    }
}
