//! Supervision boards (挂图作战): one year's items as a unit × status matrix and as a timeline
//! (Gantt chart) drawn as SVG here, filtered by unit, responsible leader, category and signal.
//! The same SVG is served on its own as `image/svg+xml` for documents.
//!
//! The SVG is the only markup this module writes: every piece of text in it goes through
//! [`xml_escape`], and the page embeds it unescaped for that reason alone.

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::shell::Shell;
use crate::util::{beijing_today, url_encode};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::civil::Date;
use serde::Deserialize;
use std::fmt::Write as _;
use zhongshu_domain::access::Capability;
use zhongshu_domain::ids::UnitId;
use zhongshu_domain::supervision::{ItemState, Signal};
use zhongshu_store::boards::{Board, BoardFilter, BoardItem, BoardUnit};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervision/board", get(board_page))
        .route("/supervision/board.svg", get(board_svg))
}

/// The filters as the query string carries them; all optional.
#[derive(Deserialize, Default, Clone)]
pub struct BoardQuery {
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub leader: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub signal: String,
}

impl BoardQuery {
    /// The query string of these filters with `unit` and `signal` replaced.
    fn with(&self, unit: &str, signal: &str) -> String {
        format!(
            "year={}&unit={}&leader={}&category={}&signal={}",
            url_encode(&self.year),
            url_encode(unit),
            url_encode(&self.leader),
            url_encode(&self.category),
            url_encode(signal)
        )
    }

    fn query_string(&self) -> String {
        self.with(&self.unit, &self.signal)
    }

    /// Filters the ledger list cannot apply: with any of them, its counts would differ.
    fn narrower_than_the_ledger(&self) -> bool {
        !self.unit.is_empty() || !self.leader.is_empty() || !self.category.is_empty()
    }
}

/// A choice of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A column heading of the matrix; `light` is a signal code for its coloured dot.
pub struct Head {
    pub label: &'static str,
    pub light: &'static str,
}

/// One count; `href` empty when it links nowhere.
pub struct Cell {
    pub n: usize,
    pub href: String,
}

/// One row of the matrix as shown.
pub struct RowView {
    pub unit: String,
    pub href: String,
    pub lead: usize,
    pub states: Vec<Cell>,
    pub signals: Vec<Cell>,
    pub co: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/board.html")]
pub struct BoardPage {
    pub shell: Shell,
    pub q: BoardQuery,
    pub years: Vec<i64>,
    pub units: Vec<Choice>,
    pub leaders: Vec<String>,
    pub categories: Vec<String>,
    pub signals: Vec<Choice>,
    pub state_heads: Vec<Head>,
    pub signal_heads: Vec<Head>,
    /// Units that lead items.
    pub rows: Vec<RowView>,
    /// Units that only co-own items.
    pub co_rows: Vec<RowView>,
    pub total: RowView,
    pub items: usize,
    /// Bars on the timeline; items without a due date have none.
    pub dated: usize,
    /// How many items the timeline draws (at most [`TIMELINE_MAX`]).
    pub timeline_shown: usize,
    /// The timeline, built and escaped by [`gantt_svg`].
    pub svg: String,
    pub svg_query: String,
}

/// The signals a filter may choose, in the matrix's order, then 无信号 (closed or cancelled).
const FILTER_SIGNALS: [Signal; 5] = [
    Signal::Red,
    Signal::Yellow,
    Signal::Green,
    Signal::Stalled,
    Signal::None,
];

fn parse_signal(code: &str) -> Option<Signal> {
    FILTER_SIGNALS.into_iter().find(|s| s.code() == code.trim())
}

fn signal_name(s: Signal) -> &'static str {
    match s {
        Signal::None => "无信号（已办结或已撤销）",
        other => other.label(),
    }
}

/// The board's year: the one asked for, else this year if its ledger exists, else the newest
/// ledger, else this year.
fn board_year(asked: &str, years: &[i64], today: Date) -> i16 {
    if let Some(y) = asked
        .trim()
        .parse::<i16>()
        .ok()
        .filter(|y| (1900..=2999).contains(y))
    {
        return y;
    }
    let this = today.year();
    if years.contains(&i64::from(this)) {
        return this;
    }
    years
        .first()
        .and_then(|y| i16::try_from(*y).ok())
        .unwrap_or(this)
}

