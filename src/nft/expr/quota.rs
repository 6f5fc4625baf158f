//! `quota`: match until (or after) a number of bytes has passed.

nft_expr! {
    /// `quota [over] N bytes [used M bytes]`.
    pub struct Quota = "quota" {
        /// Quota in bytes.
        bytes: req u64 = 1,
        /// Bytes consumed so far.
        consumed: opt u64 = 4,
        /// `NFT_QUOTA_F_INV` (1) for `over`, `NFT_QUOTA_F_DEPLETED` (2).
        flags: req u32 = 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn roundtrips() {
        roundtrip(
            &Quota {
                bytes: 1 << 20,
                consumed: Some(0),
                flags: 1,
            }
            .into(),
        );
    }
}
