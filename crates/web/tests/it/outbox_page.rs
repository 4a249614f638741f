//! The outbox page (/supervision/outbox): the supervision office and the system administrator
//! see counts and the newest rows (robot keys never shown); a liaison is refused and the
//! refusal audited; a given-up row can be put back in the queue, audited.

use crate::harness::TestApp;
use reqwest::StatusCode;
use sqlx::Row;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::supervision::{Action, ItemState};
use zhongshu_store::outbox::{Channel, Target};
use zhongshu_store::supervision::ItemFilter;

on_both_engines!(
    the_office_and_the_administrator_see_counts_and_rows,
    a_liaison_is_refused_and_the_refusal_audited,
    a_given_up_row_is_put_back_in_the_queue_and_audited,
);

const ROBOT: &str = "http://gw.local:8080/cgi-bin/webhook/send?key=robot-s3cret";

/// Points the outbox at a WeCom robot and urges an assigned item; the item's title.
async fn urged(app: &TestApp) -> String {
    let console = Viewer::console();
    app.store
        .load_demo_ledger(console.as_supervisor().unwrap(), 2026)
        .await
        .unwrap();
    app.store
        .set_outbox_targets(&[Target {
            channel: Channel::WeCom,
            url: ROBOT.to_owned(),
        }])
        .await
        .unwrap();
    let item = app
        .store
        .list_items(
            &console,
            &ItemFilter::default(),
            jiff::civil::date(2026, 3, 2),
            3,
            1000,
        )
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.parent_id.is_some() && r.state == ItemState::Assigned)
        .expect("an assigned item");
    app.store
        .act_on_item(&console, item.id, Action::Urge, item.version, "请加快进度")
        .await
        .expect("urge");
    item.title
}

/// The id of the one robot row.
async fn robot_row(app: &TestApp) -> i64 {
    let row = sqlx::query("SELECT id FROM outbox WHERE channel = 'wecom'")
        .fetch_one(app.store.pool_for_tests())
        .await
        .unwrap();
    row.try_get("id").unwrap()
}

async fn the_office_and_the_administrator_see_counts_and_rows(app: &TestApp) {
    let title = urged(app).await;
    for who in ["ducha", "xitong"] {
        let visitor = app.login_demo(who).await;
        let page = visitor.get("/supervision/outbox").await;
        page.assert_status(StatusCode::OK)
            .assert_contains("投递统计")
            .assert_contains("企业微信群机器人")
            .assert_contains("gw.local:8080")
            .assert_contains("待投递")
            .assert_contains(&title)
            .assert_contains("未配置邮件服务器")
            .assert_lacks("robot-s3cret")
            .assert_lacks("cgi-bin");
        // The nav links the page.
        visitor
            .get("/")
            .await
            .assert_contains("href=\"/supervision/outbox\"");
    }
}

async fn a_liaison_is_refused_and_the_refusal_audited(app: &TestApp) {
    urged(app).await;
    let id = robot_row(app).await;
    let liaison = app.login_demo("czj_lly").await;
    let before = app
        .audit_count(AuditCode::PermissionRefused, "czj_lly")
        .await;
    liaison
        .get("/supervision/outbox")
        .await
        .assert_status(StatusCode::FORBIDDEN)
        .assert_lacks("robot");
    liaison
        .post_form(&format!("/supervision/outbox/{id}/retry"), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(
        app.audit_count(AuditCode::PermissionRefused, "czj_lly")
            .await,
        before + 2
    );
    liaison.get("/").await.assert_lacks("/supervision/outbox");
}

async fn a_given_up_row_is_put_back_in_the_queue_and_audited(app: &TestApp) {
    urged(app).await;
    let id = robot_row(app).await;
    // Given up: every attempt (the default maximum is 8) made and failed.
    sqlx::query(
        "UPDATE outbox SET attempts = 8, last_error = 'HTTP 502', claim_token = NULL WHERE id = $1",
    )
    .bind(id)
    .execute(app.store.pool_for_tests())
    .await
    .unwrap();
    let office = app.login_demo("ducha").await;
    office
        .get("/supervision/outbox")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("已放弃")
        .assert_contains("接收方返回 HTTP 502")
        .assert_contains(&format!("/supervision/outbox/{id}/retry"));

    let reply = office
        .post_form(&format!("/supervision/outbox/{id}/retry"), &[])
        .await;
    reply.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/supervision/outbox?ok=outbox_retried");
    let row = sqlx::query("SELECT attempts FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(app.store.pool_for_tests())
        .await
        .unwrap();
    assert_eq!(row.try_get::<i64, _>("attempts").unwrap(), 0);
    let events = app.audit_events(AuditCode::OutboxRetried).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor_name, "ducha");
    office
        .get("/supervision/outbox?ok=outbox_retried")
        .await
        .assert_contains("已重新排入发件箱")
        .assert_contains("待投递")
        .assert_lacks(&format!("/supervision/outbox/{id}/retry"));

    // Pending again: a second retry is refused with a Chinese message, and not audited.
    let again = office
        .post_form(&format!("/supervision/outbox/{id}/retry"), &[])
        .await;
    assert!(again.status.is_client_error(), "{}", again.status);
    assert!(again.is_chinese());
    assert_eq!(app.audit_events(AuditCode::OutboxRetried).await.len(), 1);
}
