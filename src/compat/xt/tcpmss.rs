//! `TCPMSS` target (`struct xt_tcpmss_info { u16 mss; }`, 8 bytes).

use serde::{Deserialize, Serialize};

use super::layout::{xt_align, Reader, Writer};

const SIZE: usize = xt_align(2);
/// `XT_TCPMSS_CLAMP_PMTU`.
pub const CLAMP_PMTU: u16 = 0xffff;

/// `-j TCPMSS --set-mss N | --clamp-mss-to-pmtu`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tcpmss {
    /// MSS, or `XT_TCPMSS_CLAMP_PMTU`.
    pub mss: u16,
}

impl Tcpmss {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(Tcpmss { mss: r.u16(0)? })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE).u16(0, self.mss).finish()
    }

    /// libxt_TCPMSS `TCPMSS_save`.
    pub fn save(&self) -> String {
        if self.mss == CLAMP_PMTU {
            " --clamp-mss-to-pmtu".into()
        } else {
            format!(" --set-mss {}", self.mss)
        }
    }
}
