//! Attachments (附件) in the store, on the demo county: files are kept once under their SM3
//! name however often they are uploaded, each upload is its own row written with its report or
//! closure request, refused files and refused reports write nothing, and only those who may see
//! the item may read its files. The harness checks the audit chain after every test.

use crate::harness::{DEMO_PASSWORD, TestDb, sign_in};
use std::path::Path;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::{AuditCode, sm3_hex};
use zhongshu_domain::supervision::{ItemState, TaskRow};
use zhongshu_store::Error;
use zhongshu_store::attachments::{AttachmentKind, MAX_FILES, Upload};
use zhongshu_store::supervision::{ItemFilter, NewReport};

store_tests!(
    the_same_bytes_uploaded_twice_make_one_file_and_two_rows,
    a_refused_report_writes_no_attachment_and_no_file,
    too_large_disguised_and_too_many_files_are_refused_by_name,
    closure_evidence_goes_with_the_request_and_only_the_items_units_may_read_it,
);

const FINANCE: &str = "（1）附件测试：一般公共预算收入增长5%";
const EDUCATION: &str = "（1）附件测试：新建公办幼儿园2所";

/// A small but real-looking PDF.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn row(row: usize, measure: &str, lead: &str, co: &[&str]) -> TaskRow {
    TaskRow {
        row,
        category: "一、附件测试".to_owned(),
        seq: row.to_string(),
        task: format!("附件测试任务{row}"),
        measure: measure.to_owned(),
        lead_unit: lead.to_owned(),
        co_units: co.iter().map(|&c| c.to_owned()).collect(),
        leader: "陈国平".to_owned(),
        person: "张明".to_owned(),
        deadline: "12月31日前".to_owned(),
        note: String::new(),
    }
}

/// The demo county with two items: 县财政局 leads one (县税务局 co-owns it), 县教育局 the other.
/// Returns their ids.
async fn with_items(db: &TestDb) -> (i64, i64) {
    let console = Viewer::console();
    db.store
        .load_demo(console.as_sys_admin().unwrap(), DEMO_PASSWORD)
        .await
        .expect("load_demo");
    let ducha = sign_in(db, "ducha").await;
    db.store
        .import_items(
            ducha.as_supervisor().unwrap(),
            2026,
            &[
                row(4, FINANCE, "县财政局", &["县税务局"]),
                row(5, EDUCATION, "县教育局", &[]),
            ],
        )
        .await
        .expect("import_items");
    let rows = db
        .store
        .list_items(
            &console,
            &ItemFilter::default(),
            jiff::civil::date(2026, 3, 2),
            3,
            10_000,
        )
        .await
        .unwrap();
    let id = |title: &str| {
        rows.iter()
            .find(|r| r.title == title)
            .unwrap_or_else(|| panic!("no item {title}"))
            .id
    };
    (id(FINANCE), id(EDUCATION))
}

fn report(done: &str) -> NewReport {
    NewReport {
        done: done.to_owned(),
        percent: Some(50),
        ..NewReport::default()
    }
}

fn upload(name: &str, bytes: &[u8]) -> Upload {
    Upload {
        file_name: name.to_owned(),
        bytes: bytes.to_vec(),
    }
}

/// The messages of an `Error::Invalid`; panics on any other outcome.
#[track_caller]
fn refusal<T: std::fmt::Debug>(outcome: Result<T, Error>) -> String {
    match outcome {
        Err(Error::Invalid(problems)) => problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => panic!("expected Error::Invalid, got {other:?}"),
    }
}

/// Every file under the attachments directory (temporary ones included).
fn files_on_disk(db: &TestDb) -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&db.checkpoint_dir.with_file_name("files"), &mut out);
    out
}

async fn attachment_rows(db: &TestDb) -> i64 {
    db.count("SELECT COUNT(*) AS n FROM attachments").await
}

async fn events(db: &TestDb, code: AuditCode) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE code = {}",
        code.code()
    ))
    .await
}

