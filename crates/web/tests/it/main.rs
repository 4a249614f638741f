//! HTTP integration tests of the web crate: each test starts the real server on a fresh
//! database holding the demo county 明湖县 and talks to it over TCP with a plain HTTP client.
//! SQLite always; the main stories (sign-in, lockout, cross-site refusal, units, accounts, the
//! permission matrix) also on PostgreSQL when `ZHONGSHU_TEST_PG_URL` names a server to create
//! test databases on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

mod api;
mod attachments;
mod auth;
mod bad_input;
mod boards;
mod calendar;
mod ledger;
mod org;
mod outbox;
mod outbox_email;
mod outbox_page;
mod people;
mod permissions;
mod plan;
mod search;
mod summaries;
mod supervision;
