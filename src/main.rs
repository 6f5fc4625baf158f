//! The `nftguard` command-line tool: a thin layer over the library that
//! parses arguments, calls the engine and prints human or JSON output.

mod cli;

fn main() {
    std::process::exit(cli::run());
}
