//! Log output: plain lines on a terminal or a file, journald lines under systemd.
//!
//! Under systemd (`JOURNAL_STREAM` names our stderr) the journal stamps each line with the time and
//! unit itself, and reads a leading `<N>` as the syslog priority, so a line carries no timestamp, no
//! ANSI colour, and starts with the priority of its level: `journalctl -p warning` then works.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The syslog priority journald files a line under: err, warning, info, debug.
pub fn syslog_priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// `<N>target: message field=value …`, for stderr connected to the journal.
pub struct JournalFormat;

impl<S, N> FormatEvent<S, N> for JournalFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        write!(
            writer,
            "<{}>{}: ",
            syslog_priority(metadata.level()),
            metadata.target()
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Whether stderr is the journal stream systemd set up (`JOURNAL_STREAM=<device>:<inode>`). A child
/// that inherited the variable but writes elsewhere (a redirect to a file) keeps plain lines.
pub fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((device, inode)) = stream.to_str().and_then(|text| text.split_once(':')) else {
        return false;
    };
    match std::fs::metadata("/proc/self/fd/2") {
        Ok(stderr) => device.parse() == Ok(stderr.dev()) && inode.parse() == Ok(stderr.ino()),
        // Without /proc, trust the variable: systemd set it for us or for our parent.
        Err(_) => true,
    }
}

/// Logs to stderr; `RUST_LOG` picks the level (default `info`; the HTML parser's complaints about
/// the ministry's markup are noise).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,html5ever=error"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| super::progress::LogWriter);
    let _ = if stderr_is_journal() {
        builder
            .with_ansi(false)
            .event_format(JournalFormat)
            .try_init()
    } else {
        use std::io::IsTerminal;
        // Colour for a person at a terminal; none in files and pipes.
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_syslog_priorities() {
        assert_eq!(syslog_priority(&Level::ERROR), 3);
        assert_eq!(syslog_priority(&Level::WARN), 4);
        assert_eq!(syslog_priority(&Level::INFO), 6);
        assert_eq!(syslog_priority(&Level::DEBUG), 7);
    }
}
