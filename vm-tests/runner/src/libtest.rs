//! Reading the output of a Rust test binary (libtest's default format):
//! which tests ran, which failed, and each failure's message.

/// What one test binary reported.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TestRun {
    pub passed: Vec<String>,
    pub failed: Vec<Failure>,
    pub ignored: Vec<String>,
    /// The `test result: …` line, when the binary got that far.
    pub summary: Option<String>,
    /// Lines tests print (seen with `--show-output`) about parts they left
    /// out on this kernel, starting with [`SKIPPED`].
    pub skipped: Vec<String>,
}

/// How a test says it left something out because the running kernel does
/// not support it (`skipped on kernel 5.10 (why): what`).
pub const SKIPPED: &str = "skipped on kernel ";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub test: String,
    /// The test's captured output (panic message first), trimmed.
    pub message: String,
}

/// Longest message kept per failure (lines).
const MESSAGE_LINES: usize = 12;

pub fn parse(lines: &[&str]) -> TestRun {
    let mut run = TestRun::default();
    let mut failed_names: Vec<String> = Vec::new();
    for l in lines {
        if let Some(rest) = l.strip_prefix("test ") {
            if let Some((name, status)) = rest.rsplit_once(" ... ") {
                let name = name.trim().to_string();
                match status.trim() {
                    "ok" => run.passed.push(name),
                    "FAILED" => failed_names.push(name),
                    s if s.starts_with("ignored") => run.ignored.push(name),
                    _ => {}
                }
            }
        }
        if l.starts_with("test result:") {
            run.summary = Some(l.trim().to_string());
        }
        if l.trim_start().starts_with(SKIPPED) {
            run.skipped.push(l.trim().to_string());
        }
    }
    // `---- NAME stdout ----` sections, up to the next section or the
    // final `failures:` list.
    for name in failed_names {
        let header = format!("---- {name} stdout ----");
        let message = match lines.iter().position(|l| l.trim() == header) {
            Some(at) => lines[at + 1..]
                .iter()
                .take_while(|l| {
                    !(l.starts_with("---- ") && l.ends_with(" ----")) && l.trim() != "failures:"
                })
                .map(|l| l.trim_end())
                .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
                .take(MESSAGE_LINES)
                .collect::<Vec<_>>()
                .join("\n"),
            None => String::from("(no output captured)"),
        };
        run.failed.push(Failure {
            test: name,
            message,
        });
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_with_messages() {
        let out = "\
running 3 tests
test a ... ok
test b::c ... FAILED
test d ... ignored, heavy
test e ... FAILED

successes:

---- a stdout ----
skipped on kernel 5.10 (catch-all element needs Linux >= 5.13): map i { * : drop }

failures:

---- b::c stdout ----

thread 'b::c' panicked at tests/x.rs:3:5:
kernel 6.18 acknowledges END
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
---- e stdout ----
thread 'e' panicked at tests/x.rs:9:1:
boom

failures:
    b::c
    e

test result: FAILED. 1 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s
";
        let lines: Vec<&str> = out.lines().collect();
        let r = parse(&lines);
        assert_eq!(r.passed, ["a"]);
        assert_eq!(r.ignored, ["d"]);
        assert_eq!(r.failed.len(), 2);
        assert_eq!(r.failed[0].test, "b::c");
        assert_eq!(
            r.failed[0].message,
            "thread 'b::c' panicked at tests/x.rs:3:5:\nkernel 6.18 acknowledges END"
        );
        assert_eq!(
            r.failed[1].message,
            "thread 'e' panicked at tests/x.rs:9:1:\nboom"
        );
        assert!(r
            .summary
            .unwrap()
            .starts_with("test result: FAILED. 1 passed"));
        assert_eq!(
            r.skipped,
            ["skipped on kernel 5.10 (catch-all element needs Linux >= 5.13): map i { * : drop }"]
        );
    }
}
