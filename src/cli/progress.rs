//! Progress of long commands on a terminal: a bar (or a counter when the total is unknown) on
//! stderr while a person watches, nothing when stderr is a file, a pipe or the journal, or when the
//! command prints JSON. Log lines written meanwhile go out above the bar, not through it.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar on screen, if any, so that log lines can step around it.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Whether a command should show progress: stderr is a terminal (not the journal) and the
/// command does not print JSON for a program.
pub fn wanted(json: bool) -> bool {
    !json && std::io::stderr().is_terminal() && !super::logging::stderr_is_journal()
}

/// A progress display for one job; hidden unless `shown`. Cleared when dropped.
pub struct Progress {
    bar: ProgressBar,
    what: String,
}

impl Progress {
    /// Counts steps of `what` (e.g. "documents"): a bar once the total is known
    /// ([`Progress::set_total`]), a counter until then.
    pub fn new(shown: bool, what: &str) -> Progress {
        Progress::start(
            shown,
            what,
            &format!("{{spinner}} {{elapsed:>4}} {{pos}} {what} {{wide_msg}}"),
        )
    }

    /// A job that cannot count its steps: a spinner, the time it has taken and `message`.
    pub fn working(shown: bool, message: &str) -> Progress {
        let progress = Progress::start(shown, "", "{spinner} {elapsed:>4} {wide_msg}");
        progress.bar.set_message(message.to_string());
        progress
    }

    fn start(shown: bool, what: &str, template: &str) -> Progress {
        let what = what.to_string();
        if !shown {
            return Progress {
                bar: ProgressBar::hidden(),
                what,
            };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        *SHOWN.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
        Progress { bar, what }
    }

    /// One more step done.
    pub fn step(&self, message: &str) {
        step(&self.bar, message);
    }

    /// The total, once the job learns it: the counter becomes a bar.
    pub fn set_total(&self, total: u64) {
        set_total(&self.bar, &self.what, total);
    }

    /// A hook for the engine's backfills and imports, which tell each page they handle.
    pub fn hook(&self) -> briefwatch::daemon::ProgressHook {
        let (bar, what) = (self.bar.clone(), self.what.clone());
        Box::new(move |step| {
            if let Some(total) = step.total {
                if bar.length() != Some(total) {
                    set_total(&bar, &what, total);
                }
            }
            self::step(&bar, step.url);
        })
    }
}

fn step(bar: &ProgressBar, message: &str) {
    bar.inc(1);
    bar.set_message(message.to_string());
}

fn set_total(bar: &ProgressBar, what: &str, total: u64) {
    bar.set_length(total);
    if !bar.is_hidden() {
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{elapsed:>4}} [{{bar:30}}] {{pos}}/{{len}} {what} {{wide_msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
        let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
        *shown = None;
    }
}

/// Stderr for the log: a line written while a bar is shown is put above it.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match shown {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
