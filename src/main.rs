//! The `heat-converge` command line.

use clap::Parser;

/// Convert every legacy OpenStack Heat stack to the convergence engine.
#[derive(Parser)]
#[command(version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
