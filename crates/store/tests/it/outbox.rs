//! Reminders and the outbox on the demo county's 2026 ledger: each scheduled reminder is
//! enqueued once however often (and on however many stores) the scan runs, the minimum interval
//! holds, closed items are left alone; outbox rows exist only for configured targets, claims are
//! leased, expire, and stop at the maximum number of attempts. E-mail rows go to each recipient
//! with an address, once; the overview counts rows by channel and status, and a given-up row
//! can be put back in the queue once, audited.

use crate::harness::TestDb;
use jiff::civil::{Date, date};
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::supervision::{Action, ItemState};
use zhongshu_store::Store;
use zhongshu_store::outbox::{self, Channel, OutboxCounts, OutboxOperator, RowStatus, Target};
use zhongshu_store::reminders::{Scan, ScanOutcome};
use zhongshu_store::supervision::ItemFilter;

store_tests!(
    a_scan_reminds_each_item_once_across_repeated_scans_and_a_restart,
    overdue_reminders_keep_the_minimum_interval,
    outbox_rows_are_made_only_for_configured_targets,
    claims_are_leased_expire_and_stop_at_the_maximum_attempts,
    email_rows_go_once_to_each_recipient_with_an_address,
    the_overview_counts_by_status_and_a_given_up_row_is_retried_once,
);

/// A Friday: two working days later is the next Tuesday.
const TODAY: Date = date(2026, 1, 30);
const HOUR: i64 = 3_600_000;

fn t0() -> i64 {
    "2026-01-30T02:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond()
}

fn scan_at(now_ms: i64) -> Scan {
    Scan {
        today: TODAY,
        now_ms,
        yellow_days: 3,
        min_interval_ms: 24 * HOUR,
    }
}

/// The demo county and its 2026 ledger, every item due at the end of the year.
async fn with_ledger(db: &TestDb) -> Vec<i64> {
    let console = Viewer::console();
    db.store
        .load_demo(console.as_sys_admin().unwrap(), "Demo#2026pw")
        .await
        .expect("load_demo");
    db.store
        .load_demo_ledger(console.as_supervisor().unwrap(), 2026)
        .await
        .expect("load_demo_ledger");
    db.edit_items("UPDATE items SET due_date = '2026-12-31', due_at = NULL, state = 'assigned' WHERE is_group = 0 AND state IN ('assigned', 'in_progress')")
        .await
        .expect("due dates");
    let mut ids: Vec<i64> = db
        .store
        .list_items(&console, &ItemFilter::default(), TODAY, 3, 1000)
        .await
        .expect("list_items")
        .into_iter()
        .filter(|r| r.parent_id.is_some() && r.state == ItemState::Assigned)
        .map(|r| r.id)
        .collect();
    ids.sort_unstable();
    assert!(ids.len() >= 3, "the demo ledger has too few items");
    ids
}

async fn set_due(db: &TestDb, id: i64, due: Date) {
    db.edit_items(&format!(
        "UPDATE items SET due_date = '{due}' WHERE id = {id}"
    ))
    .await
    .expect("set due date");
}

async fn notifications(db: &TestDb, kind: &str) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) AS n FROM notifications WHERE kind = '{kind}'"
    ))
    .await
}

