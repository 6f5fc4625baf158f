//! Sets, maps, elements, stateful objects and flowtables against the live
//! kernel. Every test runs in its own empty network namespace.
//!
//! Run: `cargo test --test sets_objects`. The 1,000,000-element comparison
//! with `nft -f` is heavy and ignored by default:
//! `cargo test --release --test sets_objects -- --ignored --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use nftguard::engine::{
    dump_raw, dump_raw_with, reset_objects, setelem_request, DumpFilter, GenCheck, Op, Ruleset,
    Transaction,
};
use nftguard::netlink::message::{MessageIter, NLM_F_REQUEST};
use nftguard::netlink::{enter_new_netns, AttrIter, AttrWriter, Socket};
use nftguard::nft::consts::msg;
use nftguard::nft::expr::{Cmp, CmpOp, Lookup, Meta, MetaKey, Objref, Payload, PayloadBase, Quota};
use nftguard::nft::object::{CtHelper, NFT_OBJECT_COUNTER, NFT_OBJECT_CT_HELPER, NFT_OBJECT_QUOTA};
use nftguard::nft::set::{ANONYMOUS_SET_NAME, NFT_DATA_VERDICT};
use nftguard::nft::set_element::NFTA_SET_ELEM_LIST_ELEMENTS;
use nftguard::nft::{
    Chain, ElementList, Expr, Family, Flowtable, Hook, Object, ObjectData, Rule, Set, SetElement,
    SetFlags, Table, Verdict,
};

const CORPUS: &str = include_str!("data/sets_objects_corpus.nft");

/// `ipv4_addr` and `inet_service` as nft numbers its data types.
const TYPE_IPV4_ADDR: u32 = 7;
const TYPE_INET_SERVICE: u32 = 13;

