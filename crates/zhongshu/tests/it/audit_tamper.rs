//! Tampering with the audit log through SQL, found by `zhongshu audit verify`.
//!
//! The attacker here can write the database file but cannot read the audit key: these tests
//! never open `audit/audit.key`. `audit verify` exits 3 and names the first bad event on the
//! last line of stdout.

use crate::harness::{Run, Workspace};
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, Row};
use zhongshu_domain::audit::{ChainedFields, chain_hash};

/// What the attacker guesses the key to be.
const GUESSED_KEY: &[u8] = b"attacker-guess";

/// One stored event, every column.
#[derive(Clone, Debug)]
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

async fn stored_events(conn: &mut SqliteConnection) -> Vec<Stored> {
    sqlx::query(
        "SELECT id, code, actor_user_id, actor_name, actor_unit_id, target, before_json, \
         after_json, client_addr, occurred_at, prev_hash, hash FROM audit_events ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .iter()
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

/// Overwrites every column but the id of event `id` with `content`.
async fn overwrite(conn: &mut SqliteConnection, id: i64, content: &Stored) {
    let changed = sqlx::query(
        "UPDATE audit_events SET code = ?, actor_user_id = ?, actor_name = ?, actor_unit_id = ?, \
         target = ?, before_json = ?, after_json = ?, client_addr = ?, occurred_at = ?, \
         prev_hash = ?, hash = ? WHERE id = ?",
    )
    .bind(content.code)
    .bind(content.actor_user_id)
    .bind(&content.actor_name)
    .bind(content.actor_unit_id)
    .bind(&content.target)
    .bind(&content.before)
    .bind(&content.after)
    .bind(&content.client_addr)
    .bind(content.occurred_at)
    .bind(&content.prev_hash)
    .bind(&content.hash)
    .bind(id)
    .execute(&mut *conn)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(changed, 1);
}

fn verify(ws: &Workspace) -> Run {
    ws.run(["audit", "verify"])
}

#[track_caller]
fn assert_broken_at(run: &Run, id: i64) {
    run.assert_code(3).assert_stdout_contains("审计链被破坏");
    assert_eq!(run.last_line(), id.to_string(), "{}", run.stdout);
}

/// The demo county plus a few ordinary changes, each an audit event; the chain verifies.
/// Returns the workspace and the number of events.
fn history() -> (Workspace, i64) {
    let ws = Workspace::new();
    ws.demo();
    for (username, unit, role) in [
        ("zhao", "县财政局", "liaison"),
        ("qian", "县教育局", "unit_head"),
        ("sun", "县委督查室", "supervisor"),
    ] {
        ws.ok([
            "user",
            "add",
            "--username",
            username,
            "--password",
            "Good#Pass2026",
            "--unit",
            unit,
            "--role",
            role,
        ]);
    }
    ws.ok(["token", "create", "--username", "ducha"]);
    ws.ok(["user", "reset-password", "--username", "zhao"]);
    let intact = verify(&ws);
    intact.assert_code(0);
    let events = intact
        .stdout
        .split("共 ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or_else(|| panic!("no event count in {}", intact.stdout));
    assert!(events >= 6, "only {events} events");
    (ws, events)
}

/// What an attacker with SQL does first: drop the triggers that stop edits and deletes.
async fn open_without_guards(ws: &Workspace) -> SqliteConnection {
    let mut conn = ws.connect().await;
    for sql in [
        "DROP TRIGGER audit_events_no_update",
        "DROP TRIGGER audit_events_keep_six_months",
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    conn
}

#[tokio::test]
async fn with_the_triggers_in_place_sql_cannot_edit_or_delete_an_event() {
    let (ws, events) = history();
    let mut conn = ws.connect().await;
    let edit = sqlx::query("UPDATE audit_events SET target = 'unit:999' WHERE id = 2")
        .execute(&mut conn)
        .await
        .expect_err("an audit event edited through SQL");
    assert!(edit.to_string().contains("审计记录不可修改"), "{edit}");
    let delete = sqlx::query("DELETE FROM audit_events WHERE id = 2")
        .execute(&mut conn)
        .await
        .expect_err("an audit event deleted through SQL");
    assert!(delete.to_string().contains("不可删除"), "{delete}");
    conn.close().await.unwrap();
    verify(&ws)
        .assert_code(0)
        .assert_stdout_contains(&format!("共 {events} 条记录"));
}

#[tokio::test]
async fn an_edited_target_in_the_middle_is_named_by_audit_verify() {
    let (ws, events) = history();
    let middle = events / 2;
    let mut conn = open_without_guards(&ws).await;
    let changed = sqlx::query("UPDATE audit_events SET target = 'user:999' WHERE id = ?")
        .bind(middle)
        .execute(&mut conn)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(changed, 1);
    conn.close().await.unwrap();
    assert_broken_at(&verify(&ws), middle);
}

#[tokio::test]
async fn a_deleted_event_in_the_middle_is_named_by_audit_verify() {
    let (ws, events) = history();
    let middle = events / 2;
    let mut conn = open_without_guards(&ws).await;
    let deleted = sqlx::query("DELETE FROM audit_events WHERE id = ?")
        .bind(middle)
        .execute(&mut conn)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(deleted, 1);
    conn.close().await.unwrap();
    let run = verify(&ws);
    assert_broken_at(&run, middle);
    run.assert_stdout_contains("缺失");
}

#[tokio::test]
async fn deleting_the_newest_events_and_rechaining_with_a_guessed_key_is_named_at_the_first_deleted()
 {
    let (ws, events) = history();
    let mut conn = open_without_guards(&ws).await;
    let deleted = sqlx::query("DELETE FROM audit_events WHERE id > ?")
        .bind(events - 3)
        .execute(&mut conn)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(deleted, 3);
    // Re-chain everything that is left with a guessed key, from the first event on, so every
    // link in the database is consistent with the next.
    let mut remaining = stored_events(&mut conn).await;
    let mut prev = String::new();
    for event in &mut remaining {
        event.prev_hash = prev.clone();
        event.rehash(GUESSED_KEY);
        overwrite(&mut conn, event.id, &event.clone()).await;
        prev = event.hash.clone();
    }
    // Rewind the head: nothing in the database shows a gap any more.
    let newest = remaining.last().unwrap();
    assert_eq!(newest.id, events - 3);
    sqlx::query("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1")
        .bind(newest.id)
        .bind(&newest.hash)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert_broken_at(&verify(&ws), events - 2);
}

#[tokio::test]
async fn two_swapped_events_are_named_at_the_first_of_them() {
    let (ws, events) = history();
    let first = events / 2;
    let mut conn = open_without_guards(&ws).await;
    let stored = stored_events(&mut conn).await;
    let a = stored.iter().find(|e| e.id == first).unwrap().clone();
    let b = stored.iter().find(|e| e.id == first + 1).unwrap().clone();
    assert_ne!(a.target, b.target, "swapping equal events proves nothing");
    overwrite(&mut conn, first, &b).await;
    overwrite(&mut conn, first + 1, &a).await;
    conn.close().await.unwrap();
    assert_broken_at(&verify(&ws), first);
}
