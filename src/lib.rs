//! briefwatch: watch, archive, diff and publish the Chinese Foreign Ministry's press-conference transcripts.

pub mod alert;
pub mod api;
pub mod charset;
pub mod config;
pub mod daemon;
pub mod diff;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod ingest;
pub mod model;
pub mod search;
pub mod serve;
pub mod service;
pub mod setup;
pub mod site;
pub mod store;
pub mod suspect;
pub mod text;
pub mod web;
