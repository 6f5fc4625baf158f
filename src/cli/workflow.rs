//! The hardening workflow's commands: `plan` (SELECT + PLAN), `apply`
//! (VALIDATE + APPLY), `confirm`, `rollback`, `status`, `restore --boot`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use nftguard::detect::{audit, AuditOptions, Host};
use nftguard::netlink::Socket;
use nftguard::plan::{
    self, parse_ports, OperatorSession, PlanRequest, ProfileName, ProfileParams, RunOptions,
    Selection,
};
use nftguard::policy::Policy;
use nftguard::txn::{
    self, ApplyOptions, Mechanisms, PersistOptions, RollbackCommand, RollbackRequest, StateDir,
    StoredPlan,
};

use super::output::{when, Output};
use super::{exit, CliError};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["profile", "ports", "policy"])))]
pub struct PlanArgs {
    /// A built-in profile: public-web-server, internal-database, bastion-host, zero-trust-node.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Ports to allow inbound, e.g. `22,80,443/tcp,53/udp,8000-8100`.
    #[arg(long, value_name = "LIST")]
    ports: Option<String>,
    /// A declarative policy file (YAML or JSON, schema 2.0/2.1).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// SSH port to keep open (default: the port sshd listens on).
    #[arg(long, value_name = "PORT")]
    ssh_port: Option<u16>,
    /// Management subnet (internal-database, zero-trust-node).
    #[arg(long, value_name = "CIDR")]
    mgmt_subnet: Option<String>,
    /// Application subnet (internal-database).
    #[arg(long, value_name = "CIDR")]
    app_subnet: Option<String>,
    /// Database port (internal-database).
    #[arg(long, value_name = "PORT")]
    db_port: Option<u16>,
    /// Run the audit again instead of using the cached one.
    #[arg(long)]
    refresh_audit: bool,
    /// Also filter published container ports in Docker's DOCKER-USER chain
    /// (established first, then the intended ports by their original
    /// destination port, then drop from the external interface).
    #[arg(long)]
    docker_user: bool,
    /// The external interface for --docker-user (default: the interface of
    /// the IPv4 default route).
    #[arg(long, value_name = "IFACE", requires = "docker_user")]
    docker_ext_if: Option<String>,
    /// Instead of the plan, show what the PLANNED ruleset would do to the
    /// packet given with --proto/--src/--dst/… (as `nftguard explain`).
    #[arg(long, requires_all = ["proto", "src", "dst"])]
    explain: bool,
    /// With --explain: tcp, udp, icmp or icmpv6.
    #[arg(long, value_name = "P", requires = "explain")]
    proto: Option<String>,
    /// With --explain: source address.
    #[arg(long, value_name = "ADDR", requires = "explain")]
    src: Option<std::net::IpAddr>,
    /// With --explain: destination address.
    #[arg(long, value_name = "ADDR", requires = "explain")]
    dst: Option<std::net::IpAddr>,
    /// With --explain: destination port.
    #[arg(long, value_name = "N", requires = "explain")]
    dport: Option<u16>,
    /// With --explain: source port.
    #[arg(long, value_name = "N", requires = "explain")]
    sport: Option<u16>,
    /// With --explain: input interface.
    #[arg(long, value_name = "IF", requires = "explain")]
    iif: Option<String>,
    /// With --explain: conntrack state.
    #[arg(long, value_name = "S", requires = "explain")]
    ct_state: Option<String>,
    /// With --explain: input, forward or output.
    #[arg(long, value_name = "HOOK", default_value = "input")]
    hook: String,
}

