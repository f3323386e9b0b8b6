//! How a run shows that it is moving, on stderr (never stdout, which belongs to the
//! report): a progress bar on a terminal, else (or with `--quiet`) one line every ten
//! seconds, which a log collector or a pipeline's output keeps readable.
//!
//! Both are rendered here from one set of counts ([`Counts`]), the bar included (indicatif
//! only draws and clears the line): the position is every tree settled, converted or left
//! alone, so a line can never show `0/13 trees · 1 converted`, and the rate is in trees
//! per second, rounded, and shown only once a tree has settled.

use heat_converge::convert::{Outcome, Progress, TreeReport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often a progress line is written when there is no bar.
const EVERY: Duration = Duration::from_secs(10);

/// How long a run goes before its rate (and so an ETA) is shown.
const RATE_AFTER: Duration = Duration::from_secs(1);

/// The width of the bar, in characters.
const BAR_WIDTH: usize = 30;

/// Where a run is: the trees it will look at, and those settled so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    total: usize,
    converted: usize,
    left_alone: usize,
}

impl Counts {
    /// Every tree settled, converted or left alone.
    fn done(&self) -> usize {
        self.converted + self.left_alone
    }

    /// Trees settled per second since the run started on its trees; none before the
    /// first tree settles or within the first [`RATE_AFTER`] (trees settle a batch at a
    /// time, so a rate over a few milliseconds says nothing).
    fn rate(&self, elapsed: Duration) -> Option<f64> {
        (self.done() > 0 && elapsed >= RATE_AFTER)
            .then(|| self.done() as f64 / elapsed.as_secs_f64())
    }

    /// How long the trees left take at the rate so far; none without a rate or once
    /// every tree is settled.
    fn eta(&self, elapsed: Duration) -> Option<Duration> {
        let rate = self.rate(elapsed)?;
        let left = self.total.checked_sub(self.done()).filter(|n| *n > 0)?;
        Some(Duration::from_secs_f64(left as f64 / rate))
    }

    /// What both show, in order: the trees settled of all, how they settled, then the
    /// rate and the time left where there are (`eta` words the latter).
    fn parts(&self, elapsed: Duration, eta: fn(String) -> String) -> Vec<String> {
        let mut parts = vec![
            format!("{}/{} trees", self.done(), self.total),
            format!(
                "{} converted, {} left alone",
                self.converted, self.left_alone
            ),
        ];
        parts.extend(self.rate(elapsed).map(rate_text));
        parts.extend(self.eta(elapsed).map(|d| eta(duration_text(d))));
        parts
    }

    /// What the bar shows on a terminal, e.g.
    /// `██████░░░ 6/13 trees · 5 converted, 1 left alone · 4.1 trees/s · ETA 2 s`.
    fn bar_line(&self, elapsed: Duration) -> String {
        let filled = match self.total {
            0 => 0,
            total => (self.done().min(total) * BAR_WIDTH) / total,
        };
        format!(
            "{}{} {}",
            "█".repeat(filled),
            "░".repeat(BAR_WIDTH - filled),
            self.parts(elapsed, |d| format!("ETA {d}")).join(" · ")
        )
    }

    /// The line written every ten seconds without a bar, e.g. `heat-converge: 6/13
    /// trees, 5 converted, 1 left alone, 4.1 trees/s, about 2 s left`.
    fn plain_line(&self, elapsed: Duration) -> String {
        let parts = self.parts(elapsed, |d| format!("about {d} left"));
        format!("heat-converge: {}", parts.join(", "))
    }
}

/// A rate as people read it: `1234 trees/s`, `4.1 trees/s`, or below one a second
/// `1 tree per 4 s`.
fn rate_text(rate: f64) -> String {
    if rate >= 100.0 {
        format!("{rate:.0} trees/s")
    } else if rate >= 1.0 {
        format!("{rate:.1} trees/s")
    } else {
        format!(
            "1 tree per {}",
            duration_text(Duration::from_secs_f64(1.0 / rate))
        )
    }
}

