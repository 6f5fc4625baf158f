//! Wall-time measurements of each part of a run, printed with the report.

use std::time::{Duration, Instant};

/// Starts a stopwatch.
pub fn start() -> Instant {
    Instant::now()
}

/// One measured part: what, for which kernel (if any), how long.
#[derive(Debug, Clone)]
pub struct Timing {
    pub what: String,
    pub kernel: Option<String>,
    pub took: Duration,
}

/// Every measured part, in the order they ran.
#[derive(Debug)]
pub struct Timings {
    pub parts: Vec<Timing>,
    started: Instant,
}

impl Timings {
    /// Starts the clock of the whole run.
    pub fn new() -> Self {
        Timings {
            parts: Vec::new(),
            started: Instant::now(),
        }
    }

    pub fn add(&mut self, what: &str, kernel: Option<&str>, took: Duration) {
        self.parts.push(Timing {
            what: what.to_string(),
            kernel: kernel.map(String::from),
            took,
        });
    }

    /// Wall time since the run began.
    pub fn total(&self) -> Duration {
        self.started.elapsed()
    }
}

/// `12.3 s` or `4 min 05 s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 120.0 {
        format!("{s:.1} s")
    } else {
        format!("{} min {:02} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}
