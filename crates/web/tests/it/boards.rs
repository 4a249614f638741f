//! Supervision boards (挂图作战) over HTTP on the demo county with its demo ledger: 督查室 sees
//! the unit × status matrix and the timeline, the filters narrow the counts, the timeline is
//! served as SVG on its own, a liaison is refused, and titles are escaped in the SVG. Also the
//! SVG builder on its own.

use crate::harness::{Reply, TestApp};
use jiff::civil::{Date, date};
use reqwest::StatusCode;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::supervision::{ItemState, Signal, TaskRow};
use zhongshu_store::boards::{BoardFilter, BoardItem, BoardUnit};
use zhongshu_store::supervision::{ItemFilter, ItemRow};
use zhongshu_web::boards::{TITLE_EM, fit, gantt_svg, text_em};

on_both_engines!(
    the_office_sees_the_matrix_and_the_timeline_and_filters_narrow_them,
    a_liaison_and_an_administrator_are_refused_the_board,
);

const YEAR: i16 = 2026;
const DEMO_ITEMS: usize = 15;

async fn with_demo_ledger(app: &TestApp) {
    let console = Viewer::console();
    let loaded = app
        .store
        .load_demo_ledger(console.as_supervisor().expect("console"), YEAR)
        .await
        .expect("load_demo_ledger");
    assert_eq!(loaded, Some(DEMO_ITEMS));
}

/// The ledger as the server computes it today.
async fn ledger(app: &TestApp, filter: ItemFilter) -> Vec<ItemRow> {
    app.store
        .list_items(
            &Viewer::console(),
            &ItemFilter {
                year: Some(i64::from(YEAR)),
                ..filter
            },
            zhongshu_web::util::beijing_today(),
            3,
            1000,
        )
        .await
        .expect("list_items")
}

/// The “共 N 项” the page shows.
#[track_caller]
fn count(reply: &Reply) -> usize {
    reply.assert_status(StatusCode::OK);
    let marker = "id=\"board-count\">共 <strong>";
    let start = reply
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("no item count on the page:\n{}", reply.body))
        + marker.len();
    let rest = &reply.body[start..];
    rest[..rest.find('<').expect("end of the count")]
        .parse()
        .expect("a number")
}

/// The SVG embedded in a page, or the whole body of `board.svg`.
fn svg_of(body: &str) -> &str {
    let start = body.find("<svg").expect("an <svg");
    let end = body.rfind("</svg>").expect("an </svg>") + "</svg>".len();
    &body[start..end]
}

fn bars(svg: &str) -> usize {
    svg.matches("class=\"bar\"").count()
}

/// A small well-formedness check: tags nest and close, attributes are quoted, and every `&`
/// starts an entity.
#[track_caller]
fn assert_well_formed(svg: &str) {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        assert!(!text.contains('>'), "a stray '>' in text: {text:?}");
        check_entities(text);
        let gt = rest[lt..].find('>').expect("an unclosed tag") + lt;
        let tag = &rest[lt + 1..gt];
        check_entities(tag);
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in <{tag}>"
        );
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                open.pop(),
                Some(name.trim()),
                "</{name}> closes nothing open"
            );
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().expect("a tag name");
            open.push(name);
        }
        rest = &rest[gt + 1..];
    }
    assert!(rest.trim().is_empty(), "text after the root: {rest:?}");
    assert!(open.is_empty(), "unclosed: {open:?}");
}

#[track_caller]
fn check_entities(text: &str) {
    for (i, _) in text.match_indices('&') {
        let after = &text[i + 1..];
        let ok = ["amp;", "lt;", "gt;", "quot;", "#39;"]
            .iter()
            .any(|e| after.starts_with(e));
        assert!(ok, "a bare '&' in {text:?}");
    }
}

