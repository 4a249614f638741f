//! The audit chain against someone with write access to the database but not the key.

use crate::harness::{AUDIT_KEY, Engine, TestDb};
use sqlx::{AnyConnection, Connection, Row};
use zhongshu_domain::audit::{ChainedFields, chain_hash};
use zhongshu_store::audit::{Verification, read_checkpoints};

store_tests!(
    the_triggers_refuse_a_plain_update_or_delete_of_an_audit_event;
    tampered:
    an_edited_event_breaks_the_chain_at_that_event,
    a_deleted_event_breaks_the_chain_at_that_event,
    deleting_the_newest_events_and_rewinding_the_head_is_caught_by_the_checkpoint,
    forged_replacements_of_the_newest_events_are_caught_at_the_first_one,
    an_event_rehashed_with_another_key_breaks_the_chain_at_that_event,
    rechaining_everything_after_an_edit_with_another_key_is_still_caught,
);

const WRONG_KEY: &[u8] = b"attacker-key-0123456789ab";

/// Eight events: the region and seven units.
async fn history(db: &TestDb) -> i64 {
    db.region().await;
    for name in [
        "县财政局",
        "县教育局",
        "县公安局",
        "县民政局",
        "县司法局",
        "县审计局",
        "县统计局",
    ] {
        db.unit(None, name).await;
    }
    assert_eq!(db.verify().await, Verification::Intact { events: 8 });
    8
}

/// What an attacker with SQL does first: drop the triggers that stop edits and deletes.
async fn drop_guards(db: &TestDb) {
    match db.engine() {
        Engine::Sqlite => {
            db.exec("DROP TRIGGER audit_events_no_update")
                .await
                .unwrap();
            db.exec("DROP TRIGGER audit_events_keep_six_months")
                .await
                .unwrap();
        }
        Engine::Postgres => {
            db.exec("DROP TRIGGER audit_events_guard ON audit_events")
                .await
                .unwrap();
        }
    }
}

#[track_caller]
fn assert_broken_at(verification: &Verification, id: i64) {
    match verification {
        Verification::Broken { first_bad_id, .. } => {
            assert_eq!(*first_bad_id, id, "{verification:?}");
        }
        Verification::Intact { .. } => panic!("tampering went unnoticed: {verification:?}"),
    }
}

/// One stored event, every column.
struct Stored {
    id: i64,
    code: i64,
    actor_user_id: Option<i64>,
    actor_name: String,
    actor_unit_id: Option<i64>,
    target: String,
    before: Option<String>,
    after: Option<String>,
    client_addr: Option<String>,
    occurred_at: i64,
    prev_hash: String,
    hash: String,
}

impl Stored {
    fn rehash(&mut self, key: &[u8]) {
        self.hash = chain_hash(
            key,
            &ChainedFields {
                id: self.id,
                code: self.code,
                actor_user_id: self.actor_user_id,
                actor_name: &self.actor_name,
                actor_unit_id: self.actor_unit_id,
                target: &self.target,
                before: self.before.as_deref(),
                after: self.after.as_deref(),
                client_addr: self.client_addr.as_deref(),
                occurred_at: self.occurred_at,
                prev_hash: &self.prev_hash,
            },
        );
    }
}