async fn the_same_bytes_uploaded_twice_make_one_file_and_two_rows(db: &TestDb) {
    let (finance, _) = with_items(db).await;
    let czj = sign_in(db, "czj_lly").await;
    db.store
        .report_progress_with_files(
            &czj,
            finance,
            &report("收入进度过半"),
            vec![upload("三月进展.pdf", PDF)],
        )
        .await
        .unwrap();
    // The same bytes under another name, from a browser that sends the whole path.
    db.store
        .report_progress_with_files(
            &czj,
            finance,
            &report("四月继续推进"),
            vec![upload("C:\\材料\\四月进展.PDF", PDF)],
        )
        .await
        .unwrap();

    assert_eq!(attachment_rows(db).await, 2);
    let files = files_on_disk(db);
    assert_eq!(files.len(), 1, "one file for the same bytes: {files:?}");
    let sm3 = sm3_hex(PDF);
    let expected = db
        .checkpoint_dir
        .with_file_name("files")
        .join(&sm3[..2])
        .join(&sm3[2..4])
        .join(&sm3);
    assert_eq!(files[0], expected);
    assert_eq!(db.store.attachment_path(&sm3).unwrap(), expected);
    assert_eq!(std::fs::read(&expected).unwrap(), PDF);

    let list = db.store.item_attachments(&czj, finance).await.unwrap();
    let names: Vec<&str> = list.iter().map(|a| a.file_name.as_str()).collect();
    assert_eq!(names, vec!["三月进展.pdf", "四月进展.PDF"]);
    assert!(list.iter().all(|a| a.kind == AttachmentKind::Report
        && a.report_id.is_some()
        && a.sm3 == sm3
        && a.size == PDF.len() as i64
        && a.content_type == "application/pdf"
        && a.unit_name == "县财政局"));
    assert_ne!(list[0].report_id, list[1].report_id, "each with its report");
    assert_eq!(events(db, AuditCode::AttachmentUploaded).await, 2);

    let (read, path) = db.store.open_attachment(&czj, list[0].id).await.unwrap();
    assert_eq!(read.file_name, "三月进展.pdf");
    assert_eq!(std::fs::read(path).unwrap(), PDF);
    assert_eq!(events(db, AuditCode::AttachmentDownloaded).await, 1);
}

async fn a_refused_report_writes_no_attachment_and_no_file(db: &TestDb) {
    let (finance, education) = with_items(db).await;
    let czj = sign_in(db, "czj_lly").await;
    let reports = db.count("SELECT COUNT(*) AS n FROM progress_reports").await;

    // Another unit's item.
    let why = refusal(
        db.store
            .report_progress_with_files(
                &czj,
                education,
                &report("越权报送"),
                vec![upload("越权.pdf", PDF)],
            )
            .await,
    );
    assert!(why.contains("只能对本单位"), "{why}");
    // One good file and one bad one: the whole report is refused.
    let why = refusal(
        db.store
            .report_progress_with_files(
                &czj,
                finance,
                &report("收入进度过半"),
                vec![upload("好.pdf", PDF), upload("坏.png", PDF)],
            )
            .await,
    );
    assert!(why.contains("坏.png") && !why.contains("好.pdf"), "{why}");
    // A report that breaks a rule of its own.
    let why = refusal(
        db.store
            .report_progress_with_files(&czj, finance, &report("  "), vec![upload("a.pdf", PDF)])
            .await,
    );
    assert!(why.contains("请填写已完成的工作"), "{why}");

    assert_eq!(attachment_rows(db).await, 0);
    assert!(files_on_disk(db).is_empty(), "{:?}", files_on_disk(db));
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM progress_reports").await,
        reports
    );
    assert_eq!(events(db, AuditCode::AttachmentUploaded).await, 0);
}

