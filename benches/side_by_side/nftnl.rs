//! The libnftnl peer: the same ruleset built with libnftnl (through the
//! `nftnl-sys` bindings) into one contiguous batch buffer — BEGIN, table,
//! chain, rules, END, each message written by `nftnl_nlmsg_build_hdr` and
//! `nftnl_*_nlmsg_build_payload` — and sent with one `sendmsg`, which is
//! how libnftnl's own examples use libmnl's batch helper.
//!
//! FFI needs `unsafe`; every block below only passes pointers to live,
//! correctly sized Rust buffers or to objects libnftnl allocated.

#![allow(unsafe_code)]

use std::ffi::CString;
use std::os::raw::{c_char, c_void};

use nftnl_sys as sys;

use crate::profiles::{kind, Kind, Profile, CHAIN, TABLE};

const NFPROTO_IPV4: u32 = 2;
const NF_INET_LOCAL_IN: u32 = 1;
const NFT_MSG_NEWTABLE: u16 = 0;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_NEWRULE: u16 = 6;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_APPEND: u16 = 0x800;
const NFT_REG_VERDICT: u32 = 0;
const NFT_REG_1: u32 = 1;
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;
const NFT_CMP_EQ: u32 = 0;
const NFT_CMP_NEQ: u32 = 1;
const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;
const NFT_META_IIFNAME: u32 = 6;
const NFT_META_L4PROTO: u32 = 16;
const NFT_CT_STATE: u32 = 0;
/// `IP_CT_ESTABLISHED` and `IP_CT_RELATED` bits of `ct state`.
const CT_ESTABLISHED_RELATED: u32 = 2 | 4;
/// The most any one message of this batch takes.
const MSG_ROOM: usize = 4096;

/// A growing batch buffer that libnftnl writes messages into.
struct Batch {
    buf: Vec<u8>,
    used: usize,
    seq: u32,
}

impl Batch {
    fn new(capacity: usize) -> Self {
        Batch {
            buf: vec![0; capacity.max(MSG_ROOM)],
            used: 0,
            seq: 1,
        }
    }

    /// Room for one more message; returns where it starts.
    fn next(&mut self) -> *mut c_char {
        if self.buf.len() - self.used < MSG_ROOM {
            let grow = self.buf.len().max(MSG_ROOM);
            self.buf.resize(self.buf.len() + grow, 0);
        }
        self.buf[self.used..].as_mut_ptr() as *mut c_char
    }

    /// Accounts for the message just written at `next()`.
    fn done(&mut self) {
        let len = u32::from_ne_bytes([
            self.buf[self.used],
            self.buf[self.used + 1],
            self.buf[self.used + 2],
            self.buf[self.used + 3],
        ]) as usize;
        self.used += (len + 3) & !3;
        self.seq += 1;
    }

