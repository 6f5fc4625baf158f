//! Human and JSON output with the same facts.

use serde::Serialize;

use super::CliError;

/// Where and how results are printed.
pub struct Output {
    json: bool,
    quiet: bool,
}

impl Output {
    pub fn new(json: bool, quiet: bool) -> Self {
        Output { json, quiet }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints a line for people (suppressed by --quiet and in JSON mode).
    pub fn say(&self, line: impl AsRef<str>) {
        if !self.json && !self.quiet {
            outln!("{}", line.as_ref());
        }
    }

    /// Prints a JSON document on stdout.
    pub fn json<T: Serialize>(&self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(s) => outln!("{s}"),
            Err(e) => eprintln!("nftguard: error: encoding JSON: {e}"),
        }
    }

    /// Reports an error (stderr for people; a JSON object on stdout with
    /// --json) and returns its exit code.
    pub fn error(&self, e: &CliError) -> i32 {
        if self.json {
            self.json(&serde_json::json!({ "error": e.message, "exit_code": e.code }));
        } else {
            eprintln!("nftguard: error: {}", e.message);
        }
        e.code
    }
}

/// Writes to stdout (used through `out!`/`outln!`). A reader that went
/// away (`nftguard … | head`) must not stop a run half-way — an apply
/// whose rollback is armed, a rollback being restored — so write errors,
/// EPIPE included, are ignored and the run goes on to its exit code.
pub fn stdout(args: std::fmt::Arguments<'_>, newline: bool) {
    use std::io::Write as _;
    let mut o = std::io::stdout().lock();
    let _ = o
        .write_fmt(args)
        .and_then(|()| if newline { o.write_all(b"\n") } else { Ok(()) })
        .and_then(|()| o.flush());
}

/// `unix` seconds as `YYYY-MM-DD HH:MM:SS UTC (in N s)`.
pub fn when(unix: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, secs) = (unix / 86_400, unix % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let rel = if unix >= now {
        format!("in {} s", unix - now)
    } else {
        format!("{} s ago", now - unix)
    };
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC ({rel})",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_dates() {
        assert!(super::when(0).starts_with("1970-01-01 00:00:00 UTC"));
        assert!(super::when(1_795_634_996).starts_with("2026-11-25 "));
        assert!(super::when(951_782_400).starts_with("2000-02-29 00:00:00"));
    }
}
