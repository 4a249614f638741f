//! China's working-day calendar (工作日 / 调休): which days are official days off (放假),
//! which weekend days are make-up working days (调休上班), and working-day arithmetic on top
//! of that (deadlines such as "N 个工作日内办结", rules such as "国庆节前").
//!
//! # Why the data is shipped, not fetched
//!
//! Zhongshu runs on government intranets with no Internet access, so there is no holiday API
//! to call. The State Council's yearly notices (国务院办公厅关于 YYYY 年部分节假日安排的通知)
//! are transcribed into `data/calendar-cn.txt`, compiled into the binary with
//! [`include_str!`], and exposed as [`WorkCalendar::official`]. When a new notice is
//! published (usually in November for the following year) or a correction is needed, an
//! administrator writes the same text format by hand, checks it with
//! [`parse_calendar_text`] and adds each year with [`WorkCalendar::with_year`], which replaces
//! the shipped data for that year.
//!
//! # Text format
//!
//! One entry per line, fields separated by whitespace:
//!
//! ```text
//! # 注释：# 之后到行末为注释，空行忽略
//! 2024 来源 国务院办公厅关于2024年部分节假日安排的通知（国办发明电〔2023〕7号）
//! 2024 元旦 01-01
//! 2024 春节 02-10..02-17
//! 2024 上班 02-04 02-18
//! ```
//!
//! * `年份 节日名 日期…` — official days off for that festival. A date is `MM-DD`
//!   (`YYYY-MM-DD` is also accepted if the year matches the line's year); `MM-DD..MM-DD` is an
//!   inclusive range; several dates and ranges may follow, separated by spaces, and the same
//!   festival may span several lines.
//! * `年份 上班 日期…` — make-up working days (调休上班), which must be Saturdays or Sundays.
//! * `年份 来源 说明…` — the notice (and its 文号) the year is based on; several lines are
//!   joined with `；`.
//!
//! Years are four digits between 1900 and 2999. Every line is validated and every error is
//! reported with its line number ([`CalendarParseError`]): unparsable years or dates, dates
//! that do not exist (`02-30`), dates outside the line's year, backwards ranges (a holiday
//! that crosses New Year is written on two years' lines), ranges longer than 31 days, a day
//! that is both off and worked or belongs to two festivals, a make-up day on a weekday, and a
//! year with no day off at all.
//!
//! # Naming conventions in the shipped data
//!
//! * Festival names are copied from the notice's headings. When National Day and Mid-Autumn
//!   are merged into one break (2020, 2023, 2025) the whole break carries the combined heading,
//!   e.g. `国庆节、中秋节`. [`WorkCalendar::festival_start`] matches a stored name that
//!   *contains* the requested festival, so both `国庆节` and `中秋节` find the first day of the
//!   merged break — which is what "节前" rules need (2023's `国庆节` starts on 09-29).
//! * Only days the notice lists explicitly are recorded; for "×月×日放假，与周末连休" only
//!   that day is listed (the adjoining weekend is off anyway, so working-day arithmetic is
//!   unaffected).
//! * A day off that falls in the previous year (2023's 元旦 began on 2022-12-31) is recorded
//!   under the year it falls in.
//! * 2020's Spring Festival includes the COVID-19 extension to 02-02 (国办发明电〔2020〕1号),
//!   which also cancelled the make-up working day of 02-01.
//!
//! # Rules
//!
//! A day is a working day unless it is listed as a holiday; a listed make-up day is a working
//! day; any other day is a working day from Monday to Friday. A year without data is computed
//! on weekends alone, and the pages show [`WorkCalendar::warning_for`] /
//! [`WorkCalendar::missing_years`] so that nobody mistakes the result for an official one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::Bound;
use std::sync::OnceLock;

use jiff::civil::{Date, Weekday};

/// The shipped calendar text (`data/calendar-cn.txt`): the State Council arrangements for
/// every year Zhongshu knows about. Also useful as a template for administrators.
pub const OFFICIAL_CALENDAR_TEXT: &str = include_str!("../data/calendar-cn.txt");

/// Keyword of a make-up working day line.
const WORK_KEYWORD: &str = "上班";
/// Keyword of a source line.
const SOURCE_KEYWORD: &str = "来源";
/// Separator used when a year has several source lines.
const SOURCE_SEPARATOR: &str = "；";
/// Accepted years (inclusive).
const MIN_YEAR: i16 = 1900;
const MAX_YEAR: i16 = 2999;
/// Longest accepted date range, in days; longer ranges are almost certainly typos.
const MAX_RANGE_DAYS: i64 = 31;

/// One year's official arrangement: the days off (with their festival) and the make-up
/// working days. Built by [`parse_calendar_text`]; a holiday is never also a make-up day and
/// every date lies inside [`YearCalendar::year`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearCalendar {
    year: i16,
    holidays: BTreeMap<Date, String>,
    workdays: BTreeSet<Date>,
    source: Option<String>,
}

impl YearCalendar {
    /// The calendar year this arrangement covers.
    pub fn year(&self) -> i16 {
        self.year
    }

    /// The notice(s) the arrangement comes from, if recorded.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// Every official day off with its festival name, in date order.
    pub fn holidays(&self) -> impl Iterator<Item = (Date, &str)> {
        self.holidays.iter().map(|(d, name)| (*d, name.as_str()))
    }

