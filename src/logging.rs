//! The tool's log: `-v` (each tree with its outcome, reason and time), `-vv` (also every
//! database statement, its SQL only: parameter values, which can be secrets, are never
//! logged), to stderr; `--log-file FILE` keeps the same lines with timestamps, at `-v`'s
//! level at least. Without either, only warnings reach stderr.

use anyhow::{Context, Result};
use std::path::Path;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

pub fn init(verbose: u8, log_file: Option<&Path>) -> Result<()> {
    let level = match verbose {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .with_filter(level);
    let file = match log_file {
        None => None,
        Some(path) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open the log file {}", path.display()))?;
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::sync::Mutex::new(f))
                    .with_ansi(false)
                    .with_target(false)
                    .with_filter(level.max(LevelFilter::INFO)),
            )
        }
    };
    tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init()
        .context("cannot start the log")?;
    Ok(())
}
