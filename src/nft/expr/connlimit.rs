//! `connlimit`: limit concurrent connections (`ct count [over] N`).

nft_expr! {
    /// `ct count [over] N`.
    pub struct Connlimit = "connlimit" {
        /// Connection count.
        count: req u32 = 1,
        /// `NFT_CONNLIMIT_F_INV` (1) for `over`; the kernel leaves the
        /// attribute out when no flag is set.
        flags: opt u32 = 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn roundtrips() {
        roundtrip(
            &Connlimit {
                count: 10,
                flags: Some(1),
            }
            .into(),
        );
        roundtrip(
            &Connlimit {
                count: 5,
                flags: None,
            }
            .into(),
        );
    }
}
