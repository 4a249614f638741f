//! Zhongshu's business rules, with no I/O: typed ids, roles and capabilities, the working-day
//! calendar, password policy, organisation rules, audit event codes and the keyed audit chain.
//!
//! Nothing here knows about HTTP, SQL or files: every function is pure, so the rules can be
//! tested in milliseconds and reused by the store, the web layer and the command line alike.

pub mod access;
pub mod audit;
pub mod calendar;
pub mod deadline;
pub mod ids;
pub mod org;
pub mod password;
pub mod plan;
pub mod supervision;
