//! `log`: log the packet (syslog or nflog group).

nft_expr! {
    /// `log [prefix P] [level L] [flags F] | [group G snaplen S queue-threshold Q]`.
    /// The kernel dumps the prefix first, then the syslog fields (level,
    /// flags) or the nflog fields (group, snaplen, threshold).
    pub struct Log = "log" {
        /// Prefix.
        prefix: opt String = 2,
        /// nflog group.
        group: opt u16 = 1,
        /// Syslog level.
        level: opt u32 = 5,
        /// Flags (`NF_LOG_*`).
        flags: opt u32 = 6,
        /// Bytes copied to nflog.
        snaplen: opt u32 = 3,
        /// nflog queue threshold.
        qthreshold: opt u16 = 4,
    }
}

impl Log {
    /// `log prefix P`.
    pub fn prefix(p: &str) -> Self {
        Log {
            prefix: Some(p.to_string()),
            group: None,
            level: None,
            flags: None,
            snaplen: None,
            qthreshold: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn roundtrips() {
        roundtrip(&Log::prefix("nftguard drop: ").into());
    }
}
