//! The ruleset a transaction would produce, without committing it to the
//! live ruleset: the tables the transaction touches are recreated from
//! the live dump in a throwaway network namespace, the transaction is
//! committed there, and the result is dumped and merged with the live
//! tables it does not touch.
//!
//! Why a throwaway namespace rather than replaying the operations in
//! memory: the kernel then decides everything an in-memory replay would
//! have to imitate (handles, anonymous and dynamic sets bound by
//! transaction id, rule positions, `add` vs `create` semantics, and
//! whether the batch is accepted at all), so the planned ruleset is
//! exactly what the commit would leave — for the touched tables.
//!
//! Handles: recreated rules get new handles in the throwaway namespace.
//! Rule handles the transaction names (`delete rule … handle N`,
//! `replace`, positions) are translated to them by rule order before the
//! commit, and surviving rules get their live handles back afterwards;
//! rules the transaction adds have no live handle and carry none.
//!
//! Limits: a touched table that cannot be recreated in an empty namespace
//! (a netdev chain bound to a device that only exists on the host, for
//! example) is an error naming the table.

use std::collections::HashMap;

use crate::engine::{DumpFilter, GenCheck, Op, Ruleset, Transaction};
use crate::error::{Error, Result};
use crate::netlink::{enter_new_netns, Socket};
use crate::nft::Family;
use crate::txn::backup::{recreate_transaction, table_content};

/// The table an operation acts on (`None` for a raw message).
fn op_table(op: &Op) -> Option<(Family, String)> {
    Some(match op {
        Op::AddTable(t) | Op::CreateTable(t) => (t.family, t.name.clone()),
        Op::DeleteTable { family, name } | Op::FlushTable { family, name } => {
            (*family, name.clone())
        }
        Op::AddChain(c) | Op::CreateChain(c) => (c.family, c.table.clone()),
        Op::DeleteChain { family, table, .. } | Op::FlushChain { family, table, .. } => {
            (*family, table.clone())
        }
        Op::AddRule(r) | Op::InsertRule(r) | Op::ReplaceRule(r) => (r.family, r.table.clone()),
        Op::DeleteRule { family, table, .. } => (*family, table.clone()),
        Op::AddSet(s) | Op::CreateSet(s) => (s.family, s.table.clone()),
        Op::DeleteSet { family, table, .. } | Op::FlushSet { family, table, .. } => {
            (*family, table.clone())
        }
        Op::AddElements(l) | Op::CreateElements(l) | Op::DeleteElements(l) => {
            (l.family, l.table.clone())
        }
        Op::AddObject(o) | Op::CreateObject(o) => (o.family, o.table.clone()),
        Op::DeleteObject { family, table, .. } => (*family, table.clone()),
        Op::AddFlowtable(f) | Op::CreateFlowtable(f) => (f.family, f.table.clone()),
        Op::DeleteFlowtable { family, table, .. } => (*family, table.clone()),
        Op::Raw { .. } => return None,
    })
}

type HandleMap = HashMap<(Family, String, u64), u64>;

/// Pairs the rules of each touched table in `a` with those of `b` by
/// position within their chain: `a`'s handle → `b`'s handle.
fn pair_handles(a: &Ruleset, b: &Ruleset, tables: &[(Family, String)]) -> HandleMap {
    let mut map = HashMap::new();
    for (family, table) in tables {
        for chain in a.chains_of(*family, table) {
            let ra = a.rules_of(*family, table, &chain.name);
            let rb = b.rules_of(*family, table, &chain.name);
            for (x, y) in ra.zip(rb) {
                if let (Some(hx), Some(hy)) = (x.handle, y.handle) {
                    map.insert((*family, table.clone(), hx), hy);
                }
            }
        }
    }
    map
}

/// `tx` with the rule handles it names translated through `map`.
fn translate(tx: &Transaction, map: &HandleMap) -> Transaction {
    let tr = |f: Family, t: &str, h: u64| map.get(&(f, t.to_string(), h)).copied().unwrap_or(h);
    let mut out = Transaction::new();
    for op in tx.ops() {
        let mut op = op.clone();
        match &mut op {
            Op::DeleteRule {
                family,
                table,
                handle,
                ..
            } => *handle = tr(*family, table, *handle),
            Op::AddRule(r) | Op::InsertRule(r) | Op::ReplaceRule(r) => {
                if let Some(h) = r.handle {
                    r.handle = Some(tr(r.family, &r.table, h));
                }
                if let Some(p) = r.position {
                    r.position = Some(tr(r.family, &r.table, p));
                }
            }
            _ => {}
        }
        out.push(op);
    }
    out
}

