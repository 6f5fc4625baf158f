//! The declarative policy loader behind `nftguard plan --policy FILE`.
//!
//! A policy file is YAML or JSON following the seed's `schema_version: "2.0"`
//! schema, or its extension `"2.1"`. [`Policy::from_path`] reads, checks and
//! normalises it; every problem comes back as a [`PolicyError`] naming the
//! file, line, column and key path, e.g.
//! `policy.yaml:12:5: unknown key 'sorce' in inbound.rules[2] (did you mean 'source'?)`.
//!
//! # Format
//! A name ending in `.json` (any case) is read as JSON, `.yaml`/`.yml` as YAML.
//! Any other name: JSON when the first non-blank character (after an optional
//! UTF-8 byte-order mark) is `{` or `[`, YAML otherwise. JSON is read by a
//! strict RFC 8259 reader (no comments, trailing commas or trailing data).
//! YAML must be one document, YAML 1.2 booleans only (`yes`/`on` are strings),
//! no custom tags; anchors, aliases and `<<` merges are allowed but their
//! expansion is capped (see the limits below).
//!
//! # Schema
//! Top level: `schema_version` ("2.0" or "2.1", a quoted string), `inbound`,
//! `outbound`, `forward`, `icmp` required; `metadata`, `backend`, `logging`,
//! `validation` optional. `inbound`/`outbound`: `default` (deny|accept,
//! required), `rules` (list, optional). `forward`: `default`. `icmp`: `ipv4`,
//! `ipv6` (accept|deny). Rule: `proto`, `port`, `action` required; `source`,
//! `rate_limit`, `comment`, `backend_compat` optional; schema 2.1 adds
//! `destination` (outbound rules), `interface`, and port lists and ranges.
//! Unknown keys anywhere are errors.
//!
//! # Decisions
//! - **Host bits** after a prefix (`10.0.0.5/24`) are an error that proposes
//!   both readings; a bare address means one host (/32, /128).
//! - **`rate_limit` only on `accept` rules**: on a drop or reject rule, the
//!   packets over the rate would fall through to the chain default, which is
//!   the opposite of what a limit is for.
//! - **Duplicate rules** (same proto, ports, source, destination, interface and
//!   action after normalisation, in the same direction) are an error naming
//!   both rules: the second can never match.
//! - **IPv6 sources** are accepted in 2.0 (WORKFLOW.md: "v4 or v6").
//! - **`proto: any` with a port** means TCP and UDP on that port.
//! - **ICMP**: `proto: icmp`/`icmpv6` need `port: any`; an ICMP rule's
//!   addresses must be of its family.
//! - Rule indexes in messages and key paths are 0-based.
//! - `logging` and `validation` fields stay `None` when absent: the planner
//!   applies its defaults, so "not written" and "written false" differ.
//!
//! # Limits
//! Files over [`MAX_POLICY_BYTES`] (1 MiB) are refused before parsing.
//! Nesting over 32 levels, over 200,000 nodes, over 1,000 aliases or alias
//! expansion replaying over 20,000 parser events are refused.

mod error;
mod ipnet;
mod json;
mod node;
mod port;
mod rate;
mod rule;
mod schema;
mod suggest;
mod yaml;

use std::io::Read;
use std::path::Path;

pub use error::{PolicyError, PolicyErrorKind};
pub use ipnet::{IpNet, IpNetError};
pub use port::{PortRange, Ports};
pub use rate::{RateLimit, RateUnit};
pub use rule::{
    Action, Addresses, Backend, Proto, Rule, SourceLocation, RATE_LIMIT_COMMENT_SUFFIX,
};

/// Policy files larger than this are refused before parsing.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// The schema versions this build reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchemaVersion {
    /// "2.0", the seed's schema.
    V2_0,
    /// "2.1": port lists and ranges, `destination`, `interface`.
    V2_1,
}

impl SchemaVersion {
    /// The spelling in a policy file.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaVersion::V2_0 => "2.0",
            SchemaVersion::V2_1 => "2.1",
        }
    }
}

impl serde::Serialize for SchemaVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The default verdict of a direction (`default: deny|accept`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultVerdict {
    /// Drop what no rule accepts.
    Deny,
    /// Accept what no rule drops.
    Accept,
}

/// Optional descriptive fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Metadata {
    /// Policy name (shown by `plan` as the profile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// When it was last changed, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// Inbound or outbound traffic: a default verdict and rules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Direction {
    /// What happens to packets no rule matches.
    pub default: DefaultVerdict,
    /// Rules in file order.
    pub rules: Vec<Rule>,
}

/// Forwarded traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Forward {
    /// Default verdict for forwarded packets.
    pub default: DefaultVerdict,
}

/// Essential ICMP per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Icmp {
    /// Essential ICMP for IPv4.
    pub ipv4: DefaultVerdict,
    /// Essential ICMPv6 (without it neighbour discovery breaks).
    pub ipv6: DefaultVerdict,
}

/// Logging of dropped packets.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Logging {
    /// Log dropped packets.
    pub dropped: Option<bool>,
    /// Log rate (`N/sec|second|min|minute`).
    pub rate_limit: Option<RateLimit>,
    /// Log prefix, at most 32 bytes, no control characters.
    pub prefix: Option<String>,
}