fn nft(args: &[&str], stdin: Option<&str>) -> String {
    let mut cmd = Command::new("nft");
    cmd.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("run nft");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "nft {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn reencode<F>(attrs: &[u8], emit: F) -> Vec<u8>
where
    F: FnOnce(&mut AttrWriter<'_>) -> nftguard::Result<()>,
{
    let mut out = Vec::with_capacity(attrs.len());
    emit(&mut AttrWriter::new(&mut out)).unwrap();
    out
}

fn attr_kinds(b: &[u8]) -> Vec<u16> {
    AttrIter::new(b)
        .map(|a| a.map(|a| a.kind()).unwrap_or(0))
        .collect()
}

fn assert_same(what: &str, got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "{what}: re-encoding differs\n kernel order {:?}\n our order    {:?}\n kernel {want:02x?}\n ours   {got:02x?}",
        attr_kinds(want),
        attr_kinds(got)
    );
}

#[test]
fn corpus_dumps_reencode_byte_identical() {
    enter_new_netns().unwrap();
    nft(&["-f", "-"], Some(CORPUS));
    let mut sock = Socket::new().unwrap();

    // Sets.
    let raw_sets = dump_raw(&mut sock, msg::GETSET, Family::Unspec).unwrap();
    assert_eq!(raw_sets.len(), 15, "13 named sets and 2 anonymous ones");
    let mut sets = Vec::new();
    for r in &raw_sets {
        let s = Set::parse(r.family, &r.attrs).unwrap();
        assert!(s.unknown.is_empty(), "{}: unknown attributes", s.name);
        assert_same(
            &format!("set {}", s.name),
            &reencode(&r.attrs, |w| s.emit(w)),
            &r.attrs,
        );
        sets.push(s);
    }

    // Elements, set by set.
    let mut total = 0;
    for s in &sets {
        let req = setelem_request(&s.table, &s.name).unwrap();
        let raw = dump_raw_with(&mut sock, msg::GETSETELEM, s.family, &req).unwrap();
        for r in &raw {
            let l = ElementList::parse(r.family, &r.attrs).unwrap();
            assert!(l.elements.iter().all(|e| e.unknown.is_empty()));
            let typed = l
                .elements
                .iter()
                .flat_map(|e| e.expressions())
                .all(Expr::is_typed);
            assert!(typed, "set {}: element expression not typed", s.name);
            assert_same(
                &format!("elements of {}", s.name),
                &reencode(&r.attrs, |w| l.emit(w)),
                &r.attrs,
            );
            total += l.elements.len();
        }
    }
    assert!(total > 25, "{total} elements");

    // Stateful objects: every kind this kernel and nft support.
    let raw_objs = dump_raw(&mut sock, msg::GETOBJ, Family::Unspec).unwrap();
    assert_eq!(raw_objs.len(), 9);
    for r in &raw_objs {
        let o = Object::parse(r.family, &r.attrs).unwrap();
        assert!(
            o.data.is_typed(),
            "object {} kept raw: {:?}",
            o.name,
            o.data
        );
        assert_same(
            &format!("object {}", o.name),
            &reencode(&r.attrs, |w| o.emit(w)),
            &r.attrs,
        );
    }

    // Rules: objref, lookup and dynset come back typed and byte-identical.
    let raw_rules = dump_raw(&mut sock, msg::GETRULE, Family::Unspec).unwrap();
    let mut objrefs = 0;
    for r in &raw_rules {
        let rule = Rule::parse(r.family, &r.attrs).unwrap();
        for e in &rule.exprs {
            assert!(e.is_typed(), "untyped {} in {:?}", e.name(), rule.exprs);
            if let Expr::Objref(_) = e {
                objrefs += 1;
            }
        }
        assert_same("rule", &reencode(&r.attrs, |w| rule.emit(w)), &r.attrs);
    }
    assert_eq!(objrefs, 7);

    // Flowtables: none here, but the dump must work (see the flowtable test).
    assert!(dump_raw(&mut sock, msg::GETFLOWTABLE, Family::Unspec)
        .unwrap()
        .is_empty());

    // The typed snapshot holds the same things.
    let rs = Ruleset::dump(&mut sock, &DumpFilter::table(Family::Inet, "corpus")).unwrap();
    assert_eq!(rs.sets.len(), sets.len());
    assert_eq!(rs.objects.len(), 9);
    assert_eq!(
        rs.elements.iter().map(|l| l.elements.len()).sum::<usize>(),
        total
    );
    let vm = rs.elements_of(Family::Inet, "corpus", "vm");
    assert!(vm
        .iter()
        .any(|e| e.verdict() == Some(&Verdict::Jump("web".into()))));
    assert!(rs
        .set(Family::Inet, "corpus", "vm")
        .unwrap()
        .is_verdict_map());
    assert_eq!(
        rs.set(Family::Inet, "corpus", "vm").unwrap().data_type,
        Some(NFT_DATA_VERDICT)
    );
    let cnt = rs.elements_of(Family::Inet, "corpus", "cnt");
    assert!(cnt
        .iter()
        .all(|e| matches!(e.expressions().as_slice(), [Expr::Counter(_)])));
    let tmo = rs.elements_of(Family::Inet, "corpus", "tmo");
    assert!(tmo.iter().all(|e| e.expiration.is_some()));
    assert!(tmo.iter().any(|e| e.timeout == Some(600_000)));
    assert!(tmo
        .iter()
        .any(|e| e.comment().as_deref() == Some("ten minutes")));
    let cativ = rs.elements_of(Family::Inet, "corpus", "cativ");
    assert!(cativ.iter().any(|e| e.key_end.is_some()));
    let cat = rs.set(Family::Inet, "corpus", "cat").unwrap();
    assert_eq!(cat.key_type_fields(), [TYPE_IPV4_ADDR, TYPE_INET_SERVICE]);
    let iv = rs.set(Family::Inet, "corpus", "iv").unwrap();
    assert!(iv.is_interval() && iv.udata().auto_merge());
    assert!(rs
        .elements_of(Family::Inet, "corpus", "iv")
        .iter()
        .any(|e| e.is_interval_end()));
    let typ = rs.set(Family::Inet, "corpus", "typ").unwrap();
    assert_eq!(typ.comment().as_deref(), Some("typed set"));
    assert_eq!(typ.size(), Some(1000));
    let om = rs.elements_of(Family::Inet, "corpus", "om");
    assert_eq!(om[0].objref.as_deref(), Some("c1"));
    assert!(rs.sets.iter().any(|s| s.is_anonymous()));
}

fn tcp_dport_rule(table: &str, chain: &str) -> Rule {
    Rule::new(Family::Inet, table, chain)
        .push(Meta {
            key: MetaKey::L4proto,
            dreg: Some(1),
            sreg: None,
        })
        .push(Cmp::new(1, CmpOp::Eq, vec![6]))
        .push(Payload::load(PayloadBase::Transport, 2, 2, 1))
}

fn base_table(tx: &mut Transaction, table: &str) {
    tx.add_table(Table::new(Family::Inet, table));
    tx.add_chain(Chain::base(Family::Inet, table, "input", Hook::Input, 0));
}

#[test]
fn anonymous_set_in_the_same_batch_lists_like_nft() {
    enter_new_netns().unwrap();
    let mut sock = Socket::new().unwrap();
    let gen = nftguard::engine::get_generation(&mut sock).unwrap().id;
    let mut tx = Transaction::new();
    base_table(&mut tx, "t");
    let id = tx.add_anonymous_set(
        Set::new(Family::Inet, "t", "", TYPE_INET_SERVICE, 2),
        vec![
            SetElement::new(22u16.to_be_bytes().to_vec()),
            SetElement::new(80u16.to_be_bytes().to_vec()),
        ],
    );
    tx.add_rule(
        tcp_dport_rule("t", "input")
            .push(Lookup {
                set: ANONYMOUS_SET_NAME.into(),
                set_id: Some(id),
                sreg: 1,
                dreg: None,
                flags: None,
            })
            .accept(),
    );
    tx.commit(&mut sock, GenCheck::Expect(gen)).unwrap();
    let listed = nft(&["list", "ruleset"], None);
    assert!(
        listed.contains("tcp dport { 22, 80 } accept"),
        "nft lists:\n{listed}"
    );
    let rs = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
    let anon = rs.sets.iter().find(|s| s.is_anonymous()).unwrap();
    assert_eq!(anon.name, "__set0");
    assert_eq!(rs.elements_of(Family::Inet, "t", "__set0").len(), 2);
}

#[test]
fn engine_sets_maps_objects_and_objref() {
    enter_new_netns().unwrap();
    let mut sock = Socket::new().unwrap();
    let gen = nftguard::engine::get_generation(&mut sock).unwrap().id;
    let mut tx = Transaction::new();
    base_table(&mut tx, "e");
    tx.add_chain(Chain::regular(Family::Inet, "e", "web"));
    // Objects.
    tx.add_object(Object::new(
        Family::Inet,
        "e",
        "c1",
        ObjectData::Counter(Default::default()),
    ));
    tx.add_object(Object::new(
        Family::Inet,
        "e",
        "q1",
        ObjectData::Quota(Quota {
            bytes: 1 << 20,
            consumed: None,
            flags: 1,
        }),
    ));
    tx.add_object(Object::new(
        Family::Inet,
        "e",
        "ftp",
        ObjectData::CtHelper(CtHelper {
            name: "ftp".into(),
            l3proto: 2,
            l4proto: 6,
        }),
    ));
    // An interval set: 10.0.0.0/8 and 192.168.1.1-192.168.1.50, as nft
    // sends them (start, then the first address after the range with
    // INTERVAL_END), plus the leading "nothing below" end element.
    tx.add_set(
        Set::new(Family::Inet, "e", "blocked", TYPE_IPV4_ADDR, 4).with_flags(SetFlags::INTERVAL),
    );
    tx.add_elements(ElementList::new(
        Family::Inet,
        "e",
        "blocked",
        vec![
            SetElement::new(vec![0, 0, 0, 0]).interval_end(),
            SetElement::new(vec![10, 0, 0, 0]),
            SetElement::new(vec![11, 0, 0, 0]).interval_end(),
            SetElement::new(vec![192, 168, 1, 1]),
            SetElement::new(vec![192, 168, 1, 51]).interval_end(),
        ],
    ));
    // A verdict map with a jump.
    tx.add_set(Set::new(Family::Inet, "e", "ports", TYPE_INET_SERVICE, 2).verdict_map());
    tx.add_elements(ElementList::new(
        Family::Inet,
        "e",
        "ports",
        vec![
            SetElement::new(22u16.to_be_bytes().to_vec()).with_verdict(Verdict::Accept),
            SetElement::new(80u16.to_be_bytes().to_vec()).with_verdict(Verdict::Jump("web".into())),
        ],
    ));
    tx.add_rule(
        Rule::new(Family::Inet, "e", "input")
            .push(Objref::named(NFT_OBJECT_COUNTER, "c1"))
            .push(Objref::named(NFT_OBJECT_QUOTA, "q1"))
            .push(Objref::named(NFT_OBJECT_CT_HELPER, "ftp")),
    );
    tx.add_rule(tcp_dport_rule("e", "input").push(Lookup {
        set: "ports".into(),
        set_id: None,
        sreg: 1,
        dreg: Some(0),
        flags: None,
    }));
    tx.commit(&mut sock, GenCheck::Expect(gen)).unwrap();

    let listed = nft(&["list", "ruleset"], None);
    for want in [
        "counter name \"c1\"",
        "quota name \"q1\"",
        "ct helper set \"ftp\"",
        "tcp dport vmap @ports",
        "elements = { 22 : accept, 80 : jump web }",
        "10.0.0.0/8",
        "192.168.1.1-192.168.1.50",
    ] {
        assert!(listed.contains(want), "missing {want:?} in\n{listed}");
    }
    let rs = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
    assert_eq!(rs.objects.len(), 3);
    let rule = rs.rules_of(Family::Inet, "e", "input").next().unwrap();
    assert_eq!(
        rule.exprs[0],
        Expr::Objref(Objref::named(NFT_OBJECT_COUNTER, "c1"))
    );
    assert_eq!(rs.elements_of(Family::Inet, "e", "ports").len(), 2);

    // Delete one element, flush the interval set, then remove a rule's
    // object reference and the object.
    let mut tx = Transaction::new();
    tx.delete_elements(ElementList::new(
        Family::Inet,
        "e",
        "ports",
        vec![SetElement::new(22u16.to_be_bytes().to_vec())],
    ));
    tx.flush_set(Family::Inet, "e", "blocked");
    tx.delete_rule(Family::Inet, "e", "input", rule.handle.unwrap());
    tx.delete_object(Family::Inet, "e", "q1", NFT_OBJECT_QUOTA);
    tx.delete_set(Family::Inet, "e", "blocked");
    tx.commit(&mut sock, GenCheck::Expect(rs.genid)).unwrap();
    let rs = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
    let ports = rs.elements_of(Family::Inet, "e", "ports");
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0].verdict(), Some(&Verdict::Jump("web".into())));
    assert!(rs.set(Family::Inet, "e", "blocked").is_none());
    assert_eq!(rs.objects.len(), 2);
}

