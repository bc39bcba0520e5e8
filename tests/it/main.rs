//! Integration tests: the real binary and library against real servers on loopback.

mod alert;
mod archive;
mod browser;
mod dates;
mod diff;
mod extract;
mod feed;
mod fetch;
mod redesign;
mod serve;
mod service;
mod smtp_server;
mod support;
mod web;
