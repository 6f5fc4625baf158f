//! The kernel × scenario table, the failures of each cell and the timings.

use std::fmt::Write;

use crate::kernels::PreparedKernel;
use crate::libtest::Failure;
use crate::timing::{human, Timings};

/// One test binary's (or guest job's) result inside a cell.
#[derive(Debug, Clone)]
pub struct JobReport {
    pub job: String,
    /// `None` when the job never finished (VM hung or crashed).
    pub rc: Option<i32>,
    pub passed: usize,
    pub failures: Vec<Failure>,
    pub ignored: usize,
    pub took: Option<std::time::Duration>,
    /// What the tests left out on this kernel (see `libtest::SKIPPED`).
    pub skipped: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Passed {
        tests: usize,
    },
    Failed {
        failed: usize,
        tests: usize,
        why: String,
    },
    TimedOut {
        after: std::time::Duration,
    },
    Error(String),
    /// Not run on this kernel, and why (not a failure).
    NotApplicable(String),
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Passed { .. } | Outcome::NotApplicable(_))
    }

    pub fn short(&self) -> String {
        match self {
            Outcome::Passed { tests } => format!("PASS ({tests} tests)"),
            Outcome::Failed { failed, tests, why } if why.is_empty() => {
                format!("FAIL ({failed}/{tests} failed)")
            }
            Outcome::Failed { failed, tests, why } => {
                format!("FAIL ({failed}/{tests} failed; {why})")
            }
            Outcome::TimedOut { after } => format!("TIMEOUT after {}", human(*after)),
            Outcome::Error(e) => format!("ERROR: {e}"),
            Outcome::NotApplicable(_) => "n/a".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cell {
    pub kernel: &'static str,
    pub scenario: &'static str,
    pub outcome: Outcome,
    pub jobs: Vec<JobReport>,
    /// Notes shown under the failures (modules that did not load, logs).
    pub notes: Vec<String>,
    /// Wall time of the cell (set by the runner).
    pub took: Option<std::time::Duration>,
}

impl Cell {
    /// A cell of `scenario` on `kernel` with no outcome yet (an empty
    /// error until the scenario sets one), no jobs and no notes.
    pub fn new(kernel: &'static str, scenario: &'static str) -> Cell {
        Cell {
            kernel,
            scenario,
            outcome: Outcome::Error(String::new()),
            jobs: Vec::new(),
            notes: Vec::new(),
            took: None,
        }
    }
}

pub fn render(
    kernels: &[PreparedKernel],
    scenarios: &[&str],
    cells: &[Cell],
    timings: &Timings,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\n== kernels ==");
    for k in kernels {
        let _ = writeln!(s, "  {}: {} ({})", k.series, k.package, k.release);
    }
    let _ = writeln!(s, "\n== kernel x scenario ==");
    let kw = 34;
    let _ = write!(s, "{:kw$}", "kernel");
    for sc in scenarios {
        let _ = write!(s, " | {sc}");
    }
    let _ = writeln!(s);
    for k in kernels {
        let _ = write!(s, "{:kw$}", format!("{} ({})", k.series, k.release));
        for sc in scenarios {
            let cell = cells
                .iter()
                .find(|c| c.kernel == k.series && c.scenario == *sc);
            let _ = write!(
                s,
                " | {}",
                cell.map_or("not run".into(), |c| match c.took {
                    Some(t) if !matches!(c.outcome, Outcome::NotApplicable(_)) => {
                        format!("{}, {}", c.outcome.short(), human(t))
                    }
                    _ => c.outcome.short(),
                })
            );
        }
        let _ = writeln!(s);
    }

    for c in cells {
        let bad: Vec<&JobReport> = c
            .jobs
            .iter()
            .filter(|j| j.rc != Some(0) || !j.failures.is_empty())
            .collect();
        let skipped = c.jobs.iter().any(|j| !j.skipped.is_empty());
        if bad.is_empty() && c.notes.is_empty() && !skipped && c.outcome.passed() {
            continue;
        }
        let _ = writeln!(
            s,
            "\n== {} on {}: {} ==",
            c.scenario,
            c.kernel,
            c.outcome.short()
        );
        for j in &c.jobs {
            let rc =
                j.rc.map_or("did not finish".into(), |r| format!("exit {r}"));
            let _ = writeln!(
                s,
                "  {}: {rc}, {} passed, {} failed, {} ignored{}",
                j.job,
                j.passed,
                j.failures.len(),
                j.ignored,
                j.took
                    .map(|t| format!(", {}", human(t)))
                    .unwrap_or_default()
            );
            for k in &j.skipped {
                let _ = writeln!(s, "    {k}");
            }
            for f in &j.failures {
                let _ = writeln!(s, "    FAILED {}::{}", j.job, f.test);
                for l in f.message.lines() {
                    let _ = writeln!(s, "      | {l}");
                }
            }
        }
        for n in &c.notes {
            let _ = writeln!(s, "  note: {n}");
        }
    }

    let mut why_na: Vec<&str> = Vec::new();
    for c in cells {
        if let Outcome::NotApplicable(why) = &c.outcome {
            if !why_na.contains(&why.as_str()) {
                why_na.push(why);
            }
        }
    }
    for why in why_na {
        let _ = writeln!(s, "\nn/a: {why}");
    }

    let _ = writeln!(s, "\n== timings (wall) ==");
    for t in &timings.parts {
        let k = t
            .kernel
            .as_deref()
            .map(|k| format!("[{k}] "))
            .unwrap_or_default();
        let _ = writeln!(s, "  {k}{}: {}", t.what, human(t.took));
    }
    let _ = writeln!(s, "  total: {}", human(timings.total()));
    s
}
