//! `vm-tests`: boots Debian kernels under qemu and runs nftguard's scenarios
//! inside them, printing a kernel × scenario table.
//!
//! Usage: `vm-tests/run [--kernels 5.10,6.1,6.12] [--scenarios engine|all]`
//! (see `--help` and vm-tests/README.md). Exit status 0 only when every
//! cell passed; 1 when a cell failed; 2 on a usage error; 3 when the host
//! could not prepare the run (download, build, qemu missing).

mod apt;
mod args;
mod cargo_tests;
mod cpio;
mod guest;
mod kernels;
mod libtest;
mod modules;
mod qemu;
mod report;
mod rootfs;
mod scenario;
mod shared_libs;
mod timing;

use std::path::PathBuf;
use std::process::ExitCode;

use args::Args;
use kernels::PreparedKernel;
use report::Cell;
use scenario::{HostContext, Scenario};
use timing::Timings;

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{}", args::HELP);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("vm-tests: {e}\n\n{}", args::HELP);
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("vm-tests: {e}");
            ExitCode::from(3)
        }
    }
}

/// Runs the whole matrix; `Ok(true)` when every cell passed.
fn run(args: &Args) -> Result<bool, String> {
    let mut timings = Timings::new();
    let cache = args.repo.join("vm-tests/cache");
    let ctx = HostContext {
        repo: args.repo.clone(),
        cache: cache.clone(),
        logs: cache.join("logs"),
        vm: qemu::VmSettings {
            memory_mb: args.memory_mb,
            cpus: args.cpus,
            accel: qemu::Accel::Tcg,
        },
        timeout: args.timeout,
        system_on_every_kernel: args.kernels_given && !args.scenarios.iter().any(|s| s == "all"),
    };
    std::fs::create_dir_all(&ctx.logs)
        .map_err(|e| format!("creating {}: {e}", ctx.logs.display()))?;

    let mut scenarios: Vec<Box<dyn Scenario>> = scenario::select(&args.scenarios)?;

    let t = timing::start();
    qemu::ensure_installed()?;
    let downloads = apt::Downloader::new(&cache);
    let busybox = downloads.busybox()?;
    let mut kernels: Vec<PreparedKernel> = Vec::new();
    for series in &args.kernels {
        kernels.push(kernels::prepare(series, &downloads, &cache)?);
    }
    timings.add("download and unpack (kernels, busybox)", None, t.elapsed());

    let accel = if args.no_kvm {
        qemu::Accel::Tcg
    } else {
        let t = timing::start();
        let a = qemu::probe_kvm(&kernels[0], &ctx.logs);
        timings.add("KVM probe", None, t.elapsed());
        a
    };
    println!("vm-tests: accelerator: {accel}");
    let ctx = HostContext {
        vm: qemu::VmSettings { accel, ..ctx.vm },
        ..ctx
    };

    for s in scenarios.iter_mut() {
        let t = timing::start();
        s.prepare(&ctx, &busybox)?;
        timings.add(
            &format!("prepare {} (builds, rootfs image)", s.name()),
            None,
            t.elapsed(),
        );
    }

    let mut cells: Vec<Cell> = Vec::new();
    for k in &kernels {
        for s in &scenarios {
            println!("vm-tests: {} on {} ({}) …", s.name(), k.series, k.release);
            let t = timing::start();
            let mut cell = s.run(k, &ctx, &mut timings);
            cell.took.get_or_insert(t.elapsed());
            println!(
                "vm-tests: {} on {}: {} ({})",
                s.name(),
                k.series,
                cell.outcome.short(),
                timing::human(t.elapsed())
            );
            cells.push(cell);
        }
    }

    let names: Vec<&str> = scenarios.iter().map(|s| s.name()).collect();
    let text = report::render(&kernels, &names, &cells, &timings);
    print!("{text}");
    let summary: PathBuf = ctx.logs.join("summary.txt");
    if let Err(e) = std::fs::write(&summary, &text) {
        eprintln!("vm-tests: writing {}: {e}", summary.display());
    }
    Ok(cells.iter().all(|c| c.outcome.passed()))
}
