//! YAML front end: text → located [`Node`] tree, through serde-saphyr.
//!
//! serde-saphyr is used as a pure event-to-serde layer: we deserialise into a
//! generic value whose every node is wrapped in `Spanned`, so each key and value
//! keeps its line and column. Parser options are chosen for a security policy:
//! YAML 1.2 booleans only (`yes`/`on` stay strings and are rejected where a
//! boolean is expected), leading-zero numbers stay strings (`022` is not
//! silently 22 or octal 18), unknown tags are refused, and alias expansion is
//! capped so an anchor/alias bomb fails in milliseconds.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{
    budget::BudgetBreach, DuplicateKeyPolicy, Error as YamlError, MessageFormatter,
    NonFiniteFloatPolicy, Spanned,
};

use super::error::{PolicyError, PolicyErrorKind};
use super::node::{shorten, Key, Node, NodeKind, Pos};

/// Nesting deeper than this is refused (a policy needs 5 levels).
pub(crate) const MAX_DEPTH: usize = 32;
/// YAML nodes (scalars + collections) one file may hold, after alias expansion.
pub(crate) const MAX_NODES: usize = 200_000;
/// Alias (`*name`) uses one file may hold.
pub(crate) const MAX_ALIASES: usize = 1_000;
/// Parser events replayed by all alias uses together, and events recorded
/// into anchors: the "billion laughs" cap (a policy needs a few hundred).
pub(crate) const MAX_ALIAS_REPLAYED_EVENTS: usize = 20_000;

/// Parses one YAML document into a located tree.
pub(crate) fn parse(text: &str, file: &str) -> Result<Node, PolicyError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_nodes: MAX_NODES,
            max_aliases: MAX_ALIASES,
            max_anchors: MAX_ALIASES,
            max_recorded_anchor_events: MAX_ALIAS_REPLAYED_EVENTS,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_REPLAYED_EVENTS,
        },
        // We detect duplicates ourselves so YAML and JSON report them alike,
        // naming both places.
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        non_finite_float_policy: NonFiniteFloatPolicy::PassThrough,
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        reject_unsupported_tags: true,
        with_snippet: false,
    };
    let value: Spanned<YamlValue> = serde_saphyr::from_str_with_options(text, options)
        .map_err(|err| convert_error(&err, file))?;
    convert(value, text, file)
}

/// A YAML value with its children located; turned into a [`Node`] by `convert`.
enum YamlValue {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<YamlValue>>),
    Map(Vec<(Spanned<YamlValue>, Spanned<YamlValue>)>),
}

struct YamlValueVisitor;

