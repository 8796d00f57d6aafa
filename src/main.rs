//! The `kubecis` binary: parse the command line, run the library, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = kubecis::cli::Cli::parse();
    match kubecis::commands::execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("kubecis: {e:#}");
            ExitCode::from(kubecis::commands::EXIT_ERROR)
        }
    }
}
