//! `sqlx::migrate!` embeds the migration files when the crate compiles; without this, a new
//! migration file alone would not make cargo rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
