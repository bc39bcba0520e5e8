//! Keyword rules, matching, alert mail and webhook composition, and the outbox sender.
//!
//! The pieces, in the order an alert flows through them:
//! - [`rule`]: `[[alert]]` rules (written in [`crate::config`]), compiled once into a [`RuleSet`];
//!   pure matching with spans.
//! - [`plan`]: which rules fire for a new, revised or removed briefing; groups matches per recipient
//!   and per webhook.
//! - [`ingest`]: what the archive's ingest transaction calls; the diff's changes as alert pairs.
//! - [`outbox`]: the SQLite `outbox` table; alerts are queued in the transaction that stored their cause.
//! - [`compose`]: one alert row to a multipart `lettre::Message` (pure).
//! - [`payload`]: one alert row to a webhook's JSON or Slack body, and its signature (pure).
//! - [`webhook`]: webhook secrets, and the POST of one row.
//! - [`sender`]: SMTP credentials, and the task that delivers due rows with retries.

pub mod compose;
pub mod ingest;
pub mod outbox;
pub mod payload;
pub mod plan;
pub mod rule;
pub mod sender;
pub mod webhook;

pub use compose::{ComposeSettings, compose, compose_test};
pub use ingest::{IngestAlerts, pairs_from_change};
pub use outbox::{OutboxRow, OutboxState};
pub use plan::{
    Alert, AlertEvent, AlertItem, BriefingAlert, BriefingEvent, BriefingRef, Channel, Delivery,
    ExchangePair, ItemChange, PendingAlert, RenderedDiff, link_archive, plan_alerts,
};
pub use rule::{Match, Part, Rule, RuleSet, Span};
pub use sender::{DeliveryReport, Sender};
pub use webhook::Webhooks;

/// How one delivery attempt of one row went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted; the server's reply.
    Sent(String),
    /// Worth another try. `unreachable`: the target as a whole is not answering (refused, reset,
    /// timed out, or a webhook's 5xx/429), so its other rows wait too. `after`: the delay the
    /// receiver asked for (`Retry-After`).
    Retry {
        error: String,
        unreachable: bool,
        after: Option<std::time::Duration>,
    },
    /// Refused for good; the reason.
    Dead(String),
}

/// Everything that can go wrong in the alert stage.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("alert rule {rule:?}: invalid term {term:?}: {reason}")]
    InvalidTerm {
        rule: String,
        term: String,
        reason: String,
    },
    #[error("alert rule {rule:?}: {reason}")]
    InvalidRule { rule: String, reason: String },
    #[error("[smtp]: {reason}")]
    InvalidSmtp { reason: String },
    #[error("reading the SMTP password from {path}: {source}")]
    Credentials {
        path: String,
        source: std::io::Error,
    },
    #[error("webhook {name:?}: {reason}")]
    InvalidWebhook { name: String, reason: String },
    #[error("reading the webhook secret from {path}: {source}")]
    WebhookSecret {
        path: String,
        source: std::io::Error,
    },
    #[error("composing message {message_id}: {reason}")]
    Compose { message_id: String, reason: String },
    #[error("outbox {operation}: {source}")]
    Outbox {
        operation: &'static str,
        source: rusqlite::Error,
    },
    #[error("SMTP delivery to {recipient}: {source}")]
    Smtp {
        recipient: String,
        source: lettre::transport::smtp::Error,
    },
    #[error("outbox row {id} holds an unreadable alert: {source}")]
    OutboxRecord { id: i64, source: serde_json::Error },
}
