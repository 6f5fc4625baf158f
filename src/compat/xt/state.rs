//! `state` match, revision 0 (`struct xt_state_info { unsigned int
//! statemask; }`). iptables ≥ 1.8 writes `-m state` as `conntrack` with
//! `XT_CONNTRACK_STATE_ALIAS` instead; older writers still use this.

use serde::{Deserialize, Serialize};

use super::conntrack::state_names;
use super::layout::{xt_align, Reader, Writer};

const SIZE: usize = xt_align(4);

/// `-m state --state LIST`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct State {
    /// `XT_STATE_BIT(...)` bits (same encoding as conntrack's state mask).
    pub statemask: u32,
}

impl State {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(State {
            statemask: r.u32(0)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE).u32(0, self.statemask).finish()
    }

    /// ` --state LIST` (libxt_conntrack `state_save`).
    pub fn save(&self) -> String {
        format!(" --state {}", state_names(self.statemask, false))
    }
}