async fn a_scan_reminds_each_item_once_across_repeated_scans_and_a_restart(db: &TestDb) {
    let ids = with_ledger(db).await;
    let calendar = db.store.work_calendar().await.unwrap();
    let soon = calendar.add_workdays(TODAY, 2);
    assert!(
        soon >= date(2026, 2, 3),
        "two working days cross the weekend"
    );
    set_due(db, ids[0], soon).await;
    set_due(db, ids[1], date(2026, 1, 20)).await;
    // Closed and overdue: never reminded.
    set_due(db, ids[2], date(2026, 1, 20)).await;
    db.edit_items(&format!(
        "UPDATE items SET state = 'closed' WHERE id = {}",
        ids[2]
    ))
    .await
    .unwrap();

    let first = db.store.scan_reminders(&scan_at(t0())).await.unwrap();
    assert_eq!(
        first,
        ScanOutcome {
            due_soon: 1,
            overdue: 1
        }
    );
    let due_soon = notifications(db, "due_soon").await;
    let overdue = notifications(db, "overdue").await;
    assert!(due_soon >= 1 && overdue >= 1, "{due_soon} {overdue}");
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM notifications WHERE item_id = {} AND kind IN ('due_soon', 'overdue')",
            ids[2]
        ))
        .await,
        0
    );
    // A minute later, and again: nothing new.
    for later in [t0() + 60_000, t0() + 10 * 60_000] {
        let again = db.store.scan_reminders(&scan_at(later)).await.unwrap();
        assert_eq!(again, ScanOutcome::default());
    }
    // A second store on the same database (a restart, or another node): nothing new.
    let other = Store::open(db.options()).await.unwrap();
    let restarted = other.scan_reminders(&scan_at(t0() + HOUR)).await.unwrap();
    assert_eq!(restarted, ScanOutcome::default());
    other.close().await;
    assert_eq!(notifications(db, "due_soon").await, due_soon);
    assert_eq!(notifications(db, "overdue").await, overdue);
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE code = {}",
            AuditCode::RemindersSent.code()
        ))
        .await,
        1,
        "one audit event per scan that sent something"
    );
}

async fn overdue_reminders_keep_the_minimum_interval(db: &TestDb) {
    let ids = with_ledger(db).await;
    set_due(db, ids[0], date(2026, 1, 20)).await;
    let once = ScanOutcome {
        due_soon: 0,
        overdue: 1,
    };
    assert_eq!(db.store.scan_reminders(&scan_at(t0())).await.unwrap(), once);
    let per_scan = notifications(db, "overdue").await;
    for later in [1, 12, 23] {
        let outcome = db
            .store
            .scan_reminders(&scan_at(t0() + later * HOUR))
            .await
            .unwrap();
        assert_eq!(outcome, ScanOutcome::default(), "{later} hours later");
    }
    assert_eq!(
        db.store
            .scan_reminders(&scan_at(t0() + 25 * HOUR))
            .await
            .unwrap(),
        once
    );
    assert_eq!(notifications(db, "overdue").await, 2 * per_scan);
    // A shorter interval allows an earlier reminder, but never two in one window.
    let short = Scan {
        min_interval_ms: HOUR,
        ..scan_at(t0() + 25 * HOUR + 30 * 60_000)
    };
    assert_eq!(
        db.store.scan_reminders(&short).await.unwrap(),
        ScanOutcome::default()
    );
    let short = Scan {
        min_interval_ms: HOUR,
        ..scan_at(t0() + 27 * HOUR)
    };
    assert_eq!(db.store.scan_reminders(&short).await.unwrap(), once);
}

/// Urges an item as the console; the notifications this wrote.
async fn urge(db: &TestDb, id: i64) -> i64 {
    let console = Viewer::console();
    let before = db.count("SELECT COUNT(*) AS n FROM notifications").await;
    let version = db
        .store
        .get_item(&console, id, TODAY, 3)
        .await
        .unwrap()
        .item
        .version;
    db.store
        .act_on_item(&console, id, Action::Urge, version, "请加快进度")
        .await
        .expect("urge");
    db.count("SELECT COUNT(*) AS n FROM notifications").await - before
}

async fn outbox_rows(db: &TestDb, channel: &str) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) AS n FROM outbox WHERE channel = '{channel}'"
    ))
    .await
}

