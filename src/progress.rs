//! How a run shows that it is moving, on stderr (never stdout, which belongs to the
//! report): a progress bar on a terminal, else (or with `--quiet`) one line every ten
//! seconds, which a log collector or a pipeline's output keeps readable.

use heat_converge::convert::{Outcome, Progress, TreeReport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often a progress line is written when there is no bar.
const EVERY: Duration = Duration::from_secs(10);

pub struct Display {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    converted: usize,
    left_alone: usize,
    started: Instant,
    last_line: Instant,
}

impl Display {
    /// A bar on a terminal unless `quiet`; lines otherwise.
    pub fn new(quiet: bool) -> Display {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} trees · {msg} · {per_sec} · ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Display {
            bar,
            total: 0,
            done: 0,
            converted: 0,
            left_alone: 0,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    /// Takes one event of the run.
    pub fn event(&mut self, event: &Progress) {
        match event {
            Progress::Start { trees } => {
                self.total = *trees;
                if let Some(bar) = &self.bar {
                    bar.set_length(*trees as u64);
                }
            }
            Progress::Tree(t, _) => self.tree(t),
        }
    }

    fn tree(&mut self, t: &TreeReport) {
        self.done += 1;
        match t.outcome {
            Outcome::Converted(_) | Outcome::WouldConvert(_) => self.converted += 1,
            Outcome::Skipped(_) => self.left_alone += 1,
        }
        let msg = format!(
            "{} converted, {} left alone",
            self.converted, self.left_alone
        );
        match &self.bar {
            Some(bar) => {
                bar.set_message(msg);
                bar.inc(1);
            }
            None if self.last_line.elapsed() >= EVERY => {
                self.last_line = Instant::now();
                let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(0.001);
                let eta = (self.total - self.done) as f64 / rate.max(0.001);
                let _ = writeln!(
                    std::io::stderr(),
                    "heat-converge: {}/{} trees, {msg}, {rate:.1} trees/s, about {eta:.0} s left",
                    self.done,
                    self.total
                );
            }
            None => {}
        }
    }

    /// Clears the bar (the report follows on stdout).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
