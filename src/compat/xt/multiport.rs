//! `multiport` match: revision 0 (`struct xt_multiport`) and revision 1
//! (`struct xt_multiport_v1`, with ranges and inversion).

use serde::{Deserialize, Serialize};

use super::layout::{Reader, Writer};

/// `XT_MULTI_PORTS`.
pub const MAX_PORTS: usize = 15;
const SIZE_V0: usize = 32;
const SIZE_V1: usize = 48;

/// `--sports`/`--dports`/`--ports` (`enum xt_multiport_flags`).
pub const SOURCE: u8 = 0;
/// `XT_MULTIPORT_DESTINATION`.
pub const DESTINATION: u8 = 1;
/// `XT_MULTIPORT_EITHER`.
pub const EITHER: u8 = 2;

/// `-m multiport [!] --dports P[,P|A:B...]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Multiport {
    /// Revision (0 or 1); decides the layout.
    pub rev: u32,
    /// `XT_MULTIPORT_*`.
    pub flags: u8,
    /// Number of used entries in `ports`.
    pub count: u8,
    /// Ports (a range takes two entries, marked in `pflags`).
    pub ports: [u16; MAX_PORTS],
    /// Revision 1: `1` where `ports[i]` starts a range.
    pub pflags: [u8; MAX_PORTS],
    /// Revision 1: inverted match.
    pub invert: u8,
}

impl Multiport {
    /// Decodes a revision 0 or 1 blob.
    pub fn parse(r: Reader<'_>, rev: u32) -> Option<Self> {
        let size = match rev {
            0 => SIZE_V0,
            1 => SIZE_V1,
            _ => return None,
        };
        (r.len() == size).then_some(())?;
        let mut ports = [0u16; MAX_PORTS];
        for (i, p) in ports.iter_mut().enumerate() {
            *p = r.u16(2 + 2 * i)?;
        }
        let (pflags, invert) = if rev == 1 {
            (r.array::<MAX_PORTS>(32)?, r.u8(47)?)
        } else {
            ([0; MAX_PORTS], 0)
        };
        Some(Multiport {
            rev,
            flags: r.u8(0)?,
            count: r.u8(1)?,
            ports,
            pflags,
            invert,
        })
    }

    /// Encodes the blob of `self.rev`.
    pub fn emit(&self) -> Vec<u8> {
        let mut w = Writer::new(if self.rev == 1 { SIZE_V1 } else { SIZE_V0 });
        w.u8(0, self.flags).u8(1, self.count);
        for (i, p) in self.ports.iter().enumerate() {
            w.u16(2 + 2 * i, *p);
        }
        if self.rev == 1 {
            w.put(32, &self.pflags).u8(47, self.invert);
        }
        w.finish()
    }

    /// libxt_multiport `__multiport_save` / `__multiport_save_v1` (ports
    /// are printed numerically).
    pub fn save(&self) -> String {
        let mut s = String::new();
        if self.rev == 1 && self.invert != 0 {
            s += " !";
        }
        s += match self.flags {
            SOURCE => " --sports ",
            DESTINATION => " --dports ",
            EITHER => " --ports ",
            _ => "",
        };
        let count = usize::from(self.count).min(MAX_PORTS);
        let mut i = 0;
        while i < count {
            if i > 0 {
                s.push(',');
            }
            s += &self.ports[i].to_string();
            if self.rev == 1 && self.pflags[i] != 0 && i + 1 < MAX_PORTS {
                i += 1;
                s += &format!(":{}", self.ports[i]);
            }
            i += 1;
        }
        s
    }
}
