//! Integration tests: the real binary and library against real servers on loopback.

mod alert;
mod api;
mod archive;
mod browser;
mod cli;
mod diff;
mod every_text;
mod extract;
mod feed;
mod feed_dates;
mod feed_fresh;
mod feed_revisions;
mod fetch;
mod serve;
mod service;
mod smtp_server;
mod support;
mod web;
mod web_words;