/// Checks the viewer, settles the year and loads the board.
async fn load(
    state: &AppState,
    session: &Session,
    mut q: BoardQuery,
    target: &str,
) -> Result<(std::sync::Arc<Board>, BoardQuery, i16, Vec<i64>), WebError> {
    session
        .require(state, Capability::SeeAllItems, target)
        .await?;
    let today = beijing_today();
    let years = state.store.ledger_years().await?;
    let year = board_year(&q.year, &years, today);
    q.year = year.to_string();
    q.unit = q
        .unit
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|u| *u > 0)
        .map(|u| u.to_string())
        .unwrap_or_default();
    q.leader = q.leader.trim().to_owned();
    q.category = q.category.trim().to_owned();
    q.signal = parse_signal(&q.signal)
        .map(|s| s.code().to_owned())
        .unwrap_or_default();
    let filter = BoardFilter {
        year: Some(i64::from(year)),
        unit_id: q.unit.parse().ok().map(UnitId::from_db),
        leader: Some(q.leader.clone()).filter(|l| !l.is_empty()),
        category: Some(q.category.clone()).filter(|c| !c.is_empty()),
        signal: parse_signal(&q.signal),
    };
    let board = state
        .store
        .supervision_board(
            &session.viewer,
            &filter,
            today,
            state.settings.signals.yellow_workdays,
        )
        .await?;
    Ok((board, q, year, years))
}

async fn board_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<BoardQuery>,
) -> Result<BoardPage, WebError> {
    let (board, q, year, years) = load(&state, &session, q, "supervision:board").await?;
    let today = beijing_today();
    let timeline = timeline_items(&board.items);
    let svg = gantt_svg(&timeline, year, today);
    let m = &board.matrix;
    let ledger_links = !q.narrower_than_the_ledger();
    let ledger_href = |state: Option<ItemState>, signal: &str| {
        format!(
            "/supervision?year={}&state={}&signal={}",
            url_encode(&q.year),
            state.map(|s| s.code()).unwrap_or_default(),
            url_encode(signal)
        )
    };
    let row_view = |unit: Option<&BoardUnit>, row: &zhongshu_store::boards::MatrixRow| {
        let id = unit.map(|u| u.id.to_string()).unwrap_or_default();
        RowView {
            unit: unit.map_or_else(|| "未指定牵头单位".to_owned(), |u| u.name.clone()),
            href: if unit.is_some() {
                format!("/supervision/board?{}", q.with(&id, &q.signal))
            } else {
                String::new()
            },
            lead: row.lead,
            states: row
                .states
                .iter()
                .map(|n| Cell {
                    n: *n,
                    href: String::new(),
                })
                .collect(),
            signals: row
                .signals
                .iter()
                .zip(&m.signals)
                .map(|(n, s)| Cell {
                    n: *n,
                    href: if *n > 0 && unit.is_some() {
                        format!("/supervision/board?{}", q.with(&id, s.code()))
                    } else {
                        String::new()
                    },
                })
                .collect(),
            co: row.co,
        }
    };
    let (rows, co_rows): (Vec<RowView>, Vec<RowView>) = m
        .rows
        .iter()
        .map(|r| row_view(r.unit.as_ref(), r))
        .partition(|r| r.lead > 0);
    let mut total = row_view(None, &m.totals);
    total.unit = "合计".to_owned();
    for (cell, s) in total.states.iter_mut().zip(&m.states) {
        if ledger_links && cell.n > 0 {
            cell.href = ledger_href(Some(*s), &q.signal);
        }
    }
    for (cell, s) in total.signals.iter_mut().zip(&m.signals) {
        if ledger_links && cell.n > 0 {
            cell.href = ledger_href(None, s.code());
        }
    }
    Ok(BoardPage {
        shell: Shell::new(&state, &session.viewer, "挂图作战", "/supervision/board").await?,
        years,
        units: board
            .units
            .iter()
            .map(|u| Choice {
                value: u.id.to_string(),
                label: u.name.clone(),
            })
            .collect(),
        leaders: board.leaders.clone(),
        categories: board.categories.clone(),
        signals: FILTER_SIGNALS
            .iter()
            .map(|s| Choice {
                value: s.code().to_owned(),
                label: signal_name(*s).to_owned(),
            })
            .collect(),
        state_heads: m
            .states
            .iter()
            .map(|s| Head {
                label: s.label(),
                light: "",
            })
            .collect(),
        signal_heads: m
            .signals
            .iter()
            .map(|s| Head {
                label: match s {
                    Signal::Red => "红灯",
                    Signal::Yellow => "黄灯",
                    Signal::Green => "绿灯",
                    _ => "未按时报送",
                },
                light: s.code(),
            })
            .collect(),
        rows,
        co_rows,
        total,
        items: m.items,
        dated: board.items.iter().filter(|i| i.due.is_some()).count(),
        timeline_shown: timeline.len(),
        svg,
        svg_query: q.query_string(),
        q,
    })
}

