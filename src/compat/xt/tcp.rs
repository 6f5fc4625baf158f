//! `tcp` match (`struct xt_tcp`). iptables-nft writes `--sport`,
//! `--dport` and `--tcp-flags` as native payload expressions; the save
//! renderer rebuilds this struct from them, and other writers may still
//! send the xt form.

use serde::{Deserialize, Serialize};

use super::layout::{xt_align, Reader, Writer};

const SIZE: usize = xt_align(12);

/// `XT_TCP_INV_SRCPT`.
pub const INV_SRCPT: u8 = 0x01;
/// `XT_TCP_INV_DSTPT`.
pub const INV_DSTPT: u8 = 0x02;
/// `XT_TCP_INV_FLAGS`.
pub const INV_FLAGS: u8 = 0x04;
/// `XT_TCP_INV_OPTION`.
pub const INV_OPTION: u8 = 0x08;

/// `-m tcp [--sport A[:B]] [--dport A[:B]] [--tcp-option N] [--tcp-flags MASK COMP]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tcp {
    /// Source port range (inclusive).
    pub spts: [u16; 2],
    /// Destination port range (inclusive).
    pub dpts: [u16; 2],
    /// TCP option kind to match.
    pub option: u8,
    /// Flags examined.
    pub flg_mask: u8,
    /// Flags that must be set among `flg_mask`.
    pub flg_cmp: u8,
    /// `XT_TCP_INV_*`.
    pub invflags: u8,
}

impl Default for Tcp {
    fn default() -> Self {
        Tcp {
            spts: [0, 0xffff],
            dpts: [0, 0xffff],
            option: 0,
            flg_mask: 0,
            flg_cmp: 0,
            invflags: 0,
        }
    }
}

impl Tcp {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(Tcp {
            spts: [r.u16(0)?, r.u16(2)?],
            dpts: [r.u16(4)?, r.u16(6)?],
            option: r.u8(8)?,
            flg_mask: r.u8(9)?,
            flg_cmp: r.u8(10)?,
            invflags: r.u8(11)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE)
            .u16(0, self.spts[0])
            .u16(2, self.spts[1])
            .u16(4, self.dpts[0])
            .u16(6, self.dpts[1])
            .u8(8, self.option)
            .u8(9, self.flg_mask)
            .u8(10, self.flg_cmp)
            .u8(11, self.invflags)
            .finish()
    }

    /// libxt_tcp `tcp_save`.
    pub fn save(&self) -> String {
        let mut s = String::new();
        s += &save_ports("sport", self.spts, self.invflags & INV_SRCPT != 0);
        s += &save_ports("dport", self.dpts, self.invflags & INV_DSTPT != 0);
        if self.option != 0 || self.invflags & INV_OPTION != 0 {
            if self.invflags & INV_OPTION != 0 {
                s += " !";
            }
            s += &format!(" --tcp-option {}", self.option);
        }
        if self.flg_mask != 0 || self.invflags & INV_FLAGS != 0 {
            if self.invflags & INV_FLAGS != 0 {
                s += " !";
            }
            s += &format!(
                " --tcp-flags {} {}",
                tcp_flag_names(self.flg_mask),
                tcp_flag_names(self.flg_cmp)
            );
        }
        s
    }
}

/// ` [!] --NAME A[:B]` unless the range is `0:65535` (shared with `udp`).
pub fn save_ports(name: &str, pts: [u16; 2], invert: bool) -> String {
    if pts == [0, 0xffff] {
        return String::new();
    }
    let inv = if invert { " !" } else { "" };
    if pts[0] == pts[1] {
        format!("{inv} --{name} {}", pts[0])
    } else {
        format!("{inv} --{name} {}:{}", pts[0], pts[1])
    }
}

/// libxt_tcp `print_tcpf`: the named flags joined by commas, `ALL` for
/// all six, `NONE` for none.
pub fn tcp_flag_names(flags: u8) -> String {
    const NAMES: [(&str, u8); 8] = [
        ("FIN", 0x01),
        ("SYN", 0x02),
        ("RST", 0x04),
        ("PSH", 0x08),
        ("ACK", 0x10),
        ("URG", 0x20),
        ("ALL", 0x3f),
        ("NONE", 0),
    ];
    // print_tcpf prints, for what is left, the first table entry that
    // overlaps it; single flags come first, so ALL/NONE never win for the
    // six classic bits. Bits 0x40/0x80 have no name (iptables reads past
    // its table there); they are left out.
    let mut left = flags;
    let mut out = Vec::new();
    if left == 0 {
        return "NONE".into();
    }
    while left != 0 {
        let Some((name, bit)) = NAMES.iter().find(|(_, bit)| left & bit != 0) else {
            break;
        };
        out.push(*name);
        left &= !bit;
    }
    out.join(",")
}
