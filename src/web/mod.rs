//! The web view: server-rendered pages over the archive, full-text search and trends.

pub mod query;
pub mod search;
