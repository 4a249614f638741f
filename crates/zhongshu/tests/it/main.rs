//! Integration tests of the `zhongshu` binary: each test runs the real executable against a
//! fresh data directory and checks what a person (or a script) sees: stdout, stderr, the exit
//! status, and what ends up in the SQLite database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod audit_tamper;
mod cli;
mod crash;