/// `nftguard plan`.
pub fn plan(
    args: &PlanArgs,
    state_dir: &Path,
    netns: Option<&Path>,
    out: &Output,
) -> Result<i32, CliError> {
    let plan_err = |e: plan::PlanError| CliError::new(e.exit_code(), e.to_string());
    let selection = if let Some(name) = &args.profile {
        let p: ProfileName = name.parse().map_err(|e: plan::PlanError| plan_err(e))?;
        Selection::Profile(p)
    } else if let Some(list) = &args.ports {
        Selection::Ports(parse_ports(list).map_err(plan_err)?)
    } else if let Some(file) = &args.policy {
        let policy =
            Policy::from_path(file).map_err(|e| CliError::new(exit::USAGE, e.to_string()))?;
        Selection::Policy(Box::new(policy))
    } else {
        return Err(CliError::new(
            exit::USAGE,
            "choose --profile, --ports or --policy",
        ));
    };
    let subnet = |flag: &str, v: &Option<String>| {
        v.as_deref()
            .map(|t| ProfileParams::parse_subnet(flag, t))
            .transpose()
            .map_err(plan_err)
    };
    let params = ProfileParams {
        ssh_port: args.ssh_port,
        mgmt_subnet: subnet("--mgmt-subnet", &args.mgmt_subnet)?,
        app_subnet: subnet("--app-subnet", &args.app_subnet)?,
        db_port: args.db_port,
    };
    let docker_user = if args.docker_user {
        let ext_if = match &args.docker_ext_if {
            Some(i) => i.clone(),
            None => plan::docker::default_route_interface().ok_or_else(|| {
                CliError::new(
                    exit::USAGE,
                    "--docker-user: no IPv4 default route to take the external interface from; name it with --docker-ext-if",
                )
            })?,
        };
        Some(plan::docker::DockerUserRequest { ext_if })
    } else {
        None
    };
    let req = PlanRequest {
        selection,
        params,
        operator: OperatorSession::from_env(),
        state_dir: state_dir.to_path_buf(),
        netns: netns.map(Path::to_path_buf),
        docker_user,
    };
    let mut sock = Socket::new()?;
    let opts = RunOptions {
        refresh_audit: args.refresh_audit,
        audit: AuditOptions::default(),
    };
    let bundle = plan::run(&mut sock, &Host::default(), &req, &opts).map_err(plan_err)?;
    if args.explain {
        let (Some(proto), Some(src), Some(dst)) = (&args.proto, args.src, args.dst) else {
            return Err(CliError::new(
                exit::USAGE,
                "--explain needs --proto, --src and --dst",
            ));
        };
        let req = super::verify::packet_request(
            proto,
            src,
            dst,
            args.dport,
            args.sport,
            args.iif.as_deref(),
            args.ct_state.as_deref(),
            &args.hook,
        )?;
        let e = nftguard::verify::explain::explain_planned(&mut sock, &bundle.transaction, &req)
            .map_err(|e| match e {
                nftguard::Error::Invalid { .. } => CliError::new(exit::USAGE, e.to_string()),
                e => e.into(),
            })?;
        super::verify::print_explanation(&e, out);
        return Ok(exit::OK);
    }
    if out.is_json() {
        outln!("{}", bundle.plan.to_json());
    } else {
        out!(
            "{}",
            plan::render::human(&bundle.plan, plan::render::color_wanted())
        );
    }
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The approval token the plan printed (`sha256:…`).
    #[arg(long = "approved-plan", value_name = "TOKEN")]
    approved_plan: String,
    /// Validate the batch in the kernel without committing (nothing changes).
    #[arg(long)]
    dry_run: bool,
    /// Seconds until the rollback fires unless `nftguard confirm` runs.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    confirm_timeout: u64,
    /// Confirm as soon as the post-apply checks pass.
    #[arg(long)]
    auto_confirm: bool,
    /// Apply even where the audit says to stop (container, Kubernetes,
    /// IaC-owned) or ufw/firewalld owns the policy; the reason is recorded
    /// in the journal.
    #[arg(long, value_name = "REASON")]
    force: Option<String>,
}

fn txn_err(e: txn::ApplyError) -> CliError {
    CliError::new(e.exit_code(), e.to_string())
}

fn open_state(state_dir: &Path) -> Result<StateDir, CliError> {
    StateDir::open(state_dir).map_err(txn_err)
}

/// `nftguard apply`.
pub fn apply(
    args: &ApplyArgs,
    state_dir: &Path,
    netns: Option<&Path>,
    out: &Output,
) -> Result<i32, CliError> {
    let state = open_state(state_dir)?;
    let bundle = plan::store::load_plan(state_dir).map_err(|e| {
        CliError::new(
            exit::TOKEN_MISMATCH,
            format!("no stored plan to apply ({e}); run `nftguard plan` first"),
        )
    })?;
    // Refusals in the workflow's order; each can be overridden only with
    // a stated reason, which the journal records.
    let mut sock = Socket::new()?;
    let report = audit(&mut sock, &Host::default(), &AuditOptions::default())?;
    let audit_code = i32::from(report.exit_code());
    let refusal = if [exit::CONTAINER, exit::KUBERNETES, exit::IAC].contains(&audit_code) {
        Some((
            audit_code,
            format!(
                "the audit says to stop here: {}",
                report.halt_reasons.join("; ")
            ),
        ))
    } else if bundle.plan.read_only {
        Some((
            exit::BACKEND_CONFLICT,
            format!(
                "{} owns the firewall policy here; run the plan's {} commands instead",
                bundle.plan.backend, bundle.plan.backend
            ),
        ))
    } else {
        None
    };
    if let Some((code, why)) = refusal {
        match &args.force {
            Some(reason) => out.say(format!("forced (would exit {code}: {why}): {reason}")),
            None => {
                return Err(CliError::new(
                    code,
                    format!("{why}; apply refuses without --force REASON"),
                ))
            }
        }
    }
    let exe = std::env::current_exe()
        .map_err(|e| CliError::new(exit::OTHER, format!("finding the nftguard executable: {e}")))?;
    let mut opts = ApplyOptions {
        supplied_token: args.approved_plan.clone(),
        confirm_timeout: Duration::from_secs(args.confirm_timeout),
        dry_run: args.dry_run,
        auto_confirm: args.auto_confirm,
        rollback: RollbackCommand::current(&state, netns.map(Path::to_path_buf))
            .map_err(txn_err)?,
        mechanisms: Mechanisms::detect(),
        verify: None,
        persist: PersistOptions::system(exe),
        forced: args.force.clone(),
    };
    let outcome = txn::apply(
        &mut sock,
        &state,
        &StoredPlan::from_bundle(&bundle),
        &mut opts,
    )
    .map_err(txn_err)?;
    if out.is_json() {
        out.json(&serde_json::json!({ "apply": outcome, "forced": args.force }));
    } else if outcome.dry_run {
        out.say(format!(
            "dry run: the kernel accepted the batch; nothing changed (generation {})",
            outcome.genid
        ));
    } else {
        out.say(format!(
            "applied {} at generation {} -> {} (backup {})",
            outcome.apply_id.as_deref().unwrap_or("?"),
            outcome.base_genid,
            outcome.genid,
            outcome.backup_id.as_deref().unwrap_or("-")
        ));
        if let Some(armed) = &outcome.rollback {
            out.say(format!(
                "rollback armed ({}): fires at {} unless `nftguard confirm` runs from a NEW session first",
                armed.mechanism.name(),
                when(armed.fires_at)
            ));
        }
        if let Some(p) = &outcome.confirmed {
            out.say(format!(
                "confirmed and persisted to {}",
                p.policy_file.display()
            ));
            for w in &p.warnings {
                out.say(format!("warning: {w}"));
            }
        }
    }
    Ok(exit::OK)
}

