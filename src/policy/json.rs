//! JSON front end: a small strict RFC 8259 reader producing the located
//! [`Node`] tree.
//!
//! Our own reader rather than serde_json because serde_json does not expose the
//! position of each value, and every policy error must name line and column.
//! It is strict: no comments, no trailing commas, no leading zeros, no raw
//! control characters in strings, unpaired surrogates rejected, nothing but
//! whitespace after the top-level value.

use super::error::{PolicyError, PolicyErrorKind};
use super::node::{Key, Node, NodeKind, Pos};
use super::yaml::{MAX_DEPTH, MAX_NODES};

/// Parses one JSON document into a located tree.
pub(crate) fn parse(text: &str, file: &str) -> Result<Node, PolicyError> {
    let mut reader = Reader {
        text,
        at: 0,
        line: 1,
        column: 1,
        file,
        depth: 0,
        nodes: 0,
    };
    // A UTF-8 byte-order mark is tolerated (RFC 8259 §8.1 allows ignoring it).
    if reader.peek() == Some('\u{feff}') {
        reader.bump();
    }
    reader.skip_whitespace();
    if reader.peek().is_none() {
        return Ok(Node {
            pos: reader.pos(),
            kind: NodeKind::Null,
        });
    }
    let root = reader.value()?;
    reader.skip_whitespace();
    if let Some(ch) = reader.peek() {
        return Err(reader.error(format!(
            "invalid JSON: unexpected {} after the end of the document",
            describe_char(ch)
        )));
    }
    Ok(root)
}

struct Reader<'t> {
    text: &'t str,
    /// Byte offset of the next character.
    at: usize,
    line: u64,
    column: u64,
    file: &'t str,
    depth: usize,
    nodes: usize,
}

fn describe_char(ch: char) -> String {
    if ch.is_control() {
        format!("character {:?}", ch)
    } else {
        format!("'{ch}'")
    }
}

