//! What one request to the site amounted to, and the validators of a stored answer: the
//! vocabulary the fetcher, the ingest pipeline and the archive share.

use serde::{Deserialize, Serialize};

/// What one request amounted to; every request is logged with one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A page with content.
    Ok,
    /// 304: unchanged since the validators we sent.
    NotModified,
    /// 404 or 410.
    Gone,
    /// A redirect to the error page, or the error page served with 200.
    SoftGone,
    /// A challenge (412/521 or a script-only page): leave the host alone for hours.
    Blocked,
    /// 5xx, 429, timeouts, resets, truncated or oversized bodies: try again later.
    Transient,
    /// Fetched fine but the layout was not recognized.
    Unparseable,
    /// Not requested: robots.txt disallows the page.
    Disallowed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotModified => "not_modified",
            Outcome::Gone => "gone",
            Outcome::SoftGone => "soft_gone",
            Outcome::Blocked => "blocked",
            Outcome::Transient => "transient",
            Outcome::Unparseable => "unparseable",
            Outcome::Disallowed => "disallowed",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        [
            Outcome::Ok,
            Outcome::NotModified,
            Outcome::Gone,
            Outcome::SoftGone,
            Outcome::Blocked,
            Outcome::Transient,
            Outcome::Unparseable,
            Outcome::Disallowed,
        ]
        .into_iter()
        .find(|outcome| outcome.as_str() == text)
    }
}

/// HTTP validators of a stored response, sent back as `If-None-Match` / `If-Modified-Since`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}
