//! `payload`: load packet bytes into a register, or write a register into
//! the packet (with checksum fix-up).

u32_enum! {
    /// Where a payload offset is counted from (`enum nft_payload_bases`).
    pub enum PayloadBase {
        /// Link-layer header.
        LinkLayer = 0 => "ll",
        /// Network header.
        Network = 1 => "nh",
        /// Transport header.
        Transport = 2 => "th",
        /// Inner header (payload after the transport header).
        Inner = 3 => "ih",
        /// Tunnel header.
        Tunnel = 4 => "tunnel",
    }
}

nft_expr! {
    /// `payload`: `dreg` set for a load, `sreg` (and checksum fields) for a write.
    pub struct Payload = "payload" {
        /// Destination register of a load.
        dreg: opt u32 = 1,
        /// Source register of a write.
        sreg: opt u32 = 5,
        /// Header the offset is relative to.
        base: req PayloadBase = 2,
        /// Offset in bytes.
        offset: req u32 = 3,
        /// Length in bytes.
        len: req u32 = 4,
        /// Checksum to update after a write.
        csum_type: opt u32 = 6,
        /// Offset of that checksum.
        csum_offset: opt u32 = 7,
        /// Checksum flags.
        csum_flags: opt u32 = 8,
    }
}

impl Payload {
    /// A load of `len` bytes at `offset` from `base` into register `dreg`.
    pub fn load(base: PayloadBase, offset: u32, len: u32, dreg: u32) -> Self {
        Payload {
            dreg: Some(dreg),
            sreg: None,
            base,
            offset,
            len,
            csum_type: None,
            csum_offset: None,
            csum_flags: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;
    use crate::nft::Expr;

    #[test]
    fn tcp_dport_load_bytes() {
        // [ payload load 2b @ transport header + 2 => reg 1 ]
        let e = Expr::Payload(Payload::load(PayloadBase::Transport, 2, 2, 1));
        let b = roundtrip(&e);
        let data = data_bytes(&e);
        assert_eq!(
            data,
            [
                8, 0, 1, 0, 0, 0, 0, 1, 8, 0, 2, 0, 0, 0, 0, 2, 8, 0, 3, 0, 0, 0, 0, 2, 8, 0, 4, 0,
                0, 0, 0, 2
            ]
        );
        // name "payload\0" (12 + 4 header) then the data nest.
        assert_eq!(&b[..4], &[12, 0, 1, 0]);
        assert_eq!(&b[12..16], &[(4 + data.len()) as u8, 0, 2, 0]);
    }
}
