//! Kernel behaviours the engine depends on that differ between kernel
//! versions, each asserted against the running kernel's version. Run in
//! every VM of the matrix (5.10, 6.1, 6.12) by `vm-tests/run`; on the host
//! (6.18) they hold too.
//!
//! - BATCH_END acknowledgement: since Linux 6.10 ("netfilter: nfnetlink:
//!   handle ACK flags for batch messages") the kernel acknowledges an END
//!   that asked for an ACK when the batch committed; before, it never did
//!   and success meant "no error after draining". `Committed.end_acked`
//!   must follow.
//! - DESTROY messages (NFT_MSG_DESTROY*, 26–32, Linux 6.3): delete without
//!   ENOENT when the object is missing. Older kernels reject the unknown
//!   message type.
//! - NFT_TABLE_F_OWNER (Linux 5.12): a table owned by a netlink socket
//!   vanishes when that socket closes; older kernels refuse the unknown
//!   flag with EINVAL (observed on 5.10.223).

// Test code: failing loudly on unexpected errors is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nftguard::engine::{get_generation, DumpFilter, GenCheck, Ruleset, Transaction};
use nftguard::netlink::message::{
    MessageIter, MessageWriter, NLMSG_ERROR, NLM_F_ACK, NLM_F_REQUEST,
};
use nftguard::netlink::{enter_new_netns, KernelError, Socket};
use nftguard::nft::consts::{
    msg, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES, NFTA_TABLE_NAME,
};
use nftguard::nft::table::TableFlags;
use nftguard::nft::{Family, Table};
use nftguard::Error;

/// `(major, minor)` of the running kernel.
fn kernel() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut it = release.trim().split(|c: char| !c.is_ascii_digit());
    let major = it.next().unwrap().parse().unwrap();
    let minor = it.next().unwrap().parse().unwrap();
    (major, minor)
}

fn release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap()
        .trim()
        .to_string()
}

fn genid(s: &mut Socket) -> u32 {
    get_generation(s).unwrap().id
}

#[test]
fn end_ack_follows_the_kernel_version() {
    enter_new_netns().unwrap();
    let mut s = Socket::new().unwrap();
    let mut tx = Transaction::new();
    tx.add_table(Table::new(Family::Ipv4, "endack"));
    let g = genid(&mut s);
    let done = tx.commit(&mut s, GenCheck::Expect(g)).unwrap();
    assert_eq!(done.genid, g + 1);
    assert_eq!(genid(&mut s), g + 1, "the batch committed");
    let expected = kernel() >= (6, 10);
    assert_eq!(
        done.end_acked,
        expected,
        "kernel {}: END acknowledged = {}, expected {expected} (ack on END only from 6.10)",
        release(),
        done.end_acked
    );
}

#[test]
fn destroy_messages_follow_the_kernel_version() {
    enter_new_netns().unwrap();
    let mut s = Socket::new().unwrap();
    let before = genid(&mut s);
    // BEGIN, DESTROYTABLE ip missing (with ACK), END: raw, because the
    // engine has no destroy operation (it must work on kernels without it).
    let seq = s.next_seq(3);
    let mut w = MessageWriter::new();
    w.begin_nfgen(
        NFNL_MSG_BATCH_BEGIN,
        NLM_F_REQUEST,
        seq,
        0,
        NFNL_SUBSYS_NFTABLES,
    );
    w.finish_message();
    w.begin_nfgen(
        msg::nft(msg::DESTROYTABLE),
        NLM_F_REQUEST | NLM_F_ACK,
        seq + 1,
        2,
        0,
    );
    w.attrs()
        .put_strz(NFTA_TABLE_NAME, "no-such-table")
        .unwrap();
    w.finish_message();
    w.begin_nfgen(
        NFNL_MSG_BATCH_END,
        NLM_F_REQUEST,
        seq + 2,
        0,
        NFNL_SUBSYS_NFTABLES,
    );
    w.finish_message();
    s.send(w.as_bytes()).unwrap();
    let mut answer: Option<i32> = None;
    while let Some(buf) = s.recv(false).unwrap() {
        for m in MessageIter::new(buf) {
            let m = m.unwrap();
            if m.header.kind == NLMSG_ERROR && m.header.seq == seq + 1 {
                answer = Some(KernelError::parse(&m.header, m.payload).unwrap().errno);
            }
        }
    }
    let errno = answer.expect("the kernel answered the DESTROYTABLE message");
    let present = errno == 0;
    let expected = kernel() >= (6, 3);
    eprintln!(
        "kernel {}: DESTROYTABLE of a missing table → errno {errno}",
        release()
    );
    assert_eq!(
        present,
        expected,
        "kernel {}: DESTROY supported = {present} (errno {errno}), expected {expected} (DESTROY from 6.3)",
        release()
    );
    if !present {
        // EINVAL: nfnetlink knows no callback for message type 26.
        assert_eq!(
            errno,
            libc_einval(),
            "older kernels reject the unknown type with EINVAL"
        );
        assert_eq!(genid(&mut s), before, "the rejected batch changed nothing");
    }
}

fn libc_einval() -> i32 {
    22
}

#[test]
fn table_owner_flag_follows_the_kernel_version() {
    enter_new_netns().unwrap();
    let mut observer = Socket::new().unwrap();
    let mut owner = Socket::new().unwrap();
    let mut tx = Transaction::new();
    tx.add_table(Table::new(Family::Inet, "owned").with_flags(TableFlags::OWNER));
    let g = genid(&mut owner);
    let result = tx.commit(&mut owner, GenCheck::Expect(g));
    if kernel() >= (5, 12) {
        result.unwrap_or_else(|e| panic!("kernel {}: owner flag refused: {e}", release()));
        let rs = Ruleset::dump(&mut observer, &DumpFilter::all()).unwrap();
        let t = rs
            .tables
            .iter()
            .find(|t| t.name == "owned")
            .expect("owned table listed");
        assert!(t
            .flags
            .unwrap_or(TableFlags::empty())
            .contains(TableFlags::OWNER));
        assert_eq!(
            t.owner,
            Some(owner.port_id()),
            "NFTA_TABLE_OWNER is the owning socket's port id"
        );
        drop(owner);
        let rs = Ruleset::dump(&mut observer, &DumpFilter::all()).unwrap();
        assert!(
            rs.tables.iter().all(|t| t.name != "owned"),
            "kernel {}: the owned table outlived its socket",
            release()
        );
    } else {
        match result {
            Err(Error::Rejected { errno, .. }) => {
                assert_eq!(
                    errno,
                    libc_einval(),
                    "kernel {}: the unknown owner flag is refused with EINVAL",
                    release()
                )
            }
            other => panic!(
                "kernel {}: owner flag should be refused before 5.12, got {other:?}",
                release()
            ),
        }
    }
}
