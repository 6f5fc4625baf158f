//! `limit` match (`struct xt_rateinfo`, 40 bytes on x86_64). iptables-nft
//! writes `-m limit` as the native `limit` expression; the renderer
//! rebuilds `avg`/`burst` from it. Only `avg` and `burst` are user data:
//! the kernel dumps the rest (`prev`, `credit`, the `master` pointer)
//! zeroed (`usersize = offsetof(prev)`).

use serde::{Deserialize, Serialize};

use super::layout::{Reader, Writer};

const SIZE: usize = 40;
/// `XT_LIMIT_SCALE`.
pub const SCALE: u64 = 10_000;
/// `XT_LIMIT_BURST`: the default burst, not printed.
pub const DEFAULT_BURST: u32 = 5;

/// `-m limit --limit N/UNIT [--limit-burst B]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limit {
    /// Period between packets in units of 1/`XT_LIMIT_SCALE` seconds.
    pub avg: u32,
    /// Burst.
    pub burst: u32,
    /// Kernel-private state after the user part, kept as received.
    pub private: Vec<u8>,
}

impl Limit {
    /// The struct iptables builds from a native `limit rate RATE/UNIT burst B`.
    pub fn from_rate(rate: u64, unit_secs: u64, burst: u32) -> Self {
        // iptables computes in u64 and stores into a u32 (truncating).
        let avg = SCALE
            .saturating_mul(unit_secs)
            .checked_div(rate)
            .unwrap_or(0) as u32;
        Limit {
            avg,
            burst,
            private: vec![0; SIZE - 8],
        }
    }

    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(Limit {
            avg: r.u32(0)?,
            burst: r.u32(4)?,
            private: r.bytes(8, SIZE - 8)?.to_vec(),
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE)
            .u32(0, self.avg)
            .u32(4, self.burst)
            .put(8, &self.private)
            .finish()
    }

    /// libxt_limit `limit_save`.
    pub fn save(&self) -> String {
        let mut s = format!(" --limit{}", rate_text(u64::from(self.avg), SCALE));
        if self.burst != DEFAULT_BURST {
            s += &format!(" --limit-burst {}", self.burst);
        }
        s
    }
}

/// `print_rate` of libxt_limit/libxt_hashlimit: the largest unit that
/// represents `period` (in 1/`scale` seconds) without too much rounding.
pub fn rate_text(period: u64, scale: u64) -> String {
    if period == 0 {
        return " inf".into();
    }
    let rates = [
        ("day", scale * 24 * 60 * 60),
        ("hour", scale * 60 * 60),
        ("min", scale * 60),
        ("sec", scale),
    ];
    let mut i = 1;
    while i < rates.len() {
        let m = rates[i].1;
        if period > m || m / period < m % period {
            break;
        }
        i += 1;
    }
    let (name, mult) = rates[i - 1];
    format!(" {}/{}", mult / period, name)
}

/// The period `print_rate` used (`mult` of the chosen unit), in
/// milliseconds: hashlimit compares its expire time with it.
pub fn rate_quantum_ms(period: u64, scale: u64) -> u64 {
    if period == 0 {
        return 0;
    }
    let rates = [scale * 24 * 60 * 60, scale * 60 * 60, scale * 60, scale];
    let mut i = 1;
    while i < rates.len() {
        let m = rates[i];
        if period > m || m / period < m % period {
            break;
        }
        i += 1;
    }
    rates[i - 1] / scale * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_print_like_iptables() {
        // 3/min: avg = 10000*60/3 = 200000.
        assert_eq!(rate_text(200_000, SCALE), " 3/min");
        assert_eq!(rate_text(SCALE, SCALE), " 1/sec");
        assert_eq!(rate_text(SCALE / 10, SCALE), " 10/sec");
        assert_eq!(rate_text(SCALE * 3600, SCALE), " 1/hour");
    }
}
