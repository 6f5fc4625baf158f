//! `iprange` match, revision 1 (`struct xt_iprange_mtinfo`: four
//! `union nf_inet_addr` and `u8 flags`, 72 bytes).

use serde::{Deserialize, Serialize};

use super::layout::{ipv4_text, ipv6_text, Reader, Writer};

const SIZE: usize = 72;
/// `IPRANGE_SRC`.
pub const SRC: u8 = 1 << 0;
/// `IPRANGE_DST`.
pub const DST: u8 = 1 << 1;
/// `IPRANGE_SRC_INV`.
pub const SRC_INV: u8 = 1 << 4;
/// `IPRANGE_DST_INV`.
pub const DST_INV: u8 = 1 << 5;

/// `-m iprange [!] --src-range A-B [!] --dst-range A-B`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Iprange {
    /// Source range (`union nf_inet_addr`, IPv4 in the first 4 bytes).
    pub src: [[u8; 16]; 2],
    /// Destination range.
    pub dst: [[u8; 16]; 2],
    /// `IPRANGE_*`.
    pub flags: u8,
}

impl Iprange {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(Iprange {
            src: [r.array(0)?, r.array(16)?],
            dst: [r.array(32)?, r.array(48)?],
            flags: r.u8(64)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE)
            .put(0, &self.src[0])
            .put(16, &self.src[1])
            .put(32, &self.dst[0])
            .put(48, &self.dst[1])
            .u8(64, self.flags)
            .finish()
    }

    /// libxt_iprange `iprange_mt4_save` / `iprange_mt6_save`.
    pub fn save(&self, v6: bool) -> String {
        let text = |a: &[u8; 16]| if v6 { ipv6_text(a) } else { ipv4_text(a) };
        let mut s = String::new();
        if self.flags & SRC != 0 {
            if self.flags & SRC_INV != 0 {
                s += " !";
            }
            s += &format!(" --src-range {}-{}", text(&self.src[0]), text(&self.src[1]));
        }
        if self.flags & DST != 0 {
            if self.flags & DST_INV != 0 {
                s += " !";
            }
            s += &format!(" --dst-range {}-{}", text(&self.dst[0]), text(&self.dst[1]));
        }
        s
    }
}