    fn header(&mut self, kind: u16, flags: u16) -> *mut sys::libc::nlmsghdr {
        let at = self.next();
        // SAFETY: `at` has MSG_ROOM writable bytes.
        unsafe { sys::nftnl_nlmsg_build_hdr(at, kind, NFPROTO_IPV4 as u16, flags, self.seq) }
    }
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// One expression with its u32 attributes and byte attributes.
fn expr(name: &str, u32s: &[(u32, u32)], bytes: &[(u32, &[u8])]) -> *mut sys::nftnl_expr {
    let name = cstr(name);
    // SAFETY: `name` is a valid C string; the attribute values are copied
    // by libnftnl.
    unsafe {
        let e = sys::nftnl_expr_alloc(name.as_ptr());
        for &(a, v) in u32s {
            sys::nftnl_expr_set_u32(e, a as u16, v);
        }
        for &(a, v) in bytes {
            sys::nftnl_expr_set(e, a as u16, v.as_ptr() as *const c_void, v.len() as u32);
        }
        e
    }
}

fn payload(base: u32, offset: u32, len: u32) -> *mut sys::nftnl_expr {
    expr(
        "payload",
        &[
            (sys::NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1),
            (sys::NFTNL_EXPR_PAYLOAD_BASE, base),
            (sys::NFTNL_EXPR_PAYLOAD_OFFSET, offset),
            (sys::NFTNL_EXPR_PAYLOAD_LEN, len),
        ],
        &[],
    )
}

fn cmp(op: u32, data: &[u8]) -> *mut sys::nftnl_expr {
    expr(
        "cmp",
        &[
            (sys::NFTNL_EXPR_CMP_SREG, NFT_REG_1),
            (sys::NFTNL_EXPR_CMP_OP, op),
        ],
        &[(sys::NFTNL_EXPR_CMP_DATA, data)],
    )
}

fn meta(key: u32) -> *mut sys::nftnl_expr {
    expr(
        "meta",
        &[
            (sys::NFTNL_EXPR_META_KEY, key),
            (sys::NFTNL_EXPR_META_DREG, NFT_REG_1),
        ],
        &[],
    )
}

fn verdict(v: u32) -> *mut sys::nftnl_expr {
    expr(
        "immediate",
        &[
            (sys::NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT),
            (sys::NFTNL_EXPR_IMM_VERDICT, v),
        ],
        &[],
    )
}

fn counter() -> *mut sys::nftnl_expr {
    expr("counter", &[], &[])
}

/// `meta l4proto P` then `th dport PORT`.
fn l4_dport(proto: u8, port: u16) -> Vec<*mut sys::nftnl_expr> {
    vec![
        meta(NFT_META_L4PROTO),
        cmp(NFT_CMP_EQ, &[proto]),
        payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2),
        cmp(NFT_CMP_EQ, &port.to_be_bytes()),
    ]
}

/// The expressions (and comment) nft 1.0.6 emits for `k`.
fn exprs(k: Kind) -> (Vec<*mut sys::nftnl_expr>, Option<String>) {
    let mut v = Vec::new();
    let mut comment = None;
    match k {
        Kind::SaddrTcp { addr, port } => {
            v.push(payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4));
            v.push(cmp(NFT_CMP_EQ, &addr.octets()));
            v.extend(l4_dport(6, port));
            v.push(counter());
            v.push(verdict(NF_ACCEPT));
        }
        Kind::PrefixUdp { net, port } => {
            v.push(payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 3));
            v.push(cmp(NFT_CMP_EQ, &net.octets()[..3]));
            v.extend(l4_dport(17, port));
            v.push(counter());
            v.push(verdict(NF_DROP));
        }
        Kind::CtState => {
            v.push(expr(
                "ct",
                &[
                    (sys::NFTNL_EXPR_CT_KEY, NFT_CT_STATE),
                    (sys::NFTNL_EXPR_CT_DREG, NFT_REG_1),
                ],
                &[],
            ));
            v.push(expr(
                "bitwise",
                &[
                    (sys::NFTNL_EXPR_BITWISE_SREG, NFT_REG_1),
                    (sys::NFTNL_EXPR_BITWISE_DREG, NFT_REG_1),
                    (sys::NFTNL_EXPR_BITWISE_LEN, 4),
                ],
                &[
                    (
                        sys::NFTNL_EXPR_BITWISE_MASK,
                        &CT_ESTABLISHED_RELATED.to_ne_bytes(),
                    ),
                    (sys::NFTNL_EXPR_BITWISE_XOR, &0u32.to_ne_bytes()),
                ],
            ));
            v.push(cmp(NFT_CMP_NEQ, &0u32.to_ne_bytes()));
            v.push(counter());
            v.push(verdict(NF_ACCEPT));
        }
        Kind::IfaceComment { addr, index } => {
            let mut name = [0u8; 16];
            name[..4].copy_from_slice(b"eth1");
            v.push(meta(NFT_META_IIFNAME));
            v.push(cmp(NFT_CMP_EQ, &name));
            v.push(payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4));
            v.push(cmp(NFT_CMP_EQ, &addr.octets()));
            v.extend(l4_dport(6, 443));
            v.push(counter());
            v.push(verdict(NF_ACCEPT));
            comment = Some(format!("rule {index}"));
        }
        Kind::IcmpLimit => {
            v.push(payload(NFT_PAYLOAD_NETWORK_HEADER, 9, 1));
            v.push(cmp(NFT_CMP_EQ, &[1]));
            let l = expr(
                "limit",
                &[
                    (sys::NFTNL_EXPR_LIMIT_BURST, 5),
                    (sys::NFTNL_EXPR_LIMIT_TYPE, 0),
                    (sys::NFTNL_EXPR_LIMIT_FLAGS, 0),
                ],
                &[],
            );
            // SAFETY: `l` is a live expression.
            unsafe {
                sys::nftnl_expr_set_u64(l, sys::NFTNL_EXPR_LIMIT_RATE as u16, 10);
                sys::nftnl_expr_set_u64(l, sys::NFTNL_EXPR_LIMIT_UNIT as u16, 1);
            }
            v.push(l);
            v.push(counter());
            v.push(verdict(NF_ACCEPT));
        }
    }
    (v, comment)
}

