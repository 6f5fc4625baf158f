//! Loading libnftables JSON (what `nft -j list ruleset` prints, or a
//! script of `add`/`create`/`insert`/`replace`/`delete`/`flush` commands)
//! into ONE [`Transaction`]: atomic, and generation-checked when
//! committed. `--check` is [`Transaction::check`].
//!
//! Operations are ordered by dependency, unlike `nft -j -f`: within each
//! run of creating commands (between two `delete`/`flush` commands, which
//! stay where they are), tables come first, then chains, then sets,
//! maps, objects and flowtables, then elements, then rules. So a listing
//! whose map refers to a chain listed after it loads (nft rejects it).
//!
//! Errors name the JSON path of the offending value
//! (`nftables[12].add.rule.expr[3]`) and what was expected; no input
//! panics (depth is bounded, numbers are range-checked).

mod objects;
mod rule;

use std::fmt;

use serde_json::Value;

use crate::engine::{Op, Transaction};

/// Deepest nesting of JSON the loader accepts (serde_json itself stops
/// at 128).
pub const MAX_DEPTH: usize = 64;

/// Why a JSON ruleset could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// JSON path of the offending value (`nftables[3].add.rule.expr[1]`).
    pub path: String,
    /// What was expected there, or what is wrong.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for LoadError {}

/// A JSON path under construction.
#[derive(Debug, Clone)]
pub(crate) struct Path(String);

impl Path {
    fn root() -> Self {
        Path(String::new())
    }

    pub(crate) fn key(&self, k: &str) -> Path {
        if self.0.is_empty() {
            Path(k.to_string())
        } else if k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            Path(format!("{}.{k}", self.0))
        } else {
            Path(format!("{}[{k:?}]", self.0))
        }
    }

    pub(crate) fn idx(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }

    pub(crate) fn err(&self, msg: impl Into<String>) -> LoadError {
        LoadError {
            path: self.0.clone(),
            message: msg.into(),
        }
    }
}

/// Result of the loader's steps.
pub(crate) type LResult<T> = std::result::Result<T, LoadError>;

/// Loads libnftables JSON into a transaction. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct Loader {
    _private: (),
}

/// The command an object appears under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmd {
    Add,
    Create,
    Insert,
    Replace,
    Delete,
    Flush,
}

/// Dependency phase of a creating operation.
fn phase(op: &Op) -> u8 {
    match op {
        Op::AddTable(_) | Op::CreateTable(_) => 0,
        Op::AddChain(_) | Op::CreateChain(_) => 1,
        Op::AddSet(s) | Op::CreateSet(s) if !s.is_anonymous() => 2,
        Op::AddObject(_) | Op::CreateObject(_) | Op::AddFlowtable(_) | Op::CreateFlowtable(_) => 2,
        Op::AddElements(l) | Op::CreateElements(l) if l.set_id.is_none() => 3,
        _ => 4,
    }
}

fn is_barrier(op: &Op) -> bool {
    matches!(
        op,
        Op::DeleteTable { .. }
            | Op::FlushTable { .. }
            | Op::DeleteChain { .. }
            | Op::FlushChain { .. }
            | Op::DeleteRule { .. }
            | Op::DeleteSet { .. }
            | Op::DeleteElements(_)
            | Op::FlushSet { .. }
            | Op::DeleteObject { .. }
            | Op::DeleteFlowtable { .. }
    )
}

impl Loader {
    /// A loader with the default limits.
    pub fn new() -> Self {
        Loader::default()
    }

    /// Parses `text` and builds the transaction.
    pub fn load(&self, text: &str) -> LResult<Transaction> {
        let v: Value = serde_json::from_str(text).map_err(|e| LoadError {
            path: String::new(),
            message: format!("not valid JSON: {e}"),
        })?;
        self.load_value(&v)
    }

    /// Builds the transaction from parsed JSON.
    pub fn load_value(&self, v: &Value) -> LResult<Transaction> {
        check_depth(v, 0, &Path::root())?;
        let root = Path::root();
        let list = v
            .as_object()
            .and_then(|o| o.get("nftables"))
            .ok_or_else(|| root.err("expected an object {\"nftables\": [...]}"))?;
        let base = root.key("nftables");
        let items = list
            .as_array()
            .ok_or_else(|| base.err("expected an array of commands and objects"))?;
        let mut tx = Transaction::new();
        let mut sets = objects::Sets::new();
        // Each item gives one or more ops; each op carries its group
        // (a run between barriers) and the group-local sort key.
        let mut groups: Vec<Vec<(u8, Op)>> = vec![Vec::new()];
        for (i, item) in items.iter().enumerate() {
            let p = base.idx(i);
            let obj = item
                .as_object()
                .ok_or_else(|| p.err("expected an object with one key"))?;
            if obj.len() != 1 {
                return Err(p.err(format!(
                    "expected an object with exactly one key, found {}",
                    obj.len()
                )));
            }
            let Some((key, inner)) = obj.iter().next() else {
                return Err(p.err("expected an object with one key"));
            };
            let (cmd, target, tp) = match key.as_str() {
                "metainfo" => continue,
                "add" => (Cmd::Add, inner, p.key("add")),
                "create" => (Cmd::Create, inner, p.key("create")),
                "insert" => (Cmd::Insert, inner, p.key("insert")),
                "replace" => (Cmd::Replace, inner, p.key("replace")),
                "delete" | "destroy" => (Cmd::Delete, inner, p.key(key)),
                "flush" => (Cmd::Flush, inner, p.key("flush")),
                "list" | "reset" | "rename" => {
                    return Err(p.err(format!(
                        "the {key:?} command is not supported by the loader"
                    )))
                }
                _ => (Cmd::Add, item, p.clone()),
            };
            let tobj = target
                .as_object()
                .ok_or_else(|| tp.err("expected an object such as {\"table\": {...}}"))?;
            if tobj.len() != 1 {
                return Err(tp.err(format!(
                    "expected exactly one object kind, found {} keys",
                    tobj.len()
                )));
            }
            let Some((kind, body)) = tobj.iter().next() else {
                return Err(tp.err("expected one object kind"));
            };
            let op_path = tp.key(kind);
            let ops = objects::object_ops(&mut tx, &mut sets, cmd, kind, body, &op_path)?;
            for op in ops {
                if is_barrier(&op) {
                    groups.push(vec![(0, op)]);
                    groups.push(Vec::new());
                } else {
                    let ph = phase(&op);
                    if let Some(g) = groups.last_mut() {
                        g.push((ph, op));
                    }
                }
            }
        }
        mark_dynamic_sets(&mut groups);
        for mut g in groups {
            // Stable: keeps the script order within a phase (rule order,
            // anonymous sets right before their rule).
            g.sort_by_key(|(ph, _)| *ph);
            for (_, op) in g {
                tx.push(op);
            }
        }
        Ok(tx)
    }
}

