//! SELECT + PLAN: a profile, a `--ports` list or a declarative policy
//! becomes the desired `table inet nftguard`; it is diffed against the
//! live table, its risk assessed, its batch sealed by an approval token,
//! and the plan stored in the state directory for `apply`.
//!
//! ```text
//! profiles  → Intent → compile → Desired → Transaction ─┐
//!                                   │                   token (+ base genid)
//! live Ruleset ──── diff (entries) ─┴── risk ── frontends ── render / JSON
//! ```
//!
//! Entry points for the CLI: [`run`] (dump, audit with cache, build,
//! store), or [`build`] with facts already at hand; [`render::human`] and
//! [`Plan::to_json`] print.

pub mod compile;
pub mod diff;
pub mod docker;
pub mod frontends;
pub mod intent;
pub mod profiles;
pub mod render;
pub mod risk;
pub mod store;
pub mod token;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::detect::{self, Audit, AuditOptions, Host};
use crate::engine::{DumpFilter, Transaction};
use crate::netlink::Socket;
use crate::nft::{Family, Ruleset};
use crate::policy::{Policy, PolicyError};

pub use diff::{Diff, DiffEntry};
pub use intent::Intent;
pub use profiles::{parse_ports, PortProto, ProfileName, ProfileParams};
pub use risk::{OperatorSession, RiskLevel};

/// The default state directory.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/nftguard";

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Bad command-line input (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The policy file is invalid (exit 2).
    #[error("{0}")]
    Policy(#[from] PolicyError),
    /// nf_tables could not be read, or the desired table not encoded.
    #[error("{0}")]
    Engine(#[from] crate::Error),
    /// The state directory or a file in it.
    #[error("{0}")]
    State(String),
}

impl PlanError {
    /// The CLI exit code: 2 for usage and policy errors, 61 for state-dir
    /// problems, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            PlanError::Usage(_) | PlanError::Policy(_) => 2,
            PlanError::State(_) => 61,
            PlanError::Engine(_) => 1,
        }
    }
}

/// What to plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// `--profile NAME`.
    Profile(ProfileName),
    /// `--ports LIST` (parsed with [`parse_ports`]).
    Ports(Vec<PortProto>),
    /// `--policy FILE` (loaded with [`Policy::from_path`]).
    Policy(Box<Policy>),
}

/// A plan request: the command line in typed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRequest {
    /// Profile, ports or policy.
    pub selection: Selection,
    /// `--ssh-port`, `--mgmt-subnet`, `--app-subnet`, `--db-port`.
    pub params: ProfileParams,
    /// The operator's SSH session ([`OperatorSession::from_env`]).
    pub operator: Option<OperatorSession>,
    /// `--state-dir`.
    pub state_dir: PathBuf,
    /// `--netns`, repeated in the printed apply command.
    pub netns: Option<PathBuf>,
    /// `--docker-user [--docker-ext-if IFACE]`: filter published container
    /// ports in Docker's `DOCKER-USER` chain ([`docker`]).
    pub docker_user: Option<docker::DockerUserRequest>,
}

/// Where the audit came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSource {
    /// Taken from the cache (`audit_cached`).
    pub cached: bool,
    /// The cache file (`audit_cache_file`).
    pub cache_file: PathBuf,
}

/// A port or range in `target_ports`: a number, or `"first-last"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TargetPort {
    /// One port.
    Port(u16),
    /// A range, `"8000-8100"`.
    Range(String),
}

/// The plan. Field names are the JSON keys (WORKFLOW.md §plan, a superset
/// of the seed's `firewall-plan.sh --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// `nftguard`, or `ufw` / `firewalld` when that frontend owns the
    /// policy (read-only plan), or `stop` when the audit halts.
    pub backend: String,
    /// The audit's active frontend (`none`, `ufw`, `firewalld`, `multiple`).
    pub active_frontend: String,
    /// Profile name, `ports`, or the policy's name.
    pub profile: String,
    /// `profile`, `ports` or `policy`.
    pub selection: String,
    /// Inbound accepted ports.
    pub target_ports: Vec<TargetPort>,
    /// What changes.
    pub diff: Diff,
    /// `low`, `medium` or `high`.
    pub risk_assessment: RiskLevel,
    /// Why.
    pub risk_reasons: Vec<String>,
    /// `none`, `low`, `medium` or `high`.
    pub estimated_disruption: String,
    /// Things the operator should know.
    pub warnings: Vec<String>,
    /// The live ruleset generation the plan was made against.
    pub base_genid: u32,
    /// The desired table as nft text.
    pub nft: String,
    /// `sha256:` + hex digest of the batch and the base genid.
    pub approval_token: String,
    /// The audit came from the cache.
    pub audit_cached: bool,
    /// The audit cache file.
    pub audit_cache_file: String,
    /// nftguard will not apply this plan (a frontend owns the policy, or
    /// the audit halts).
    pub read_only: bool,
    /// The commands that give the same policy with the owning frontend.
    pub frontend_commands: Vec<String>,
    /// The exact command that applies this plan (absent when read-only).
    pub apply_command: Option<String>,
    /// The SSH port the plan keeps.
    pub ssh_port: u16,
    /// The operator's source address, when known.
    pub operator_source: Option<String>,
    /// `table inet nftguard` exists now (the batch deletes and recreates
    /// it).
    pub table_exists: bool,
    /// What the plan does in Docker's `DOCKER-USER` chain (absent when
    /// nothing: no `--docker-user` and no earlier rules of ours there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_user: Option<docker::DockerUserPlan>,
}

