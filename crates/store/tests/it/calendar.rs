//! The working-day calendar with an administrator's corrections.

use crate::harness::TestDb;
use jiff::civil::date;
use zhongshu_domain::access::Viewer;
use zhongshu_store::Error;

store_tests!(
    a_saved_year_is_part_of_the_work_calendar,
    a_calendar_text_with_a_bad_line_is_refused_and_nothing_is_saved,
);

async fn a_saved_year_is_part_of_the_work_calendar(db: &TestDb) {
    let console = Viewer::console();
    let shipped = db.store.work_calendar().await.unwrap();
    assert!(
        !shipped.has_year(2027),
        "2027 is shipped now: pick a later year"
    );
    assert!(
        shipped.is_workday(date(2027, 2, 8)),
        "a Monday, without data"
    );
    assert!(
        !shipped.is_workday(date(2027, 2, 14)),
        "a Sunday, without data"
    );

    let saved = db
        .store
        .save_calendar_text(
            console.as_sys_admin().unwrap(),
            "# 更正\n2027 春节 02-06..02-12\n2027 上班 02-14",
        )
        .await
        .unwrap();
    assert_eq!(saved, vec![2027]);
    let calendar = db.store.work_calendar().await.unwrap();
    assert!(calendar.has_year(2027));
    assert!(!calendar.is_workday(date(2027, 2, 8)));
    assert_eq!(calendar.festival(date(2027, 2, 8)), Some("春节"));
    assert!(
        calendar.is_workday(date(2027, 2, 14)),
        "a make-up working Sunday"
    );
    assert!(calendar.is_workday(date(2027, 2, 15)));
    // The shipped years are still there.
    assert!(calendar.has_year(2026));
    assert!(!calendar.is_workday(date(2026, 2, 16)));
    let overrides = db.store.calendar_overrides().await.unwrap();
    assert_eq!(overrides.len(), 1);
    assert_eq!(overrides[0].year, 2027);
    assert_eq!(overrides[0].updated_by, "console");

    // Saving the year again replaces it.
    db.store
        .save_calendar_text(console.as_sys_admin().unwrap(), "2027 春节 02-05..02-11")
        .await
        .unwrap();
    let calendar = db.store.work_calendar().await.unwrap();
    assert!(calendar.is_workday(date(2027, 2, 12)));
    assert!(!calendar.is_workday(date(2027, 2, 5)));
    assert!(
        !calendar.is_workday(date(2027, 2, 14)),
        "no make-up day any more"
    );
    assert_eq!(db.store.calendar_overrides().await.unwrap().len(), 1);
}

async fn a_calendar_text_with_a_bad_line_is_refused_and_nothing_is_saved(db: &TestDb) {
    let console = Viewer::console();
    let events = db.audit_count().await;
    let err = db
        .store
        .save_calendar_text(
            console.as_sys_admin().unwrap(),
            "2027 春节 02-06..02-12\n2027 上班 02-14\n2027 清明节 04-31",
        )
        .await
        .expect_err("a text with a date that does not exist");
    let Error::Rows(problems) = &err else {
        panic!("expected Error::Rows, got {err:?}");
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].row, 3);
    assert!(err.to_string().contains("第3行"), "{err}");
    assert!(db.store.calendar_overrides().await.unwrap().is_empty());
    assert!(!db.store.work_calendar().await.unwrap().has_year(2027));
    assert_eq!(db.audit_count().await, events);

    let err = db
        .store
        .save_calendar_text(console.as_sys_admin().unwrap(), "# 只有注释\n")
        .await
        .expect_err("a text with no year");
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
}
