//! The ruleset in the libnftables JSON schema, as `nft -j list ruleset`
//! (nft 1.0.6) prints it: `{"nftables": [metainfo, then per table: the
//! table, its stateful objects, its named sets and maps, its flowtables,
//! its chains, its rules]}`.
//!
//! Rules go through a small statement tree ([`stmt::Stmt`]) built by
//! [`delinearize::delinearize`] from the expressions, then to JSON; the
//! loader ([`crate::engine::load`]) reads the same schema back.

pub mod delinearize;
pub mod fields;
pub mod object;
pub mod set;
pub mod stmt;
pub mod types;

use serde_json::{json, Map, Value};

use crate::nft::{Chain, ChainPolicy, Family, Flowtable, Rule, Ruleset, Table, TableFlags};
use delinearize::{delinearize, RuleCtx};

/// The `metainfo` object nft 1.0.6 prints first.
pub fn metainfo() -> Value {
    json!({"metainfo": {
        "version": "1.0.6",
        "release_name": "Lester Gooch #5",
        "json_schema_version": 1,
    }})
}

/// Renders `rs` as `nft -j list ruleset` prints it.
pub fn nft_json(rs: &Ruleset) -> Value {
    let mut out = vec![metainfo()];
    for t in &rs.tables {
        out.push(table_json(t));
        for o in rs.objects_of(t.family, &t.name) {
            out.push(object::object_json(o));
        }
        for s in rs.sets_of(t.family, &t.name) {
            if !s.is_anonymous() {
                out.push(set::set_json(rs, s));
            }
        }
        for f in rs.flowtables_of(t.family, &t.name) {
            out.push(flowtable_json(f));
        }
        let chains: Vec<&Chain> = rs.chains_of(t.family, &t.name).collect();
        for c in &chains {
            out.push(chain_json(c));
        }
        for c in &chains {
            for r in rs.rules_of(t.family, &t.name, &c.name) {
                out.push(rule_json(rs, r));
            }
        }
    }
    json!({ "nftables": out })
}

/// [`nft_json`] as compact text (nft prints it on one line).
pub fn to_string(rs: &Ruleset) -> String {
    nft_json(rs).to_string()
}

/// nft 1.0.6 prints no table comment in JSON (nor chain comments).
fn table_json(t: &Table) -> Value {
    let mut m = Map::new();
    m.insert("family".into(), json!(t.family.name()));
    m.insert("name".into(), json!(t.name));
    m.insert("handle".into(), json!(t.handle.unwrap_or(0)));
    let f = t.flags.unwrap_or_default();
    let mut flags = Vec::new();
    if f.contains(TableFlags::DORMANT) {
        flags.push("dormant");
    }
    if f.contains(TableFlags::OWNER) {
        flags.push("owner");
    }
    if f.contains(TableFlags::PERSIST) {
        flags.push("persist");
    }
    if !flags.is_empty() {
        m.insert(
            "flags".into(),
            if flags.len() == 1 {
                json!(flags[0])
            } else {
                json!(flags)
            },
        );
    }
    json!({ "table": m })
}

fn chain_json(c: &Chain) -> Value {
    let mut m = Map::new();
    m.insert("family".into(), json!(c.family.name()));
    m.insert("table".into(), json!(c.table));
    m.insert("name".into(), json!(c.name));
    m.insert("handle".into(), json!(c.handle.unwrap_or(0)));
    if let (Some(h), Some(kind)) = (&c.hook, c.hook_kind()) {
        m.insert(
            "type".into(),
            json!(c.chain_type.clone().unwrap_or_else(|| "filter".into())),
        );
        // nft 1.0.6 lists no `dev` of a netdev base chain (it prints the
        // devices only of chains it parsed, never of listed ones).
        m.insert("hook".into(), json!(kind.name()));
        m.insert("prio".into(), json!(h.priority));
        let policy = match c.policy.unwrap_or(ChainPolicy::Accept) {
            ChainPolicy::Accept => json!("accept"),
            ChainPolicy::Drop => json!("drop"),
            ChainPolicy::Other(n) => json!(n),
        };
        m.insert("policy".into(), policy);
    }
    json!({ "chain": m })
}

fn flowtable_json(f: &Flowtable) -> Value {
    let mut m = Map::new();
    m.insert("family".into(), json!(f.family.name()));
    m.insert("name".into(), json!(f.name));
    m.insert("table".into(), json!(f.table));
    m.insert("handle".into(), json!(f.handle.unwrap_or(0)));
    m.insert("hook".into(), json!("ingress"));
    m.insert("prio".into(), json!(f.priority().unwrap_or(0)));
    let devs = f.sorted_devices();
    if devs.len() == 1 {
        m.insert("dev".into(), json!(devs[0]));
    } else if !devs.is_empty() {
        m.insert("dev".into(), json!(devs));
    }
    json!({ "flowtable": m })
}

/// `{"rule": …}` for one rule.
pub fn rule_json(rs: &Ruleset, r: &Rule) -> Value {
    let ctx = RuleCtx {
        family: r.family,
        table: &r.table,
        rs,
    };
    let stmts = delinearize(&r.exprs, &ctx);
    let mut m = Map::new();
    m.insert("family".into(), json!(r.family.name()));
    m.insert("table".into(), json!(r.table));
    m.insert("chain".into(), json!(r.chain));
    m.insert("handle".into(), json!(r.handle.unwrap_or(0)));
    if let Some(c) = r.comment_text() {
        m.insert("comment".into(), json!(c));
    }
    m.insert(
        "expr".into(),
        Value::Array(stmts.iter().map(|s| s.to_json()).collect()),
    );
    json!({ "rule": m })
}

/// The family's JSON name (`ip`, `ip6`, `inet`, …).
pub fn family_name(f: Family) -> String {
    f.name()
}