    /// Every make-up working day (调休上班), in date order.
    pub fn workdays(&self) -> impl Iterator<Item = Date> {
        self.workdays.iter().copied()
    }

    /// Serialises the year back to the text format: the source first, then one line per
    /// festival (in order of its first day, consecutive days collapsed into ranges), then one
    /// line of make-up working days. [`parse_calendar_text`] gives back an equal value.
    pub fn to_text(&self) -> String {
        let year = self.year;
        let mut out = String::new();
        if let Some(source) = &self.source {
            let _ = writeln!(out, "{year} {SOURCE_KEYWORD} {source}");
        }
        let mut festivals: Vec<(&str, Vec<Date>)> = Vec::new();
        for (date, name) in &self.holidays {
            match festivals.iter_mut().find(|(n, _)| *n == name.as_str()) {
                Some((_, dates)) => dates.push(*date),
                None => festivals.push((name.as_str(), vec![*date])),
            }
        }
        for (name, dates) in festivals {
            let _ = writeln!(out, "{year} {name} {}", format_ranges(&dates));
        }
        if !self.workdays.is_empty() {
            let dates: Vec<Date> = self.workdays.iter().copied().collect();
            let _ = writeln!(out, "{year} {WORK_KEYWORD} {}", format_ranges(&dates));
        }
        out
    }
}

/// One problem found in a calendar text, with its 1-based line number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("第{line}行：{message}")]
pub struct CalendarParseError {
    /// 1-based line number in the text.
    pub line: usize,
    /// What is wrong, in Chinese.
    pub message: String,
}

/// Parses the calendar text format (see the module documentation), one [`YearCalendar`] per
/// year mentioned, sorted by year.
///
/// Every line is validated and all problems are returned, sorted by line number, so an
/// administrator can fix a whole file in one go.
pub fn parse_calendar_text(text: &str) -> Result<Vec<YearCalendar>, Vec<CalendarParseError>> {
    let mut parser = Parser::default();
    for (index, raw) in text.lines().enumerate() {
        parser.line(index + 1, raw);
    }
    parser.finish()
}

/// The working-day calendar: official arrangements for the years that have data, weekends
/// alone for the others.
#[derive(Clone, Debug, Default)]
pub struct WorkCalendar {
    years: BTreeMap<i16, YearCalendar>,
}

impl WorkCalendar {
    /// The shipped State Council arrangements (`data/calendar-cn.txt`). The shipped file is
    /// covered by tests; should it ever fail to parse, the result is an empty calendar
    /// (weekends only, with warnings) rather than a panic.
    pub fn official() -> WorkCalendar {
        static OFFICIAL: OnceLock<WorkCalendar> = OnceLock::new();
        OFFICIAL
            .get_or_init(|| match parse_calendar_text(OFFICIAL_CALENDAR_TEXT) {
                Ok(years) => years
                    .into_iter()
                    .fold(WorkCalendar::default(), WorkCalendar::with_year),
                Err(_) => WorkCalendar::default(),
            })
            .clone()
    }

    /// Adds a year, replacing any data already held for it (an administrator's import or
    /// correction).
    pub fn with_year(mut self, year: YearCalendar) -> WorkCalendar {
        self.years.insert(year.year, year);
        self
    }

    /// The years with data, in order.
    pub fn years(&self) -> impl Iterator<Item = &YearCalendar> {
        self.years.values()
    }

    /// The data for year `y`, if any.
    pub fn year(&self, y: i16) -> Option<&YearCalendar> {
        self.years.get(&y)
    }

    /// Whether year `y` has data.
    pub fn has_year(&self, y: i16) -> bool {
        self.years.contains_key(&y)
    }

    /// Whether `d` is a working day: an official day off is not; a make-up day is; otherwise
    /// Monday to Friday are. Years without data use weekends alone.
    pub fn is_workday(&self, d: Date) -> bool {
        if let Some(year) = self.years.get(&d.year()) {
            if year.holidays.contains_key(&d) {
                return false;
            }
            if year.workdays.contains(&d) {
                return true;
            }
        }
        !is_weekend(d)
    }

    /// The festival `d` is an official day off for, if any.
    pub fn festival(&self, d: Date) -> Option<&str> {
        self.years
            .get(&d.year())?
            .holidays
            .get(&d)
            .map(String::as_str)
    }

    /// First day of the named festival's holiday in that year: the earliest day off whose
    /// stored name contains `festival` (so `国庆节` finds `中秋节、国庆节`).
    /// E.g. `("春节", 2024)` → 2024-02-10.
    pub fn festival_start(&self, year: i16, festival: &str) -> Option<Date> {
        let festival = festival.trim();
        if festival.is_empty() {
            return None;
        }
        self.years
            .get(&year)?
            .holidays
            .iter()
            .find(|(_, name)| name.contains(festival))
            .map(|(d, _)| *d)
    }

