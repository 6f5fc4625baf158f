//! `dynset`: add or update a set element from the packet path
//! (`add @set { ip saddr limit rate 10/minute }`, `update @set { … }`).

use crate::nft::Expr;

u32_enum! {
    /// Dynset operations (`enum nft_dynset_ops`).
    pub enum DynsetOp {
        /// Add the element if absent.
        Add = 0 => "add",
        /// Add or refresh the element's timeout.
        Update = 1 => "update",
        /// Delete the element.
        Delete = 2 => "delete",
    }
}

nft_expr! {
    /// `dynset`, in the kernel's dump order.
    pub struct Dynset = "dynset" {
        /// Register holding the key.
        sreg_key: req u32 = 4,
        /// Register holding the data (maps).
        sreg_data: opt u32 = 5,
        /// Operation.
        op: req DynsetOp = 3,
        /// Set name.
        set_name: req String = 1,
        /// Set id within the transaction.
        set_id: opt u32 = 2,
        /// Element timeout in milliseconds.
        timeout: opt u64 = 6,
        /// One stateful expression attached to the element.
        expr: opt Box<Expr> = 7,
        /// Several stateful expressions attached to the element.
        exprs: opt Vec<Expr> = 10,
        /// `NFT_DYNSET_F_*` (dumped after the expressions, verified on
        /// Linux 6.18).
        flags: opt u32 = 9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;
    use crate::nft::expr::Limit;

    #[test]
    fn roundtrips() {
        roundtrip(
            &Dynset {
                sreg_key: 1,
                sreg_data: None,
                op: DynsetOp::Update,
                set_name: "ssh4".into(),
                set_id: None,
                timeout: Some(60_000),
                flags: Some(0),
                expr: Some(Box::new(Limit::packets(10, 60, 20).into())),
                exprs: None,
            }
            .into(),
        );
    }
}