impl<'de> Visitor<'de> for YamlValueVisitor {
    type Value = YamlValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E>(self) -> Result<YamlValue, E> {
        Ok(YamlValue::Null)
    }
    fn visit_none<E>(self) -> Result<YamlValue, E> {
        Ok(YamlValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<YamlValue, D::Error> {
        YamlValue::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<YamlValue, E> {
        Ok(YamlValue::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<YamlValue, E> {
        Ok(YamlValue::Int(i128::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<YamlValue, E> {
        Ok(YamlValue::Int(i128::from(v)))
    }
    fn visit_i128<E>(self, v: i128) -> Result<YamlValue, E> {
        Ok(YamlValue::Int(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<YamlValue, E> {
        match i128::try_from(v) {
            Ok(v) => Ok(YamlValue::Int(v)),
            Err(_) => Ok(YamlValue::Float(f64::INFINITY)),
        }
    }
    fn visit_f64<E>(self, v: f64) -> Result<YamlValue, E> {
        Ok(YamlValue::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<YamlValue, E> {
        Ok(YamlValue::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<YamlValue, E> {
        Ok(YamlValue::Str(v))
    }
    fn visit_bytes<E: serde::de::Error>(self, _v: &[u8]) -> Result<YamlValue, E> {
        Err(E::custom(
            "binary (!!binary) values are not allowed in a policy",
        ))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<YamlValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(YamlValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YamlValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(YamlValue::Map(entries))
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, _data: A) -> Result<YamlValue, A::Error> {
        Err(A::Error::custom(
            "tagged values are not allowed in a policy",
        ))
    }
}

impl<'de> Deserialize<'de> for YamlValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(YamlValueVisitor)
    }
}

fn pos_of<T>(spanned: &Spanned<T>) -> Pos {
    Pos::new(spanned.referenced.line(), spanned.referenced.column())
}

/// The exact source spelling of a scalar, when the parser could tell where it is.
fn source_text<'t, T>(spanned: &Spanned<T>, text: &'t str) -> Option<&'t str> {
    let span = spanned.referenced.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    let raw = text.get(start..start.checked_add(len)?)?;
    (!raw.is_empty()).then_some(raw)
}

fn convert(value: Spanned<YamlValue>, text: &str, file: &str) -> Result<Node, PolicyError> {
    let pos = pos_of(&value);
    let raw = source_text(&value, text).map(str::to_string);
    let kind = match value.value {
        YamlValue::Null => NodeKind::Null,
        YamlValue::Bool(b) => NodeKind::Bool(b),
        YamlValue::Int(i) => NodeKind::Int(i, raw.unwrap_or_else(|| i.to_string())),
        YamlValue::Float(f) => NodeKind::Float(raw.unwrap_or_else(|| f.to_string())),
        YamlValue::Str(s) => NodeKind::Str(s),
        YamlValue::Seq(items) => NodeKind::Seq(
            items
                .into_iter()
                .map(|item| convert(item, text, file))
                .collect::<Result<_, _>>()?,
        ),
        YamlValue::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (key, value) in entries {
                let key_pos = pos_of(&key);
                let key_node = convert(key, text, file)?;
                let NodeKind::Str(name) = key_node.kind else {
                    return Err(PolicyError::at(
                        file,
                        key_pos,
                        "",
                        PolicyErrorKind::WrongType,
                        format!(
                            "mapping keys must be strings, found {}",
                            key_node.describe()
                        ),
                    ));
                };
                out.push((Key { name, pos: key_pos }, convert(value, text, file)?));
            }
            NodeKind::Map(out)
        }
    };
    Ok(Node { pos, kind })
}

/// Strips the wrappers serde-saphyr adds for snippets and alias locations.
fn original_error(mut err: &YamlError) -> &YamlError {
    while let YamlError::AliasError { error, .. } | YamlError::WithSnippet { error, .. } = err {
        err = error;
    }
    err
}

fn convert_error(err: &YamlError, file: &str) -> PolicyError {
    let pos = err
        .location()
        .map(|loc| Pos::new(loc.line(), loc.column()))
        .filter(|pos| pos.line > 0)
        .unwrap_or(Pos::new(1, 1));
    let bomb = format!(
        "YAML aliases expand to more than {MAX_ALIAS_REPLAYED_EVENTS} parser events: \
         anchor/alias expansion (\"billion laughs\") refused"
    );
    let (kind, message) = match original_error(err) {
        YamlError::Budget { breach, .. } => {
            let message = match breach {
                BudgetBreach::Nodes { .. } => format!(
                    "the document has more than {MAX_NODES} YAML nodes (after alias expansion); refused"
                ),
                BudgetBreach::Depth { .. } => {
                    format!("nesting deeper than {MAX_DEPTH} levels; refused")
                }
                BudgetBreach::Aliases { .. } | BudgetBreach::Anchors { .. } => format!(
                    "more than {MAX_ALIASES} YAML anchors or aliases; refused"
                ),
                BudgetBreach::AliasAnchorRatio { .. }
                | BudgetBreach::RecordedAnchorEvents { .. }
                | BudgetBreach::RecordedAnchorBytes { .. } => bomb,
                other => format!("YAML parser limit exceeded ({other:?}); refused"),
            };
            (PolicyErrorKind::ResourceLimit, message)
        }
        YamlError::AliasReplayLimitExceeded { .. }
        | YamlError::AliasExpansionLimitExceeded { .. }
        | YamlError::AliasReplayStackDepthExceeded { .. }
        | YamlError::AliasReplayCounterOverflow { .. } => (PolicyErrorKind::ResourceLimit, bomb),
        YamlError::MultipleDocuments { .. } => (
            PolicyErrorKind::Syntax,
            "a second YAML document starts here; a policy file holds exactly one document"
                .to_string(),
        ),
        original => {
            let text: Cow<'_, str> = serde_saphyr::DefaultMessageFormatter.format_message(original);
            (
                PolicyErrorKind::Syntax,
                format!("invalid YAML: {}", shorten(&text)),
            )
        }
    };
    PolicyError::at(file, pos, "", kind, message)
}
