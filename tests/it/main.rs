//! Integration tests: the real binary and library against real servers on loopback.

mod alert;
mod extract;
mod smtp_server;
