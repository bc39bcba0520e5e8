//! Integration tests: the real binary and library against real servers on loopback.

mod archive;
mod browser;
mod diff;
mod extract;
mod fetch;
mod support;
mod web;
