//! The schema: walks the located tree, checks every key and value, and
//! builds the typed [`Policy`]. All messages are produced here, so YAML and
//! JSON policies get identical wording.

use std::collections::HashMap;

use super::error::{PolicyError, PolicyErrorKind};
use super::ipnet::IpNet;
use super::node::{shorten, Key, Node, NodeKind, Pos};
use super::port::{PortRange, Ports};
use super::rate::RateLimit;
use super::rule::{
    Action, Addresses, Backend, Proto, Rule, SourceLocation, RATE_LIMIT_COMMENT_SUFFIX,
};
use super::suggest::closest;
use super::{
    DefaultVerdict, Direction, Forward, Icmp, Logging, Metadata, Policy, SchemaVersion, Validation,
};
use crate::nft::rule::MAX_COMMENT_BYTES;

const TOP_KEYS: &[&str] = &[
    "schema_version",
    "metadata",
    "backend",
    "inbound",
    "outbound",
    "forward",
    "icmp",
    "logging",
    "validation",
];
const METADATA_KEYS: &[&str] = &["name", "description", "author", "last_modified"];
const DIRECTION_KEYS: &[&str] = &["default", "rules"];
const FORWARD_KEYS: &[&str] = &["default"];
const ICMP_KEYS: &[&str] = &["ipv4", "ipv6"];
const LOGGING_KEYS: &[&str] = &["dropped", "rate_limit", "prefix"];
const VALIDATION_KEYS: &[&str] = &[
    "ssh_must_reachable",
    "intended_ports_only",
    "ipv6_symmetric",
    "rules_persist_after_reboot",
];
const RULE_KEYS: &[&str] = &[
    "proto",
    "port",
    "action",
    "source",
    "rate_limit",
    "comment",
    "backend_compat",
    "destination",
    "interface",
];
/// Rule keys that exist only from schema 2.1 on.
const RULE_KEYS_2_1: &[&str] = &["destination", "interface"];
const VERDICT_NAMES: &[&str] = &["deny", "accept"];
const VERDICTS: &[DefaultVerdict] = &[DefaultVerdict::Deny, DefaultVerdict::Accept];
const PROTOS: &[Proto] = &[
    Proto::Tcp,
    Proto::Udp,
    Proto::Icmp,
    Proto::Icmpv6,
    Proto::Any,
];
const ACTIONS: &[Action] = &[Action::Accept, Action::Drop, Action::Reject];
const BACKENDS: &[Backend] = &[
    Backend::Auto,
    Backend::Nftables,
    Backend::Iptables,
    Backend::Ufw,
    Backend::Firewalld,
];
const COMPAT_BACKENDS: &[Backend] = &[
    Backend::Nftables,
    Backend::Iptables,
    Backend::Ufw,
    Backend::Firewalld,
];
const SUPPORTED: &str = "\"2.0\" and \"2.1\"";
const MAX_LOG_PREFIX_BYTES: usize = 32;
/// IFNAMSIZ (16) minus the terminating NUL.
const MAX_INTERFACE_BYTES: usize = 15;

/// Builds the policy from the document root.
pub(crate) fn policy(root: &Node, file: &str) -> Result<Policy, PolicyError> {
    let entries = match &root.kind {
        NodeKind::Map(entries) => entries,
        NodeKind::Null => {
            // Reported at 1:1 whatever the parser says (a comment-only file
            // would otherwise point past its last line).
            return Err(PolicyError::at(
                file,
                Pos::new(1, 1),
                "",
                PolicyErrorKind::Empty,
                "the policy is empty: expected a mapping with schema_version, inbound, outbound, forward and icmp",
            ));
        }
        _ => {
            return Err(PolicyError::at(
                file,
                root.pos,
                "",
                PolicyErrorKind::WrongType,
                format!(
                    "expected a mapping at the top level, found {}",
                    root.describe()
                ),
            ))
        }
    };
    // The version decides which keys exist, so it is read before anything else.
    let Some((_, version_node)) = entries.iter().find(|(key, _)| key.name == "schema_version")
    else {
        return Err(PolicyError::at(
            file,
            root.pos,
            "schema_version",
            PolicyErrorKind::MissingKey,
            format!("missing required key 'schema_version' at the top level (this nftguard reads {SUPPORTED})"),
        ));
    };
    let version = schema_version(version_node, file)?;
    Checker { file, version }.policy(root)
}

