//! Office files in and out: Excel, CSV (and later Word and PDF). Heavy format crates live here
//! so the rest of the workspace compiles fast.

pub mod export;
pub mod summary;
pub mod tasks;
pub mod units;
