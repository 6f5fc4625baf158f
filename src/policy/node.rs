//! The located document tree both front ends (YAML, JSON) produce.
//!
//! The schema checks in `schema.rs` walk this tree instead of deserialising
//! straight into typed structs, because serde's derive gives neither the
//! position of every key and value nor "did you mean" suggestions, and the
//! YAML and JSON front ends must yield the very same messages.

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Pos {
    pub line: u64,
    pub column: u64,
}

impl Pos {
    pub fn new(line: u64, column: u64) -> Self {
        Pos { line, column }
    }
}

/// A mapping key: always a string (non-string keys are rejected by the front
/// ends with a located error).
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub name: String,
    pub pos: Pos,
}

/// One value of the document with its position.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
}

/// What a value is. Numbers keep their source spelling so messages quote
/// exactly what the author wrote (`0x16`, `22.0`, `1e400`).
#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    Null,
    Bool(bool),
    /// An integer that fits `i128`, with its spelling.
    Int(i128, String),
    /// Any other number (fraction, exponent, or too large), with its spelling.
    Float(String),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

impl Node {
    /// How the value is described in "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Null => "null".to_string(),
            NodeKind::Bool(b) => format!("boolean {b}"),
            NodeKind::Int(_, raw) | NodeKind::Float(raw) => format!("number {}", shorten(raw)),
            NodeKind::Str(s) => format!("string '{}'", shorten(s)),
            NodeKind::Seq(_) => "a list".to_string(),
            NodeKind::Map(_) => "a mapping".to_string(),
        }
    }
}

/// Quotes user text in a message: control characters escaped, long values cut,
/// so a hostile file cannot forge terminal output or flood the message.
pub(crate) fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut out = String::new();
    for (count, ch) in text.chars().enumerate() {
        if count == MAX_CHARS {
            out.push('…');
            break;
        }
        if ch.is_control() || matches!(ch, '\u{2028}' | '\u{2029}') {
            out.extend(ch.escape_default());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_escapes_and_cuts() {
        assert_eq!(shorten("a\nb\u{1b}"), "a\\nb\\u{1b}");
        let long = "x".repeat(100);
        assert_eq!(shorten(&long).chars().count(), 65);
    }
}