impl Reader<'_> {
    fn pos(&self) -> Pos {
        Pos::new(self.line, self.column)
    }

    fn error(&self, message: String) -> PolicyError {
        PolicyError::at(self.file, self.pos(), "", PolicyErrorKind::Syntax, message)
    }

    fn peek(&self) -> Option<char> {
        self.text.get(self.at..)?.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let ch = self.peek()?;
        self.at += ch.len_utf8();
        if ch == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(ch)
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn expect_found(&self, expected: &str) -> PolicyError {
        match self.peek() {
            Some(ch) => self.error(format!(
                "invalid JSON: expected {expected}, found {}",
                describe_char(ch)
            )),
            None => self.error(format!(
                "invalid JSON: expected {expected}, found the end of the file"
            )),
        }
    }

    fn value(&mut self) -> Result<Node, PolicyError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(PolicyError::at(
                self.file,
                self.pos(),
                "",
                PolicyErrorKind::ResourceLimit,
                format!("the document has more than {MAX_NODES} JSON values; refused"),
            ));
        }
        let pos = self.pos();
        let kind = match self.peek() {
            Some('{') => self.nested(Self::object)?,
            Some('[') => self.nested(Self::array)?,
            Some('"') => NodeKind::Str(self.string()?),
            Some('-' | '0'..='9') => self.number()?,
            Some('t') => self.literal("true", NodeKind::Bool(true))?,
            Some('f') => self.literal("false", NodeKind::Bool(false))?,
            Some('n') => self.literal("null", NodeKind::Null)?,
            _ => return Err(self.expect_found("a value")),
        };
        Ok(Node { pos, kind })
    }

    fn nested(
        &mut self,
        parse: fn(&mut Self) -> Result<NodeKind, PolicyError>,
    ) -> Result<NodeKind, PolicyError> {
        if self.depth >= MAX_DEPTH {
            return Err(PolicyError::at(
                self.file,
                self.pos(),
                "",
                PolicyErrorKind::ResourceLimit,
                format!("nesting deeper than {MAX_DEPTH} levels; refused"),
            ));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    fn literal(&mut self, word: &str, kind: NodeKind) -> Result<NodeKind, PolicyError> {
        if self
            .text
            .get(self.at..)
            .is_some_and(|rest| rest.starts_with(word))
        {
            for _ in word.chars() {
                self.bump();
            }
            Ok(kind)
        } else {
            Err(self.expect_found("a value"))
        }
    }

    fn object(&mut self) -> Result<NodeKind, PolicyError> {
        self.bump(); // '{'
        let mut entries = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(NodeKind::Map(entries));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some('"') {
                return Err(self.expect_found("a string key"));
            }
            let key_pos = self.pos();
            let name = self.string()?;
            self.skip_whitespace();
            if self.peek() != Some(':') {
                return Err(self.expect_found("':' after the key"));
            }
            self.bump();
            self.skip_whitespace();
            let value = self.value()?;
            entries.push((Key { name, pos: key_pos }, value));
            self.skip_whitespace();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {
                    self.bump();
                    return Ok(NodeKind::Map(entries));
                }
                _ => return Err(self.expect_found("',' or '}'")),
            }
        }
    }

    fn array(&mut self) -> Result<NodeKind, PolicyError> {
        self.bump(); // '['
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(NodeKind::Seq(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => {
                    self.bump();
                    return Ok(NodeKind::Seq(items));
                }
                _ => return Err(self.expect_found("',' or ']'")),
            }
        }
    }

    fn string(&mut self) -> Result<String, PolicyError> {
        self.bump(); // '"'
        let mut out = String::new();
        loop {
            let Some(ch) = self.peek() else {
                return Err(self.error("invalid JSON: unterminated string".to_string()));
            };
            match ch {
                '"' => {
                    self.bump();
                    return Ok(out);
                }
                '\\' => {
                    self.bump();
                    let escaped = self.escape()?;
                    out.push(escaped);
                }
                c if u32::from(c) < 0x20 => {
                    return Err(self.error(format!(
                        "invalid JSON: raw control character {c:?} in a string (escape it)"
                    )));
                }
                c => {
                    self.bump();
                    out.push(c);
                }
            }
        }
    }

    fn escape(&mut self) -> Result<char, PolicyError> {
        let simple = match self.peek() {
            Some('"') => Some('"'),
            Some('\\') => Some('\\'),
            Some('/') => Some('/'),
            Some('b') => Some('\u{8}'),
            Some('f') => Some('\u{c}'),
            Some('n') => Some('\n'),
            Some('r') => Some('\r'),
            Some('t') => Some('\t'),
            Some('u') => None,
            _ => return Err(self.expect_found("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)")),
        };
        self.bump();
        if let Some(ch) = simple {
            return Ok(ch);
        }
        let escape_pos = self.pos();
        let high = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&high) {
            // A high surrogate must be followed by \u and a low surrogate.
            if self.peek() != Some('\\') {
                return Err(self.unpaired(escape_pos));
            }
            self.bump();
            if self.peek() != Some('u') {
                return Err(self.unpaired(escape_pos));
            }
            self.bump();
            let low = self.hex4()?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(self.unpaired(escape_pos));
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        char::from_u32(code).ok_or_else(|| self.unpaired(escape_pos))
    }

    fn unpaired(&self, pos: Pos) -> PolicyError {
        PolicyError::at(
            self.file,
            pos,
            "",
            PolicyErrorKind::Syntax,
            "invalid JSON: unpaired UTF-16 surrogate in a \\u escape",
        )
    }

    fn hex4(&mut self) -> Result<u32, PolicyError> {
        let mut code = 0u32;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| self.expect_found("4 hex digits after \\u"))?;
            self.bump();
            code = code * 16 + digit;
        }
        Ok(code)
    }

    fn digits(&mut self) -> usize {
        let mut count = 0;
        while matches!(self.peek(), Some('0'..='9')) {
            self.bump();
            count += 1;
        }
        count
    }

    fn number(&mut self) -> Result<NodeKind, PolicyError> {
        let start = self.at;
        if self.peek() == Some('-') {
            self.bump();
        }
        match self.peek() {
            Some('0') => {
                self.bump();
                if matches!(self.peek(), Some('0'..='9')) {
                    return Err(
                        self.error("invalid JSON: numbers cannot have leading zeros".to_string())
                    );
                }
            }
            Some('1'..='9') => {
                self.digits();
            }
            _ => return Err(self.expect_found("a digit")),
        }
        let mut integral = true;
        if self.peek() == Some('.') {
            integral = false;
            self.bump();
            if self.digits() == 0 {
                return Err(self.expect_found("a digit after '.'"));
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            integral = false;
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            if self.digits() == 0 {
                return Err(self.expect_found("a digit in the exponent"));
            }
        }
        let raw = self
            .text
            .get(start..self.at)
            .unwrap_or_default()
            .to_string();
        if integral {
            if let Ok(value) = raw.parse::<i128>() {
                return Ok(NodeKind::Int(value, raw));
            }
        }
        Ok(NodeKind::Float(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse(text, "p.json") {
            Ok(node) => panic!("accepted {text:?}: {node:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_values_with_positions() {
        let node = parse(
            "{\n  \"a\": [1, -2.5e3, \"x\\u00e9\\ud83d\\ude00\", true, null]\n}",
            "p.json",
        )
        .unwrap();
        let NodeKind::Map(entries) = node.kind else {
            panic!()
        };
        assert_eq!(entries[0].0.name, "a");
        assert_eq!(entries[0].0.pos, Pos::new(2, 3));
        let NodeKind::Seq(items) = &entries[0].1.kind else {
            panic!()
        };
        assert_eq!(items[1].pos, Pos::new(2, 12));
        assert!(matches!(&items[1].kind, NodeKind::Float(raw) if raw == "-2.5e3"));
        assert!(matches!(&items[2].kind, NodeKind::Str(s) if s == "xé😀"));
    }

    #[test]
    fn rejects_malformed_json() {
        assert_eq!(
            err("{\"a\": 1} x"),
            "p.json:1:10: invalid JSON: unexpected 'x' after the end of the document"
        );
        assert_eq!(
            err("{\"a\": 1,}"),
            "p.json:1:9: invalid JSON: expected a string key, found '}'"
        );
        assert_eq!(
            err("[01]"),
            "p.json:1:3: invalid JSON: numbers cannot have leading zeros"
        );
        assert_eq!(
            err("\"\\ud800\""),
            "p.json:1:4: invalid JSON: unpaired UTF-16 surrogate in a \\u escape"
        );
        assert_eq!(
            err("[1"),
            "p.json:1:3: invalid JSON: expected ',' or ']', found the end of the file"
        );
        assert_eq!(
            err("tru"),
            "p.json:1:1: invalid JSON: expected a value, found 't'"
        );
        assert_eq!(
            err("\"a\nb\""),
            "p.json:1:3: invalid JSON: raw control character '\\n' in a string (escape it)"
        );
        let deep = "[".repeat(40);
        assert_eq!(
            err(&deep),
            "p.json:1:33: nesting deeper than 32 levels; refused"
        );
    }
}