    /// The date `n` working days after `d`: `n = 1` is the next working day after `d` (`d`
    /// itself never counts), `n = 0` returns `d`. Saturates at [`Date::MAX`] if the calendar
    /// runs out. E.g. 2024-02-09 + 1 → 2024-02-18.
    pub fn add_workdays(&self, d: Date, n: u32) -> Date {
        if n == 0 {
            return d;
        }
        let target = i64::from(n);
        if self.count_forward(d, Date::MAX) < target {
            return Date::MAX;
        }
        // Smallest x in (d, MAX] with count(d, x) >= n; count is monotone in x.
        // Invariant: count(d, lo) < n <= count(d, hi).
        let mut lo = day_number(d);
        let mut hi = day_number(Date::MAX);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            let Some(mid_date) = date_from_day_number(mid) else {
                return Date::MAX;
            };
            if self.count_forward(d, mid_date) >= target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        date_from_day_number(hi).unwrap_or(Date::MAX)
    }

    /// The number of working days `x` with `start < x <= end`; when `end < start`, minus the
    /// number with `end < x <= start`. E.g. 2024-02-09 → 2024-02-18 is 1.
    pub fn count_workdays(&self, start: Date, end: Date) -> i64 {
        if end < start {
            -self.count_forward(end, start)
        } else {
            self.count_forward(start, end)
        }
    }

    /// Years in `[from, to]` with no data; the pages warn
    /// "YYYY年节假日数据未录入，按周末计算" for each.
    pub fn missing_years(&self, from: i16, to: i16) -> Vec<i16> {
        if from > to {
            return Vec::new();
        }
        (from..=to).filter(|y| !self.has_year(*y)).collect()
    }

    /// The warning to show next to `d` when its year has no data, else `None`.
    pub fn warning_for(&self, d: Date) -> Option<String> {
        if self.has_year(d.year()) {
            None
        } else {
            Some(format!("{}年节假日数据未录入，按周末计算", d.year()))
        }
    }

    /// Every year serialised with [`YearCalendar::to_text`], separated by blank lines (an
    /// export an administrator can edit and import again).
    pub fn to_text(&self) -> String {
        self.years
            .values()
            .map(YearCalendar::to_text)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Working days `x` with `start < x <= end` (0 when `end <= start`): Monday–Friday
    /// counted arithmetically, then corrected by the listed days in the range.
    fn count_forward(&self, start: Date, end: Date) -> i64 {
        if end <= start {
            return 0;
        }
        let mut count = weekdays_through(day_number(end)) - weekdays_through(day_number(start));
        let range = (Bound::Excluded(start), Bound::Included(end));
        for year in self.years.range(start.year()..=end.year()).map(|(_, y)| y) {
            count -= year
                .holidays
                .range(range)
                .filter(|(d, _)| !is_weekend(**d))
                .count() as i64;
            count += year
                .workdays
                .range(range)
                .filter(|d| is_weekend(**d) && !year.holidays.contains_key(*d))
                .count() as i64;
        }
        count
    }
}

// ---------------------------------------------------------------------------------------
// Parsing

#[derive(Default)]
struct Parser {
    years: BTreeMap<i16, YearDraft>,
    errors: Vec<CalendarParseError>,
}

/// A year being assembled; every entry remembers the line that introduced it.
struct YearDraft {
    first_line: usize,
    holidays: BTreeMap<Date, (String, usize)>,
    workdays: BTreeMap<Date, usize>,
    sources: Vec<String>,
    had_error: bool,
}

enum LineKind<'a> {
    Holiday(&'a str),
    Work,
}

impl Parser {
    fn error(&mut self, line: usize, message: String) {
        self.errors.push(CalendarParseError { line, message });
    }

    fn line(&mut self, line_no: usize, raw: &str) {
        let content = raw.split('#').next().unwrap_or_default().trim();
        if content.is_empty() {
            return;
        }
        let (year_token, rest) = split_first_token(content);
        let year = match parse_year(year_token) {
            Ok(year) => year,
            Err(message) => return self.error(line_no, message),
        };
        let before = self.errors.len();
        self.years.entry(year).or_insert_with(|| YearDraft {
            first_line: line_no,
            holidays: BTreeMap::new(),
            workdays: BTreeMap::new(),
            sources: Vec::new(),
            had_error: false,
        });
        self.year_line(line_no, year, rest);
        if self.errors.len() > before
            && let Some(draft) = self.years.get_mut(&year)
        {
            draft.had_error = true;
        }
    }

    fn year_line(&mut self, line_no: usize, year: i16, rest: &str) {
        let (keyword, rest) = split_first_token(rest);
        if keyword.is_empty() {
            return self.error(
                line_no,
                format!(
                    "{year}之后缺少内容，应写作“年份 节日名 日期…”“年份 {WORK_KEYWORD} 日期…”或“年份 {SOURCE_KEYWORD} 说明”"
                ),
            );
        }
        if keyword == SOURCE_KEYWORD {
            if rest.is_empty() {
                return self.error(line_no, format!("“{SOURCE_KEYWORD}”之后缺少说明文字"));
            }
            if let Some(draft) = self.years.get_mut(&year) {
                draft.sources.push(rest.to_owned());
            }
            return;
        }
        let kind = if keyword == WORK_KEYWORD {
            LineKind::Work
        } else if keyword.starts_with(|c: char| c.is_ascii_digit()) {
            return self.error(
                line_no,
                format!("缺少节日名称：“{keyword}”应写在节日名之后，如“{year} 春节 {keyword}”"),
            );
        } else {
            LineKind::Holiday(keyword)
        };
        let tokens: Vec<&str> = rest.split_whitespace().collect();
        if tokens.is_empty() {
            return self.error(line_no, format!("“{keyword}”之后缺少日期"));
        }
        for token in tokens {
            match parse_date_item(token, year) {
                Ok((first, last)) => self.apply(line_no, year, &kind, token, first, last),
                Err(message) => self.error(line_no, message),
            }
        }
    }

