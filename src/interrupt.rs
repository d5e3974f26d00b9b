//! Interrupts: Ctrl-C (SIGINT) and SIGTERM, which `timeout`, Kubernetes,
//! GitLab and GitHub's runner send, are one and the same.
//!
//! Before any write, an interrupt ends the run at once: nothing was written.
//! While an apply writes, the first interrupt closes the gate (no new write
//! starts; writes in flight finish and are verified, then the report is
//! printed), and a second one prints the report as it stands, with the
//! writes still in flight marked as such, and quits at once. GitHub's runner
//! sends SIGINT, then SIGTERM 7.5 s later: that second signal must not cost
//! the report.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::backend::Gate;
use crate::progress::Ui;

/// Exit codes of a run ended by a signal, as shells report them.
pub const EXIT_SIGINT: u8 = 130;
pub const EXIT_SIGTERM: u8 = 143;

/// What prints the report as it stands, when a second interrupt arrives.
type LastWords = Box<dyn Fn() + Send + Sync>;

/// The run's interrupt handling, shared by the command that writes.
pub struct Interrupts {
    gate: Arc<Gate>,
    last_words: Mutex<Option<LastWords>>,
    /// Set once a report has been printed, by the run or by the last words,
    /// so it is never printed twice.
    reported: AtomicBool,
    ui: Ui,
}

impl Interrupts {
    /// Starts listening for SIGINT and SIGTERM, for the rest of the run.
    pub fn listen(ui: Ui) -> Arc<Self> {
        let interrupts = Arc::new(Self {
            gate: Arc::new(Gate::default()),
            last_words: Mutex::new(None),
            reported: AtomicBool::new(false),
            ui,
        });
        let listening = Arc::clone(&interrupts);
        tokio::spawn(async move {
            let mut signals = match Signals::new() {
                Ok(signals) => signals,
                Err(error) => {
                    listening.ui.verbose(&format!(
                        "interrupts are not handled, so Ctrl-C ends the run at once: {error}"
                    ));
                    return;
                }
            };
            let mut seen = 0;
            while let Some(code) = signals.next().await {
                seen += 1;
                listening.on_signal(seen, code);
            }
        });
        interrupts
    }

    /// The gate writes pass through: closed by the first interrupt.
    pub fn gate(&self) -> Arc<Gate> {
        Arc::clone(&self.gate)
    }

    /// From now on the run writes: an interrupt no longer ends it at once.
    /// `last_words` prints the report as it stands, should a second
    /// interrupt come before the run's own report.
    pub fn writing(&self, last_words: LastWords) {
        *self.lock() = Some(last_words);
    }

    /// Whether the run may print its report: false once the last words did.
    pub fn claim_report(&self) -> bool {
        !self.reported.swap(true, Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<LastWords>> {
        self.last_words
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn on_signal(&self, seen: usize, code: u8) {
        let last_words = self.lock();
        match (&*last_words, seen) {
            (None, _) => {
                self.ui
                    .note("Interrupted before any write: nothing was written.");
                std::process::exit(i32::from(code));
            }
            (Some(_), 1) => {
                self.gate.close();
                self.ui.note(
                    "Interrupted: no new change will start; waiting for the ones in flight (interrupt again to quit now).",
                );
            }
            (Some(last_words), _) => {
                self.gate.close();
                if self.claim_report() {
                    last_words();
                }
                use std::io::Write;
                let _ = std::io::stdout().flush();
                std::process::exit(i32::from(code));
            }
        }
    }
}

/// SIGINT and SIGTERM as one stream of exit codes.
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) -> Option<u8> {
        tokio::select! {
            received = self.interrupt.recv() => received.map(|()| EXIT_SIGINT),
            received = self.terminate.recv() => received.map(|()| EXIT_SIGTERM),
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> std::io::Result<Self> {
        Ok(Self)
    }

    async fn next(&mut self) -> Option<u8> {
        tokio::signal::ctrl_c().await.ok().map(|()| EXIT_SIGINT)
    }
}
