//! `pkttype` match (`struct xt_pkttype_info { int pkttype; int invert; }`).

use serde::{Deserialize, Serialize};

use super::layout::{Reader, Writer};

const SIZE: usize = 8;

/// `-m pkttype [!] --pkt-type TYPE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pkttype {
    /// `PACKET_*` (`linux/if_packet.h`).
    pub pkttype: i32,
    /// Inverted.
    pub invert: i32,
}

impl Pkttype {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(Pkttype {
            pkttype: r.i32(0)?,
            invert: r.i32(4)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE)
            .i32(0, self.pkttype)
            .i32(4, self.invert)
            .finish()
    }

    /// libxt_pkttype `pkttype_save`.
    pub fn save(&self) -> String {
        let inv = if self.invert != 0 { " !" } else { "" };
        let name = match self.pkttype {
            0 => "unicast".to_string(),
            1 => "broadcast".to_string(),
            2 => "multicast".to_string(),
            3 => "otherhost".to_string(),
            n => n.to_string(),
        };
        format!("{inv} --pkt-type {name}")
    }
}
