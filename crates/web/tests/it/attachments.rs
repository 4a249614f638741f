//! Attachments (附件) over HTTP: a liaison reports with a PDF and downloads it back byte for
//! byte, a liaison of another unit gets 404 for it, a disguised file is refused by name, and a
//! closure request carries evidence the supervision office sees on the item page. Every upload
//! and download is in the audit log.

use crate::harness::{Reply, TestApp, Visitor};
use reqwest::StatusCode;
use reqwest::header;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::supervision::TaskRow;
use zhongshu_store::attachments::Attachment;
use zhongshu_store::supervision::ItemFilter;

on_both_engines!(
    a_liaison_reports_with_a_pdf_and_downloads_it_back_and_another_unit_gets_404,
    the_closure_request_carries_evidence_that_the_supervisor_sees_on_the_item_page,
);

const FINANCE: &str = "（1）附件：一般公共预算收入增长5%";
const EDUCATION: &str = "（1）附件：新建公办幼儿园2所";
const PDF: &[u8] =
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn row(row: usize, measure: &str, lead: &str) -> TaskRow {
    TaskRow {
        row,
        category: "一、附件".to_owned(),
        seq: row.to_string(),
        task: format!("附件任务{row}"),
        measure: measure.to_owned(),
        lead_unit: lead.to_owned(),
        co_units: Vec::new(),
        leader: "陈国平".to_owned(),
        person: "张明".to_owned(),
        deadline: "2099年12月31日前".to_owned(),
        note: String::new(),
    }
}

/// Imports the two items (县财政局 leads one, 县教育局 the other) and returns their ids.
async fn with_items(app: &TestApp) -> (i64, i64) {
    let console = Viewer::console();
    app.store
        .import_items(
            console.as_supervisor().unwrap(),
            2026,
            &[row(4, FINANCE, "县财政局"), row(5, EDUCATION, "县教育局")],
        )
        .await
        .expect("import_items");
    let rows = app
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
    let id = |title: &str| rows.iter().find(|r| r.title == title).unwrap().id;
    (id(FINANCE), id(EDUCATION))
}

/// POSTs a `multipart/form-data` form: text fields, then files under the name `files`.
async fn post_multipart(
    visitor: &Visitor<'_>,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> Reply {
    let boundary = "----zhongshu-attachments-boundary-51e0";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; \
                 filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    visitor
        .app
        .send(
            visitor
                .request(reqwest::Method::POST, path)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body),
        )
        .await
}

/// A download: status, headers and the raw bytes.
async fn download(visitor: &Visitor<'_>, id: i64) -> (StatusCode, header::HeaderMap, Vec<u8>) {
    let response = visitor
        .request(
            reqwest::Method::GET,
            &format!("/supervision/attachments/{id}"),
        )
        .send()
        .await
        .expect("download");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("download body").to_vec();
    (status, headers, bytes)
}

async fn attachments(app: &TestApp, item: i64) -> Vec<Attachment> {
    app.store
        .item_attachments(&Viewer::console(), item)
        .await
        .expect("item_attachments")
}