    /// Records the dates `first..=last` of one token, reporting conflicts with earlier lines.
    fn apply(
        &mut self,
        line_no: usize,
        year: i16,
        kind: &LineKind<'_>,
        token: &str,
        first: Date,
        last: Date,
    ) {
        let Some(draft) = self.years.get_mut(&year) else {
            return;
        };
        let dates = dates_between(first, last);
        let mut messages = Vec::new();
        match kind {
            LineKind::Holiday(name) => {
                let mut worked: BTreeMap<usize, Vec<Date>> = BTreeMap::new();
                let mut other: BTreeMap<(usize, String), Vec<Date>> = BTreeMap::new();
                for date in dates {
                    if let Some(line) = draft.workdays.get(&date) {
                        worked.entry(*line).or_default().push(date);
                    } else if let Some((existing, line)) = draft.holidays.get(&date) {
                        if existing.as_str() != *name {
                            other
                                .entry((*line, existing.clone()))
                                .or_default()
                                .push(date);
                        }
                    } else {
                        draft.holidays.insert(date, ((*name).to_owned(), line_no));
                    }
                }
                for (line, dates) in worked {
                    messages.push(format!(
                        "{}已在第{line}行列为调休上班日，不能同时放假",
                        format_list(&dates)
                    ));
                }
                for ((line, existing), dates) in other {
                    messages.push(format!(
                        "{}已在第{line}行列为“{existing}”放假，不能再列为“{name}”",
                        format_list(&dates)
                    ));
                }
            }
            LineKind::Work => {
                let mut weekdays = Vec::new();
                let mut off: BTreeMap<(usize, &str), Vec<Date>> = BTreeMap::new();
                for date in dates {
                    if !is_weekend(date) {
                        weekdays.push(date);
                    } else if let Some((name, line)) = draft.holidays.get(&date) {
                        off.entry((*line, name.as_str())).or_default().push(date);
                    } else {
                        draft.workdays.entry(date).or_insert(line_no);
                    }
                }
                if !weekdays.is_empty() {
                    let list: Vec<String> = weekdays
                        .iter()
                        .map(|d| format!("{}（{}）", format_md(*d), weekday_name(*d)))
                        .collect();
                    messages.push(format!(
                        "“{token}”中{}本来就是工作日；调休上班日应为周六或周日",
                        list.join("、")
                    ));
                }
                for ((line, name), dates) in off {
                    messages.push(format!(
                        "{}已在第{line}行列为“{name}”放假，不能同时为调休上班日",
                        format_list(&dates)
                    ));
                }
            }
        }
        for message in messages {
            self.error(line_no, message);
        }
    }

    fn finish(mut self) -> Result<Vec<YearCalendar>, Vec<CalendarParseError>> {
        let empty: Vec<(i16, usize)> = self
            .years
            .iter()
            .filter(|(_, d)| d.holidays.is_empty() && !d.had_error)
            .map(|(y, d)| (*y, d.first_line))
            .collect();
        for (year, line) in empty {
            self.error(
                line,
                format!("{year}年没有任何放假日期，每一年至少要列出一个节日的放假日期"),
            );
        }
        if !self.errors.is_empty() {
            self.errors.sort_by_key(|e| e.line);
            return Err(self.errors);
        }
        Ok(self
            .years
            .into_iter()
            .map(|(year, draft)| YearCalendar {
                year,
                holidays: draft
                    .holidays
                    .into_iter()
                    .map(|(d, (name, _))| (d, name))
                    .collect(),
                workdays: draft.workdays.into_keys().collect(),
                source: if draft.sources.is_empty() {
                    None
                } else {
                    Some(draft.sources.join(SOURCE_SEPARATOR))
                },
            })
            .collect())
    }
}

/// Splits off the first whitespace-separated token; the rest is trimmed.
fn split_first_token(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    }
}

fn parse_year(token: &str) -> Result<i16, String> {
    let parsed = if token.len() == 4 && token.bytes().all(|b| b.is_ascii_digit()) {
        token.parse::<i16>().ok()
    } else {
        None
    };
    match parsed {
        Some(year) if (MIN_YEAR..=MAX_YEAR).contains(&year) => Ok(year),
        _ => Err(format!(
            "“{token}”不是有效的年份，每行应以{MIN_YEAR}至{MAX_YEAR}之间的四位数字年份开头（如 2024）"
        )),
    }
}