impl Plan {
    /// The plan as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// The plan and the exact batch it approves (what `apply` sends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanBundle {
    /// The plan.
    pub plan: Plan,
    /// The batch.
    pub transaction: Transaction,
}

/// Who forwards packets here: Docker, libvirt or Kubernetes, from the
/// audit and the live tables.
pub fn forwarding_owner(audit: &Audit, live: &Ruleset) -> Option<String> {
    let mut owners = Vec::new();
    if audit.docker_host {
        owners.push("Docker");
    }
    let libvirt = live.tables.iter().any(|t| t.name.starts_with("libvirt"))
        || live.chains.iter().any(|c| c.name.starts_with("LIBVIRT_"));
    if libvirt {
        owners.push("libvirt");
    }
    if audit.k8s_node || audit.kubernetes.k8s_tables {
        owners.push("Kubernetes");
    }
    (!owners.is_empty()).then(|| owners.join(", "))
}

/// The intent of a request on this host.
pub fn intent_for(req: &PlanRequest, audit: &Audit, live: &Ruleset) -> Result<Intent, PlanError> {
    // Asking for DOCKER-USER filtering says Docker forwards here, even
    // when the audit did not see its socket (e.g. in another mount
    // namespace): our forward chain must not drop what Docker forwards.
    let owner = forwarding_owner(audit, live)
        .or_else(|| req.docker_user.as_ref().map(|_| "Docker".to_string()));
    let facts = profiles::HostFacts {
        ssh_port: req.params.ssh_port.unwrap_or(audit.ssh_port),
        forwarding_owner: owner,
    };
    let mut intent = match &req.selection {
        Selection::Profile(p) => profiles::profile_intent(*p, &req.params, &facts)?,
        Selection::Ports(ports) => profiles::ports_intent(ports, &facts),
        Selection::Policy(p) => profiles::policy_intent(p, &facts),
    };
    if let Some(owner) = &facts.forwarding_owner {
        intent.warnings.push(format!(
            "{owner} forwards packets on this host: the forward hook is left to it (no forward chain in table inet nftguard)"
        ));
    }
    Ok(intent)
}

fn apply_command(req: &PlanRequest, token: &str) -> String {
    let mut cmd = String::from("nftguard");
    if req.state_dir != Path::new(DEFAULT_STATE_DIR) {
        cmd.push_str(&format!(" --state-dir {}", req.state_dir.display()));
    }
    if let Some(n) = &req.netns {
        cmd.push_str(&format!(" --netns {}", n.display()));
    }
    cmd.push_str(&format!(" apply --approved-plan={token}"));
    cmd
}