/// `nftguard confirm`.
pub fn confirm(state_dir: &Path, out: &Output) -> Result<i32, CliError> {
    let state = open_state(state_dir)?;
    let exe = std::env::current_exe()
        .map_err(|e| CliError::new(exit::OTHER, format!("finding the nftguard executable: {e}")))?;
    let mut sock = Socket::new()?;
    let p = txn::confirm(&mut sock, &state, &PersistOptions::system(exe)).map_err(txn_err)?;
    if out.is_json() {
        out.json(&p);
    } else {
        out.say(format!(
            "confirmed: rollback disarmed; policy persisted to {} (boot unit {}{})",
            p.policy_file.display(),
            p.unit_file.display(),
            if p.enabled {
                ", enabled"
            } else {
                ", not enabled"
            }
        ));
        for w in &p.warnings {
            out.say(format!("warning: {w}"));
        }
    }
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Restore what this backup recorded.
    #[arg(long, value_name = "BACKUP_ID")]
    to: Option<String>,
    /// Set by a rollback timer: undo this apply if it is still unconfirmed.
    #[arg(long, value_name = "ID", hide = true)]
    apply_id: Option<String>,
}

/// `nftguard rollback`.
pub fn rollback(args: &RollbackArgs, state_dir: &Path, out: &Output) -> Result<i32, CliError> {
    let state = open_state(state_dir)?;
    let mut sock = Socket::new()?;
    let req = RollbackRequest {
        apply_id: args.apply_id.clone(),
        to: args.to.clone(),
    };
    let r = txn::rollback(&mut sock, &state, &req).map_err(txn_err)?;
    if out.is_json() {
        out.json(&r);
    } else {
        out.say(&r.detail);
    }
    Ok(exit::OK)
}

/// `nftguard status`.
pub fn status(state_dir: &Path, out: &Output) -> Result<i32, CliError> {
    let state = open_state(state_dir)?;
    let completed = txn::complete_interrupted_rollback(&state).map_err(txn_err)?;
    let s = txn::status(&state).map_err(txn_err)?;
    if out.is_json() {
        out.json(&s);
        return Ok(exit::OK);
    }
    if let Some(id) = completed {
        out.say(format!("completed the interrupted rollback of apply {id}"));
    }
    match &s.last_apply {
        None => out.say("no apply recorded"),
        Some(e) => out.say(format!("last apply {}: {:?}", e.apply_id, e.phase)),
    }
    if s.rollback.pending {
        out.say(format!(
            "rollback pending ({}), fires at {}",
            s.rollback.mechanism.as_deref().unwrap_or("?"),
            s.rollback.fires_at.map_or_else(|| "?".to_string(), when)
        ));
    } else {
        out.say("no rollback pending");
    }
    match &s.persisted_apply {
        Some(id) => out.say(format!("persisted policy: apply {id}")),
        None => out.say("no persisted policy"),
    }
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Re-apply the persisted confirmed policy (run by nftguard-restore.service).
    #[arg(long, required = true)]
    boot: bool,
}

/// `nftguard restore --boot`.
pub fn restore(state_dir: &Path, out: &Output) -> Result<i32, CliError> {
    let state = open_state(state_dir)?;
    let mut sock = Socket::new()?;
    let r = txn::restore_boot(&mut sock, &state).map_err(txn_err)?;
    if out.is_json() {
        out.json(&r);
    } else if r.restored {
        out.say(format!(
            "restored the policy confirmed by apply {} (generation {})",
            r.apply_id.as_deref().unwrap_or("?"),
            r.genid
        ));
    } else {
        out.say("no persisted policy: nothing restored");
    }
    Ok(exit::OK)
}

/// `nftguard __rollback-watchdog …` (started by apply; not for people).
pub fn rollback_watchdog(args: &[OsString]) -> i32 {
    txn::rollback_watchdog_main(args)
}
