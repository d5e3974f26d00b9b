//! Progress on stderr while slots are read and written: a bar on a
//! terminal, a line per 10% with -v elsewhere, nothing otherwise.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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
            eprintln!("{message}");
        }
    }

    /// A note for every run but -q (what is happening before results).
    pub fn note(&self, message: &str) {
        if self.verbosity >= Verbosity::Normal {
            eprintln!("{message}");
        }
    }
}

pub struct Progress {
    bar: Option<ProgressBar>,
    lines: Option<&'static str>,
    done: AtomicU64,
    total: AtomicU64,
    /// The last tenth printed, in lines mode.
    printed: AtomicU64,
}

impl Progress {
    pub fn start(ui: &Ui, label: &'static str, total: u64) -> Self {
        Self::new(ui, label, total, total == 0)
    }

    /// Progress whose total grows as work is found ([`Progress::grow`]).
    pub fn start_growing(ui: &Ui, label: &'static str) -> Self {
        Self::new(ui, label, 0, false)
    }

    fn new(ui: &Ui, label: &'static str, total: u64, nothing_to_do: bool) -> Self {
        let quiet = ui.verbosity == Verbosity::Quiet || nothing_to_do;
        let bar = (!quiet && ui.stderr_is_terminal).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {pos}/{len} slots, {per_sec}, ETA {eta}",
                )
                .expect("the template is valid")
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
            printed: AtomicU64::new(0),
        }
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
                eprintln!("{label}: {}% ({done}/{total})", decile * 10);
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
