//! `addrtype` match, revision 1 (`struct xt_addrtype_info_v1 { u16 source,
//! dest; u32 flags; }`).

use serde::{Deserialize, Serialize};

use super::layout::{Reader, Writer};

const SIZE: usize = 8;
/// `XT_ADDRTYPE_INVERT_SOURCE`.
pub const INVERT_SOURCE: u32 = 0x1;
/// `XT_ADDRTYPE_INVERT_DEST`.
pub const INVERT_DEST: u32 = 0x2;
/// `XT_ADDRTYPE_LIMIT_IFACE_IN`.
pub const LIMIT_IFACE_IN: u32 = 0x4;
/// `XT_ADDRTYPE_LIMIT_IFACE_OUT`.
pub const LIMIT_IFACE_OUT: u32 = 0x8;

/// Route types by bit (`1 << RTN_*`), as iptables names them.
const NAMES: [&str; 12] = [
    "UNSPEC",
    "UNICAST",
    "LOCAL",
    "BROADCAST",
    "ANYCAST",
    "MULTICAST",
    "BLACKHOLE",
    "UNREACHABLE",
    "PROHIBIT",
    "THROW",
    "NAT",
    "XRESOLVE",
];

/// `-m addrtype [--src-type T] [--dst-type T] [--limit-iface-in|out]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Addrtype {
    /// Source types (`1 << RTN_*`).
    pub source: u16,
    /// Destination types.
    pub dest: u16,
    /// `XT_ADDRTYPE_*` flags.
    pub flags: u32,
}

impl Addrtype {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(Addrtype {
            source: r.u16(0)?,
            dest: r.u16(2)?,
            flags: r.u32(4)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE)
            .u16(0, self.source)
            .u16(2, self.dest)
            .u32(4, self.flags)
            .finish()
    }

    /// libxt_addrtype `addrtype_save_v1`.
    pub fn save(&self) -> String {
        let mut s = String::new();
        if self.source != 0 {
            if self.flags & INVERT_SOURCE != 0 {
                s += " !";
            }
            s += &format!(" --src-type {}", types(self.source));
        }
        if self.dest != 0 {
            if self.flags & INVERT_DEST != 0 {
                s += " !";
            }
            s += &format!(" --dst-type {}", types(self.dest));
        }
        if self.flags & LIMIT_IFACE_IN != 0 {
            s += " --limit-iface-in";
        }
        if self.flags & LIMIT_IFACE_OUT != 0 {
            s += " --limit-iface-out";
        }
        s
    }
}

fn types(mask: u16) -> String {
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}
