//! `CT` target: revision 0 (`struct xt_ct_target_info`, 40 bytes) and
//! revisions 1–2 (`struct xt_ct_target_info_v1`, 72 bytes, with a timeout
//! policy name). The trailing `struct nf_conn *ct` is kernel-private and
//! dumped zeroed (`usersize`).

use serde::{Deserialize, Serialize};

use super::layout::{Reader, Writer};

/// `XT_CT_NOTRACK`.
pub const NOTRACK: u16 = 1 << 0;
/// `XT_CT_NOTRACK_ALIAS`: written for `-j NOTRACK`.
pub const NOTRACK_ALIAS: u16 = 1 << 1;
/// `XT_CT_ZONE_DIR_ORIG`.
pub const ZONE_DIR_ORIG: u16 = 1 << 2;
/// `XT_CT_ZONE_DIR_REPL`.
pub const ZONE_DIR_REPL: u16 = 1 << 3;
/// `XT_CT_ZONE_MARK`.
pub const ZONE_MARK: u16 = 1 << 4;

const CT_EVENTS: [(&str, u32); 10] = [
    ("new", 0),
    ("related", 1),
    ("destroy", 2),
    ("reply", 3),
    ("assured", 4),
    ("protoinfo", 5),
    ("helper", 6),
    ("mark", 7),
    ("natseqinfo", 8),
    ("secmark", 9),
];

/// `-j CT [--notrack] [--helper H] [--timeout T] [--ctevents …] [--zone …]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CtTarget {
    /// Revision (0, 1 or 2).
    pub rev: u32,
    /// `XT_CT_*`.
    pub flags: u16,
    /// Zone id.
    pub zone: u16,
    /// Conntrack event mask (`1 << IPCT_*`).
    pub ct_events: u32,
    /// Expectation event mask.
    pub exp_events: u32,
    /// Helper name (15 bytes max).
    pub helper: String,
    /// Revisions 1–2: timeout policy name (31 bytes max).
    pub timeout: String,
}

impl CtTarget {
    /// Decodes a revision 0–2 blob.
    pub fn parse(r: Reader<'_>, rev: u32) -> Option<Self> {
        let size = match rev {
            0 => 40,
            1 | 2 => 72,
            _ => return None,
        };
        (r.len() == size).then_some(())?;
        Some(CtTarget {
            rev,
            flags: r.u16(0)?,
            zone: r.u16(2)?,
            ct_events: r.u32(4)?,
            exp_events: r.u32(8)?,
            helper: r.cstr(12, 16)?,
            timeout: if rev == 0 {
                String::new()
            } else {
                r.cstr(28, 32)?
            },
        })
    }

    /// Encodes the blob of `self.rev`.
    pub fn emit(&self) -> Vec<u8> {
        let mut w = Writer::new(if self.rev == 0 { 40 } else { 72 });
        w.u16(0, self.flags)
            .u16(2, self.zone)
            .u32(4, self.ct_events)
            .u32(8, self.exp_events)
            .cstr(12, 16, &self.helper);
        if self.rev != 0 {
            w.cstr(28, 32, &self.timeout);
        }
        w.finish()
    }

    /// `ct_print_name_alias`: `NOTRACK` for the alias, else `CT`.
    pub fn save_name(&self) -> &'static str {
        if self.flags & NOTRACK_ALIAS != 0 {
            "NOTRACK"
        } else {
            "CT"
        }
    }

    /// libxt_CT `ct_save` / `ct_save_v1`.
    pub fn save(&self) -> String {
        let mut s = String::new();
        if self.flags & NOTRACK_ALIAS != 0 {
            return s;
        }
        if self.flags & NOTRACK != 0 {
            s += " --notrack";
        }
        if !self.helper.is_empty() {
            s += &format!(" --helper {}", self.helper);
        }
        if self.rev != 0 && !self.timeout.is_empty() {
            s += &format!(" --timeout {}", self.timeout);
        }
        if self.ct_events != 0 {
            s += &events(" --ctevents ", &CT_EVENTS, self.ct_events);
        }
        if self.exp_events != 0 {
            s += &events(" --expevents ", &[("new", 0)], self.exp_events);
        }
        if self.flags & ZONE_MARK != 0 || self.zone != 0 {
            s += " --zone";
            match self.flags & (ZONE_DIR_ORIG | ZONE_DIR_REPL) {
                ZONE_DIR_ORIG => s += "-orig",
                ZONE_DIR_REPL => s += "-reply",
                _ => {}
            }
            if self.flags & ZONE_MARK != 0 {
                s += " mark";
            } else {
                s += &format!(" {}", self.zone);
            }
        }
        s
    }
}

fn events(prefix: &str, table: &[(&str, u32)], mask: u32) -> String {
    let names: Vec<&str> = table
        .iter()
        .filter(|(_, bit)| mask & (1 << bit) != 0)
        .map(|(n, _)| *n)
        .collect();
    format!("{prefix}{}", names.join(","))
}
