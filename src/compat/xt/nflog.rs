//! `NFLOG` target (`struct xt_nflog_info { u32 len; u16 group, threshold,
//! flags, pad; char prefix[64]; }`, 80 bytes). iptables-nft 1.8.9 writes
//! `-j NFLOG` as the native `log` expression; older writers send this.

use serde::{Deserialize, Serialize};

use super::layout::{save_string, Reader, Writer};

const SIZE: usize = 80;
const PREFIX_LEN: usize = 64;
/// `XT_NFLOG_F_COPY_LEN`.
pub const F_COPY_LEN: u16 = 0x1;
/// `XT_NFLOG_DEFAULT_THRESHOLD`.
pub const DEFAULT_THRESHOLD: u16 = 0;

/// `-j NFLOG [--nflog-prefix P] [--nflog-group G] [--nflog-size N] …`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Nflog {
    /// Bytes to copy (`--nflog-size` with `F_COPY_LEN`, else `--nflog-range`).
    pub len: u32,
    /// Group.
    pub group: u16,
    /// Queue threshold.
    pub threshold: u16,
    /// `XT_NFLOG_F_*`.
    pub flags: u16,
    /// Padding field of the struct (kept as sent).
    pub pad: u16,
    /// Prefix. iptables-nft's native form allows longer prefixes than the
    /// 63 bytes of this struct; such rules never reach the xt form.
    pub prefix: String,
}

impl Nflog {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(Nflog {
            len: r.u32(0)?,
            group: r.u16(4)?,
            threshold: r.u16(6)?,
            flags: r.u16(8)?,
            pad: r.u16(10)?,
            prefix: r.cstr(12, PREFIX_LEN)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE)
            .u32(0, self.len)
            .u16(4, self.group)
            .u16(6, self.threshold)
            .u16(8, self.flags)
            .u16(10, self.pad)
            .cstr(12, PREFIX_LEN, &self.prefix)
            .finish()
    }

    /// libxt_NFLOG `nflog_print` with prefix `--`.
    pub fn save(&self) -> String {
        let mut s = String::new();
        if !self.prefix.is_empty() {
            s += " --nflog-prefix";
            s += &save_string(&self.prefix);
        }
        if self.group != 0 {
            s += &format!(" --nflog-group {}", self.group);
        }
        if self.flags & F_COPY_LEN != 0 {
            s += &format!(" --nflog-size {}", self.len);
        } else if self.len != 0 {
            s += &format!(" --nflog-range {}", self.len);
        }
        if self.threshold != DEFAULT_THRESHOLD {
            s += &format!(" --nflog-threshold {}", self.threshold);
        }
        s
    }
}
