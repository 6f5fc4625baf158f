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
            println!("{}", line.as_ref());
        }
    }

    /// Prints a JSON document on stdout.
    pub fn json<T: Serialize>(&self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(s) => println!("{s}"),
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
