//! `icmp` (`struct ipt_icmp`) and `icmp6` (`struct ip6t_icmp`) matches:
//! the same four bytes, `u8 type; u8 code[2]; u8 invflags`.

use serde::{Deserialize, Serialize};

use super::layout::{xt_align, Reader, Writer};

const SIZE: usize = xt_align(4);

/// `IPT_ICMP_INV` / `IP6T_ICMP_INV`.
pub const INV: u8 = 0x01;

/// `-m icmp --icmp-type T[/C]` or `-m icmp6 --icmpv6-type T[/C]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Icmp {
    /// ICMP type (`0xff` = any, IPv4 only).
    pub kind: u8,
    /// Code range (inclusive).
    pub code: [u8; 2],
    /// `*_ICMP_INV`.
    pub invflags: u8,
}

impl Icmp {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(Icmp {
            kind: r.u8(0)?,
            code: [r.u8(1)?, r.u8(2)?],
            invflags: r.u8(3)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE)
            .u8(0, self.kind)
            .u8(1, self.code[0])
            .u8(2, self.code[1])
            .u8(3, self.invflags)
            .finish()
    }

    /// libipt_icmp `icmp_save` (`v6 == false`) or libip6t_icmp6
    /// `icmp6_save`.
    pub fn save(&self, v6: bool) -> String {
        let mut s = String::new();
        if self.invflags & INV != 0 {
            s += " !";
        }
        if v6 {
            s += &format!(" --icmpv6-type {}", self.kind);
        } else if self.kind == 0xff {
            return s + " --icmp-type any";
        } else {
            s += &format!(" --icmp-type {}", self.kind);
        }
        if self.code != [0, 0xff] {
            s += &format!("/{}", self.code[0]);
        }
        s
    }
}