async fn board_svg(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<BoardQuery>,
) -> Result<Response, WebError> {
    let (board, _, year, _) = load(&state, &session, q, "supervision:board.svg").await?;
    let svg = gantt_svg(&timeline_items(&board.items), year, beijing_today());
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "image/svg+xml; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"board-{year}.svg\""),
            ),
        ],
        svg,
    )
        .into_response())
}

// ---- The timeline as SVG ----

/// The most items one timeline draws: a city year has 50,000, which no one can read on one
/// chart (and which make a 50 MB page). Beyond it the most pressing are drawn, and the page
/// asks to narrow the board.
pub const TIMELINE_MAX: usize = 300;

/// The items the timeline draws, in the board's order: all of them, or when there are more
/// than [`TIMELINE_MAX`], the most pressing (red, then yellow, then stalled, then the rest).
fn timeline_items(items: &[BoardItem]) -> Vec<BoardItem> {
    if items.len() <= TIMELINE_MAX {
        return items.to_vec();
    }
    let rank = |s: Signal| match s {
        Signal::Red => 0,
        Signal::Yellow => 1,
        Signal::Stalled => 2,
        _ => 3,
    };
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| (rank(items[i].signal), i));
    order.truncate(TIMELINE_MAX);
    order.sort_unstable();
    order.into_iter().map(|i| items[i].clone()).collect()
}

/// The SVG's width; the page scales it to the column.
const WIDTH: f64 = 1160.0;
const FONT: f64 = 13.0;
const SMALL: f64 = 12.0;
/// The item titles' column.
const TITLE_X: f64 = 10.0;
const TITLE_W: f64 = 262.0;
/// How many em of a title the timeline shows before cutting it with “…”.
pub const TITLE_EM: f64 = TITLE_W / FONT;
/// The lead units' column.
const UNIT_X: f64 = 282.0;
const UNIT_W: f64 = 124.0;
/// The chart: months from `CHART_X0` to `CHART_X1`.
const CHART_X0: f64 = 416.0;
const CHART_X1: f64 = WIDTH - 16.0;
const HEADER: f64 = 34.0;
const ROW: f64 = 26.0;
const BAR: f64 = 12.0;
const FONTS: &str = "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, Source Han Sans SC, \
                     WenQuanYi Micro Hei, sans-serif";
const INK: &str = "#1f2933";
const MUTED: &str = "#6b7785";
const LINE: &str = "#e3e7ec";
const TODAY: &str = "#1d5fa8";

/// The bar colour of a signal (the ledger's lights); grey for closed and cancelled items.
fn colour(signal: Signal) -> &'static str {
    match signal {
        Signal::Red => "#d93025",
        Signal::Yellow => "#f2b400",
        Signal::Green => "#2e9d57",
        Signal::Stalled => "#7b61c9",
        Signal::None => "#aab2bb",
    }
}

/// Escapes text for XML content and attribute values.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// How wide a character is, in em: full-width (CJK, full-width forms and punctuation) 1em,
/// everything else an average Latin width.
pub fn char_em(c: char) -> f64 {
    let u = u32::from(c);
    let wide = matches!(u,
        0x1100..=0x115F
        | 0x2014..=0x2026
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD);
    if wide {
        1.0
    } else if c == ' ' {
        0.3
    } else if c.is_ascii_uppercase() || matches!(c, '%' | '@' | 'm' | 'w' | 'M' | 'W') {
        0.72
    } else {
        0.56
    }
}

/// The text's width in em.
pub fn text_em(text: &str) -> f64 {
    text.chars().map(char_em).sum()
}

