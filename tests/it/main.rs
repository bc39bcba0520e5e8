//! Integration tests: the real binary and library against real servers on loopback.

mod alert;
mod archive;
mod browser;
mod cli;
mod dates;
mod diff;
mod every_text;
mod export;
mod extract;
mod feed;
mod feed_dates;
mod feed_fresh;
mod feed_revisions;
mod fetch;
mod harden;
mod manners;
mod poll_policy;
mod redesign;
mod serve;
mod service;
mod smtp_server;
mod sql_archive;
mod support;
mod web;
mod web_words;
mod webhook;
