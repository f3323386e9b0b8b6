//! Stopping a run on request: SIGTERM, SIGINT and SIGHUP (what systemd, Kubernetes,
//! Ansible's timeout and Ctrl-C send) stop a `migrate` the way a closed output does: the
//! batch of trees at hand is finished (each tree converted or untouched, never half), the
//! run record is closed with the reason, the temporary indexes are dropped, the summary
//! (or the JSON document) is printed, and the exit code is 1. A second signal ends the
//! process at once, as an operator pressing Ctrl-C twice expects (the data is still safe:
//! every tree is one transaction).
//!
//! Why by hand: `signal-hook` does the signal handling; this module only keeps which
//! signal came, so the run can name it.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

struct Flags {
    any: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

static FLAGS: OnceLock<Flags> = OnceLock::new();

/// The exit code of a process ended by a second signal.
pub const EXIT_SECOND_SIGNAL: i32 = 1;

/// Starts listening for the stop signals (once per process).
pub fn install() -> std::io::Result<()> {
    if FLAGS.get().is_some() {
        return Ok(());
    }
    let flags = Flags {
        any: Arc::new(AtomicBool::new(false)),
        which: Arc::new(AtomicUsize::new(0)),
    };
    for sig in [SIGTERM, SIGINT, SIGHUP] {
        // Registered first, so it sees the flag as the earlier signal left it: set means
        // this is the second one.
        signal_hook::flag::register_conditional_shutdown(
            sig,
            EXIT_SECOND_SIGNAL,
            Arc::clone(&flags.any),
        )?;
        signal_hook::flag::register(sig, Arc::clone(&flags.any))?;
        signal_hook::flag::register_usize(sig, Arc::clone(&flags.which), sig as usize)?;
    }
    let _ = FLAGS.set(flags);
    Ok(())
}

/// The signal that asked the run to stop, by name, if one did.
pub fn requested() -> Option<&'static str> {
    let flags = FLAGS.get()?;
    if !flags.any.load(Ordering::SeqCst) {
        return None;
    }
    Some(match flags.which.load(Ordering::SeqCst) as i32 {
        SIGTERM => "SIGTERM",
        SIGINT => "SIGINT",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    })
}