#[test]
fn reset_returns_the_counts_and_zeroes_them() {
    enter_new_netns().unwrap();
    nft(
        &["-f", "-"],
        Some("table ip r {\n counter c { packets 5 bytes 10 }\n counter d { packets 1 bytes 2 }\n}\n"),
    );
    let mut sock = Socket::new().unwrap();
    let before = reset_objects(
        &mut sock,
        Family::Ipv4,
        Some("r"),
        Some("c"),
        Some(NFT_OBJECT_COUNTER),
    )
    .unwrap();
    assert_eq!(before.len(), 1);
    match &before[0].data {
        ObjectData::Counter(c) => assert_eq!((c.packets, c.bytes), (Some(5), Some(10))),
        d => panic!("{d:?}"),
    }
    let rs = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
    let counts: Vec<_> = rs
        .objects
        .iter()
        .map(|o| match &o.data {
            ObjectData::Counter(c) => (o.name.clone(), c.packets),
            d => panic!("{d:?}"),
        })
        .collect();
    assert_eq!(
        counts,
        [("c".to_string(), Some(0)), ("d".to_string(), Some(1))]
    );
}

#[test]
fn large_element_lists_split_into_one_batch() {
    enter_new_netns().unwrap();
    let mut sock = Socket::new().unwrap();
    let n = 100_000u32;
    let mut tx = Transaction::new();
    tx.add_table(Table::new(Family::Ipv4, "big"));
    tx.add_set(Set::new(Family::Ipv4, "big", "s", TYPE_IPV4_ADDR, 4));
    let elements = (0..n)
        .map(|i| SetElement::new((0x0a00_0000 + i).to_be_bytes().to_vec()))
        .collect();
    tx.add_elements(ElementList::new(Family::Ipv4, "big", "s", elements));

    // Encoded: one batch, many NEWSETELEM messages, every element nest
    // within nla_len, every element present.
    let bytes = tx.canonical_bytes().unwrap();
    let (mut chunks, mut count) = (0, 0);
    for m in MessageIter::new(&bytes) {
        let m = m.unwrap();
        if m.header.kind == msg::nft(msg::NEWSETELEM) {
            assert_eq!(m.header.flags & NLM_F_REQUEST, NLM_F_REQUEST);
            assert_eq!(m.header.seq, 3, "all chunks carry the operation's seq");
            let (_, _, _, attrs) = m.nfgen().unwrap();
            for a in AttrIter::new(attrs) {
                let a = a.unwrap();
                if a.kind() == NFTA_SET_ELEM_LIST_ELEMENTS {
                    assert!(a.payload.len() + 4 <= 65_535);
                    count += a.nested().count();
                }
            }
            chunks += 1;
        }
    }
    assert!(chunks > 20, "{chunks} messages");
    assert_eq!(count, n as usize);

    let gen = nftguard::engine::get_generation(&mut sock).unwrap().id;
    tx.commit(&mut sock, GenCheck::Expect(gen)).unwrap();
    let rs = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
    assert_eq!(rs.elements_of(Family::Ipv4, "big", "s").len(), n as usize);
    // The set's element count (NFTA_SET_COUNT) is dumped from Linux 6.16
    // on ("netfilter: nf_tables: export set count and backend name to
    // userspace"); older kernels do not report it.
    let kernel = common::kernel_version();
    match rs.set(Family::Ipv4, "big", "s").unwrap().count {
        Some(count) => assert_eq!(count, n),
        None => assert!(
            kernel < (6, 16),
            "kernel {kernel:?} reports no element count"
        ),
    }

    // A failing element operation is reported against its index and
    // nothing of the batch is applied.
    let mut tx = Transaction::new();
    tx.add_set(Set::new(Family::Ipv4, "big", "t", TYPE_IPV4_ADDR, 4));
    tx.create_elements(ElementList::new(
        Family::Ipv4,
        "big",
        "s",
        vec![SetElement::new(vec![10, 0, 0, 1])],
    ));
    match tx.commit(&mut sock, GenCheck::Expect(rs.genid)) {
        Err(nftguard::Error::Rejected {
            op_index, errno, ..
        }) => {
            assert_eq!((op_index, errno), (1, libc_eexist()));
        }
        r => panic!("{r:?}"),
    }
    let again = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
    assert!(again.set(Family::Ipv4, "big", "t").is_none());
}