/// The whole batch for `profile` with `n` rules, built by libnftnl.
pub fn batch(profile: Profile, n: usize) -> Vec<u8> {
    let mut b = Batch::new(n * 200 + MSG_ROOM);
    let table = cstr(TABLE);
    let chain = cstr(CHAIN);
    let filter = cstr("filter");
    // SAFETY: every pointer passed is either a C string that outlives the
    // call, an object allocated just before, or `b.next()`'s room.
    unsafe {
        let at = b.next();
        sys::nftnl_batch_begin(at, b.seq);
        b.done();

        let t = sys::nftnl_table_alloc();
        sys::nftnl_table_set_str(t, sys::NFTNL_TABLE_NAME as u16, table.as_ptr());
        sys::nftnl_table_set_u32(t, sys::NFTNL_TABLE_FAMILY as u16, NFPROTO_IPV4);
        let h = b.header(NFT_MSG_NEWTABLE, NLM_F_CREATE);
        sys::nftnl_table_nlmsg_build_payload(h, t);
        sys::nftnl_table_free(t);
        b.done();

        let c = sys::nftnl_chain_alloc();
        sys::nftnl_chain_set_str(c, sys::NFTNL_CHAIN_TABLE as u16, table.as_ptr());
        sys::nftnl_chain_set_str(c, sys::NFTNL_CHAIN_NAME as u16, chain.as_ptr());
        sys::nftnl_chain_set_str(c, sys::NFTNL_CHAIN_TYPE as u16, filter.as_ptr());
        sys::nftnl_chain_set_u32(c, sys::NFTNL_CHAIN_HOOKNUM as u16, NF_INET_LOCAL_IN);
        sys::nftnl_chain_set_s32(c, sys::NFTNL_CHAIN_PRIO as u16, 0);
        sys::nftnl_chain_set_u32(c, sys::NFTNL_CHAIN_POLICY as u16, NF_ACCEPT);
        let h = b.header(NFT_MSG_NEWCHAIN, NLM_F_CREATE);
        sys::nftnl_chain_nlmsg_build_payload(h, c);
        sys::nftnl_chain_free(c);
        b.done();

        for i in 0..n {
            let r = sys::nftnl_rule_alloc();
            sys::nftnl_rule_set_u32(r, sys::NFTNL_RULE_FAMILY as u16, NFPROTO_IPV4);
            sys::nftnl_rule_set_str(r, sys::NFTNL_RULE_TABLE as u16, table.as_ptr());
            sys::nftnl_rule_set_str(r, sys::NFTNL_RULE_CHAIN as u16, chain.as_ptr());
            let (es, comment) = exprs(kind(profile, i));
            for e in es {
                sys::nftnl_rule_add_expr(r, e); // the rule owns it now
            }
            if let Some(text) = comment {
                // nft's user-data TLV: type 0 (comment), length, NUL-terminated text.
                let mut tlv = vec![0u8, text.len() as u8 + 1];
                tlv.extend_from_slice(text.as_bytes());
                tlv.push(0);
                sys::nftnl_rule_set_data(
                    r,
                    sys::NFTNL_RULE_USERDATA as u16,
                    tlv.as_ptr() as *const c_void,
                    tlv.len() as u32,
                );
            }
            let h = b.header(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
            sys::nftnl_rule_nlmsg_build_payload(h, r);
            sys::nftnl_rule_free(r);
            b.done();
        }

        let at = b.next();
        sys::nftnl_batch_end(at, b.seq);
        b.done();
    }
    b.buf.truncate(b.used);
    b.buf
}
