//! Integration tests: the real binary and library against real servers on loopback.

mod extract;
mod feed;
mod serve;
