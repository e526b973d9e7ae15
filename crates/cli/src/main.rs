//! `ueba-workbench`: the headless door to the UEBA Workbench engine.
//!
//! Every command is a thin call into `ueba-core`; this binary only parses arguments, shows
//! progress and prints results (as text, or as JSON with `--json`).

mod args;
mod engine;
mod exit;
mod listener;
mod progress;
mod response;
mod run;
mod sensors;
mod ueba;

use clap::Parser;

// Import moves millions of small strings from the parser thread to the writer thread; mimalloc
// frees across threads far faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env(
            "UEBA_WORKBENCH_LOG",
        ))
        .with_writer(std::io::stderr)
        .init();
    let cli = args::Cli::parse();
    // A reader that goes away (`ueba-workbench sensors list | head`) ends a printing command
    // quietly, as it ends any Unix tool, instead of a panic on the broken pipe. The listener
    // keeps ignoring SIGPIPE: it must outlive whoever read its first line.
    if !matches!(cli.command, args::Command::Serve(_)) {
        sigpipe::reset();
    }
    let code = match run::run(cli) {
        Ok(()) => exit::OK,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.code()
        }
    };
    std::process::exit(code);
}