async fn events(conn: &mut AnyConnection) -> Vec<Stored> {
    let rows = sqlx::query(
        "SELECT id, code, actor_user_id, actor_name, actor_unit_id, target, before_json, \
         after_json, client_addr, occurred_at, prev_hash, hash FROM audit_events ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    rows.iter()
        .map(|row| Stored {
            id: row.try_get("id").unwrap(),
            code: row.try_get("code").unwrap(),
            actor_user_id: row.try_get("actor_user_id").unwrap(),
            actor_name: row.try_get("actor_name").unwrap(),
            actor_unit_id: row.try_get("actor_unit_id").unwrap(),
            target: row.try_get("target").unwrap(),
            before: row.try_get("before_json").unwrap(),
            after: row.try_get("after_json").unwrap(),
            client_addr: row.try_get("client_addr").unwrap(),
            occurred_at: row.try_get("occurred_at").unwrap(),
            prev_hash: row.try_get("prev_hash").unwrap(),
            hash: row.try_get("hash").unwrap(),
        })
        .collect()
}

/// Writes an event's target, links and hash back.
async fn rewrite(conn: &mut AnyConnection, event: &Stored) {
    let changed =
        sqlx::query("UPDATE audit_events SET target = $1, prev_hash = $2, hash = $3 WHERE id = $4")
            .bind(&event.target)
            .bind(&event.prev_hash)
            .bind(&event.hash)
            .bind(event.id)
            .execute(&mut *conn)
            .await
            .unwrap()
            .rows_affected();
    assert_eq!(changed, 1);
}

async fn set_head(conn: &mut AnyConnection, seq: i64, hash: &str) {
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(hash)
        .execute(&mut *conn)
        .await
        .unwrap();
}

async fn the_triggers_refuse_a_plain_update_or_delete_of_an_audit_event(db: &TestDb) {
    history(db).await;
    let err = db
        .exec("UPDATE audit_events SET target = 'unit:999' WHERE id = 4")
        .await
        .expect_err("an audit event edited through SQL");
    assert!(err.to_string().contains("审计记录不可修改"), "{err}");
    let err = db
        .exec("DELETE FROM audit_events WHERE id = 4")
        .await
        .expect_err("an audit event deleted through SQL");
    assert!(
        err.to_string().contains("六个月内的审计记录不可删除"),
        "{err}"
    );
    let err = db
        .exec("DELETE FROM audit_events")
        .await
        .expect_err("the audit log emptied through SQL");
    assert!(err.to_string().contains("不可删除"), "{err}");
    assert_eq!(db.audit_count().await, 8);
    let mut conn = db.raw().await;
    let targets: Vec<String> = events(&mut conn)
        .await
        .into_iter()
        .map(|e| e.target)
        .collect();
    let _ = conn.close().await;
    assert_eq!(targets[3], "unit:3");
}

async fn an_edited_event_breaks_the_chain_at_that_event(db: &TestDb) {
    history(db).await;
    drop_guards(db).await;
    let changed = db
        .exec("UPDATE audit_events SET target = 'unit:999' WHERE id = 4")
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let verification = db.verify().await;
    assert_broken_at(&verification, 4);
}

async fn a_deleted_event_breaks_the_chain_at_that_event(db: &TestDb) {
    history(db).await;
    drop_guards(db).await;
    assert_eq!(
        db.exec("DELETE FROM audit_events WHERE id = 4")
            .await
            .unwrap(),
        1
    );
    let verification = db.verify().await;
    assert_broken_at(&verification, 4);
    let Verification::Broken { reason, .. } = verification else {
        unreachable!()
    };
    assert!(reason.contains("缺失"), "{reason}");
}

async fn deleting_the_newest_events_and_rewinding_the_head_is_caught_by_the_checkpoint(
    db: &TestDb,
) {
    let last = history(db).await;
    let checkpoints = read_checkpoints(&db.checkpoint_dir).unwrap();
    assert_eq!(checkpoints.len(), 1);
    assert_eq!(checkpoints[0].1.seq, last);

    drop_guards(db).await;
    let mut conn = db.raw().await;
    let deleted = sqlx::query("DELETE FROM audit_events WHERE id > $1")
        .bind(last - 3)
        .execute(&mut conn)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(deleted, 3);
    // Rewind the head to the new newest event: nothing in the database shows a gap any more.
    let remaining = events(&mut conn).await;
    let newest = remaining.last().unwrap();
    assert_eq!(newest.id, last - 3);
    set_head(&mut conn, newest.id, &newest.hash).await;
    let _ = conn.close().await;

    let elsewhere = tempfile::TempDir::new().unwrap();
    let console = zhongshu_domain::access::Viewer::console();
    let without_checkpoint = db
        .store
        .verify_audit(console.as_audit_admin().unwrap(), elsewhere.path())
        .await
        .unwrap();
    assert_eq!(
        without_checkpoint,
        Verification::Intact { events: last - 3 },
        "without the checkpoint the truncated chain looks whole"
    );
    let verification = db.verify().await;
    assert_broken_at(&verification, last - 2);
}

async fn forged_replacements_of_the_newest_events_are_caught_at_the_first_one(db: &TestDb) {
    let last = history(db).await;
    drop_guards(db).await;
    let mut conn = db.raw().await;
    let mut all = events(&mut conn).await;
    sqlx::query("DELETE FROM audit_events WHERE id > $1")
        .bind(last - 3)
        .execute(&mut conn)
        .await
        .unwrap();
    // Put three forged events in their place, chained and hashed with a key of the attacker's.
    let mut prev = all[usize::try_from(last - 4).unwrap()].hash.clone();
    for forged in &mut all[usize::try_from(last - 3).unwrap()..] {
        forged.target = format!("unit:{}", forged.id + 100);
        forged.prev_hash = prev.clone();
        forged.rehash(WRONG_KEY);
        prev = forged.hash.clone();
        sqlx::query(
            "INSERT INTO audit_events (id, code, actor_user_id, actor_name, actor_unit_id, \
             target, before_json, after_json, client_addr, occurred_at, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(forged.id)
        .bind(forged.code)
        .bind(forged.actor_user_id)
        .bind(forged.actor_name.clone())
        .bind(forged.actor_unit_id)
        .bind(forged.target.clone())
        .bind(forged.before.clone())
        .bind(forged.after.clone())
        .bind(forged.client_addr.clone())
        .bind(forged.occurred_at)
        .bind(forged.prev_hash.clone())
        .bind(forged.hash.clone())
        .execute(&mut conn)
        .await
        .unwrap();
    }
    set_head(&mut conn, last, &prev).await;
    let _ = conn.close().await;
    assert_eq!(db.audit_count().await, last);
    let verification = db.verify().await;
    assert_broken_at(&verification, last - 2);
}

async fn an_event_rehashed_with_another_key_breaks_the_chain_at_that_event(db: &TestDb) {
    history(db).await;
    drop_guards(db).await;
    let mut conn = db.raw().await;
    let mut all = events(&mut conn).await;
    let event = &mut all[3];
    assert_eq!(event.id, 4);
    let original = event.hash.clone();
    // With the right key the stored hash is reproduced: the test's recomputation is faithful.
    event.rehash(AUDIT_KEY);
    assert_eq!(event.hash, original);
    event.rehash(WRONG_KEY);
    assert_ne!(event.hash, original);
    rewrite(&mut conn, event).await;
    let _ = conn.close().await;
    let verification = db.verify().await;
    assert_broken_at(&verification, 4);
}

async fn rechaining_everything_after_an_edit_with_another_key_is_still_caught(db: &TestDb) {
    let last = history(db).await;
    drop_guards(db).await;
    let mut conn = db.raw().await;
    let mut all = events(&mut conn).await;
    all[3].target = "unit:999".to_owned();
    let mut prev = all[2].hash.clone();
    for event in &mut all[3..] {
        event.prev_hash = prev.clone();
        event.rehash(WRONG_KEY);
        prev = event.hash.clone();
        rewrite(&mut conn, event).await;
    }
    set_head(&mut conn, last, &prev).await;
    let _ = conn.close().await;
    let verification = db.verify().await;
    assert_broken_at(&verification, 4);
}