/// A duration in whole units: `42 s`, `3 min 20 s`, `2 h 05 min`.
fn duration_text(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

pub struct Display {
    bar: Option<ProgressBar>,
    counts: Counts,
    started: Instant,
    last_line: Instant,
}

impl Display {
    /// A bar on a terminal unless `quiet`; lines otherwise.
    pub fn new(quiet: bool) -> Display {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            // The whole line is ours (see `Counts::bar_line`): one message, one draw.
            bar.set_style(
                ProgressStyle::with_template("{msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Display {
            bar,
            counts: Counts::default(),
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    /// Takes one event of the run.
    pub fn event(&mut self, event: &Progress) {
        match event {
            Progress::Start { trees } => {
                self.counts = Counts {
                    total: *trees,
                    ..Counts::default()
                };
                self.started = Instant::now();
                self.last_line = Instant::now();
                self.show(false);
            }
            Progress::Tree(t, _) => self.tree(t),
        }
    }

    fn tree(&mut self, t: &TreeReport) {
        match t.outcome {
            Outcome::Converted(_) | Outcome::WouldConvert(_) => self.counts.converted += 1,
            Outcome::Skipped(_) => self.counts.left_alone += 1,
        }
        self.show(true);
    }

    /// Draws the bar, or writes a line when ten seconds have passed since the last.
    fn show(&mut self, line_due: bool) {
        let elapsed = self.started.elapsed();
        match &self.bar {
            Some(bar) => bar.set_message(self.counts.bar_line(elapsed)),
            None if line_due && self.last_line.elapsed() >= EVERY => {
                self.last_line = Instant::now();
                let _ = writeln!(std::io::stderr(), "{}", self.counts.plain_line(elapsed));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(total: usize, converted: usize, left_alone: usize) -> Counts {
        Counts {
            total,
            converted,
            left_alone,
        }
    }

    #[test]
    fn the_position_counts_every_tree_settled() {
        let c = counts(13, 4, 0);
        assert_eq!(
            c.bar_line(Duration::from_secs(1)),
            "█████████░░░░░░░░░░░░░░░░░░░░░ 4/13 trees · 4 converted, 0 left alone · 4.0 trees/s · ETA 2 s"
        );
        let c = counts(13, 9, 4);
        assert_eq!(
            c.bar_line(Duration::from_secs(2)),
            "██████████████████████████████ 13/13 trees · 9 converted, 4 left alone · 6.5 trees/s"
        );
        assert_eq!(
            counts(13, 0, 2).plain_line(Duration::from_secs(20)),
            "heat-converge: 2/13 trees, 0 converted, 2 left alone, 1 tree per 10 s, about 1 min 50 s left"
        );
    }

    #[test]
    fn no_rate_before_a_tree_settles() {
        let c = counts(13, 0, 0);
        assert_eq!(c.rate(Duration::from_secs(5)), None);
        // Nor in the first second, when a batch's trees settle at once.
        assert_eq!(counts(13, 1, 0).rate(Duration::from_millis(14)), None);
        assert_eq!(
            c.bar_line(Duration::from_secs(5)),
            "░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░ 0/13 trees · 0 converted, 0 left alone"
        );
        assert!(!counts(0, 0, 0).bar_line(Duration::ZERO).contains("/s"));
    }

    #[test]
    fn rates_and_durations_read_as_people_read_them() {
        assert_eq!(rate_text(4.113_312), "4.1 trees/s");
        assert_eq!(rate_text(26.024_1), "26.0 trees/s");
        assert_eq!(rate_text(1234.56), "1235 trees/s");
        assert_eq!(rate_text(0.25), "1 tree per 4 s");
        assert_eq!(duration_text(Duration::from_millis(400)), "0 s");
        assert_eq!(duration_text(Duration::from_secs(200)), "3 min 20 s");
        assert_eq!(duration_text(Duration::from_secs(7500)), "2 h 05 min");
    }
}