async fn a_liaison_reports_with_a_pdf_and_downloads_it_back_and_another_unit_gets_404(
    app: &TestApp,
) {
    let (finance, _) = with_items(app).await;
    let czj = app.login_demo("czj_lly").await;
    let page = czj.get(&format!("/supervision/items/{finance}")).await;
    page.assert_status(StatusCode::OK)
        .assert_contains("enctype=\"multipart/form-data\"")
        .assert_contains("type=\"file\" name=\"files\" multiple");

    let reply = post_multipart(
        &czj,
        &format!("/supervision/items/{finance}/report"),
        &[("done", "一季度收入完成28%"), ("percent", "30")],
        &[("一季度进展.pdf", PDF)],
    )
    .await;
    reply.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        reply.location(),
        format!("/supervision/items/{finance}?ok=progress_reported")
    );
    let files = attachments(app, finance).await;
    assert_eq!(files.len(), 1);
    let pdf = &files[0];
    assert_eq!(pdf.file_name, "一季度进展.pdf");
    assert!(pdf.report_id.is_some());
    assert_eq!(
        app.audit_count(AuditCode::AttachmentUploaded, "czj_lly")
            .await,
        1
    );

    czj.get(&format!("/supervision/items/{finance}"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("一季度收入完成28%")
        .assert_contains(&format!(
            "<a href=\"/supervision/attachments/{}\">一季度进展.pdf</a>",
            pdf.id
        ))
        .assert_contains("1 KB");

    let (status, headers, bytes) = download(&czj, pdf.id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PDF, "the same bytes come back");
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E4%B8%80%E5%AD%A3%E5%BA%A6%E8%BF%9B%E5%B1%95.pdf"),
        "{disposition}"
    );
    assert_eq!(
        app.audit_count(AuditCode::AttachmentDownloaded, "czj_lly")
            .await,
        1
    );

    // Another unit's liaison may not learn the file exists, nor may an unknown id be read;
    // neither counts as a download.
    let jyj = app.login_demo("jyj_lly").await;
    let (status, _, bytes) = download(&jyj, pdf.id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!bytes.starts_with(b"%PDF"));
    assert_eq!(download(&czj, 999_999).await.0, StatusCode::NOT_FOUND);
    assert_eq!(download(&czj, 0).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.audit_events(AuditCode::AttachmentDownloaded)
            .await
            .len(),
        1
    );
    // Signed out, the file is not served either.
    let anonymous = app
        .send(app.request(
            reqwest::Method::GET,
            &format!("/supervision/attachments/{}", pdf.id),
        ))
        .await;
    assert_ne!(anonymous.status, StatusCode::OK);

    // A program renamed .pdf is refused by name, in Chinese, and nothing is written.
    let reply = post_multipart(
        &czj,
        &format!("/supervision/items/{finance}/report"),
        &[("done", "二季度进展")],
        &[("二季度进展.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00")],
    )
    .await;
    reply
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("附件“二季度进展.pdf”的内容不是PDF文件");
    assert_eq!(attachments(app, finance).await.len(), 1);
    assert_eq!(
        app.audit_count(AuditCode::AttachmentUploaded, "czj_lly")
            .await,
        1
    );
}

async fn the_closure_request_carries_evidence_that_the_supervisor_sees_on_the_item_page(
    app: &TestApp,
) {
    let (finance, _) = with_items(app).await;
    let czj = app.login_demo("czj_lly").await;
    // A report without files still works as a plain form.
    czj.post_form(
        &format!("/supervision/items/{finance}/report"),
        &[("done", "全年任务已完成"), ("percent", "100")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    let page = czj.get(&format!("/supervision/items/{finance}")).await;
    page.assert_status(StatusCode::OK)
        .assert_contains("value=\"request_closure\"")
        .assert_contains("佐证材料");
    let version = app
        .store
        .get_item(
            &Viewer::console(),
            finance,
            jiff::civil::date(2026, 3, 2),
            3,
        )
        .await
        .unwrap()
        .item
        .version;
    let reply = post_multipart(
        &czj,
        &format!("/supervision/items/{finance}/act"),
        &[
            ("action", "request_closure"),
            ("version", &version.to_string()),
            ("note", "已完成，附验收报告"),
        ],
        &[("验收报告.pdf", PDF), ("", b"")],
    )
    .await;
    reply.assert_status(StatusCode::SEE_OTHER);
    let evidence = attachments(app, finance).await;
    assert_eq!(evidence.len(), 1, "the empty file input adds nothing");
    assert!(evidence[0].report_id.is_none());

    let ducha = app.login_demo("ducha").await;
    ducha
        .get(&format!("/supervision/items/{finance}"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("申请办结")
        .assert_contains("办结佐证材料")
        .assert_contains(&format!(
            "<a href=\"/supervision/attachments/{}\">验收报告.pdf</a>",
            evidence[0].id
        ));
    let (status, _, bytes) = download(&ducha, evidence[0].id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PDF);
    assert_eq!(
        app.audit_count(AuditCode::AttachmentDownloaded, "ducha")
            .await,
        1
    );
    assert_eq!(
        app.audit_count(AuditCode::AttachmentUploaded, "czj_lly")
            .await,
        1
    );

    // Files go only with a closure request.
    let reply = post_multipart(
        &ducha,
        &format!("/supervision/items/{finance}/act"),
        &[
            ("action", "urge"),
            ("version", &(version + 1).to_string()),
            ("note", "请尽快"),
        ],
        &[("催办.pdf", PDF)],
    )
    .await;
    reply
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("只有申请办结时可以上传佐证材料");
}