async fn outbox_rows_are_made_only_for_configured_targets(db: &TestDb) {
    let ids = with_ledger(db).await;
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM outbox").await, 0);
    db.store.set_urge_interval_minutes(0);
    assert!(urge(db, ids[0]).await >= 1);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM outbox").await, 0);

    db.store
        .set_outbox_targets(&[
            Target {
                channel: Channel::Webhook,
                url: "http://gw.local/hook".into(),
            },
            Target {
                channel: Channel::WeCom,
                url: "http://gw.local/wecom?key=k".into(),
            },
        ])
        .await
        .unwrap();
    let told = urge(db, ids[0]).await;
    assert!(told >= 1);
    assert_eq!(outbox_rows(db, "webhook").await, told, "one per recipient");
    assert_eq!(outbox_rows(db, "wecom").await, 1, "one per event");
    let payload = db
        .count(
            "SELECT COUNT(*) AS n FROM outbox WHERE channel = 'wecom' \
             AND payload LIKE '%\"msgtype\":\"text\"%' AND payload LIKE '%催办（第2次）%'",
        )
        .await;
    assert_eq!(payload, 1);

    // Reminders go out the same way; a repeated scan adds nothing.
    set_due(db, ids[1], date(2026, 1, 20)).await;
    let scanned = db.store.scan_reminders(&scan_at(t0())).await.unwrap();
    assert_eq!(scanned.overdue, 1);
    let rows = db.count("SELECT COUNT(*) AS n FROM outbox").await;
    db.store
        .scan_reminders(&scan_at(t0() + 60_000))
        .await
        .unwrap();
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM outbox").await, rows);

    // Removing the targets stops new rows.
    db.store.set_outbox_targets(&[]).await.unwrap();
    urge(db, ids[0]).await;
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM outbox").await, rows);
}

async fn claims_are_leased_expire_and_stop_at_the_maximum_attempts(db: &TestDb) {
    let ids = with_ledger(db).await;
    db.store
        .set_outbox_targets(&[Target {
            channel: Channel::DingTalk,
            url: "http://gw.local/robot".into(),
        }])
        .await
        .unwrap();
    urge(db, ids[0]).await;
    let max = 3;
    let t = zhongshu_store::now_ms();
    let lease = 60_000;

    let first = outbox::claim(&db.store, t, 10, lease, max).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].attempts, 1);
    assert!(first[0].payload.contains("\"msgtype\":\"text\""));
    assert!(first[0].header_key().starts_with("zs-"));
    // Held by the first claim.
    assert!(
        outbox::claim(&db.store, t + 1, 10, lease, max)
            .await
            .unwrap()
            .is_empty()
    );
    // The first worker "crashed": after the lease another claims it, with the same key.
    let second = outbox::claim(&db.store, t + lease + 1, 10, lease, max)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].attempts, 2);
    assert_eq!(second[0].header_key(), first[0].header_key());
    // The stale worker's failure does not touch the row the second holds.
    assert!(
        !outbox::mark_failed(&db.store, &first[0], "HTTP 500", t)
            .await
            .unwrap()
    );
    let retry_at = t + lease + 1 + outbox::backoff_ms(2);
    assert!(
        outbox::mark_failed(&db.store, &second[0], "HTTP 500", retry_at)
            .await
            .unwrap()
    );
    assert!(
        outbox::claim(&db.store, retry_at - 1, 10, lease, max)
            .await
            .unwrap()
            .is_empty(),
        "not before the backoff"
    );
    let third = outbox::claim(&db.store, retry_at, 10, lease, max)
        .await
        .unwrap();
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].attempts, 3);
    outbox::mark_failed(&db.store, &third[0], "HTTP 502", retry_at + 1)
        .await
        .unwrap();
    // Three attempts made: given up.
    assert!(
        outbox::claim(&db.store, retry_at + 100 * HOUR, 10, lease, max)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        outbox::counts(&db.store, max).await.unwrap(),
        OutboxCounts {
            pending: 0,
            delivered: 0,
            abandoned: 1
        }
    );

    // A delivered row is never claimed again.
    db.store.set_urge_interval_minutes(0);
    urge(db, ids[0]).await;
    let t = zhongshu_store::now_ms();
    let row = outbox::claim(&db.store, t, 10, lease, max).await.unwrap();
    assert_eq!(row.len(), 1);
    assert!(outbox::mark_delivered(&db.store, &row[0], t).await.unwrap());
    assert!(
        outbox::claim(&db.store, t + 100 * HOUR, 10, lease, max)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        outbox::counts(&db.store, max).await.unwrap(),
        OutboxCounts {
            pending: 0,
            delivered: 1,
            abandoned: 1
        }
    );
    assert_eq!(backoff_sequence(), vec![30_000, 60_000, 120_000, 240_000]);
}

