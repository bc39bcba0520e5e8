//! Site profiles: selector fallback chains for listing and article pages, and title classification.

use crate::model::{Briefing, Listing};

/// Why a page could not be turned into a record.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("layout not recognized: {url}: tried {tried}")]
    LayoutNotRecognized { url: String, tried: String },
    #[error("not a transcript: {url}: {reason}")]
    NotATranscript { url: String, reason: String },
    #[error("listing has no items: {url}: tried {tried}")]
    EmptyListing { url: String, tried: String },
    #[error("unknown site profile {0:?} (known: mfa-en, mfa-zh)")]
    UnknownProfile(String),
}

/// A named set of selector chains for one site and language.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
}

impl Profile {
    /// The built-in profile of that name (`mfa-en`, `mfa-zh`).
    pub fn builtin(name: &str) -> Result<Profile, SiteError> {
        Err(SiteError::UnknownProfile(name.to_string()))
    }

    pub fn parse_listing(&self, _html: &str, base_url: &str) -> Result<Listing, SiteError> {
        Err(SiteError::EmptyListing {
            url: base_url.to_string(),
            tried: String::new(),
        })
    }

    pub fn parse_article(&self, _html: &str, url: &str) -> Result<Briefing, SiteError> {
        Err(SiteError::LayoutNotRecognized {
            url: url.to_string(),
            tried: String::new(),
        })
    }
}
