//! Progress on stderr while slots are read and written: a bar on a
//! terminal, a line per 10% with -v elsewhere, nothing otherwise.

use std::fmt;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// How progress and notes reach stderr, decided once at start-up.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    pub verbosity: Verbosity,
    pub stderr_is_terminal: bool,
}

impl Ui {
    pub fn new(verbosity: Verbosity) -> Self {
        Self {
            verbosity,
            stderr_is_terminal: std::io::stderr().is_terminal(),
        }
    }

    /// A note for -v runs (retries, timings).
    pub fn verbose(&self, message: &str) {
        if self.verbosity >= Verbosity::Verbose {
            eprintln!("{}", crate::printable::printable_lines(message));
        }
    }

    /// A note for every run but -q (what is happening before results).
    pub fn note(&self, message: &str) {
        if self.verbosity >= Verbosity::Normal {
            eprintln!("{}", crate::printable::printable_lines(message));
        }
    }
}

pub struct Progress {
    bar: Option<ProgressBar>,
    lines: Option<&'static str>,
    done: AtomicU64,
    total: AtomicU64,
    /// Whether more work may still be found (discovery still listing
    /// accounts): an ETA on such a total would be a guess.
    growing: Arc<AtomicBool>,
    /// The last tenth printed, in lines mode.
    printed: AtomicU64,
}

/// Requests a second, whole: `11.5201/s` reads as noise.
fn rate_text(per_second: f64) -> String {
    format!("{:.0}/s", per_second.max(0.0))
}

/// What is left, or that nobody can know yet.
fn remaining_text(growing: bool, eta: Duration) -> String {
    if growing {
        return "total still growing".to_owned();
    }
    let seconds = eta.as_secs();
    match seconds {
        0..60 => format!("ETA {seconds}s"),
        _ => format!("ETA {}m{:02}s", seconds / 60, seconds % 60),
    }
}

impl Progress {
    pub fn start(ui: &Ui, label: &'static str, total: u64) -> Self {
        Self::new(ui, label, total, false)
    }

    /// Progress whose total grows as work is found ([`Progress::grow`])
    /// until [`Progress::total_known`].
    pub fn start_growing(ui: &Ui, label: &'static str) -> Self {
        Self::new(ui, label, 0, true)
    }

    fn new(ui: &Ui, label: &'static str, total: u64, growing: bool) -> Self {
        let quiet = ui.verbosity == Verbosity::Quiet || (total == 0 && !growing);
        let growing = Arc::new(AtomicBool::new(growing));
        let bar = (!quiet && ui.stderr_is_terminal).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let still_growing = Arc::clone(&growing);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} slots, {rate}, {left}")
                    .expect("the template is valid")
                    .with_key("rate", |state: &ProgressState, out: &mut dyn fmt::Write| {
                        let _ = out.write_str(&rate_text(state.per_sec()));
                    })
                    .with_key(
                        "left",
                        move |state: &ProgressState, out: &mut dyn fmt::Write| {
                            let growing = still_growing.load(Ordering::Relaxed);
                            let _ = out.write_str(&remaining_text(growing, state.eta()));
                        },
                    )
                    .progress_chars("=> "),
            );
            bar.set_message(label);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let lines = (!quiet && !ui.stderr_is_terminal && ui.verbosity == Verbosity::Verbose)
            .then_some(label);
        Self {
            bar,
            lines,
            done: AtomicU64::new(0),
            total: AtomicU64::new(total),
            growing,
            printed: AtomicU64::new(0),
        }
    }

    /// No more work will be found: the total is the total.
    pub fn total_known(&self) {
        self.growing.store(false, Ordering::Relaxed);
    }

    pub fn grow(&self, more: u64) {
        self.total.fetch_add(more, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc_length(more);
        }
    }

    pub fn inc(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        if let Some(label) = self.lines {
            // While the total still grows a share can go down; a line is
            // printed only when it reaches a tenth not printed before.
            let total = self.total.load(Ordering::Relaxed);
            let decile = done * 10 / total.max(1);
            if self.printed.fetch_max(decile, Ordering::Relaxed) < decile {
                let so_far = if self.growing.load(Ordering::Relaxed) {
                    " so far, total still growing"
                } else {
                    ""
                };
                eprintln!("{label}: {}% ({done}/{total}{so_far})", decile * 10);
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_whole_and_the_eta_waits_for_the_total() {
        assert_eq!(rate_text(11.5201), "12/s");
        assert_eq!(rate_text(0.2), "0/s");
        assert_eq!(
            remaining_text(true, Duration::from_secs(5)),
            "total still growing"
        );
        assert_eq!(remaining_text(false, Duration::from_secs(5)), "ETA 5s");
        assert_eq!(remaining_text(false, Duration::from_secs(125)), "ETA 2m05s");
    }

    #[test]
    fn a_growing_total_is_known_once_told() {
        let ui = Ui {
            verbosity: Verbosity::Normal,
            stderr_is_terminal: false,
        };
        let progress = Progress::start_growing(&ui, "reading contacts");
        assert!(progress.growing.load(Ordering::Relaxed));
        progress.total_known();
        assert!(!progress.growing.load(Ordering::Relaxed));
        let fixed = Progress::start(&ui, "applying", 10);
        assert!(!fixed.growing.load(Ordering::Relaxed));
    }
}
