//! Migrations and connection settings.

use crate::harness::TestDb;
use sqlx::Row;
use std::collections::BTreeSet;
use std::path::Path;
use zhongshu_domain::access::Viewer;
use zhongshu_store::Store;

store_tests!(opening_the_store_again_reruns_no_migration);

async fn opening_the_store_again_reruns_no_migration(db: &TestDb) {
    db.region().await;
    let unit = db.unit(None, "县财政局").await;
    let applied = db.count("SELECT COUNT(*) AS n FROM _sqlx_migrations").await;
    assert_eq!(
        applied,
        i64::try_from(migration_files("sqlite").len()).unwrap()
    );

    let again = Store::open(db.options()).await.expect("second open");
    let console = Viewer::console();
    assert_eq!(
        again.get_unit(&console, unit).await.unwrap().name,
        "县财政局"
    );
    assert_eq!(again.unit_count(&console).await.unwrap(), 1);
    again.close().await;
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM _sqlx_migrations").await,
        applied,
        "a second open applied migrations again"
    );
    // The first store still writes, and the chain continues across both.
    db.unit(None, "县教育局").await;
}

fn migration_files(engine: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_migration_trees_have_the_same_file_names() {
    let sqlite = migration_files("sqlite");
    let postgres = migration_files("postgres");
    assert!(!sqlite.is_empty(), "no SQLite migrations found");
    assert!(
        sqlite.iter().all(|name| name.ends_with(".sql")),
        "{sqlite:?}"
    );
    assert_eq!(sqlite, postgres);
}

#[tokio::test]
async fn an_edited_applied_migration_is_refused() {
    let db = TestDb::sqlite().await;
    db.store.close().await;
    let changed = db
        .exec("UPDATE _sqlx_migrations SET checksum = x'00'")
        .await
        .unwrap();
    assert!(changed >= 1);
    let err = Store::open(db.options())
        .await
        .expect_err("a store opened on an edited migration");
    let message = err.to_string();
    assert!(message.contains("修改"), "{message}");
    db.finish_tampered().await;
}

#[tokio::test]
async fn sqlite_connections_use_wal_full_sync_and_foreign_keys() {
    let db = TestDb::sqlite().await;
    // Take every connection the pool may hand out, so a setting missing on any one shows.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(db.store.pool_for_tests().acquire().await.unwrap());
    }
    for conn in &mut held {
        let mode: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(mode.to_lowercase(), "wal");
        let synchronous: i64 = sqlx::query("PRAGMA synchronous")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(synchronous, 2, "synchronous should be FULL");
        let foreign_keys: i64 = sqlx::query("PRAGMA foreign_keys")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(foreign_keys, 1);
        // Writers checkpoint only as a net; the store's own task does it (next test).
        let autocheckpoint: i64 = sqlx::query("PRAGMA wal_autocheckpoint")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(autocheckpoint, 20_000);
    }
    for conn in held {
        drop(conn);
    }
    // And foreign keys are really enforced through the store's pool.
    let err = sqlx::query(
        "INSERT INTO units (region_id, name, unit_type, path, created_at, updated_at) \
         VALUES (999, '幽灵单位', 'other', '/', 0, 0)",
    )
    .execute(db.store.pool_for_tests())
    .await
    .expect_err("a unit of a region that does not exist");
    assert!(
        err.to_string().to_lowercase().contains("foreign key"),
        "{err}"
    );
    db.finish().await;
}

/// Whether the SQLite file itself, read without its WAL, holds a unit of this name.
async fn main_file_has_unit(db: &TestDb, name: &str) -> bool {
    let dir = tempfile::TempDir::new().unwrap();
    let source = db
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let copy = dir.path().join("copy.db");
    std::fs::copy(&source, &copy).unwrap();
    let url = format!("sqlite://{}?mode=rwc", copy.display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM units WHERE name = $1")
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let _ = sqlx::Connection::close(conn).await;
    n == 1
}

#[tokio::test]
async fn a_commit_reaches_the_sqlite_file_soon_without_the_writer_checkpointing() {
    let db = TestDb::sqlite().await;
    db.region().await;
    db.unit(None, "县财政局").await;
    // The commit is in the WAL at once; the checkpoint task copies it into the file shortly
    // after (a writer alone would wait for 20,000 frames).
    let mut reached = false;
    for _ in 0..50 {
        if main_file_has_unit(&db, "县财政局").await {
            reached = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(reached, "the commit never reached the database file");
}