fn schema_version(node: &Node, file: &str) -> Result<SchemaVersion, PolicyError> {
    let path = "schema_version";
    let fail = |kind, message: String| Err(PolicyError::at(file, node.pos, path, kind, message));
    let NodeKind::Str(text) = &node.kind else {
        return fail(
            PolicyErrorKind::WrongType,
            format!(
                "schema_version: expected a quoted string such as \"2.0\", found {}",
                node.describe()
            ),
        );
    };
    match text.as_str() {
        "2.0" => return Ok(SchemaVersion::V2_0),
        "2.1" => return Ok(SchemaVersion::V2_1),
        _ => {}
    }
    let shown = shorten(text);
    let major = text
        .split_once('.')
        .filter(|(major, minor)| {
            let digits =
                |s: &str| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
            digits(major) && digits(minor)
        })
        .and_then(|(major, _)| major.parse::<u32>().ok());
    match major {
        None => fail(
            PolicyErrorKind::InvalidValue,
            format!("schema_version: '{shown}' is not a version such as \"2.0\"; this nftguard reads {SUPPORTED}"),
        ),
        Some(major) if major > 2 => fail(
            PolicyErrorKind::UnsupportedVersion,
            format!(
                "schema_version '{shown}' is not supported: major version {major} is newer than this nftguard, which reads {SUPPORTED}"
            ),
        ),
        Some(_) => fail(
            PolicyErrorKind::UnsupportedVersion,
            format!("schema_version '{shown}' is not supported: this nftguard reads {SUPPORTED}"),
        ),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn in_path(path: &str) -> String {
    if path.is_empty() {
        "at the top level".to_string()
    } else {
        format!("in {path}")
    }
}

/// The entries of one mapping, already checked for unknown and repeated keys.
struct Fields<'n> {
    pos: Pos,
    path: String,
    entries: &'n [(Key, Node)],
}

impl<'n> Fields<'n> {
    fn entry(&self, name: &str) -> Option<&'n (Key, Node)> {
        self.entries.iter().find(|(key, _)| key.name == name)
    }

    fn get(&self, name: &str) -> Option<&'n Node> {
        self.entry(name).map(|(_, node)| node)
    }
}

struct Checker<'f> {
    file: &'f str,
    version: SchemaVersion,
}

