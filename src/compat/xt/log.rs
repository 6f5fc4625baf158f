//! `LOG` target (`struct xt_log_info { u8 level; u8 logflags; char
//! prefix[30]; }`, 32 bytes).

use serde::{Deserialize, Serialize};

use super::layout::{save_string, Reader, Writer};

const SIZE: usize = 32;
const PREFIX_LEN: usize = 30;
/// `LOG_WARNING`: libxt_LOG's default level, not printed.
pub const DEFAULT_LEVEL: u8 = 4;

/// `-j LOG [--log-prefix P] [--log-level L] [--log-tcp-sequence] …`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogTarget {
    /// Syslog level.
    pub level: u8,
    /// `XT_LOG_*`.
    pub logflags: u8,
    /// Prefix (at most 29 bytes).
    pub prefix: String,
}

impl LogTarget {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(LogTarget {
            level: r.u8(0)?,
            logflags: r.u8(1)?,
            prefix: r.cstr(2, PREFIX_LEN)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE)
            .u8(0, self.level)
            .u8(1, self.logflags)
            .cstr(2, PREFIX_LEN, &self.prefix)
            .finish()
    }

    /// libxt_LOG `LOG_save`.
    pub fn save(&self) -> String {
        let mut s = String::new();
        if !self.prefix.is_empty() {
            s += " --log-prefix";
            s += &save_string(&self.prefix);
        }
        if self.level != DEFAULT_LEVEL {
            s += &format!(" --log-level {}", self.level);
        }
        for (bit, opt) in [
            (0x01, " --log-tcp-sequence"),
            (0x02, " --log-tcp-options"),
            (0x04, " --log-ip-options"),
            (0x08, " --log-uid"),
            (0x20, " --log-macdecode"),
        ] {
            if self.logflags & bit != 0 {
                s += opt;
            }
        }
        s
    }
}
