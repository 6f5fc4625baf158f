//! `counter`: count packets and bytes.

nft_expr! {
    /// `counter`. Both fields are sent back by every dump; a new counter may
    /// omit them (they start at zero).
    pub struct Counter = "counter" {
        /// Bytes counted.
        bytes: opt u64 = 1,
        /// Packets counted.
        packets: opt u64 = 2,
    }
}

impl Counter {
    /// A counter starting at zero, as nft sends it.
    pub fn new() -> Self {
        Counter {
            bytes: Some(0),
            packets: Some(0),
        }
    }
}

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn bytes_then_packets() {
        let e = Counter {
            bytes: Some(1),
            packets: Some(2),
        }
        .into();
        roundtrip(&e);
        assert_eq!(
            data_bytes(&e),
            [12, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 12, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2]
        );
    }
}