impl Checker<'_> {
    fn error(
        &self,
        pos: Pos,
        path: &str,
        kind: PolicyErrorKind,
        message: impl Into<String>,
    ) -> PolicyError {
        PolicyError::at(self.file, pos, path, kind, message)
    }

    fn wrong_type(&self, node: &Node, path: &str, expected: &str) -> PolicyError {
        self.error(
            node.pos,
            path,
            PolicyErrorKind::WrongType,
            format!("{path}: expected {expected}, found {}", node.describe()),
        )
    }

    fn invalid(&self, node: &Node, path: &str, problem: impl std::fmt::Display) -> PolicyError {
        self.error(
            node.pos,
            path,
            PolicyErrorKind::InvalidValue,
            format!("{path}: {problem}"),
        )
    }

    fn needs_2_1(&self, pos: Pos, path: &str, what: &str) -> PolicyError {
        self.error(
            pos,
            path,
            PolicyErrorKind::NeedsNewerVersion,
            format!(
                "{what} needs schema_version \"2.1\" (this file declares \"{}\")",
                self.version.as_str()
            ),
        )
    }

    /// Checks that `node` is a mapping whose keys are all in `allowed`, none
    /// repeated, and none of `newer` (2.1-only) under 2.0.
    fn fields<'n>(
        &self,
        node: &'n Node,
        path: &str,
        allowed: &[&str],
        newer: &[&str],
    ) -> Result<Fields<'n>, PolicyError> {
        let NodeKind::Map(entries) = &node.kind else {
            let what = if path.is_empty() {
                "the top level"
            } else {
                path
            };
            return Err(self.error(
                node.pos,
                path,
                PolicyErrorKind::WrongType,
                format!("{what}: expected a mapping, found {}", node.describe()),
            ));
        };
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        for (key, _) in entries {
            let key_path = join(path, &key.name);
            if let Some(first) = seen.get(key.name.as_str()) {
                return Err(self.error(
                    key.pos,
                    &key_path,
                    PolicyErrorKind::Duplicate,
                    format!(
                        "duplicate key '{}' {} (first at line {}, column {})",
                        shorten(&key.name),
                        in_path(path),
                        first.line,
                        first.column
                    ),
                ));
            }
            seen.insert(&key.name, key.pos);
            if newer.contains(&key.name.as_str()) && self.version < SchemaVersion::V2_1 {
                return Err(self.needs_2_1(
                    key.pos,
                    &key_path,
                    &format!("key '{}' {}", key.name, in_path(path)),
                ));
            }
            if !allowed.contains(&key.name.as_str()) {
                let hint = match closest(&key.name, allowed) {
                    Some(candidate) => format!(" (did you mean '{candidate}'?)"),
                    None => format!(" (expected one of: {})", allowed.join(", ")),
                };
                return Err(self.error(
                    key.pos,
                    &key_path,
                    PolicyErrorKind::UnknownKey,
                    format!(
                        "unknown key '{}' {}{hint}",
                        shorten(&key.name),
                        in_path(path)
                    ),
                ));
            }
        }
        Ok(Fields {
            pos: node.pos,
            path: path.to_string(),
            entries,
        })
    }

    fn require<'n>(
        &self,
        fields: &Fields<'n>,
        name: &str,
        hint: &str,
    ) -> Result<&'n Node, PolicyError> {
        fields.get(name).ok_or_else(|| {
            self.error(
                fields.pos,
                &join(&fields.path, name),
                PolicyErrorKind::MissingKey,
                format!(
                    "missing required key '{name}' {}{hint}",
                    in_path(&fields.path)
                ),
            )
        })
    }

    fn string<'n>(&self, node: &'n Node, path: &str) -> Result<&'n str, PolicyError> {
        match &node.kind {
            NodeKind::Str(s) => Ok(s),
            _ => Err(self.wrong_type(node, path, "a string")),
        }
    }

    fn boolean(&self, node: &Node, path: &str) -> Result<bool, PolicyError> {
        match node.kind {
            NodeKind::Bool(b) => Ok(b),
            _ => Err(self.wrong_type(node, path, "true or false")),
        }
    }

    fn choice<T: Copy>(
        &self,
        node: &Node,
        path: &str,
        names: &[&str],
        values: &[T],
    ) -> Result<T, PolicyError> {
        let NodeKind::Str(text) = &node.kind else {
            return Err(self.wrong_type(node, path, &format!("one of {}", names.join(", "))));
        };
        if let Some(index) = names.iter().position(|name| name == text) {
            if let Some(value) = values.get(index) {
                return Ok(*value);
            }
        }
        let hint = closest(text, names)
            .map(|c| format!(" (did you mean '{c}'?)"))
            .unwrap_or_default();
        Err(self.invalid(
            node,
            path,
            format!(
                "'{}' is not one of {}{hint}",
                shorten(text),
                names.join(", ")
            ),
        ))
    }

    /// A string of at most `max_bytes` bytes without control characters
    /// (they would corrupt `nft` text output and logs).
    fn short_text(
        &self,
        node: &Node,
        path: &str,
        what: &str,
        max_bytes: usize,
    ) -> Result<String, PolicyError> {
        let text = self.string(node, path)?;
        if text.len() > max_bytes {
            return Err(self.invalid(
                node,
                path,
                format!(
                    "{what} is {} bytes, over the {max_bytes}-byte limit",
                    text.len()
                ),
            ));
        }
        if let Some(ch) = text.chars().find(|c| c.is_control()) {
            return Err(self.invalid(
                node,
                path,
                format!(
                    "{what} contains the control character U+{:04X}",
                    u32::from(ch)
                ),
            ));
        }
        Ok(text.to_string())
    }

    fn policy(&self, root: &Node) -> Result<Policy, PolicyError> {
        let top = self.fields(root, "", TOP_KEYS, &[])?;
        let metadata = match top.get("metadata") {
            Some(node) => self.metadata(node)?,
            None => Metadata::default(),
        };
        let backend = top
            .get("backend")
            .map(|node| self.choice(node, "backend", Backend::NAMES, BACKENDS))
            .transpose()?;
        let inbound = self.direction(self.require(&top, "inbound", "")?, "inbound", false)?;
        let outbound = self.direction(self.require(&top, "outbound", "")?, "outbound", true)?;
        let forward_node = self.require(&top, "forward", "")?;
        let forward_fields = self.fields(forward_node, "forward", FORWARD_KEYS, &[])?;
        let forward = Forward {
            default: self.verdict(
                self.require(&forward_fields, "default", "")?,
                "forward.default",
            )?,
        };
        let icmp_node = self.require(&top, "icmp", "")?;
        let icmp_fields = self.fields(icmp_node, "icmp", ICMP_KEYS, &[])?;
        let icmp = Icmp {
            ipv4: self.verdict(self.require(&icmp_fields, "ipv4", "")?, "icmp.ipv4")?,
            ipv6: self.verdict(self.require(&icmp_fields, "ipv6", "")?, "icmp.ipv6")?,
        };
        let logging = top
            .get("logging")
            .map(|node| self.logging(node))
            .transpose()?;
        let validation = top
            .get("validation")
            .map(|node| self.validation(node))
            .transpose()?;
        Ok(Policy {
            schema_version: self.version,
            metadata,
            backend,
            inbound,
            outbound,
            forward,
            icmp,
            logging,
            validation,
        })
    }

    fn verdict(&self, node: &Node, path: &str) -> Result<DefaultVerdict, PolicyError> {
        self.choice(node, path, VERDICT_NAMES, VERDICTS)
    }

    fn metadata(&self, node: &Node) -> Result<Metadata, PolicyError> {
        let fields = self.fields(node, "metadata", METADATA_KEYS, &[])?;
        let text = |name: &str| -> Result<Option<String>, PolicyError> {
            fields
                .get(name)
                .map(|n| self.string(n, &join("metadata", name)).map(str::to_string))
                .transpose()
        };
        Ok(Metadata {
            name: text("name")?,
            description: text("description")?,
            author: text("author")?,
            last_modified: text("last_modified")?,
        })
    }

    fn logging(&self, node: &Node) -> Result<Logging, PolicyError> {
        let fields = self.fields(node, "logging", LOGGING_KEYS, &[])?;
        let dropped = fields
            .get("dropped")
            .map(|n| self.boolean(n, "logging.dropped"))
            .transpose()?;
        let rate_limit = fields
            .get("rate_limit")
            .map(|n| self.rate_limit(n, "logging.rate_limit", false))
            .transpose()?;
        let prefix = fields
            .get("prefix")
            .map(|n| self.short_text(n, "logging.prefix", "prefix", MAX_LOG_PREFIX_BYTES))
            .transpose()?;
        Ok(Logging {
            dropped,
            rate_limit,
            prefix,
        })
    }

    fn validation(&self, node: &Node) -> Result<Validation, PolicyError> {
        let fields = self.fields(node, "validation", VALIDATION_KEYS, &[])?;
        let flag = |name: &str| -> Result<Option<bool>, PolicyError> {
            fields
                .get(name)
                .map(|n| self.boolean(n, &join("validation", name)))
                .transpose()
        };
        Ok(Validation {
            ssh_must_reachable: flag("ssh_must_reachable")?,
            intended_ports_only: flag("intended_ports_only")?,
            ipv6_symmetric: flag("ipv6_symmetric")?,
            rules_persist_after_reboot: flag("rules_persist_after_reboot")?,
        })
    }

    fn rate_limit(
        &self,
        node: &Node,
        path: &str,
        allow_hour: bool,
    ) -> Result<RateLimit, PolicyError> {
        let NodeKind::Str(text) = &node.kind else {
            return Err(self.wrong_type(node, path, "a rate such as '10/minute'"));
        };
        RateLimit::parse(text, allow_hour).map_err(|problem| self.invalid(node, path, problem))
    }

    fn direction(&self, node: &Node, path: &str, outbound: bool) -> Result<Direction, PolicyError> {
        let fields = self.fields(node, path, DIRECTION_KEYS, &[])?;
        let default = self.verdict(
            self.require(&fields, "default", "")?,
            &join(path, "default"),
        )?;
        let rules_path = join(path, "rules");
        let mut rules = Vec::new();
        if let Some(list) = fields.get("rules") {
            let NodeKind::Seq(items) = &list.kind else {
                return Err(self.wrong_type(list, &rules_path, "a list of rules"));
            };
            // Identity of a rule for duplicate detection: everything that
            // decides which packets match and what happens to them.
            type Identity = (Proto, Ports, Addresses, Addresses, Option<String>, Action);
            let mut seen: HashMap<Identity, (usize, Pos)> = HashMap::new();
            for (index, item) in items.iter().enumerate() {
                let rule_path = format!("{rules_path}[{index}]");
                let rule = self.rule(item, &rule_path, outbound)?;
                let identity = (
                    rule.proto,
                    rule.ports.clone(),
                    rule.source.clone(),
                    rule.destination.clone(),
                    rule.interface.clone(),
                    rule.action,
                );
                if let Some((first, first_pos)) = seen.get(&identity) {
                    return Err(self.error(
                        item.pos,
                        &rule_path,
                        PolicyErrorKind::Duplicate,
                        format!(
                            "{rule_path}: duplicate rule: same proto, port, source and action as {rules_path}[{first}] (line {}, column {})",
                            first_pos.line, first_pos.column
                        ),
                    ));
                }
                seen.insert(identity, (index, item.pos));
                rules.push(rule);
            }
        }
        Ok(Direction { default, rules })
    }

    fn rule(&self, node: &Node, path: &str, outbound: bool) -> Result<Rule, PolicyError> {
        let fields = self.fields(node, path, RULE_KEYS, RULE_KEYS_2_1)?;
        if !outbound {
            if let Some((key, _)) = fields.entry("destination") {
                return Err(self.error(
                    key.pos,
                    &join(path, "destination"),
                    PolicyErrorKind::UnknownKey,
                    format!("key 'destination' in {path} is only allowed in outbound rules"),
                ));
            }
        }
        let proto_node = self.require(&fields, "proto", "")?;
        let proto = self.choice(proto_node, &join(path, "proto"), Proto::NAMES, PROTOS)?;
        let port_hint = if matches!(proto, Proto::Icmp | Proto::Icmpv6) {
            " (ICMP rules take port: any)"
        } else {
            ""
        };
        let port_node = self.require(&fields, "port", port_hint)?;
        let port_path = join(path, "port");
        let ports = self.ports(port_node, &port_path)?;
        let action_node = self.require(&fields, "action", "")?;
        let action = self.choice(action_node, &join(path, "action"), Action::NAMES, ACTIONS)?;
        let source = match fields.get("source") {
            Some(n) => self.addresses(n, &join(path, "source"))?,
            None => Addresses::Any,
        };
        let destination = match fields.get("destination") {
            Some(n) => self.addresses(n, &join(path, "destination"))?,
            None => Addresses::Any,
        };
        let interface = fields
            .get("interface")
            .map(|n| self.interface(n, &join(path, "interface")))
            .transpose()?;
        let rate_path = join(path, "rate_limit");
        let rate_limit = fields
            .get("rate_limit")
            .map(|n| self.rate_limit(n, &rate_path, true))
            .transpose()?;
        // The comment becomes the nft rule's comment; a rate-limited rule's
        // gets RATE_LIMIT_COMMENT_SUFFIX appended by the planner.
        let comment_path = join(path, "comment");
        let comment = fields
            .get("comment")
            .map(|n| self.short_text(n, &comment_path, "comment", MAX_COMMENT_BYTES))
            .transpose()?;
        let max_limited = MAX_COMMENT_BYTES - RATE_LIMIT_COMMENT_SUFFIX.len();
        if let (Some(text), Some(n), Some(_)) = (&comment, fields.get("comment"), rate_limit) {
            if text.len() > max_limited {
                return Err(self.invalid(
                    n,
                    &comment_path,
                    format!(
                        "comment is {} bytes, over the {max_limited}-byte limit of a rate-limited rule (nft allows {MAX_COMMENT_BYTES} bytes and the plan appends {RATE_LIMIT_COMMENT_SUFFIX:?})",
                        text.len()
                    ),
                ));
            }
        }
        let backend_compat = match fields.get("backend_compat") {
            Some(n) => self.backend_compat(n, &join(path, "backend_compat"))?,
            None => Vec::new(),
        };

        // Cross-field checks.
        if matches!(proto, Proto::Icmp | Proto::Icmpv6) && ports != Ports::Any {
            return Err(self.invalid(
                port_node,
                &port_path,
                format!(
                    "proto {} has no ports; use port: any (found {})",
                    proto.name(),
                    port_node.describe()
                ),
            ));
        }
        for (key, addresses) in [("source", &source), ("destination", &destination)] {
            let (want_v4, other) = match proto {
                Proto::Icmp => (true, "icmpv6"),
                Proto::Icmpv6 => (false, "icmp"),
                _ => continue,
            };
            if let Some(net) = addresses.first_not_family(want_v4) {
                let key_path = join(path, key);
                let node = fields.get(key).unwrap_or(node);
                let (own, theirs) = if want_v4 {
                    ("IPv4", "IPv6")
                } else {
                    ("IPv6", "IPv4")
                };
                return Err(self.invalid(
                    node,
                    &key_path,
                    format!(
                        "proto {} is {own}-only but '{net}' is {theirs} (use proto {other})",
                        proto.name()
                    ),
                ));
            }
        }
        if let (Some(_), Some(rate_node)) = (rate_limit, fields.get("rate_limit")) {
            if action != Action::Accept {
                let action_name = match action {
                    Action::Drop => "drop",
                    _ => "reject",
                };
                return Err(self.invalid(
                    rate_node,
                    &rate_path,
                    format!(
                        "rate_limit is only allowed on accept rules (this one is {action_name}): packets over the rate would fall through to the default policy"
                    ),
                ));
            }
        }
        Ok(Rule {
            proto,
            ports,
            action,
            source,
            destination,
            interface,
            rate_limit,
            comment,
            backend_compat,
            location: SourceLocation {
                line: node.pos.line,
                column: node.pos.column,
            },
        })
    }

    fn ports(&self, node: &Node, path: &str) -> Result<Ports, PolicyError> {
        const EXPECTED_2_0: &str = "a port number 1–65535 or 'any'";
        const EXPECTED_2_1: &str =
            "a port number 1–65535, a range such as '8000-8100', a list of those, or 'any'";
        let v2_1 = self.version >= SchemaVersion::V2_1;
        match &node.kind {
            NodeKind::Int(value, _) => PortRange::port_number(*value)
                .map(|port| Ports::Ranges(vec![PortRange::single(port)]))
                .map_err(|problem| self.invalid(node, path, problem)),
            NodeKind::Str(text) if text == "any" => Ok(Ports::Any),
            NodeKind::Str(text) if v2_1 => PortRange::parse(text)
                .map(|range| Ports::Ranges(vec![range]))
                .map_err(|problem| self.invalid(node, path, problem)),
            NodeKind::Str(text) if PortRange::parse(text).is_ok() => Err(self.needs_2_1(
                node.pos,
                path,
                &format!("{path}: the port string '{}'", shorten(text)),
            )),
            NodeKind::Seq(_) if !v2_1 => {
                Err(self.needs_2_1(node.pos, path, &format!("{path}: a port list")))
            }
            NodeKind::Seq(items) => {
                if items.is_empty() {
                    return Err(self.invalid(
                        node,
                        path,
                        "an empty port list matches nothing; list ports or write 'any'",
                    ));
                }
                let mut ranges = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let item_path = format!("{path}[{index}]");
                    let range = match &item.kind {
                        NodeKind::Int(value, _) => {
                            PortRange::port_number(*value).map(PortRange::single)
                        }
                        NodeKind::Str(text) if text == "any" => {
                            Err("'any' cannot be part of a port list; write port: any".to_string())
                        }
                        NodeKind::Str(text) => PortRange::parse(text),
                        _ => {
                            return Err(self.wrong_type(
                                item,
                                &item_path,
                                "a port number or a range such as '8000-8100'",
                            ))
                        }
                    };
                    ranges.push(range.map_err(|problem| self.invalid(item, &item_path, problem))?);
                }
                Ok(Ports::from_ranges(ranges))
            }
            _ => Err(self.wrong_type(node, path, if v2_1 { EXPECTED_2_1 } else { EXPECTED_2_0 })),
        }
    }

    fn network(&self, node: &Node, path: &str) -> Result<IpNet, PolicyError> {
        let text = self.string(node, path)?;
        IpNet::parse(text).map_err(|problem| {
            self.invalid(
                node,
                path,
                format!("invalid network '{}': {problem}", shorten(text)),
            )
        })
    }

    fn addresses(&self, node: &Node, path: &str) -> Result<Addresses, PolicyError> {
        const EXPECTED: &str = "'any', a network such as '10.0.0.0/8', or a list of networks";
        match &node.kind {
            NodeKind::Str(text) if text == "any" => Ok(Addresses::Any),
            NodeKind::Str(_) => Ok(Addresses::Nets(vec![self.network(node, path)?])),
            NodeKind::Seq(items) => {
                if items.is_empty() {
                    return Err(self.invalid(
                        node,
                        path,
                        "an empty address list matches nothing; list networks or write 'any'",
                    ));
                }
                let mut nets = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let item_path = format!("{path}[{index}]");
                    if matches!(&item.kind, NodeKind::Str(text) if text == "any") {
                        return Err(self.invalid(
                            item,
                            &item_path,
                            "'any' cannot be combined with networks in a list; write 'any' alone",
                        ));
                    }
                    if !matches!(item.kind, NodeKind::Str(_)) {
                        return Err(self.wrong_type(
                            item,
                            &item_path,
                            "a network such as '10.0.0.0/8'",
                        ));
                    }
                    nets.push(self.network(item, &item_path)?);
                }
                nets.sort();
                nets.dedup();
                Ok(Addresses::Nets(nets))
            }
            _ => Err(self.wrong_type(node, path, EXPECTED)),
        }
    }

    /// Linux interface names: 1–15 bytes, no '/', ':' or whitespace
    /// (`dev_valid_name`); we also require printable ASCII so names render
    /// safely, and allow one trailing '*' (nft's prefix wildcard).
    fn interface(&self, node: &Node, path: &str) -> Result<String, PolicyError> {
        let text = self.string(node, path)?;
        let stem = text.strip_suffix('*').unwrap_or(text);
        let valid = !text.is_empty()
            && text.len() <= MAX_INTERFACE_BYTES
            && text != "."
            && text != ".."
            && stem
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'/' | b':' | b'*' | b'"' | b'\''));
        if !valid {
            return Err(self.invalid(
                node,
                path,
                format!(
                    "invalid interface name '{}': expected 1–15 printable ASCII characters without '/', ':', quotes or spaces (a trailing '*' matches a prefix)",
                    shorten(text)
                ),
            ));
        }
        Ok(text.to_string())
    }

    fn backend_compat(&self, node: &Node, path: &str) -> Result<Vec<Backend>, PolicyError> {
        let mut backends = match &node.kind {
            NodeKind::Str(_) => {
                vec![self.choice(node, path, Backend::COMPAT_NAMES, COMPAT_BACKENDS)?]
            }
            NodeKind::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    self.choice(
                        item,
                        &format!("{path}[{index}]"),
                        Backend::COMPAT_NAMES,
                        COMPAT_BACKENDS,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => {
                return Err(self.wrong_type(
                    node,
                    path,
                    &format!(
                        "a backend name or a list of them ({})",
                        Backend::COMPAT_NAMES.join(", ")
                    ),
                ))
            }
        };
        backends.sort();
        backends.dedup();
        Ok(backends)
    }
}
