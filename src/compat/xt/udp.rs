//! `udp` match (`struct xt_udp`). Like `tcp`, iptables-nft writes the
//! ports natively; the struct is rebuilt for saving.

use serde::{Deserialize, Serialize};

use super::layout::{xt_align, Reader, Writer};
use super::tcp::save_ports;

const SIZE: usize = xt_align(10);

/// `XT_UDP_INV_SRCPT`.
pub const INV_SRCPT: u8 = 0x01;
/// `XT_UDP_INV_DSTPT`.
pub const INV_DSTPT: u8 = 0x02;

/// `-m udp [--sport A[:B]] [--dport A[:B]]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Udp {
    /// Source port range (inclusive).
    pub spts: [u16; 2],
    /// Destination port range (inclusive).
    pub dpts: [u16; 2],
    /// `XT_UDP_INV_*`.
    pub invflags: u8,
}

impl Default for Udp {
    fn default() -> Self {
        Udp {
            spts: [0, 0xffff],
            dpts: [0, 0xffff],
            invflags: 0,
        }
    }
}

impl Udp {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(Udp {
            spts: [r.u16(0)?, r.u16(2)?],
            dpts: [r.u16(4)?, r.u16(6)?],
            invflags: r.u8(8)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE)
            .u16(0, self.spts[0])
            .u16(2, self.spts[1])
            .u16(4, self.dpts[0])
            .u16(6, self.dpts[1])
            .u8(8, self.invflags)
            .finish()
    }

    /// libxt_udp `udp_save`.
    pub fn save(&self) -> String {
        save_ports("sport", self.spts, self.invflags & INV_SRCPT != 0)
            + &save_ports("dport", self.dpts, self.invflags & INV_DSTPT != 0)
    }
}
