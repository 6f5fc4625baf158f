//! The located error every policy problem is reported as.

use std::fmt;

use super::node::Pos;

/// What class of problem a [`PolicyError`] is, for programs that branch on it
/// (the message is for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The file could not be read.
    Io,
    /// The file is over the size limit; nothing was parsed.
    TooLarge,
    /// The bytes are not UTF-8.
    NotUtf8,
    /// YAML or JSON syntax error (including several documents, trailing data).
    Syntax,
    /// Parser resource limit hit (alias expansion, nesting, node count).
    ResourceLimit,
    /// The file holds no document.
    Empty,
    /// A key the schema does not know.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A value of the wrong type (string instead of list, …).
    WrongType,
    /// A value of the right type that is not allowed (port 70000, bad CIDR, …).
    InvalidValue,
    /// `schema_version` names a version this build does not read.
    UnsupportedVersion,
    /// A key or value form that needs a newer minor version than the file declares.
    NeedsNewerVersion,
    /// Two rules (or two keys) that are the same.
    Duplicate,
}

/// A policy problem, located in the file. `Display` gives
/// `FILE:LINE:COLUMN: MESSAGE`, or `FILE: MESSAGE` when the problem concerns
/// the file as a whole (`line == 0`: unreadable, too large).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicyError {
    /// The file name as the caller gave it (or the origin name passed to
    /// [`Policy::from_str`](super::Policy::from_str)).
    pub file: String,
    /// 1-based line; 0 when the error concerns the whole file.
    pub line: u64,
    /// 1-based column, counted in characters; 0 when `line` is 0.
    pub column: u64,
    /// Where in the document: `inbound.rules[2].source` (rule indexes are
    /// 0-based); empty for the top level or the whole file.
    pub key_path: String,
    /// The class of problem.
    pub kind: PolicyErrorKind,
    /// The explanation: what was found and what was expected.
    pub message: String,
}

impl PolicyError {
    pub(crate) fn at(
        file: &str,
        pos: Pos,
        key_path: &str,
        kind: PolicyErrorKind,
        message: impl Into<String>,
    ) -> Self {
        PolicyError {
            file: file.to_string(),
            line: pos.line,
            column: pos.column,
            key_path: key_path.to_string(),
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn whole_file(
        file: &str,
        kind: PolicyErrorKind,
        message: impl Into<String>,
    ) -> Self {
        PolicyError::at(file, Pos::default(), "", kind, message)
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for PolicyError {}