fn backoff_sequence() -> Vec<i64> {
    (1..=4).map(outbox::backoff_ms).collect()
}

const SMTP: &str = "smtp://mail.gov.local:25";

async fn email_rows_go_once_to_each_recipient_with_an_address(db: &TestDb) {
    let ids = with_ledger(db).await;
    db.store.set_urge_interval_minutes(0);
    db.store
        .set_outbox_targets(&[Target {
            channel: Channel::Email,
            url: SMTP.into(),
        }])
        .await
        .unwrap();
    // Nobody has an address yet: no e-mail rows.
    assert!(urge(db, ids[0]).await >= 1);
    assert_eq!(outbox_rows(db, "email").await, 0);

    // Everyone but the first recipient of the next urge gets an address.
    db.exec("UPDATE users SET email = username || '@gov.local'")
        .await
        .unwrap();
    let last = db.count("SELECT MAX(id) AS n FROM notifications").await;
    let told = urge(db, ids[0]).await;
    assert!(told >= 2, "the lead unit has a liaison and a head");
    let without = db
        .count(&format!(
            "SELECT MIN(user_id) AS n FROM notifications WHERE id > {last}"
        ))
        .await;
    db.exec("DELETE FROM outbox").await.unwrap();
    db.exec(&format!("UPDATE users SET email = '' WHERE id = {without}"))
        .await
        .unwrap();
    let last = db.count("SELECT MAX(id) AS n FROM notifications").await;
    let told = urge(db, ids[0]).await;
    assert_eq!(
        outbox_rows(db, "email").await,
        told - 1,
        "one per recipient with an address"
    );
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM outbox WHERE user_id = {without}"
        ))
        .await,
        0,
        "no row for the person without an address"
    );
    // Each row names its recipient, carries the address, the title and the Chinese subject.
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM outbox o JOIN users u ON u.id = o.user_id \
             WHERE o.channel = 'email' AND o.url = u.email AND o.title LIKE '%催办%' \
             AND o.payload LIKE '%【督查督办】%' AND o.user_id IN \
             (SELECT user_id FROM notifications WHERE id > {last})"
        ))
        .await,
        told - 1
    );
    // A scan after the urge enqueues nothing more; keys are per event and person.
    let rows = db.count("SELECT COUNT(*) AS n FROM outbox").await;
    db.store.scan_reminders(&scan_at(t0())).await.unwrap();
    db.store.scan_reminders(&scan_at(t0())).await.unwrap();
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM outbox").await, rows);
    assert_eq!(
        db.count("SELECT COUNT(DISTINCT idempotency_key) AS n FROM outbox")
            .await,
        rows
    );

    // Addresses are checked, with a Chinese message.
    let console = Viewer::console();
    let user = zhongshu_domain::ids::UserId::from_db(without);
    let err = db
        .store
        .set_user_email(console.as_sys_admin().unwrap(), user, "zhang san@gov")
        .await
        .unwrap_err();
    assert_eq!(crate::harness::invalid_fields(&err), vec!["email"]);
    assert!(err.to_string().contains("电子邮箱"), "{err}");
    db.store
        .set_user_email(
            console.as_sys_admin().unwrap(),
            user,
            " li.si@ducha.gov.local ",
        )
        .await
        .unwrap();
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM users WHERE id = {without} AND email = 'li.si@ducha.gov.local'"
        ))
        .await,
        1
    );
}

