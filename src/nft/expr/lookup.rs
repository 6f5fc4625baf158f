//! `lookup`: look a register up in a set (or map, with `dreg`).

nft_expr! {
    /// `lookup`. `flags` bit 0 inverts the match (`!= @set`).
    pub struct Lookup = "lookup" {
        /// Set name (`__set%d` for anonymous sets).
        set: req String = 1,
        /// Set id within the transaction (for a set created in the same batch).
        set_id: opt u32 = 4,
        /// Register holding the key.
        sreg: req u32 = 2,
        /// Destination register for a map lookup.
        dreg: opt u32 = 3,
        /// `NFT_LOOKUP_F_*`.
        flags: opt u32 = 5,
    }
}

/// `NFT_LOOKUP_F_INV`.
pub const NFT_LOOKUP_F_INV: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn roundtrips() {
        roundtrip(
            &Lookup {
                set: "__set0".into(),
                set_id: None,
                sreg: 1,
                dreg: None,
                flags: Some(0),
            }
            .into(),
        );
    }
}
