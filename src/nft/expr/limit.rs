//! `limit`: token-bucket rate limit.

u32_enum! {
    /// What a limit counts (`enum nft_limit_type`).
    pub enum LimitType {
        /// Packets.
        Packets = 0 => "packets",
        /// Bytes.
        Bytes = 1 => "bytes",
    }
}

nft_expr! {
    /// `limit rate [over] RATE/UNIT burst N`. `unit` is in seconds.
    pub struct Limit = "limit" {
        /// Tokens per `unit`.
        rate: req u64 = 1,
        /// Period in seconds (1, 60, 3600, 86400, 604800).
        unit: req u64 = 2,
        /// Burst.
        burst: req u32 = 3,
        /// Packets or bytes.
        kind: req LimitType = 4,
        /// `NFT_LIMIT_F_INV` (bit 0) for `over`.
        flags: req u32 = 5,
    }
}

/// `NFT_LIMIT_F_INV`: match when the rate is exceeded (`limit rate over`).
pub const NFT_LIMIT_F_INV: u32 = 1;

impl Limit {
    /// `limit rate RATE/unit burst BURST packets`.
    pub fn packets(rate: u64, unit_secs: u64, burst: u32) -> Self {
        Limit {
            rate,
            unit: unit_secs,
            burst,
            kind: LimitType::Packets,
            flags: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn roundtrips() {
        roundtrip(&Limit::packets(10, 60, 20).into());
    }
}