/// The text cut to fit `max_em`, ending in “…” when cut.
pub fn fit(text: &str, max_em: f64) -> String {
    let text = text.trim();
    if text_em(text) <= max_em {
        return text.to_owned();
    }
    let ellipsis = char_em('…');
    let mut out = String::new();
    let mut used = 0.0;
    for c in text.chars() {
        let w = char_em(c);
        if used + w + ellipsis > max_em {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

fn num(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// A day's left edge on the chart of `year` (days outside the year are held at its ends).
struct Scale {
    first: Date,
    last: Date,
    days: f64,
}

impl Scale {
    fn new(year: i16) -> Option<Scale> {
        let first = Date::new(year, 1, 1).ok()?;
        let last = Date::new(year, 12, 31).ok()?;
        Some(Scale {
            first,
            last,
            days: f64::from(first.days_in_year()),
        })
    }

    fn clamp(&self, d: Date) -> Date {
        d.clamp(self.first, self.last)
    }

    /// The left edge of the day.
    fn x(&self, d: Date) -> f64 {
        let d = self.clamp(d);
        CHART_X0 + f64::from(d.day_of_year() - 1) / self.days * (CHART_X1 - CHART_X0)
    }

    fn day(&self) -> f64 {
        (CHART_X1 - CHART_X0) / self.days
    }

    /// The middle of the day.
    fn mid(&self, d: Date) -> f64 {
        self.x(d) + self.day() / 2.0
    }
}

/// The timeline of `items` over `year` as a standalone SVG document: month grid and labels
/// (1月…12月), a line for `today` when it falls in the year, one bar per item with a due date
/// (from its assignment, or the year's start, to the due date) coloured by its signal, a diamond
/// per milestone, the items' titles and lead units on the left cut to fit with “…”, and a
/// legend. Items are grouped under their category headings. Every text is escaped.
pub fn gantt_svg(items: &[BoardItem], year: i16, today: Date) -> String {
    let Some(scale) = Scale::new(year) else {
        return format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"40\"></svg>"
        );
    };
    // Rows: a category heading when the category changes, then the item.
    enum Line<'a> {
        Heading(&'a str),
        Item(&'a BoardItem),
        Empty,
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut category: Option<&str> = None;
    for item in items {
        let c = item.category.trim();
        if !c.is_empty() && category != Some(c) {
            lines.push(Line::Heading(c));
        }
        category = Some(c);
        lines.push(Line::Item(item));
    }
    if lines.is_empty() {
        lines.push(Line::Empty);
    }
    let rows_top = HEADER;
    let rows_bottom = rows_top + ROW * lines.len() as f64;
    let legend_y = rows_bottom + 40.0;
    let height = legend_y + 16.0;
    let mut s = String::new();
    let w = num(WIDTH);
    let h = num(height);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"gantt\" viewBox=\"0 0 {w} {h}\" \
         width=\"{w}\" height=\"{h}\" font-family=\"{FONTS}\" font-size=\"{FONT}\" role=\"img\" \
         aria-labelledby=\"gantt-title\">"
    );
    let _ = write!(
        s,
        "<title id=\"gantt-title\">{year}年督办事项时间轴（{} 项）</title>",
        items.len()
    );
    let _ = write!(
        s,
        "<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>"
    );
    // Months: alternate bands, grid lines and labels.
    let chart_h = num(rows_bottom - rows_top + 6.0);
    for month in 1..=12i8 {
        let Ok(start) = Date::new(year, month, 1) else {
            continue;
        };
        let x0 = scale.x(start);
        let x1 = if month == 12 {
            CHART_X1
        } else {
            Date::new(year, month + 1, 1).map_or(CHART_X1, |d| scale.x(d))
        };
        if month % 2 == 0 {
            let _ = write!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{chart_h}\" fill=\"#f6f8fa\"/>",
                num(x0),
                num(rows_top - 6.0),
                num(x1 - x0)
            );
        }
        let _ = write!(
            s,
            "<line class=\"month\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{LINE}\"/>",
            num(rows_top - 6.0),
            num(rows_bottom),
            x = num(x0)
        );
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"22\" text-anchor=\"middle\" fill=\"{MUTED}\">{month}月</text>",
            num((x0 + x1) / 2.0)
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{LINE}\"/>",
        num(rows_top - 6.0),
        num(rows_bottom),
        x = num(CHART_X1)
    );
    // Column headings.
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"22\" font-weight=\"bold\" fill=\"{INK}\">事项</text>\
         <text x=\"{}\" y=\"22\" font-weight=\"bold\" fill=\"{INK}\">牵头单位</text>",
        num(TITLE_X),
        num(UNIT_X)
    );
    let _ = write!(
        s,
        "<line x1=\"0\" y1=\"{y}\" x2=\"{w}\" y2=\"{y}\" stroke=\"#c9d1d9\"/>",
        y = num(rows_top - 6.0)
    );
    for (i, line) in lines.iter().enumerate() {
        let top = rows_top + ROW * i as f64;
        let text_y = num(top + ROW / 2.0 + FONT * 0.35);
        match line {
            Line::Heading(c) => {
                let _ = write!(
                    s,
                    "<rect x=\"0\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fbf1f1\"/>\
                     <text class=\"heading\" x=\"{}\" y=\"{text_y}\" font-weight=\"bold\" \
                     fill=\"#8e1b1b\">{}</text>",
                    num(top + 1.0),
                    num(CHART_X0 - 4.0),
                    num(ROW - 2.0),
                    num(TITLE_X),
                    xml_escape(&fit(c, (CHART_X0 - TITLE_X - 12.0) / FONT))
                );
            }
            Line::Empty => {
                let _ = write!(
                    s,
                    "<text x=\"{}\" y=\"{text_y}\" fill=\"{MUTED}\">没有符合条件的事项</text>",
                    num(TITLE_X)
                );
            }
            Line::Item(item) => item_row(&mut s, item, &scale, top),
        }
        let _ = write!(
            s,
            "<line x1=\"0\" y1=\"{y}\" x2=\"{w}\" y2=\"{y}\" stroke=\"#eef1f4\"/>",
            y = num(top + ROW)
        );
    }
    // Today.
    if today.year() == year {
        let x = scale.mid(today);
        let label = format!("今天 {:02}-{:02}", today.month(), today.day());
        let half = text_em(&label) * SMALL / 2.0;
        let label_x = x.clamp(CHART_X0 + half, CHART_X1 - half);
        let _ = write!(
            s,
            "<line class=\"today\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{TODAY}\" \
             stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{SMALL}\" \
             fill=\"{TODAY}\">{}</text>",
            num(rows_top - 6.0),
            num(rows_bottom + 4.0),
            num(label_x),
            num(rows_bottom + 18.0),
            xml_escape(&label),
            x = num(x)
        );
    }
    legend(&mut s, legend_y);
    s.push_str("</svg>");
    s
}

/// One item's row: its title (linking to the item) and lead unit, the bar, the milestones,
/// and a tooltip with everything in full.
fn item_row(s: &mut String, item: &BoardItem, scale: &Scale, top: f64) {
    let text_y = num(top + ROW / 2.0 + FONT * 0.35);
    let mid = top + ROW / 2.0;
    let unit = item.lead.as_ref().map_or("", |u| u.name.as_str());
    let mut tip = item.title.trim().to_owned();
    if !unit.is_empty() {
        let _ = write!(tip, "\n牵头单位：{unit}");
    }
    if !item.co_units.is_empty() {
        let co: Vec<&str> = item.co_units.iter().map(|u| u.name.as_str()).collect();
        let _ = write!(tip, "\n责任单位：{}", co.join("、"));
    }
    if !item.leader.trim().is_empty() {
        let _ = write!(tip, "\n责任领导：{}", item.leader.trim());
    }
    if !item.deadline_text.trim().is_empty() {
        let _ = write!(tip, "\n完成时限：{}", item.deadline_text.trim());
    }
    if let Some(due) = item.due {
        let _ = write!(tip, "（{due}）");
    }
    let _ = write!(tip, "\n状态：{}", item.state.label());
    if item.signal != Signal::None {
        let _ = write!(tip, "　{}", item.signal.label());
    }
    let _ = write!(
        s,
        "<g class=\"item\" data-id=\"{}\"><title>{}</title>",
        item.id,
        xml_escape(&tip)
    );
    let _ = write!(
        s,
        "<a href=\"/supervision/items/{}\"><text class=\"label\" x=\"{}\" y=\"{text_y}\" \
         fill=\"{INK}\">{}</text></a>",
        item.id,
        num(TITLE_X),
        xml_escape(&fit(&item.title, TITLE_EM))
    );
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{text_y}\" font-size=\"{SMALL}\" fill=\"{MUTED}\">{}</text>",
        num(UNIT_X),
        xml_escape(&fit(unit, UNIT_W / SMALL))
    );
    match item.due {
        Some(due) => {
            // From the assignment to the due date; an item assigned after its due date (a
            // ledger entered late) runs from the year's start.
            let start = item
                .start
                .filter(|s| *s <= due)
                .unwrap_or(scale.first)
                .max(scale.first);
            let x0 = scale.x(start);
            let x1 = (scale.x(due) + scale.day()).max(x0 + 4.0);
            let fill = colour(item.signal);
            let opacity = if item.state == ItemState::Cancelled {
                " fill-opacity=\"0.45\""
            } else {
                ""
            };
            let _ = write!(
                s,
                "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" \
                 fill=\"{fill}\"{opacity}/>",
                num(x0),
                num(mid - BAR / 2.0),
                num(x1 - x0),
                num(BAR)
            );
        }
        None => {
            // No bar: the deadline in words where the bar would start.
            let words = if item.deadline_text.trim().is_empty() {
                "无截止日期".to_owned()
            } else {
                item.deadline_text.trim().to_owned()
            };
            let _ = write!(
                s,
                "<text class=\"no-due\" x=\"{}\" y=\"{text_y}\" font-size=\"{SMALL}\" \
                 fill=\"{MUTED}\">{}</text>",
                num(CHART_X0 + 6.0),
                xml_escape(&fit(&words, (CHART_X1 - CHART_X0 - 12.0) / SMALL))
            );
        }
    }
    for m in &item.milestones {
        if m.year() != scale.first.year() {
            continue;
        }
        let cx = scale.mid(*m);
        let r = 6.0;
        let _ = write!(
            s,
            "<polygon class=\"milestone\" points=\"{},{} {},{} {},{} {},{}\" fill=\"{INK}\" \
             stroke=\"#ffffff\" stroke-width=\"1\"><title>节点 {m}</title></polygon>",
            num(cx),
            num(mid - r),
            num(cx + r),
            num(mid),
            num(cx),
            num(mid + r),
            num(cx - r),
            num(mid)
        );
    }
    s.push_str("</g>");
}

/// The key to the colours and marks, along the bottom.
fn legend(s: &mut String, y: f64) {
    let mut x = TITLE_X;
    let entries: [(Signal, &str); 5] = [
        (Signal::Red, "红灯（逾期）"),
        (Signal::Yellow, "黄灯（临期）"),
        (Signal::Green, "绿灯（正常）"),
        (Signal::Stalled, "未按时报送"),
        (Signal::None, "已办结/已撤销"),
    ];
    for (signal, label) in entries {
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"18\" height=\"10\" rx=\"2\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"{SMALL}\" fill=\"{INK}\">{}</text>",
            num(x),
            num(y - 9.0),
            colour(signal),
            num(x + 24.0),
            num(y),
            xml_escape(label)
        );
        x += 24.0 + text_em(label) * SMALL + 20.0;
    }
    let cy = y - 4.0;
    let _ = write!(
        s,
        "<polygon points=\"{},{} {},{} {},{} {},{}\" fill=\"{INK}\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"{SMALL}\" fill=\"{INK}\">节点</text>",
        num(x + 6.0),
        num(cy - 6.0),
        num(x + 12.0),
        num(cy),
        num(x + 6.0),
        num(cy + 6.0),
        num(x),
        num(cy),
        num(x + 18.0),
        num(y)
    );
    x += 18.0 + 2.0 * SMALL + 20.0;
    let _ = write!(
        s,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{TODAY}\" stroke-width=\"1.5\" \
         stroke-dasharray=\"4 3\"/><text x=\"{}\" y=\"{}\" font-size=\"{SMALL}\" \
         fill=\"{INK}\">今天</text>",
        num(x + 4.0),
        num(y - 11.0),
        num(x + 4.0),
        num(y + 3.0),
        num(x + 12.0),
        num(y)
    );
}