/// Which verify checks the author requires (absent: the planner's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Validation {
    /// SSH must stay reachable.
    pub ssh_must_reachable: Option<bool>,
    /// Only the policy's ports may be exposed.
    pub intended_ports_only: Option<bool>,
    /// IPv6 exposure must match IPv4.
    pub ipv6_symmetric: Option<bool>,
    /// The rules must be persisted for boot.
    pub rules_persist_after_reboot: Option<bool>,
}

/// A validated, normalised declarative policy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Policy {
    /// The version the file declared.
    pub schema_version: SchemaVersion,
    /// Descriptive fields.
    pub metadata: Metadata,
    /// The backend the author asked for, if any.
    pub backend: Option<Backend>,
    /// Incoming traffic.
    pub inbound: Direction,
    /// Outgoing traffic.
    pub outbound: Direction,
    /// Forwarded traffic.
    pub forward: Forward,
    /// Essential ICMP.
    pub icmp: Icmp,
    /// Drop logging (absent: planner default).
    pub logging: Option<Logging>,
    /// Required checks (absent: planner default).
    pub validation: Option<Validation>,
}

/// The syntax a policy text is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyFormat {
    /// YAML (one document).
    Yaml,
    /// JSON (RFC 8259).
    Json,
}

impl PolicyFormat {
    /// Decides by the name's extension (`.json`; `.yaml`/`.yml`), else by the
    /// first non-blank character: `{` or `[` means JSON.
    pub fn detect(origin_name: &str, text: &str) -> PolicyFormat {
        let lower = origin_name.to_ascii_lowercase();
        if lower.ends_with(".json") {
            PolicyFormat::Json
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            PolicyFormat::Yaml
        } else {
            match text
                .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
                .chars()
                .next()
            {
                Some('{' | '[') => PolicyFormat::Json,
                _ => PolicyFormat::Yaml,
            }
        }
    }
}

impl Policy {
    /// Reads and validates a policy file. The size limit is checked before
    /// reading the content (and again while reading, for files that grow or
    /// lie about their size).
    pub fn from_path(path: &Path) -> Result<Policy, PolicyError> {
        let file = path.display().to_string();
        let io_error = |err: std::io::Error| {
            PolicyError::whole_file(&file, PolicyErrorKind::Io, format!("cannot read: {err}"))
        };
        let handle = std::fs::File::open(path).map_err(io_error)?;
        let meta = handle.metadata().map_err(io_error)?;
        if meta.is_dir() {
            return Err(PolicyError::whole_file(
                &file,
                PolicyErrorKind::Io,
                "cannot read: is a directory",
            ));
        }
        if meta.len() > MAX_POLICY_BYTES as u64 {
            return Err(too_large(&file, meta.len()));
        }
        let mut bytes = Vec::new();
        handle
            .take(MAX_POLICY_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        Policy::from_bytes(&bytes, &file)
    }

    /// Validates policy text; `origin_name` names it in errors and picks the
    /// format (see [`PolicyFormat::detect`]).
    #[allow(clippy::should_implement_trait)] // two arguments: not `FromStr`
    pub fn from_str(text: &str, origin_name: &str) -> Result<Policy, PolicyError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(too_large(origin_name, text.len() as u64));
        }
        let root = match PolicyFormat::detect(origin_name, text) {
            PolicyFormat::Json => json::parse(text, origin_name)?,
            PolicyFormat::Yaml => yaml::parse(text, origin_name)?,
        };
        schema::policy(&root, origin_name)
    }

    /// Validates policy bytes (must be UTF-8).
    pub fn from_bytes(bytes: &[u8], origin_name: &str) -> Result<Policy, PolicyError> {
        if bytes.len() > MAX_POLICY_BYTES {
            return Err(too_large(origin_name, bytes.len() as u64));
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Policy::from_str(text, origin_name),
            Err(err) => {
                let valid = bytes.get(..err.valid_up_to()).unwrap_or_default();
                let prefix = String::from_utf8_lossy(valid);
                let line = prefix.matches('\n').count() as u64 + 1;
                let column = prefix.rsplit('\n').next().unwrap_or("").chars().count() as u64 + 1;
                let byte = bytes.get(err.valid_up_to()).copied().unwrap_or(0);
                Err(PolicyError::at(
                    origin_name,
                    node::Pos::new(line, column),
                    "",
                    PolicyErrorKind::NotUtf8,
                    format!("the file is not valid UTF-8 (byte 0x{byte:02x})"),
                ))
            }
        }
    }

    /// The policy's display name: `metadata.name`, else `None`.
    pub fn name(&self) -> Option<&str> {
        self.metadata.name.as_deref()
    }
}

fn too_large(file: &str, size: u64) -> PolicyError {
    PolicyError::whole_file(
        file,
        PolicyErrorKind::TooLarge,
        format!(
            "the file is {size} bytes, over the {MAX_POLICY_BYTES}-byte (1 MiB) limit for policy files; refused before parsing"
        ),
    )
}