/// Parses `MM-DD`, `YYYY-MM-DD` or a range `A..B` of those, inside `year`.
fn parse_date_item(token: &str, year: i16) -> Result<(Date, Date), String> {
    let Some((a, b)) = token.split_once("..") else {
        let date = parse_date(token, year)?;
        return Ok((date, date));
    };
    let first = parse_date(a, year)?;
    let last = parse_date(b, year)?;
    if last < first {
        return Err(format!(
            "日期段“{token}”首尾颠倒（结束日期早于开始日期）；跨年的假期请分别写在两年中"
        ));
    }
    let days = day_number(last) - day_number(first) + 1;
    if days > MAX_RANGE_DAYS {
        return Err(format!(
            "日期段“{token}”长达{days}天，超过{MAX_RANGE_DAYS}天，请检查是否写错"
        ));
    }
    Ok((first, last))
}

fn parse_date(s: &str, year: i16) -> Result<Date, String> {
    let malformed = || format!("“{s}”不是有效的日期，应写作 MM-DD（如 02-10）或 MM-DD..MM-DD");
    let parts: Vec<&str> = s.split('-').collect();
    let (month, day) = match parts.as_slice() {
        [m, d] => (*m, *d),
        [y, m, d] => {
            if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            if y.parse::<i16>().ok() != Some(year) {
                return Err(format!(
                    "日期“{s}”不在{year}年内；每个日期都必须属于行首的年份"
                ));
            }
            (*m, *d)
        }
        _ => return Err(malformed()),
    };
    let number = |part: &str| -> Option<i8> {
        if (1..=2).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(month), Some(day)) = (number(month), number(day)) else {
        return Err(malformed());
    };
    if !(1..=12).contains(&month) {
        return Err(format!("“{s}”不是有效的日期：月份应在01至12之间"));
    }
    if day == 0 {
        return Err(format!("“{s}”不是有效的日期：日应从01开始"));
    }
    Date::new(year, month, day).map_err(|_| match Date::new(year, month, 1) {
        Ok(first) => format!(
            "“{s}”不是有效的日期：{year}年{month}月只有{}天",
            first.days_in_month()
        ),
        Err(_) => format!("“{s}”不是有效的日期"),
    })
}

/// Every date from `first` to `last` inclusive (stops at the end of the supported range).
fn dates_between(first: Date, last: Date) -> Vec<Date> {
    let mut dates = Vec::new();
    let mut current = first;
    while current <= last {
        dates.push(current);
        match current.tomorrow() {
            Ok(next) => current = next,
            Err(_) => break,
        }
    }
    dates
}

// ---------------------------------------------------------------------------------------
// Formatting

fn format_md(d: Date) -> String {
    format!("{:02}-{:02}", d.month(), d.day())
}

fn format_list(dates: &[Date]) -> String {
    dates
        .iter()
        .map(|d| format_md(*d))
        .collect::<Vec<_>>()
        .join("、")
}

