//! `comment` match (`struct xt_comment_info { char comment[256]; }`).

use serde::{Deserialize, Serialize};

use super::layout::{save_string, Reader, Writer};

/// `XT_MAX_COMMENT_LEN`.
pub const COMMENT_LEN: usize = 256;

/// `-m comment --comment TEXT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Comment {
    /// The comment (at most 255 bytes).
    pub comment: String,
}

impl Comment {
    /// Decodes the 256-byte blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == COMMENT_LEN).then_some(())?;
        Some(Comment {
            comment: r.cstr(0, COMMENT_LEN)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(COMMENT_LEN)
            .cstr(0, COMMENT_LEN, &self.comment)
            .finish()
    }

    /// ` --comment TEXT` (libxt_comment `comment_save`).
    pub fn save(&self) -> String {
        format!(" --comment{}", save_string(&self.comment))
    }
}