fn libc_eexist() -> i32 {
    17
}

#[test]
fn flowtable_on_a_veth_device() {
    enter_new_netns().unwrap();
    let st = Command::new("ip")
        .args([
            "link", "add", "ftv0", "type", "veth", "peer", "name", "ftv1",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let mut sock = Socket::new().unwrap();
    let gen = nftguard::engine::get_generation(&mut sock).unwrap().id;
    let mut tx = Transaction::new();
    tx.add_table(Table::new(Family::Inet, "f"));
    tx.add_flowtable(Flowtable::new(
        Family::Inet,
        "f",
        "ft",
        0,
        &["ftv0", "ftv1"],
    ));
    match tx.commit(&mut sock, GenCheck::Expect(gen)) {
        Ok(_) => {
            let raw = dump_raw(&mut sock, msg::GETFLOWTABLE, Family::Unspec).unwrap();
            assert_eq!(raw.len(), 1);
            let f = Flowtable::parse(raw[0].family, &raw[0].attrs).unwrap();
            assert_same(
                "flowtable",
                &reencode(&raw[0].attrs, |w| f.emit(w)),
                &raw[0].attrs,
            );
            let rs = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
            assert_eq!(rs.flowtables[0].devices(), ["ftv0", "ftv1"]);
        }
        // Kernels without CONFIG_NF_FLOW_TABLE (this project's test
        // machines) have no flowtable type: the kernel refuses with ENOENT,
        // reported against the flowtable operation, and nothing applies.
        Err(nftguard::Error::Rejected {
            op_index,
            errno,
            op,
            ..
        }) => {
            assert_eq!((op_index, errno), (1, 2), "{op}");
            assert!(op.starts_with("add flowtable"));
            let rs = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
            assert!(rs.tables.is_empty());
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn op_descriptions_name_the_objects() {
    let l = ElementList::new(Family::Inet, "t", "s", vec![SetElement::new(vec![1])]);
    assert_eq!(
        Op::AddElements(l).describe(),
        "add element inet t s (1 elements)"
    );
    assert_eq!(
        Op::DeleteObject {
            family: Family::Inet,
            table: "t".into(),
            name: "h".into(),
            obj_type: NFT_OBJECT_CT_HELPER
        }
        .describe(),
        "delete ct helper inet t h"
    );
}

/// 1,000,000 IPv4 elements in one atomic batch (one `sendmsg`) versus
/// `nft -f` of the same set, each in its own fresh namespace. Prints both
/// times; asserts only correctness.
#[test]
#[ignore = "heavy: run with --ignored --nocapture (release build recommended)"]
fn million_elements_engine_vs_nft() {
    const N: u32 = 1_000_000;
    let engine = std::thread::spawn(|| {
        enter_new_netns().unwrap();
        let mut sock = Socket::new().unwrap();
        let build = Instant::now();
        let mut tx = Transaction::new();
        tx.add_table(Table::new(Family::Ipv4, "m"));
        tx.add_set(Set::new(Family::Ipv4, "m", "s", TYPE_IPV4_ADDR, 4));
        let elements = (0..N)
            .map(|i| SetElement::new((0x0a00_0000 + i).to_be_bytes().to_vec()))
            .collect();
        tx.add_elements(ElementList::new(Family::Ipv4, "m", "s", elements));
        let built = build.elapsed();
        let gen = nftguard::engine::get_generation(&mut sock).unwrap().id;
        let t = Instant::now();
        tx.commit(&mut sock, GenCheck::Expect(gen)).unwrap();
        let commit = t.elapsed();
        let t = Instant::now();
        let rs = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
        let dumped = t.elapsed();
        assert_eq!(rs.elements_of(Family::Ipv4, "m", "s").len(), N as usize);
        (built, commit, dumped)
    })
    .join()
    .unwrap();
    let path = std::env::temp_dir().join(format!("nftguard-1m-{}.nft", std::process::id()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(
            f,
            "table ip m {{\n\tset s {{\n\t\ttype ipv4_addr\n\t\telements = {{"
        )
        .unwrap();
        for i in 0..N {
            let a = (0x0a00_0000 + i).to_be_bytes();
            writeln!(f, "\t\t\t{}.{}.{}.{},", a[0], a[1], a[2], a[3]).unwrap();
        }
        writeln!(f, "\t\t}}\n\t}}\n}}").unwrap();
    }
    let p = path.clone();
    let nft_time = std::thread::spawn(move || {
        enter_new_netns().unwrap();
        let t = Instant::now();
        let out = Command::new("nft").arg("-f").arg(&p).output().unwrap();
        let took = t.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut sock = Socket::new().unwrap();
        let rs = Ruleset::dump(&mut sock, &DumpFilter::all()).unwrap();
        assert_eq!(rs.elements_of(Family::Ipv4, "m", "s").len(), N as usize);
        took
    })
    .join()
    .unwrap();
    let _ = std::fs::remove_file(&path);
    println!(
        "1M ipv4 elements: engine build {:?}, engine commit (encode + one sendmsg + replies) {:?}, engine dump {:?}; nft -f {:?}",
        engine.0, engine.1, engine.2, nft_time
    );
}