/// nft gives every set a rule updates from the packet path (`add @s {…}`)
/// the `dynamic` flag (`NFT_SET_EVAL`); nft 1.0.6's JSON does not print
/// it, so the loader restores it the same way.
fn mark_dynamic_sets(groups: &mut [Vec<(u8, Op)>]) {
    let mut targets = Vec::new();
    for (_, op) in groups.iter().flatten() {
        if let Op::AddRule(r) | Op::InsertRule(r) | Op::ReplaceRule(r) = op {
            for e in &r.exprs {
                if let crate::nft::Expr::Dynset(d) = e {
                    targets.push((r.family, r.table.clone(), d.set_name.clone()));
                }
            }
        }
    }
    for (_, op) in groups.iter_mut().flatten() {
        if let Op::AddSet(s) | Op::CreateSet(s) = op {
            if targets
                .iter()
                .any(|(f, t, n)| *f == s.family && *t == s.table && *n == s.name)
            {
                s.flags = Some(s.flags() | crate::nft::SetFlags::EVAL);
            }
        }
    }
}

/// Loads libnftables JSON into one transaction (see [`Loader`]).
pub fn load_json(text: &str) -> LResult<Transaction> {
    Loader::new().load(text)
}

fn check_depth(v: &Value, depth: usize, p: &Path) -> LResult<()> {
    if depth > MAX_DEPTH {
        return Err(p.err(format!("nesting deeper than {MAX_DEPTH} levels")));
    }
    match v {
        Value::Array(a) => a.iter().try_for_each(|x| check_depth(x, depth + 1, p)),
        Value::Object(o) => o.values().try_for_each(|x| check_depth(x, depth + 1, p)),
        _ => Ok(()),
    }
}

// Small typed accessors shared by the submodules.

pub(crate) fn obj<'a>(v: &'a Value, p: &Path) -> LResult<&'a serde_json::Map<String, Value>> {
    v.as_object().ok_or_else(|| p.err("expected an object"))
}

pub(crate) fn req<'a>(
    o: &'a serde_json::Map<String, Value>,
    k: &str,
    p: &Path,
) -> LResult<&'a Value> {
    o.get(k).ok_or_else(|| p.err(format!("missing key {k:?}")))
}

pub(crate) fn string(v: &Value, p: &Path) -> LResult<String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| p.err("expected a string"))
}

pub(crate) fn req_str(o: &serde_json::Map<String, Value>, k: &str, p: &Path) -> LResult<String> {
    string(req(o, k, p)?, &p.key(k))
}

pub(crate) fn opt_str(
    o: &serde_json::Map<String, Value>,
    k: &str,
    p: &Path,
) -> LResult<Option<String>> {
    o.get(k).map(|v| string(v, &p.key(k))).transpose()
}

pub(crate) fn uint(v: &Value, max: u64, p: &Path) -> LResult<u64> {
    match v.as_u64() {
        Some(n) if n <= max => Ok(n),
        _ => Err(p.err(format!("expected an integer from 0 to {max}"))),
    }
}

pub(crate) fn opt_uint(
    o: &serde_json::Map<String, Value>,
    k: &str,
    max: u64,
    p: &Path,
) -> LResult<Option<u64>> {
    o.get(k).map(|v| uint(v, max, &p.key(k))).transpose()
}

pub(crate) fn int(v: &Value, min: i64, max: i64, p: &Path) -> LResult<i64> {
    match v.as_i64() {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(p.err(format!("expected an integer from {min} to {max}"))),
    }
}

/// Rejects keys outside `allowed`.
pub(crate) fn known_keys(
    o: &serde_json::Map<String, Value>,
    allowed: &[&str],
    p: &Path,
) -> LResult<()> {
    for k in o.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(p.key(k).err(format!(
                "unknown key {k:?} (expected one of {})",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}
