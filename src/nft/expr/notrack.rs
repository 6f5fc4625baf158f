//! `notrack`: exempt the packet from connection tracking.

nft_expr! {
    /// `notrack` has no attributes.
    pub struct Notrack = "notrack" {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn roundtrips() {
        roundtrip(&Notrack {}.into());
    }
}