/// Builds the planned ruleset inside the calling thread, which must
/// already be in a fresh namespace.
fn build_in_fresh_netns(
    live: &Ruleset,
    tx: &Transaction,
    touched: &[(Family, String)],
) -> Result<Ruleset> {
    let mut sock = Socket::new()?;
    let mut recreate = Transaction::new();
    for (family, name) in touched {
        let content = table_content(live, *family, name);
        let part = recreate_transaction(&content).map_err(|e| Error::Invalid {
            what: "planned ruleset",
            detail: format!("table {family} {name} cannot be recreated: {e}"),
        })?;
        for op in part.ops() {
            recreate.push(op.clone());
        }
    }
    let mut forward = HandleMap::new();
    if !recreate.is_empty() {
        recreate.commit(&mut sock, GenCheck::Unconditional).map_err(|e| Error::Invalid {
            what: "planned ruleset",
            detail: format!("recreating the touched tables {touched:?} in a throwaway namespace failed: {e}"),
        })?;
        let copy = Ruleset::dump(&mut sock, &DumpFilter::all())?;
        forward = pair_handles(live, &copy, touched);
    }
    let before = Ruleset::dump(&mut sock, &DumpFilter::all())?;
    translate(tx, &forward)
        .commit(&mut sock, GenCheck::Unconditional)
        .map_err(|e| Error::Invalid {
            what: "planned ruleset",
            detail: format!("the kernel refuses the planned transaction: {e}"),
        })?;
    let mut after = Ruleset::dump(&mut sock, &DumpFilter::all())?;
    // Surviving rules get their live handles back; added rules have none.
    let back: HashMap<(Family, String, u64), u64> = forward
        .iter()
        .map(|((f, t, live_h), copy_h)| ((*f, t.clone(), *copy_h), *live_h))
        .collect();
    // A rule survives when its handle existed before in the same table
    // instance: a table the batch deleted and recreated restarts its
    // handles, so equal numbers there are new rules.
    let table_handle = |rs: &Ruleset, f: Family, t: &str| rs.table(f, t).and_then(|t| t.handle);
    let existed: std::collections::HashSet<(Family, String, u64)> = before
        .rules
        .iter()
        .filter_map(|r| r.handle.map(|h| (r.family, r.table.clone(), h)))
        .collect();
    let mut same_instance: HashMap<(Family, String), bool> = HashMap::new();
    for t in &after.tables {
        let same = table_handle(&before, t.family, &t.name).is_some()
            && table_handle(&before, t.family, &t.name) == t.handle;
        same_instance.insert((t.family, t.name.clone()), same);
    }
    for r in &mut after.rules {
        if let Some(h) = r.handle {
            let key = (r.family, r.table.clone(), h);
            let same = same_instance
                .get(&(r.family, r.table.clone()))
                .copied()
                .unwrap_or(false);
            r.handle = if same && existed.contains(&key) {
                back.get(&key).copied()
            } else {
                None
            };
        }
    }
    Ok(after)
}

/// The ruleset `tx` would leave when committed on top of `live` (a full
/// dump, sets and elements included), built in a throwaway network
/// namespace on a helper thread; `live` itself is not touched. The
/// result keeps `live.genid`.
pub fn planned_ruleset(live: &Ruleset, tx: &Transaction) -> Result<Ruleset> {
    let mut touched: Vec<(Family, String)> = Vec::new();
    for op in tx.ops() {
        let t = op_table(op).ok_or_else(|| Error::Invalid {
            what: "planned ruleset",
            detail: "the transaction holds a raw message whose effect cannot be planned".into(),
        })?;
        if !touched.contains(&t) {
            touched.push(t);
        }
    }
    let planned = std::thread::scope(|s| {
        s.spawn(|| {
            enter_new_netns()?;
            build_in_fresh_netns(live, tx, &touched)
        })
        .join()
        .map_err(|_| Error::Invalid {
            what: "planned ruleset",
            detail: "the helper thread panicked".into(),
        })?
    })?;
    let is_touched = |f: Family, t: &str| touched.iter().any(|(tf, tn)| *tf == f && tn == t);
    let mut out = Ruleset {
        genid: live.genid,
        ..Default::default()
    };
    for t in &live.tables {
        if !is_touched(t.family, &t.name) {
            out.tables.push(t.clone());
        } else if let Some(p) = planned.table(t.family, &t.name) {
            out.tables.push(p.clone());
        }
    }
    for t in &planned.tables {
        if is_touched(t.family, &t.name) && live.table(t.family, &t.name).is_none() {
            out.tables.push(t.clone());
        }
    }
    macro_rules! merge {
        ($field:ident) => {
            out.$field = live
                .$field
                .iter()
                .filter(|x| !is_touched(x.family, &x.table))
                .chain(
                    planned
                        .$field
                        .iter()
                        .filter(|x| is_touched(x.family, &x.table)),
                )
                .cloned()
                .collect();
        };
    }
    merge!(chains);
    merge!(rules);
    merge!(sets);
    merge!(elements);
    merge!(objects);
    merge!(flowtables);
    Ok(out)
}