async fn the_office_sees_the_matrix_and_the_timeline_and_filters_narrow_them(app: &TestApp) {
    with_demo_ledger(app).await;
    let ducha = app.login_demo("ducha").await;
    let page = ducha.get("/supervision/board?year=2026").await;
    page.assert_status(StatusCode::OK)
        .assert_contains("挂图作战")
        .assert_contains("<table class=\"table board-matrix\">")
        .assert_contains("县发展和改革局")
        .assert_contains("县教育局")
        .assert_contains("已交办")
        .assert_contains("办理中")
        .assert_contains("申请办结")
        .assert_contains("已办结")
        .assert_contains("已撤销")
        .assert_contains("未按时报送")
        .assert_contains("<svg")
        .assert_contains("1月")
        .assert_contains("12月")
        .assert_contains("class=\"today\"")
        .assert_contains("仅作为责任单位配合")
        .assert_contains("href=\"/supervision/board.svg?year=2026")
        .assert_contains("<option value=\"2026\" selected>2026年</option>")
        // Strict CSP: no inline styles or scripts.
        .assert_lacks(" style=")
        .assert_lacks("<script>");
    assert_eq!(count(&page), DEMO_ITEMS);
    let all = ledger(app, ItemFilter::default()).await;
    let dated = all.iter().filter(|r| r.due_date.is_some()).count();
    assert!(dated < DEMO_ITEMS, "some demo items have no due date");
    assert_eq!(bars(svg_of(&page.body)), dated);
    // Two items have two milestones each (“5月底前完成第一次，9月底前完成第二次”, “9月底前完成，
    // 年底前见效”): one diamond per milestone.
    let board = app
        .store
        .supervision_board(
            &Viewer::console(),
            &BoardFilter {
                year: Some(i64::from(YEAR)),
                ..BoardFilter::default()
            },
            zhongshu_web::util::beijing_today(),
            3,
        )
        .await
        .expect("supervision_board");
    let milestones: usize = board.items.iter().map(|i| i.milestones.len()).sum();
    assert_eq!(milestones, 4);
    assert_eq!(
        svg_of(&page.body).matches("class=\"milestone\"").count(),
        milestones
    );
    assert_well_formed(svg_of(&page.body));
    // The column totals link to the ledger list with the same year and state.
    let decoded = page.body.replace("&#38;", "&").replace("&amp;", "&");
    assert!(decoded.contains("href=\"/supervision?year=2026&state=assigned&signal=\""));
    assert!(decoded.contains("href=\"/supervision?year=2026&state=&signal=red\""));
    // With no year asked, the board shows this year's ledger or the newest one.
    let default = ducha.get("/supervision/board").await;
    assert_eq!(count(&default), DEMO_ITEMS);

    // The timeline on its own, for documents.
    let svg = ducha.get("/supervision/board.svg?year=2026").await;
    svg.assert_status(StatusCode::OK);
    assert!(
        svg.header("content-type").starts_with("image/svg+xml"),
        "{}",
        svg.header("content-type")
    );
    assert!(svg.body.starts_with("<svg"), "{}", &svg.body[..40]);
    assert!(svg.body.trim_end().ends_with("</svg>"));
    assert!(svg.body.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    assert_well_formed(&svg.body);
    assert_eq!(bars(&svg.body), dated);

    // Filters narrow the counts, the bars and the SVG alike.
    let czj = app.unit_id("县财政局").await;
    let by_unit = ducha
        .get(&format!("/supervision/board?year=2026&unit={}", czj.get()))
        .await;
    assert_eq!(count(&by_unit), 3, "县财政局 co-owns three measures");
    // Narrower than the ledger list can show: the totals no longer link there.
    by_unit.assert_lacks("href=\"/supervision?year=");
    let leader = ducha
        .get("/supervision/board?year=2026&leader=%E9%99%88%E5%9B%BD%E5%B9%B3")
        .await;
    let by_leader = all.iter().filter(|r| r.leader == "陈国平").count();
    assert_eq!(count(&leader), by_leader);
    assert!(by_leader < DEMO_ITEMS);
    leader.assert_contains("<option value=\"陈国平\" selected>陈国平</option>");
    let category = ducha
        .get(
            "/supervision/board?year=2026&category=\
             %E4%BA%8C%E3%80%81%E6%8C%81%E7%BB%AD%E6%94%B9%E5%96%84%E6%B0%91%E7%94%9F%E7%A6%8F%E7%A5%89",
        )
        .await;
    assert_eq!(count(&category), 5);
    let red = all.iter().filter(|r| r.signal == Signal::Red).count();
    let by_signal = ducha.get("/supervision/board?year=2026&signal=red").await;
    assert_eq!(count(&by_signal), red);
    let red_dated = all
        .iter()
        .filter(|r| r.signal == Signal::Red && r.due_date.is_some())
        .count();
    assert_eq!(bars(svg_of(&by_signal.body)), red_dated);
    let red_svg = ducha
        .get("/supervision/board.svg?year=2026&signal=red")
        .await;
    assert_eq!(bars(&red_svg.body), red_dated);
    // A year without a ledger: an empty board, not an error.
    let empty = ducha.get("/supervision/board?year=2019").await;
    assert_eq!(count(&empty), 0);
    empty.assert_contains("没有符合条件的事项");
    // Nonsense filters are ignored rather than refused.
    let odd = ducha
        .get("/supervision/board?year=2026&unit=abc&signal=purple")
        .await;
    assert_eq!(count(&odd), DEMO_ITEMS);

    // A leader sees the same board.
    let leader = app.login_demo("lingdao").await;
    assert_eq!(
        count(&leader.get("/supervision/board?year=2026").await),
        DEMO_ITEMS
    );

    // A title full of markup is escaped in the SVG as everywhere else.
    let console = Viewer::console();
    app.store
        .import_items(
            console.as_supervisor().expect("console"),
            2027,
            &[TaskRow {
                row: 3,
                category: "一、<b>分类</b>".to_owned(),
                seq: "1".to_owned(),
                task: "测试".to_owned(),
                measure: "<script>alert(1)</script> & \"引号\"".to_owned(),
                lead_unit: "县教育局".to_owned(),
                co_units: vec![],
                leader: "周红梅".to_owned(),
                person: "赵敏".to_owned(),
                deadline: "6月底前".to_owned(),
                note: String::new(),
            }],
        )
        .await
        .expect("import_items");
    let hostile = ducha.get("/supervision/board?year=2027").await;
    assert_eq!(count(&hostile), 1);
    hostile
        .assert_lacks("<script>alert")
        .assert_lacks("<b>分类")
        .assert_contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;引号&quot;");
    assert_well_formed(svg_of(&hostile.body));
    let hostile_svg = ducha.get("/supervision/board.svg?year=2027").await;
    hostile_svg.assert_lacks("<script>");
    assert_well_formed(&hostile_svg.body);
}

async fn a_liaison_and_an_administrator_are_refused_the_board(app: &TestApp) {
    with_demo_ledger(app).await;
    for username in ["czj_lly", "xitong"] {
        let visitor = app.login_demo(username).await;
        visitor
            .get("/supervision/board?year=2026")
            .await
            .assert_status(StatusCode::FORBIDDEN)
            .assert_lacks("<svg");
        visitor
            .get("/supervision/board.svg?year=2026")
            .await
            .assert_status(StatusCode::FORBIDDEN)
            .assert_lacks("<svg");
        assert!(
            app.audit_count(AuditCode::PermissionRefused, username)
                .await
                >= 2,
            "{username}'s refusals are audited"
        );
    }
    let home = app.login_demo("czj_lly").await.get("/").await;
    home.assert_lacks("/supervision/board");
    // Not signed in: sent to sign in, not shown the board.
    let anonymous = app.get("/supervision/board.svg").await;
    assert_ne!(anonymous.status, StatusCode::OK);
}

// ---- The SVG builder on its own ----

const TODAY: Date = date(2026, 6, 15);

fn unit(id: i64, name: &str) -> BoardUnit {
    BoardUnit {
        id,
        name: name.to_owned(),
        sort_order: id,
    }
}

fn item(id: i64, title: &str, due: Option<Date>, signal: Signal) -> BoardItem {
    BoardItem {
        id,
        seq: "1".to_owned(),
        category: "一、推动经济高质量发展".to_owned(),
        parent_title: "重大项目建设".to_owned(),
        title: title.to_owned(),
        lead: Some(unit(1, "县发展和改革局")),
        co_units: vec![unit(2, "县财政局")],
        leader: "孙立华".to_owned(),
        deadline_text: if due.is_some() {
            "年底前".to_owned()
        } else {
            "每月25日前报送进展".to_owned()
        },
        cadence: due.is_none().then(|| "monthly:25".to_owned()),
        state: ItemState::InProgress,
        signal,
        start: Some(date(2026, 2, 10)),
        due,
        milestones: vec![],
    }
}

#[test]
fn boards_svg_escapes_every_title() {
    let items = vec![item(
        1,
        "<b>加强</b> & \"统筹\"",
        Some(date(2026, 9, 30)),
        Signal::Green,
    )];
    let svg = gantt_svg(&items, 2026, TODAY);
    assert!(!svg.contains("<b>"), "{svg}");
    assert!(
        svg.contains("&lt;b&gt;加强&lt;/b&gt; &amp; &quot;统筹&quot;"),
        "{svg}"
    );
    assert_well_formed(&svg);
}

#[test]
fn boards_svg_draws_one_bar_per_item_with_a_due_date() {
    let items = vec![
        item(
            1,
            "（1）完成投资计划",
            Some(date(2026, 12, 31)),
            Signal::Green,
        ),
        item(2, "（2）月调度机制", Some(date(2026, 3, 31)), Signal::Red),
        item(
            3,
            "（3）新签约项目",
            Some(date(2026, 6, 17)),
            Signal::Yellow,
        ),
        item(4, "（4）每月报送进展", None, Signal::Stalled),
    ];
    let svg = gantt_svg(&items, 2026, TODAY);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert_eq!(bars(&svg), 3, "the monthly item has no bar");
    assert_eq!(svg.matches("<g class=\"item\"").count(), 4, "but a row");
    assert!(svg.contains("（4）每月报送进展"));
    assert!(svg.contains("class=\"no-due\""));
    assert!(svg.contains("每月25日前报送进展"));
    // Coloured by signal.
    assert!(svg.contains("fill=\"#d93025\""));
    assert!(svg.contains("fill=\"#f2b400\""));
    assert!(svg.contains("fill=\"#2e9d57\""));
    // Months, the category heading, and today's line in its year only.
    for m in 1..=12 {
        assert!(svg.contains(&format!(">{m}月</text>")), "{m}月");
    }
    assert_eq!(svg.matches("class=\"heading\"").count(), 1);
    assert_eq!(svg.matches("class=\"today\"").count(), 1);
    assert!(svg.contains("今天 06-15"));
    assert_eq!(
        gantt_svg(&items, 2025, TODAY)
            .matches("class=\"today\"")
            .count(),
        0
    );
    assert_well_formed(&svg);
    // A year's full bar spans the chart; the red one ends at the end of March.
    let no_items = gantt_svg(&[], 2026, TODAY);
    assert_eq!(bars(&no_items), 0);
    assert!(no_items.contains("没有符合条件的事项"));
    assert_well_formed(&no_items);
}

#[test]
fn boards_svg_marks_milestones_and_bars_follow_the_calendar() {
    let mut drill = item(
        1,
        "（2）组织防汛抗旱综合演练不少于2次",
        Some(date(2026, 9, 30)),
        Signal::Green,
    );
    drill.milestones = vec![date(2026, 5, 31), date(2026, 9, 30)];
    let mut late = item(2, "（1）补录的事项", Some(date(2026, 3, 31)), Signal::Red);
    // Assigned after its due date: the bar runs from the year's start.
    late.start = Some(date(2026, 6, 1));
    let svg = gantt_svg(&[drill, late], 2026, TODAY);
    assert_eq!(svg.matches("class=\"milestone\"").count(), 2);
    let xs: Vec<f64> = svg
        .match_indices("<rect class=\"bar\" x=\"")
        .map(|(i, m)| {
            let rest = &svg[i + m.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect();
    assert_eq!(xs.len(), 2);
    assert!(
        xs[1] < xs[0],
        "the late item starts at 1 January, before 10 February: {xs:?}"
    );
}

#[test]
fn boards_titles_are_cut_to_fit_counting_cjk_as_one_em() {
    assert_eq!(text_em("县教育局"), 4.0);
    assert_eq!(text_em("（1）"), 2.0 + text_em("1"));
    assert!(text_em("abc") < 2.0);
    assert_eq!(fit("县教育局", 4.0), "县教育局");
    assert_eq!(fit("县住房和城乡建设局", 5.0), "县住房和…");
    assert_eq!(text_em(&fit("县住房和城乡建设局", 5.0)), 5.0);
    let long = "（1）完成年度重大项目投资计划的80%以上并形成可复制推广的经验做法";
    let items = vec![item(1, long, Some(date(2026, 12, 31)), Signal::Green)];
    let svg = gantt_svg(&items, 2026, TODAY);
    let cut = fit(long, TITLE_EM);
    assert!(cut.ends_with('…') && cut.chars().count() < long.chars().count());
    assert!(svg.contains(&format!(">{cut}</text>")), "{svg}");
    // The tooltip keeps the whole title.
    assert!(svg.contains(&format!("<title>{long}")));
}