async fn the_overview_counts_by_status_and_a_given_up_row_is_retried_once(db: &TestDb) {
    let ids = with_ledger(db).await;
    db.store
        .set_outbox_targets(&[Target {
            channel: Channel::DingTalk,
            url: "http://gw.local/robot?access_token=s3cret".into(),
        }])
        .await
        .unwrap();
    urge(db, ids[0]).await;
    let console = Viewer::console();
    let operator = OutboxOperator::of(&console).unwrap();
    let (max, lease) = (2, 60_000);
    let t = zhongshu_store::now_ms();

    let (counts, rows) = db
        .store
        .outbox_overview(operator, t, max, 50)
        .await
        .unwrap();
    let ding = |counts: &[outbox::ChannelCounts]| {
        *counts
            .iter()
            .find(|c| c.channel == Channel::DingTalk)
            .unwrap()
    };
    assert_eq!(ding(&counts).pending, 1);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, RowStatus::Pending);
    assert_eq!(
        rows[0].destination, "gw.local",
        "only the host: robot keys stay hidden"
    );
    assert!(rows[0].title.contains("催办"), "{}", rows[0].title);

    let claimed = outbox::claim(&db.store, t, 10, lease, max).await.unwrap();
    let (counts, rows) = db
        .store
        .outbox_overview(operator, t + 1, max, 50)
        .await
        .unwrap();
    assert_eq!(ding(&counts).delivering, 1);
    assert_eq!(rows[0].status, RowStatus::Delivering);
    // A row that is not given up cannot be retried by hand.
    let err = db
        .store
        .retry_outbox_row(operator, rows[0].id, t + 1, max)
        .await
        .unwrap_err();
    assert_eq!(crate::harness::invalid_fields(&err), vec!["id"]);

    outbox::mark_failed(&db.store, &claimed[0], "HTTP 500", t + 10)
        .await
        .unwrap();
    let claimed = outbox::claim(&db.store, t + 10, 10, lease, max)
        .await
        .unwrap();
    outbox::mark_failed(&db.store, &claimed[0], "无法连接", t + 20)
        .await
        .unwrap();
    let (counts, rows) = db
        .store
        .outbox_overview(operator, t + 30, max, 50)
        .await
        .unwrap();
    assert_eq!(ding(&counts).gave_up, 1);
    assert_eq!(rows[0].status, RowStatus::GaveUp);
    assert_eq!(rows[0].attempts, 2);
    assert_eq!(rows[0].last_error.as_deref(), Some("无法连接"));

    let audits = db
        .count(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE code = {}",
            AuditCode::OutboxRetried.code()
        ))
        .await;
    db.store
        .retry_outbox_row(operator, rows[0].id, t + 40, max)
        .await
        .unwrap();
    let (counts, rows) = db
        .store
        .outbox_overview(operator, t + 40, max, 50)
        .await
        .unwrap();
    assert_eq!(ding(&counts).pending, 1);
    assert_eq!(ding(&counts).gave_up, 0);
    assert_eq!(rows[0].attempts, 0);
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE code = {}",
            AuditCode::OutboxRetried.code()
        ))
        .await,
        audits + 1
    );
    // Pending again: a second retry is refused, and the worker may claim it at once.
    assert!(
        db.store
            .retry_outbox_row(operator, rows[0].id, t + 41, max)
            .await
            .is_err()
    );
    assert_eq!(
        outbox::claim(&db.store, t + 41, 10, lease, max)
            .await
            .unwrap()
            .len(),
        1
    );

    // Only the office and the system administrator hold the proof.
    let liaison = Viewer::anonymous("someone");
    assert!(OutboxOperator::of(&liaison).is_err());
}