/// Sorted dates as `MM-DD` / `MM-DD..MM-DD` tokens, consecutive days collapsed.
fn format_ranges(dates: &[Date]) -> String {
    let mut runs: Vec<(Date, Date)> = Vec::new();
    for &date in dates {
        match runs.last_mut() {
            Some((_, end)) if end.tomorrow().ok() == Some(date) => *end = date,
            _ => runs.push((date, date)),
        }
    }
    runs.iter()
        .map(|(start, end)| {
            if start == end {
                format_md(*start)
            } else {
                format!("{}..{}", format_md(*start), format_md(*end))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn weekday_name(d: Date) -> &'static str {
    match d.weekday() {
        Weekday::Monday => "星期一",
        Weekday::Tuesday => "星期二",
        Weekday::Wednesday => "星期三",
        Weekday::Thursday => "星期四",
        Weekday::Friday => "星期五",
        Weekday::Saturday => "星期六",
        Weekday::Sunday => "星期日",
    }
}

// ---------------------------------------------------------------------------------------
// Day arithmetic (proleptic Gregorian, as jiff), all in i64 so nothing can overflow.

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Days since 1970-01-01 (negative before).
fn day_number(d: Date) -> i64 {
    let month = i64::from(d.month());
    let day = i64::from(d.day());
    let year = i64::from(d.year()) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Inverse of [`day_number`]; `None` outside jiff's range.
fn date_from_day_number(n: i64) -> Option<Date> {
    let z = n.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()
}

/// A cumulative count of Monday–Friday days up to and including day number `n`, so that
/// `weekdays_through(b) - weekdays_through(a)` is the number of weekdays in `(a, b]`.
/// Day 4 (1970-01-05) is a Monday.
fn weekdays_through(n: i64) -> i64 {
    let days = n - 3; // days from 1970-01-05 up to and including n
    5 * days.div_euclid(7) + days.rem_euclid(7).min(5)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const FESTIVALS: [&str; 7] = [
        "元旦",
        "春节",
        "清明节",
        "劳动节",
        "端午节",
        "中秋节",
        "国庆节",
    ];

    fn official() -> WorkCalendar {
        WorkCalendar::official()
    }

    /// Day-by-day reference implementation of count_workdays for start <= end.
    fn naive_count(cal: &WorkCalendar, start: Date, end: Date) -> i64 {
        let mut n = 0;
        let mut d = start;
        while d < end {
            d = d.tomorrow().unwrap();
            if cal.is_workday(d) {
                n += 1;
            }
        }
        n
    }

    fn errors_of(text: &str) -> Vec<CalendarParseError> {
        parse_calendar_text(text).unwrap_err()
    }

    #[test]
    fn the_shipped_file_parses_with_zero_errors() {
        let years = parse_calendar_text(OFFICIAL_CALENDAR_TEXT).unwrap();
        let numbers: Vec<i16> = years.iter().map(YearCalendar::year).collect();
        assert_eq!(numbers, (2020..=2026).collect::<Vec<_>>());
        assert_eq!(official().years().count(), 7);
        assert!(years.iter().all(|y| y.source().is_some()));
    }

    #[test]
    fn the_2024_spring_festival_make_up_sundays_are_workdays() {
        let cal = official();
        assert!(cal.is_workday(date(2024, 2, 4)));
        assert!(cal.is_workday(date(2024, 2, 18)));
        assert!(
            cal.is_workday(date(2024, 2, 9)),
            "除夕 2024 is not an official day off"
        );
        let mut d = date(2024, 2, 10);
        while d <= date(2024, 2, 17) {
            assert!(!cal.is_workday(d), "{d} should be off");
            assert_eq!(cal.festival(d), Some("春节"));
            d = d.tomorrow().unwrap();
        }
        assert!(!cal.is_workday(date(2024, 2, 3)), "an ordinary Saturday");
        assert_eq!(cal.festival(date(2024, 2, 18)), None);
    }

    #[test]
    fn national_day_2025_runs_from_the_1st_to_the_8th_with_two_make_up_days() {
        let cal = official();
        let mut d = date(2025, 10, 1);
        while d <= date(2025, 10, 8) {
            assert!(!cal.is_workday(d), "{d} should be off");
            assert!(cal.festival(d).unwrap().contains("中秋节"));
            d = d.tomorrow().unwrap();
        }
        assert!(cal.is_workday(date(2025, 9, 28)));
        assert!(cal.is_workday(date(2025, 10, 11)));
        assert!(cal.is_workday(date(2025, 10, 9)));
        assert!(!cal.is_workday(date(2025, 10, 12)));
    }

    #[test]
    fn national_day_2026_runs_from_the_1st_to_the_7th() {
        let cal = official();
        let mut d = date(2026, 10, 1);
        while d <= date(2026, 10, 7) {
            assert!(!cal.is_workday(d), "{d} should be off");
            assert_eq!(cal.festival(d), Some("国庆节"));
            d = d.tomorrow().unwrap();
        }
        assert!(cal.is_workday(date(2026, 10, 8)));
        assert!(cal.is_workday(date(2026, 9, 20)));
        assert!(cal.is_workday(date(2026, 10, 10)));
        assert_eq!(cal.festival_start(2026, "春节"), Some(date(2026, 2, 15)));
        assert_eq!(cal.festival_start(2026, "中秋节"), Some(date(2026, 9, 25)));
    }

    #[test]
    fn the_2020_spring_festival_includes_the_covid_extension() {
        let cal = official();
        assert!(!cal.is_workday(date(2020, 1, 31)));
        assert!(
            !cal.is_workday(date(2020, 2, 1)),
            "the make-up Saturday was cancelled"
        );
        assert!(cal.is_workday(date(2020, 2, 3)));
        assert!(cal.is_workday(date(2020, 1, 19)));
    }

    #[test]
    fn new_years_eve_2022_belongs_to_the_2023_new_year_break() {
        let cal = official();
        assert_eq!(cal.festival(date(2022, 12, 31)), Some("元旦"));
        assert_eq!(cal.festival_start(2022, "元旦"), Some(date(2022, 1, 1)));
        assert!(cal.is_workday(date(2023, 1, 3)));
    }

    #[test]
    fn a_year_without_data_falls_back_to_weekends_and_warns() {
        let cal = official();
        assert!(!cal.has_year(2031));
        assert!(
            cal.is_workday(date(2031, 10, 1)),
            "a Wednesday without data"
        );
        assert!(!cal.is_workday(date(2031, 10, 4)), "a Saturday");
        assert_eq!(cal.festival(date(2031, 10, 1)), None);
        assert_eq!(
            cal.warning_for(date(2031, 10, 1)).as_deref(),
            Some("2031年节假日数据未录入，按周末计算")
        );
        assert_eq!(cal.warning_for(date(2024, 10, 1)), None);
        assert_eq!(cal.missing_years(2018, 2028), vec![2018, 2019, 2027, 2028]);
        assert!(cal.missing_years(2030, 2020).is_empty());
        assert_eq!(cal.missing_years(i16::MAX, i16::MAX), vec![i16::MAX]);
    }

    #[test]
    fn adding_workdays_across_the_2024_spring_festival_skips_the_whole_break() {
        let cal = official();
        assert_eq!(cal.add_workdays(date(2024, 2, 9), 1), date(2024, 2, 18));
        assert_eq!(cal.add_workdays(date(2024, 2, 9), 0), date(2024, 2, 9));
        assert_eq!(cal.add_workdays(date(2024, 2, 8), 2), date(2024, 2, 18));
        assert_eq!(cal.add_workdays(date(2024, 2, 9), 2), date(2024, 2, 19));
        assert_eq!(cal.add_workdays(date(2024, 2, 2), 1), date(2024, 2, 4));
        assert_eq!(cal.add_workdays(date(2024, 2, 12), 1), date(2024, 2, 18));
    }

    #[test]
    fn counting_workdays_across_the_spring_festival_works_both_ways() {
        let cal = official();
        assert_eq!(cal.count_workdays(date(2024, 2, 9), date(2024, 2, 18)), 1);
        assert_eq!(cal.count_workdays(date(2024, 2, 18), date(2024, 2, 9)), -1);
        assert_eq!(cal.count_workdays(date(2024, 2, 9), date(2024, 2, 9)), 0);
        assert_eq!(cal.count_workdays(date(2024, 2, 1), date(2024, 2, 29)), 17);
    }

    #[test]
    fn counting_and_adding_agree_with_a_day_by_day_walk() {
        let cal = official();
        let starts = [
            date(2019, 12, 20),
            date(2020, 1, 17),
            date(2022, 12, 30),
            date(2023, 9, 28),
            date(2024, 2, 3),
            date(2025, 9, 27),
            date(2026, 12, 25),
        ];
        for start in starts {
            let mut end = start;
            for _ in 0..400 {
                end = end.tomorrow().unwrap();
                let expected = naive_count(&cal, start, end);
                assert_eq!(cal.count_workdays(start, end), expected, "{start}..{end}");
                assert_eq!(cal.count_workdays(end, start), -expected, "{end}..{start}");
            }
            let mut d = start;
            for n in 1..300 {
                d = d.tomorrow().unwrap();
                while !cal.is_workday(d) {
                    d = d.tomorrow().unwrap();
                }
                assert_eq!(cal.add_workdays(start, n), d, "{start} + {n}");
            }
        }
        let whole = naive_count(&cal, date(2019, 1, 1), date(2032, 12, 31));
        assert_eq!(
            cal.count_workdays(date(2019, 1, 1), date(2032, 12, 31)),
            whole
        );
    }

    #[test]
    fn arithmetic_at_the_edges_of_the_date_range_saturates_instead_of_panicking() {
        let cal = official();
        assert_eq!(cal.add_workdays(Date::MAX, 1), Date::MAX);
        assert_eq!(cal.add_workdays(date(2024, 1, 1), u32::MAX), Date::MAX);
        let first = cal.add_workdays(Date::MIN, 1);
        assert!(first > Date::MIN && cal.is_workday(first));
        assert_eq!(cal.count_workdays(Date::MIN, first), 1);
        let all = cal.count_workdays(Date::MIN, Date::MAX);
        assert!(all > 0);
        assert_eq!(cal.count_workdays(Date::MAX, Date::MIN), -all);
        assert_eq!(cal.count_workdays(Date::MAX, Date::MAX), 0);
    }

    #[test]
    fn day_numbers_round_trip_and_agree_with_jiff_weekdays() {
        assert_eq!(day_number(date(1970, 1, 1)), 0);
        assert_eq!(day_number(date(2000, 3, 1)), 11_017);
        let probes = [
            Date::MIN,
            date(-1, 2, 28),
            date(0, 2, 29),
            date(1600, 2, 29),
            date(1900, 3, 1),
            date(1969, 12, 31),
            date(2024, 2, 29),
            Date::MAX,
        ];
        for d in probes {
            assert_eq!(date_from_day_number(day_number(d)), Some(d), "{d}");
        }
        assert_eq!(date_from_day_number(day_number(Date::MAX) + 1), None);
        assert_eq!(date_from_day_number(day_number(Date::MIN) - 1), None);
        let mut d = date(1999, 12, 1);
        for _ in 0..2000 {
            let n = day_number(d);
            let is_weekday = weekdays_through(n) - weekdays_through(n - 1) == 1;
            assert_eq!(is_weekday, !is_weekend(d), "{d}");
            assert_eq!(date_from_day_number(n), Some(d));
            d = d.tomorrow().unwrap();
        }
    }

    #[test]
    fn festival_start_finds_the_first_day_off_of_a_festival() {
        let cal = official();
        assert_eq!(cal.festival_start(2024, "春节"), Some(date(2024, 2, 10)));
        assert_eq!(cal.festival_start(2025, "国庆节"), Some(date(2025, 10, 1)));
        assert_eq!(cal.festival_start(2025, "中秋节"), Some(date(2025, 10, 1)));
        assert_eq!(cal.festival_start(2023, "国庆节"), Some(date(2023, 9, 29)));
        assert_eq!(cal.festival_start(2024, "重阳节"), None);
        assert_eq!(cal.festival_start(2024, ""), None);
        assert_eq!(cal.festival_start(2031, "春节"), None);
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let text = "\
# 测试
2024 春节 02-10..02-17
2024 春节 02-30
2024 上班 02-04 02-18

2024 国庆节 10-07..10-01
20x4 元旦 01-01
";
        let errors = errors_of(text);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(
            errors.iter().map(|e| e.line).collect::<Vec<_>>(),
            vec![3, 6, 7]
        );
        assert!(errors[0].message.contains("02-30"), "{}", errors[0]);
        assert!(errors[0].message.contains("29天"), "{}", errors[0]);
        assert!(errors[1].message.contains("颠倒"), "{}", errors[1]);
        assert!(errors[2].message.contains("20x4"), "{}", errors[2]);
        assert!(errors[0].to_string().starts_with("第3行："));
    }

    #[test]
    fn conflicting_and_misplaced_dates_are_rejected() {
        let cases = [
            (
                "2024 春节 02-10..02-17\n2024 上班 02-17",
                "不能同时为调休上班日",
            ),
            ("2024 上班 02-18\n2024 春节 02-10..02-18", "不能同时放假"),
            ("2024 春节 02-10\n2024 元宵节 02-10", "不能再列为"),
            ("2024 春节 2023-02-10", "不在2024年内"),
            ("2024 上班 02-05", "星期一"),
            ("2024 春节 13-01", "月份"),
            ("2024 春节 02-1x", "MM-DD"),
            ("2024 春节 01-01..03-01", "超过31天"),
            ("2024 春节", "缺少日期"),
            ("2024 02-10", "缺少节日名称"),
            ("2024", "缺少内容"),
            ("2024 来源", "缺少说明"),
            ("2024 来源 某通知", "没有任何放假日期"),
            ("1800 元旦 01-01", "年份"),
        ];
        for (text, needle) in cases {
            let errors = errors_of(text);
            assert_eq!(errors.len(), 1, "{text}: {errors:?}");
            assert!(errors[0].message.contains(needle), "{text}: {}", errors[0]);
        }
    }

    #[test]
    fn hand_written_text_with_comments_full_dates_and_several_sources_parses() {
        let text = "\
2030 来源 通知甲  # 注释
2030 来源 通知乙
2030 元旦 2030-01-01
2030 春节 02-02..02-04 02-06
2030 春节 02-05
2030 上班 01-26
";
        let years = parse_calendar_text(text).unwrap();
        assert_eq!(years.len(), 1);
        let year = &years[0];
        assert_eq!(year.source(), Some("通知甲；通知乙"));
        assert_eq!(year.holidays().count(), 6);
        assert_eq!(year.workdays().collect::<Vec<_>>(), vec![date(2030, 1, 26)]);
        assert!(year.to_text().contains("2030 春节 02-02..02-06\n"));
        let cal = official().with_year(year.clone());
        assert!(cal.has_year(2030));
        assert_eq!(cal.festival_start(2030, "春节"), Some(date(2030, 2, 2)));
        assert!(cal.is_workday(date(2030, 1, 26)));
    }

    #[test]
    fn with_year_replaces_the_shipped_data_for_that_year() {
        let corrected = parse_calendar_text("2024 春节 02-09..02-17\n").unwrap();
        let cal = official().with_year(corrected.into_iter().next().unwrap());
        assert!(!cal.is_workday(date(2024, 2, 9)));
        assert!(
            !cal.is_workday(date(2024, 2, 4)),
            "the old make-up Sunday is gone"
        );
        assert_eq!(cal.year(2024).unwrap().source(), None);
        assert_eq!(cal.years().count(), 7);
    }

    #[test]
    fn to_text_round_trips_every_shipped_year() {
        let cal = official();
        for year in cal.years() {
            let text = year.to_text();
            let parsed = parse_calendar_text(&text).unwrap();
            assert_eq!(parsed, vec![year.clone()], "{text}");
        }
        let all = parse_calendar_text(&cal.to_text()).unwrap();
        assert_eq!(all, cal.years().cloned().collect::<Vec<_>>());
        let text_2024 = cal.year(2024).unwrap().to_text();
        assert!(
            text_2024.contains("2024 春节 02-10..02-17\n"),
            "{text_2024}"
        );
    }

    #[test]
    fn no_shipped_date_is_both_a_holiday_and_a_make_up_workday() {
        for year in official().years() {
            for day in year.workdays() {
                assert!(
                    year.holidays().all(|(d, _)| d != day),
                    "{day} is both off and worked"
                );
            }
        }
    }

    #[test]
    fn every_shipped_make_up_day_is_a_weekend_and_every_year_has_all_seven_festivals() {
        let cal = official();
        for year in cal.years() {
            for day in year.workdays() {
                assert!(is_weekend(day), "{day} is a {:?}", day.weekday());
                assert_eq!(day.year(), year.year());
            }
            for (day, _) in year.holidays() {
                assert_eq!(day.year(), year.year());
            }
            for festival in FESTIVALS {
                assert!(
                    cal.festival_start(year.year(), festival).is_some(),
                    "{} has no {festival}",
                    year.year()
                );
            }
        }
    }

    #[test]
    fn shipped_breaks_have_the_lengths_the_notices_announce() {
        let cal = official();
        let days_off = |year: i16, festival: &str| {
            cal.year(year)
                .unwrap()
                .holidays()
                .filter(|(_, name)| name.contains(festival))
                .count()
        };
        assert_eq!(days_off(2020, "春节"), 10);
        assert_eq!(days_off(2023, "国庆节"), 8);
        assert_eq!(days_off(2024, "春节"), 8);
        assert_eq!(days_off(2025, "春节"), 8);
        assert_eq!(days_off(2025, "劳动节"), 5);
        assert_eq!(days_off(2026, "春节"), 9);
        assert_eq!(days_off(2026, "国庆节"), 7);
    }
}