/// Builds the plan from facts at hand: the audit, the live ruleset (its
/// `genid` becomes `base_genid`) and where the audit came from. Pure: no
/// kernel, no file.
pub fn build(
    req: &PlanRequest,
    audit: &Audit,
    live: &Ruleset,
    source: &AuditSource,
) -> Result<PlanBundle, PlanError> {
    let intent = intent_for(req, audit, live)?;
    let desired = compile::compile(&intent)?;
    let table_exists = live.table(compile::FAMILY, compile::TABLE).is_some();
    let mut transaction = desired.transaction(table_exists);
    // DOCKER-USER rules go into the same atomic batch, after our table.
    let docker = docker::change(req.docker_user.as_ref(), &intent, live)?;
    for op in &docker.ops {
        transaction.push(op.clone());
    }
    let approval_token = token::approval_token(&transaction, live.genid)?;
    let desired_rs = desired.ruleset(live.genid);
    let desired_entries = diff::table_entries(&desired_rs, compile::FAMILY, compile::TABLE);
    let live_ours = diff::table_entries(live, compile::FAMILY, compile::TABLE);

    let frontend = frontends::Frontend::from_audit(&audit.active_frontend);
    let mut warnings = intent.warnings.clone();
    let mut frontend_commands = Vec::new();
    let the_diff = match frontend {
        Some(f) => {
            let (cmds, w) = frontends::commands(f, &intent);
            frontend_commands = cmds;
            warnings.extend(w);
            warnings.insert(
                0,
                format!(
                    "{} owns the firewall policy on this host: this plan is read-only; run the commands below instead (nftguard apply refuses with exit 10)",
                    f.name()
                ),
            );
            let theirs = frontends::live_entries(f, live);
            let mut d = Diff::default();
            for e in desired_entries.iter().filter(|e| e.is_service()) {
                let mut e = e.clone();
                if frontends::already_given(&e, &theirs) {
                    e.reason = Some(format!("already_allowed_by_{}", f.name()));
                    d.skip.push(e);
                } else {
                    d.add.push(e);
                }
            }
            d
        }
        None => diff::diff(&desired_entries, &live_ours, "already_exists"),
    };
    let mut the_diff = the_diff;
    the_diff.add.extend(docker.add.iter().cloned());
    the_diff.skip.extend(docker.skip.iter().cloned());
    the_diff.remove.extend(docker.remove.iter().cloned());

    let risk = risk::assess(&risk::RiskInput {
        intent: &intent,
        desired: &desired_entries,
        live_ours: &live_ours,
        live,
        diff: &the_diff,
        audit,
        operator: req.operator.as_ref(),
        our_table: (Family::Inet, compile::TABLE),
    });
    warnings.extend(risk.warnings.iter().cloned());
    warnings.extend(docker.warnings.iter().cloned());
    let halted = audit.recommended_backend == "stop";
    if halted && frontend.is_none() {
        warnings.insert(
            0,
            format!(
                "the audit halts (exit {}): {}; this plan is read-only",
                audit.exit_code,
                audit.halt_reasons.join("; ")
            ),
        );
    }
    let backend = match (frontend, halted) {
        (Some(f), _) => f.name().to_string(),
        (None, true) => "stop".to_string(),
        (None, false) => "nftguard".to_string(),
    };
    let read_only = frontend.is_some() || halted;
    let target_ports = intent
        .target_ports()
        .into_iter()
        .map(|(a, b)| {
            if a == b {
                TargetPort::Port(a)
            } else {
                TargetPort::Range(format!("{a}-{b}"))
            }
        })
        .collect();
    let plan = Plan {
        backend,
        active_frontend: audit.active_frontend.clone(),
        profile: intent.name.clone(),
        selection: intent.kind.clone(),
        target_ports,
        diff: the_diff,
        risk_assessment: risk.level,
        risk_reasons: risk.reasons,
        estimated_disruption: risk.estimated_disruption,
        warnings,
        base_genid: live.genid,
        nft: crate::nft::render::nft_text(&desired_rs),
        apply_command: (!read_only).then(|| apply_command(req, &approval_token)),
        approval_token,
        audit_cached: source.cached,
        audit_cache_file: source.cache_file.display().to_string(),
        read_only,
        frontend_commands,
        ssh_port: intent.ssh_port,
        operator_source: req.operator.map(|o| o.source.to_string()),
        table_exists,
        docker_user: docker.summary,
    };
    Ok(PlanBundle { plan, transaction })
}

/// Options of [`run`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// `--refresh-audit`: ignore the cache.
    pub refresh_audit: bool,
    /// Passed to the audit.
    pub audit: AuditOptions,
}

/// `nftguard plan`: dumps the live ruleset through `sock`, takes the audit
/// from the cache (same generation, younger than 300 s) or runs it and
/// caches it, builds the plan and stores it in the state directory.
pub fn run(
    sock: &mut Socket,
    host: &Host,
    req: &PlanRequest,
    opts: &RunOptions,
) -> Result<PlanBundle, PlanError> {
    store::ensure_state_dir(&req.state_dir)?;
    let live = Ruleset::dump(sock, &DumpFilter::all())?;
    let cache_file = req.state_dir.join(store::AUDIT_CACHE_FILE);
    let cached = if opts.refresh_audit {
        None
    } else {
        store::load_audit(&req.state_dir, live.genid)
    };
    let (audit, was_cached) = match cached {
        Some(a) => (a, true),
        None => {
            let a = detect::audit(sock, host, &opts.audit)?;
            store::save_audit(&req.state_dir, &a, live.genid)?;
            (a, false)
        }
    };
    let bundle = build(
        req,
        &audit,
        &live,
        &AuditSource {
            cached: was_cached,
            cache_file,
        },
    )?;
    store::save_plan(&req.state_dir, &bundle)?;
    Ok(bundle)
}