async fn too_large_disguised_and_too_many_files_are_refused_by_name(db: &TestDb) {
    let (finance, _) = with_items(db).await;
    let czj = sign_in(db, "czj_lly").await;
    db.store.set_attachment_max_bytes(1024);

    let mut big = PDF.to_vec();
    big.resize(2048, b' ');
    let why = refusal(
        db.store
            .report_progress_with_files(
                &czj,
                finance,
                &report("大文件"),
                vec![upload("全年台账扫描件.pdf", &big)],
            )
            .await,
    );
    assert!(
        why.contains("附件“全年台账扫描件.pdf”大小为2 KB，超过1 KB的上限"),
        "{why}"
    );

    // An executable renamed .pdf: its first bytes give it away.
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode.";
    let why = refusal(
        db.store
            .report_progress_with_files(
                &czj,
                finance,
                &report("伪装文件"),
                vec![upload("工作总结.pdf", exe)],
            )
            .await,
    );
    assert!(
        why.contains("附件“工作总结.pdf”的内容不是PDF文件，与扩展名不符"),
        "{why}"
    );
    let why = refusal(
        db.store
            .report_progress_with_files(
                &czj,
                finance,
                &report("可执行文件"),
                vec![upload("setup.exe", exe)],
            )
            .await,
    );
    assert!(why.contains("附件“setup.exe”的类型不允许上传"), "{why}");

    let many = vec![upload("a.txt", "说明".as_bytes()); MAX_FILES + 1];
    let why = refusal(
        db.store
            .report_progress_with_files(&czj, finance, &report("太多"), many)
            .await,
    );
    assert!(
        why.contains("一次最多上传10个附件，本次选择了11个"),
        "{why}"
    );

    // The evidence of a closure request follows the same rules.
    let why = refusal(
        db.store
            .request_closure(&czj, finance, 1, "已完成", vec![upload("佐证.pdf", exe)])
            .await,
    );
    assert!(why.contains("佐证.pdf"), "{why}");

    assert_eq!(attachment_rows(db).await, 0);
    assert!(files_on_disk(db).is_empty());
}

async fn closure_evidence_goes_with_the_request_and_only_the_items_units_may_read_it(db: &TestDb) {
    let (finance, _) = with_items(db).await;
    let czj = sign_in(db, "czj_lly").await;
    db.store
        .report_progress(&czj, finance, &report("全部完成"))
        .await
        .unwrap();
    let ducha = sign_in(db, "ducha").await;
    let version = db
        .store
        .get_item(&ducha, finance, jiff::civil::date(2026, 3, 2), 3)
        .await
        .unwrap()
        .item
        .version;
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
    let state = db
        .store
        .request_closure(
            &czj,
            finance,
            version,
            "已全部完成，附验收照片",
            vec![upload("验收照片.png", png), upload("验收报告.pdf", PDF)],
        )
        .await
        .unwrap();
    assert_eq!(state, ItemState::ClosureRequested);

    let evidence = db.store.item_attachments(&ducha, finance).await.unwrap();
    assert_eq!(evidence.len(), 2);
    assert!(
        evidence
            .iter()
            .all(|a| a.kind == AttachmentKind::Closure && a.report_id.is_none())
    );
    assert_eq!(evidence[0].content_type, "image/png");

    // The co-unit sees the item, so it may read the files; another unit may not even learn
    // that they exist; the audit log records only the reads that happened.
    let tax = sign_in(db, "shuiwu_lly").await;
    db.store
        .open_attachment(&tax, evidence[0].id)
        .await
        .unwrap_or_else(|e| panic!("the co-unit reads the evidence: {e}"));
    let education = sign_in(db, "jyj_lly").await;
    assert!(matches!(
        db.store.open_attachment(&education, evidence[0].id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        db.store.item_attachments(&education, finance).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        db.store.open_attachment(&ducha, 999_999).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(events(db, AuditCode::AttachmentDownloaded).await, 1);

    // A stale closure request writes neither the step nor the rows.
    let why = db
        .store
        .request_closure(
            &czj,
            finance,
            version,
            "再次申请",
            vec![upload("x.pdf", PDF)],
        )
        .await;
    assert!(why.is_err());
    assert_eq!(attachment_rows(db).await, 2);
}
