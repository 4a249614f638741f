//! Integration tests of the store, each on a fresh database: SQLite always, PostgreSQL when
//! `ZHONGSHU_TEST_PG_URL` names a server to create test databases on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

mod attachments;
mod audit;
mod boards;
mod calendar;
mod demo;
mod import;
mod inspections;
mod ledger;
mod migrations;
mod outbox;
mod search;
mod sessions;
mod summaries;
mod supervision;
mod units;
mod users;
mod writes;
