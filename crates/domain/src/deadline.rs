//! Reading the 完成时限 column of a 任务分解表 as county offices write it: "6月底前",
//! "国庆节前", "每月25日前报送进展", "长期坚持", "交办后10个工作日内",
//! "9月底前完成，年底前见效"…
//!
//! The text is read by a small grammar, not matched against a list of phrases: the text is
//! normalised, cut into tokens (numbers — Arabic or Chinese — and single characters), and a
//! few composable rules (a date core, an optional range, an optional suffix such as 前/内, a
//! free-text verb after it) build the result. The grammar, its normalisation and the reasons
//! behind each rule are written up in `docs/deadlines.md`.
//!
//! The year of a deadline without one comes from the ledger (台账) the item goes into; an
//! explicit year ("2026年3月底前") wins and carries forward to the later parts of the same
//! text. Festivals are looked up in the official [`WorkCalendar`]. Anything ambiguous ("8月前":
//! the 1st or the 31st?) is refused with a question rather than guessed.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use jiff::civil::Date;

use crate::calendar::WorkCalendar;

// ---------------------------------------------------------------------------------------
// Public types

/// How often a recurring obligation (usually a progress report) falls due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cadence {
    /// Every (working) day: 每天 / 每日 / 每个工作日.
    Daily,
    /// Every week on the given day, 1 = Monday … 7 = Sunday: 每周五 → `Weekly(5)`.
    Weekly(u8),
    /// Every month on the given days, ascending; 31 means "the month's last day" (so it
    /// is the 30th, 29th or 28th in shorter months): 每月10日、25日前 → `Monthly(vec![10, 25])`.
    Monthly(Vec<u8>),
    /// Once every quarter, no day named: 每季度 / 按季度.
    Quarterly,
    /// By the last day of every quarter: 每季度末.
    QuarterlyEnd,
    /// Every half year: 每半年.
    Semiannual,
    /// Every year on the given day: 每年6月30日前 → `Yearly { month: 6, day: 30 }`.
    Yearly { month: u8, day: u8 },
}

impl Cadence {
    /// A stable code for storage and the CLI: `daily`, `weekly:N`, `monthly:D` or
    /// `monthly:D1,D2`, `quarterly`, `quarterly:end`, `semiannual`, `yearly:MM-DD`.
    pub fn code(&self) -> String {
        match self {
            Cadence::Daily => "daily".to_owned(),
            Cadence::Weekly(day) => format!("weekly:{day}"),
            Cadence::Monthly(days) => {
                let days: Vec<String> = days.iter().map(u8::to_string).collect();
                format!("monthly:{}", days.join(","))
            }
            Cadence::Quarterly => "quarterly".to_owned(),
            Cadence::QuarterlyEnd => "quarterly:end".to_owned(),
            Cadence::Semiannual => "semiannual".to_owned(),
            Cadence::Yearly { month, day } => format!("yearly:{month:02}-{day:02}"),
        }
    }
}

/// What a 完成时限 cell means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deadline {
    /// One due date: the work is due on or before it.
    Date(Date),
    /// 节点: several dates, ascending and distinct; the last is the due date.
    Milestones(Vec<Date>),
    /// A recurring obligation, e.g. 每月25日前报送进展.
    Recurring(Cadence),
    /// No end: 长期坚持 / 持续推进 / 常态化推进.
    Ongoing,
    /// N working days from assignment (交办) on the official calendar: 30个工作日内.
    Relative { working_days: u32 },
}

impl Deadline {
    /// The due date: the date itself, or the last milestone; `None` for the other kinds.
    pub fn due(&self) -> Option<Date> {
        match self {
            Deadline::Date(date) => Some(*date),
            Deadline::Milestones(dates) => dates.last().copied(),
            Deadline::Recurring(_) | Deadline::Ongoing | Deadline::Relative { .. } => None,
        }
    }

    /// `date`, `milestones`, `recurring`, `ongoing` or `relative`.
    pub fn kind(&self) -> &'static str {
        match self {
            Deadline::Date(_) => "date",
            Deadline::Milestones(_) => "milestones",
            Deadline::Recurring(_) => "recurring",
            Deadline::Ongoing => "ongoing",
            Deadline::Relative { .. } => "relative",
        }
    }

    /// The JSON line the CLI prints, compact, keys always in this order:
    /// `{"kind":…,"due":"YYYY-MM-DD"|null,"milestones":[…],"cadence":"monthly:25"|null,"working_days":N|null}`.
    pub fn to_json_line(&self) -> String {
        let mut out = String::from("{\"kind\":");
        push_json_string(&mut out, self.kind());
        out.push_str(",\"due\":");
        match self.due() {
            Some(date) => push_json_string(&mut out, &date.to_string()),
            None => out.push_str("null"),
        }
        out.push_str(",\"milestones\":[");
        if let Deadline::Milestones(dates) = self {
            for (index, date) in dates.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                push_json_string(&mut out, &date.to_string());
            }
        }
        out.push_str("],\"cadence\":");
        match self {
            Deadline::Recurring(cadence) => push_json_string(&mut out, &cadence.code()),
            _ => out.push_str("null"),
        }
        out.push_str(",\"working_days\":");
        match self {
            Deadline::Relative { working_days } => {
                let _ = write!(out, "{working_days}");
            }
            _ => out.push_str("null"),
        }
        out.push('}');
        out
    }
}

/// Why a 完成时限 could not be read, in Chinese. When the text is ambiguous the message is a
/// question and suggests unambiguous wordings.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeadlineError {
    pub message: String,
}

impl DeadlineError {
    fn new(message: impl Into<String>) -> DeadlineError {
        DeadlineError {
            message: message.into(),
        }
    }
}

/// Reads a 完成时限 cell. `year` is the ledger's year, used when the text names none;
/// festivals are looked up in `calendar`. See the module documentation and
/// `docs/deadlines.md` for the grammar.
pub fn parse_deadline(
    text: &str,
    year: i16,
    calendar: &WorkCalendar,
) -> Result<Deadline, DeadlineError> {
    let normalised = normalise(text);
    if normalised.is_empty() {
        return Err(DeadlineError::new(format!("完成时限为空：{SUGGESTION}")));
    }
    let parser = Parser {
        toks: tokenize(&normalised),
        calendar,
        ledger_year: year,
        original: text.trim(),
        normalised,
    };
    parser.deadline(year)
}

// ---------------------------------------------------------------------------------------
// Vocabulary

type Res<T> = Result<T, DeadlineError>;

const SUGGESTION: &str =
    "请写成“6月底前”“2025年10月15日前”“每月25日前”“长期坚持”或“30个工作日内”等";

/// Split parts of a text (milestones, or a deadline and a remark).
const SEPARATORS: [char; 3] = [',', ';', '、'];
/// "On or before": the date itself is the due date.
const BEFORE: [&str; 5] = ["之前", "以前", "前", "为止", "止"];
/// "Within" a period: due at its end.
const WITHIN: [&str; 3] = ["以内", "之内", "内"];
/// Words that only give a start ("8月后", "6月1日起"), never a deadline.
const AFTER: [&str; 4] = ["以后", "之后", "后", "起"];
/// A range of dates ("9月至11月"): due at the end of the second.
const RANGE: [&str; 8] = ["起至", "起到", "至", "到", "~", "—", "–", "-"];
/// Words that may precede a deadline at the start of a part; longer words first.
const LEADS: [&str; 33] = [
    "完成时限",
    "完成时间",
    "办结时限",
    "办结时间",
    "时间节点",
    "时限",
    "原则上",
    "不晚于",
    "不迟于",
    "截止到",
    "截至到",
    "截止",
    "截至",
    "最迟",
    "最晚",
    "力争",
    "争取",
    "确保",
    "务必",
    "必须",
    "计划",
    "预计",
    "要求",
    "限期",
    "于",
    "在",
    "到",
    "至",
    "须",
    "需",
    "应",
    "拟",
    "限",
];
/// Words that, inside the free text after a deadline, introduce a further date even when no
/// 前/内 follows it ("坚持到年底", "并于10月底前完成").
const SPLIT_LEADS: [&str; 11] = [
    "不晚于",
    "不迟于",
    "截止到",
    "截至到",
    "截止",
    "截至",
    "最迟",
    "于",
    "在",
    "到",
    "至",
];
/// Ongoing work.
const ONGOING: [&str; 8] = [
    "常抓不懈",
    "久久为功",
    "常态化",
    "经常性",
    "长期",
    "持续",
    "常态",
    "长效",
];
/// Words that promise speed but name no date.
const VAGUE: [&str; 8] = [
    "尽快", "立即", "马上", "即时", "及时", "随时", "抓紧", "近期",
];
/// Festival words and the name the calendar stores (matched by containment there).
const FESTIVALS: [(&str, &str); 12] = [
    ("元旦节", "元旦"),
    ("元旦", "元旦"),
    ("春节", "春节"),
    ("清明节", "清明节"),
    ("清明", "清明节"),
    ("劳动节", "劳动节"),
    ("端午节", "端午节"),
    ("端午", "端午节"),
    ("中秋节", "中秋节"),
    ("中秋", "中秋节"),
    ("国庆节", "国庆节"),
    ("国庆", "国庆节"),
];
/// New Year's name in the calendar.
const NEW_YEAR: &str = "元旦";
/// A year with no leap day, used to check the month and day of a yearly cadence.
const COMMON_YEAR: i16 = 2023;

// ---------------------------------------------------------------------------------------
// Normalisation and tokens

/// Full-width ASCII → ASCII, ideographic space and all whitespace removed, wave and dash
/// variants unified, trailing punctuation (。 . , ; 、 ! ?) dropped.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{301C}' => '~',
            '\u{2015}' | '\u{2500}' => '—',
            _ => c,
        };
        if !c.is_whitespace() {
            out.push(c);
        }
    }
    let kept = out
        .trim_end_matches(['。', '.', ',', ';', '、', '!', '?'])
        .len();
    out.truncate(kept);
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct NumTok {
    value: u32,
    /// Number of digit characters for a digit sequence (`2025`, `二〇二五`); 0 for a
    /// positional Chinese numeral (`二十五`).
    width: usize,
    chinese: bool,
    raw: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Num(NumTok),
    Ch(char),
}

fn chinese_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '零' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

fn is_chinese_numeral(c: char) -> bool {
    chinese_digit(c).is_some() || matches!(c, '十' | '百' | '廿')
}

/// Value and width of a Chinese numeral: positional when it has 十/百/廿 (`二十五` = 25,
/// `廿五` = 25, `一百零五` = 105), else digit by digit (`二〇二五` = 2025, `五一` = 51).
fn chinese_value(chars: &[char]) -> (u32, usize) {
    if chars.iter().any(|c| matches!(c, '十' | '百' | '廿')) {
        let mut total: u32 = 0;
        let mut current: Option<u32> = None;
        for &c in chars {
            match c {
                '十' => {
                    total = total.saturating_add(current.unwrap_or(1).saturating_mul(10));
                    current = None;
                }
                '百' => {
                    total = total.saturating_add(current.unwrap_or(1).saturating_mul(100));
                    current = None;
                }
                '廿' => {
                    total = total.saturating_add(20);
                    current = None;
                }
                _ => {
                    let digit = chinese_digit(c).unwrap_or(0);
                    current = Some(
                        current
                            .unwrap_or(0)
                            .saturating_mul(10)
                            .saturating_add(digit),
                    );
                }
            }
        }
        (total.saturating_add(current.unwrap_or(0)), 0)
    } else {
        let value = chars.iter().fold(0u32, |acc, &c| {
            acc.saturating_mul(10)
                .saturating_add(chinese_digit(c).unwrap_or(0))
        });
        (value, chars.len())
    }
}

fn tokenize(text: &str) -> Vec<Tok> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || is_chinese_numeral(c) {
            let ascii = c.is_ascii_digit();
            let start = i;
            while i < chars.len()
                && (if ascii {
                    chars[i].is_ascii_digit()
                } else {
                    is_chinese_numeral(chars[i])
                })
            {
                i += 1;
            }
            let run = &chars[start..i];
            let raw: String = run.iter().collect();
            let (value, width) = if ascii {
                (raw.parse::<u32>().unwrap_or(u32::MAX), run.len())
            } else {
                chinese_value(run)
            };
            toks.push(Tok::Num(NumTok {
                value,
                width,
                chinese: !ascii,
                raw,
            }));
        } else {
            toks.push(Tok::Ch(c));
            i += 1;
        }
    }
    toks
}

// ---------------------------------------------------------------------------------------
// Grammar

/// One recognised piece of a text.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Clause {
    Dated(Date),
    Cadence(Cadence),
    Ongoing,
    Relative(u32),
}

/// Whether a date core was a whole period written without 底/末, which makes a following 前
/// ambiguous ("8月前", "2025年前").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bare {
    No,
    Month(i16, i8),
    Year(i16),
}

/// A date core: the date it denotes and where it ends.
#[derive(Clone, Copy, Debug)]
struct Core {
    date: Date,
    end: usize,
    bare: Bare,
    /// The year the text named explicitly, carried forward to later parts.
    year: Option<i16>,
    /// The core already consumed its 前 (festivals).
    closed: bool,
}

impl Core {
    fn new(date: Date, end: usize) -> Core {
        Core {
            date,
            end,
            bare: Bare::No,
            year: None,
            closed: false,
        }
    }
}

/// A date expression with its suffix.
#[derive(Clone, Copy, Debug)]
struct Dated {
    date: Date,
    end: usize,
    /// Followed by 前/内 (or a festival's 前).
    suffixed: bool,
    year: Option<i16>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Suffix {
    Before,
    Within,
}

/// The day part of `N月…`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DaySpec {
    Day(u32),
    /// 上旬 / 中旬: the 10th / the 20th.
    Xun(u32),
    /// 底 / 末 / 下旬 / 份底.
    End,
    /// `N月` or `N月份` alone.
    Bare,
}

struct Parser<'a> {
    toks: Vec<Tok>,
    calendar: &'a WorkCalendar,
    /// 今年/明年 count from the ledger's year, not from a year named earlier in the text.
    ledger_year: i16,
    original: &'a str,
    normalised: String,
}

impl Parser<'_> {
    // -- token helpers --------------------------------------------------------------------

    fn lit(&self, i: usize, word: &str) -> Option<usize> {
        // Most attempts fail on the first character: compare its bytes before decoding the
        // word (the parser tries many words at every position).
        let Some(Tok::Ch(first)) = self.toks.get(i) else {
            return None;
        };
        let mut buf = [0u8; 4];
        if !word
            .as_bytes()
            .starts_with(first.encode_utf8(&mut buf).as_bytes())
        {
            return None;
        }
        let mut j = i;
        for c in word.chars() {
            match self.toks.get(j) {
                Some(Tok::Ch(t)) if *t == c => j += 1,
                _ => return None,
            }
        }
        Some(j)
    }

    fn lit_any<'w>(&self, i: usize, words: &[&'w str]) -> Option<(usize, &'w str)> {
        let Some(Tok::Ch(first)) = self.toks.get(i) else {
            return None;
        };
        let mut buf = [0u8; 4];
        let first = first.encode_utf8(&mut buf).as_bytes();
        words
            .iter()
            .filter(|word| word.as_bytes().starts_with(first))
            .find_map(|word| self.lit(i, word).map(|j| (j, *word)))
    }

    fn num(&self, i: usize) -> Option<&NumTok> {
        match self.toks.get(i) {
            Some(Tok::Num(n)) => Some(n),
            _ => None,
        }
    }

    /// An Arabic number of at most `max_width` digits.
    fn ascii_num(&self, i: usize, max_width: usize) -> Option<u32> {
        self.num(i)
            .filter(|n| !n.chinese && n.width <= max_width)
            .map(|n| n.value)
    }

    fn ch(&self, i: usize) -> Option<char> {
        match self.toks.get(i) {
            Some(Tok::Ch(c)) => Some(*c),
            _ => None,
        }
    }

    fn is_sep(&self, i: usize) -> bool {
        self.ch(i).is_some_and(|c| SEPARATORS.contains(&c))
    }

    fn text(&self, from: usize, to: usize) -> String {
        let mut out = String::new();
        for tok in self
            .toks
            .get(from..to.min(self.toks.len()))
            .unwrap_or_default()
        {
            match tok {
                Tok::Num(n) => out.push_str(&n.raw),
                Tok::Ch(c) => out.push(*c),
            }
        }
        out
    }

    fn unknown(&self, part: Option<String>) -> DeadlineError {
        match part {
            Some(part) if part != self.normalised => DeadlineError::new(format!(
                "无法识别完成时限“{}”中的“{part}”：{SUGGESTION}",
                self.original
            )),
            _ => DeadlineError::new(format!("无法识别完成时限“{}”：{SUGGESTION}", self.original)),
        }
    }

    // -- deadline = part { separator part } ------------------------------------------------

    fn deadline(&self, ledger_year: i16) -> Res<Deadline> {
        let mut clauses = Vec::new();
        let mut year = ledger_year;
        let mut i = 0;
        while i < self.toks.len() {
            if self.is_sep(i) {
                i += 1;
                continue;
            }
            i = self.part(i, &mut year, &mut clauses)?;
        }
        if clauses.is_empty() {
            return Err(self.unknown(None));
        }
        self.resolve(clauses)
    }

    /// part = { lead } [ clause ] trail. The trail is free text (a verb, a remark) in which a
    /// further date is recognised when it is followed by 前/内 or introduced by 于/在/到/至.
    /// Returns where the part ends (a separator or the end of the text).
    fn part(&self, start: usize, year: &mut i16, out: &mut Vec<Clause>) -> Res<usize> {
        let found_before = out.len();
        let mut pos = start;
        let i = self.leads(start);
        let mut cadence_end = None;
        if let Some((clause, end, explicit)) = self.clause(i, *year)? {
            if matches!(clause, Clause::Cadence(_)) {
                cadence_end = Some(end);
            }
            out.push(clause);
            if let Some(y) = explicit {
                *year = y;
            }
            pos = end;
        }
        while pos < self.toks.len() && !self.is_sep(pos) {
            let (j, led) = match self.lit_any(pos, &SPLIT_LEADS) {
                Some((j, _)) => (j, true),
                None => (pos, false),
            };
            // A failed attempt inside free text is only an error when it starts with a
            // number ("…8月前…"); words such as 年前 in 往年前期 are just text.
            let attempt = match self.dated(j, *year) {
                Err(_) if self.num(j).is_none() => None,
                other => other?,
            };
            if let Some(dated) = attempt
                && (led || dated.suffixed)
            {
                out.push(Clause::Dated(dated.date));
                if let Some(y) = dated.year {
                    *year = y;
                }
                pos = dated.end;
                continue;
            }
            pos += 1;
        }
        if out.len() == found_before && self.datey(start, pos) {
            return Err(self.unknown(Some(self.text(start, pos))));
        }
        // A cadence followed by a day or month it could not hold ("每季度首月10日前",
        // "每年一季度"): dropping it would silently move the report date.
        if let Some(end) = cadence_end
            && out.len() == found_before + 1
            && self.cadence_leftover(end, pos)
        {
            return Err(DeadlineError::new(format!(
                "“{}”中的报送日无法读取：报送周期只能写成“每月25日前”“每周五”“每季度末”“每年6月30日前”等",
                self.text(start, pos)
            )));
        }
        Ok(pos)
    }

    /// Whether the free text after a cadence names a day, month or quarter.
    fn cadence_leftover(&self, from: usize, to: usize) -> bool {
        (from..to).any(|k| {
            self.num(k).is_some()
                && self
                    .lit_any(k + 1, &["月", "日", "号", "季", "天", "工作日", "个工作日"])
                    .is_some()
        })
    }

    /// Skips the words that may introduce a deadline ("力争", "完成时限：").
    fn leads(&self, mut i: usize) -> usize {
        loop {
            if let Some((j, _)) = self.lit_any(i, &LEADS) {
                i = j;
            } else if let Some(j) = self.lit(i, ":") {
                i = j;
            } else {
                return i;
            }
        }
    }

    /// Whether free text contains something that looks like a date we failed to read.
    fn datey(&self, from: usize, to: usize) -> bool {
        (from..to).any(|k| {
            self.num(k).is_some_and(|n| {
                self.lit_any(k + 1, &["月", "日", "号", "天", "工作日", "个工作日"])
                    .is_some()
                    || (n.width == 4 && self.lit_any(k + 1, &["年", ".", "/", "-"]).is_some())
            })
        })
    }

    /// clause = relative | recurring | ongoing | dated (and refusals of vague words).
    fn clause(&self, i: usize, year: i16) -> Res<Option<(Clause, usize, Option<i16>)>> {
        if let Some((_, word)) = self.lit_any(i, &VAGUE) {
            return Err(DeadlineError::new(format!(
                "“{word}”没有明确的完成时限：请写成具体日期（如“6月底前”）或“N个工作日内”"
            )));
        }
        if let Some((days, end)) = self.relative(i, year)? {
            return Ok(Some((Clause::Relative(days), end, None)));
        }
        if let Some((cadence, end)) = self.recurring(i)? {
            return Ok(Some((Clause::Cadence(cadence), end, None)));
        }
        if let Some((end, _)) = self.lit_any(i, &ONGOING) {
            return Ok(Some((Clause::Ongoing, end, None)));
        }
        Ok(self
            .dated(i, year)?
            .map(|d| (Clause::Dated(d.date), d.end, d.year)))
    }

    /// Combines the clauses of a text: dates win (milestones when several), then a relative
    /// limit, then a reporting cadence, then "ongoing".
    fn resolve(&self, clauses: Vec<Clause>) -> Res<Deadline> {
        let mut dates = BTreeSet::new();
        let mut relative = BTreeSet::new();
        let mut cadence: Option<Cadence> = None;
        for clause in clauses {
            match clause {
                Clause::Dated(date) => {
                    dates.insert(date);
                }
                Clause::Relative(days) => {
                    relative.insert(days);
                }
                Clause::Cadence(next) => {
                    cadence = Some(match cadence {
                        None => next,
                        Some(current) => self.merge_cadences(current, next)?,
                    });
                }
                Clause::Ongoing => {}
            }
        }
        if let Some(&days) = relative.iter().next() {
            if !dates.is_empty() {
                return Err(DeadlineError::new(format!(
                    "完成时限“{}”既有具体日期又有“{days}个工作日内”，以哪一个为准？请只保留一种写法",
                    self.original
                )));
            }
            if relative.len() > 1 {
                let all: Vec<String> = relative.iter().map(u32::to_string).collect();
                return Err(DeadlineError::new(format!(
                    "完成时限“{}”有多个工作日时限（{}个工作日），以哪一个为准？请只保留一个",
                    self.original,
                    all.join("个、")
                )));
            }
            return Ok(Deadline::Relative { working_days: days });
        }
        let mut dates: Vec<Date> = dates.into_iter().collect();
        if dates.len() == 1 {
            return Ok(Deadline::Date(dates.remove(0)));
        }
        if !dates.is_empty() {
            return Ok(Deadline::Milestones(dates));
        }
        Ok(match cadence {
            Some(cadence) => Deadline::Recurring(cadence),
            None => Deadline::Ongoing,
        })
    }

    fn merge_cadences(&self, a: Cadence, b: Cadence) -> Res<Cadence> {
        match (a, b) {
            (Cadence::Monthly(mut x), Cadence::Monthly(y)) => {
                x.extend(y);
                x.sort_unstable();
                x.dedup();
                Ok(Cadence::Monthly(x))
            }
            (a, b) if a == b => Ok(a),
            (a, b) => Err(DeadlineError::new(format!(
                "完成时限“{}”有两种报送周期（{}、{}），以哪一个为准？请只保留一个报送周期",
                self.original,
                a.code(),
                b.code()
            ))),
        }
    }

    // -- relative = [ event ("后"|"起") ] NUM ["个"] "工作日" [within] -----------------------

    fn relative(&self, i: usize, year: i16) -> Res<Option<(u32, usize)>> {
        if let Some((j, _)) = self.lit_any(i, &["半个月", "半月", "半年", "半个星期"])
            && let Some((k, _)) = self.lit_any(j, &WITHIN)
        {
            return Err(period_error(&self.text(i, k)));
        }
        // The event the count starts from ("收到后", "自交办之日起"): free words up to 后/起.
        let mut j = i;
        while let Some(c) = self.ch(j) {
            if SEPARATORS.contains(&c) || j - i >= 16 {
                return Ok(None);
            }
            j += 1;
        }
        let Some(n) = self.num(j) else {
            return Ok(None);
        };
        let led = j > i;
        if led && !matches!(self.ch(j - 1), Some('后' | '起')) {
            return Ok(None);
        }
        // "最后一个工作日" is a position, not an event the count starts from.
        if led && j >= i + 2 && self.ch(j - 2) == Some('最') {
            return Ok(None);
        }
        // The count starts at assignment; "春节后10个工作日内" counts from something else.
        if led && !matches!(self.core(i, year), Ok(None)) {
            return Err(DeadlineError::new(format!(
                "“{}”：工作日时限从交办之日起算，不能从其他日期或节日起算；请写成具体日期",
                self.text(i, j + 1)
            )));
        }
        let mut k = j + 1;
        let counted = match self.lit(k, "个") {
            Some(after) => {
                k = after;
                true
            }
            None => false,
        };
        if let Some(end) = self.lit(k, "工作日") {
            if n.value == 0 {
                return Err(DeadlineError::new(format!(
                    "“{}”：工作日数必须大于0",
                    self.text(i, end)
                )));
            }
            let end = self.lit_any(end, &WITHIN).map_or(end, |(e, _)| e);
            return Ok(Some((n.value, end)));
        }
        if let Some((end, _)) = self.lit_any(k, &["自然日", "日历日"]) {
            let end = self.lit_any(end, &WITHIN).map_or(end, |(e, _)| e);
            return Err(DeadlineError::new(format!(
                "“{}”：督办时限按工作日计算，请换算成“N个工作日内”或写成具体日期",
                self.text(i, end)
            )));
        }
        let within_after = |end: usize| self.lit_any(end, &WITHIN).map(|(e, _)| e);
        if let Some((end, _)) = self.lit_any(k, &["天", "日"]) {
            let within = within_after(end);
            if led || counted || within.is_some() {
                let end = within.unwrap_or(end);
                return Err(DeadlineError::new(format!(
                    "“{text}”含义不明：是{n}个自然日还是{n}个工作日？督办时限按工作日计算，请写成“{n}个工作日内”或具体日期",
                    text = self.text(i, end),
                    n = n.value
                )));
            }
            return Ok(None);
        }
        let week = self.lit_any(k, &["周", "星期", "礼拜"]).map(|(e, _)| e);
        let month = if counted { self.lit(k, "月") } else { None };
        let years = if n.width != 4 {
            self.lit(k, "年")
        } else {
            None
        };
        for end in [week, month, years].into_iter().flatten() {
            if let Some(e) = within_after(end) {
                return Err(period_error(&self.text(i, e)));
            }
            if led || week.is_some() {
                return Err(period_error(&self.text(i, end)));
            }
        }
        Ok(None)
    }

    // -- recurring = ("每"|"每个"|"按"|"逐") unit … -------------------------------------------

    fn recurring(&self, i: usize) -> Res<Option<(Cadence, usize)>> {
        let Some((j, prefix)) = self.lit_any(i, &["每个", "每", "按", "逐"]) else {
            return Ok(None);
        };
        // "按年度计划" is a remark, not a cadence.
        if prefix.starts_with(['按', '逐']) && self.lit(j, "年度").is_some() {
            return Ok(None);
        }
        let (cadence, k) =
            if let Some((k, _)) = self.lit_any(j, &["个工作日", "工作日", "天", "日"]) {
                (Cadence::Daily, self.once(i, k)?)
            } else if let Some((k, _)) = self.lit_any(j, &["周", "星期", "礼拜"]) {
                self.weekly(i, self.once(i, k)?)?
            } else if let Some((k, _)) = self.lit_any(j, &["月度", "月份", "月"]) {
                self.monthly(i, self.once(i, k)?)?
            } else if let Some(k) = self.lit(j, "旬") {
                // Every ten days: by the 10th, the 20th and the month's last day.
                let k = self.once(i, k)?;
                let k = self.lit_any(k, &["末", "底"]).map_or(k, |(e, _)| e);
                (Cadence::Monthly(vec![10, 20, 31]), k)
            } else if let Some((k, _)) = self.lit_any(j, &["季度", "季"]) {
                let k = self.once(i, k)?;
                match self.lit_any(k, &["末", "底"]) {
                    Some((e, _)) => (Cadence::QuarterlyEnd, e),
                    None => (Cadence::Quarterly, k),
                }
            } else if let Some((k, _)) = self.lit_any(j, &["半年度", "半年"]) {
                (Cadence::Semiannual, self.once(i, k)?)
            } else if let Some((k, _)) = self.lit_any(j, &["年度", "年"]) {
                self.yearly(i, self.once(i, k)?)?
            } else {
                return Ok(None);
            };
        let (end, _) = self.suffix(i, k)?;
        Ok(Some((cadence, end)))
    }

    /// "一次" after a unit ("每月一次") adds nothing; "2次" names a frequency without the
    /// days, which a cadence cannot hold, so it is refused.
    fn once(&self, i: usize, k: usize) -> Res<usize> {
        let Some(n) = self.num(k) else {
            return Ok(k);
        };
        let Some(end) = self.lit(k + 1, "次") else {
            return Ok(k);
        };
        if n.value == 1 {
            return Ok(end);
        }
        Err(DeadlineError::new(format!(
            "“{}”没有说明在哪几天报送：请写成“每月10日、25日前”“每周五”等",
            self.text(i, end)
        )))
    }

    fn weekday(&self, k: usize) -> Res<Option<(u8, usize)>> {
        if let Some(n) = self.num(k) {
            return match u8::try_from(n.value) {
                Ok(day @ 1..=7) => Ok(Some((day, k + 1))),
                _ => Err(DeadlineError::new(format!(
                    "“周{}”不存在：星期应为一至日",
                    n.raw
                ))),
            };
        }
        Ok(self.lit_any(k, &["日", "天"]).map(|(e, _)| (7, e)))
    }

    fn weekly(&self, i: usize, k: usize) -> Res<(Cadence, usize)> {
        if let Some(end) = self.lit(k, "末") {
            return Err(DeadlineError::new(format!(
                "“{}”含义不明：是每周五还是每周日？请写成“每周五”或“每周日”",
                self.text(i, end)
            )));
        }
        let Some((day, end)) = self.weekday(k)? else {
            // No day named: by the end of the working week.
            return Ok((Cadence::Weekly(5), k));
        };
        if self.is_sep(end) {
            let next = self
                .lit_any(end + 1, &["周", "星期", "礼拜"])
                .map_or(end + 1, |(e, _)| e);
            if let Some((_, after)) = self.weekday(next)? {
                return Err(DeadlineError::new(format!(
                    "“{}”：每周只能设一个报送日，请只保留一个（如“每周五”）",
                    self.text(i, after)
                )));
            }
        }
        Ok((Cadence::Weekly(day), end))
    }

    fn monthly(&self, i: usize, k: usize) -> Res<(Cadence, usize)> {
        if let Some((days, end)) = self.day_list(k)? {
            return Ok((Cadence::Monthly(days), end));
        }
        if let Some((end, word)) = self.lit_any(k, &["上旬", "中旬", "下旬", "底", "末"]) {
            let day = match word {
                "上旬" => 10,
                "中旬" => 20,
                _ => 31,
            };
            return Ok((Cadence::Monthly(vec![day]), end));
        }
        // 最后一天 is the month's last day; 最后一个工作日 moves with weekends and holidays,
        // which a cadence of calendar days cannot hold.
        if let Some(k1) = self.lit(k, "最后")
            && self.num(k1).is_some_and(|n| n.value == 1)
        {
            if let Some((end, _)) = self.lit_any(k1 + 1, &["天", "日"]) {
                return Ok((Cadence::Monthly(vec![31]), end));
            }
            if let Some((end, _)) = self.lit_any(k1 + 1, &["个工作日", "工作日"]) {
                return Err(DeadlineError::new(format!(
                    "“{}”：报送日按日历日期设置，无法随节假日移动；请写成“每月底前”或具体日期（如“每月28日前”）",
                    self.text(i, end)
                )));
            }
        }
        if let Some(end) = self.lit(k, "初") {
            return Err(DeadlineError::new(format!(
                "“{}”含义不明：是每月1日还是每月上旬（10日）？请写成“每月5日前”或“每月上旬”",
                self.text(i, end)
            )));
        }
        Ok((Cadence::Monthly(vec![31]), k))
    }

    /// day_list = day { separator day } ; day = NUM ["日"|"号"] [前]. A later day must be
    /// written with 日/号 (or be followed by another separator), so "每月10日前，20个工作日内"
    /// does not swallow the 20.
    fn day_list(&self, k: usize) -> Res<Option<(Vec<u8>, usize)>> {
        let Some(first) = self.num(k) else {
            return Ok(None);
        };
        let after_first = k + 1;
        let marked = self.lit_any(after_first, &["日", "号"]).is_some();
        let listed = self.is_sep(after_first) && self.num(after_first + 1).is_some();
        let before = self.lit_any(after_first, &BEFORE).is_some();
        if !(marked || listed || before || after_first == self.toks.len()) {
            return Ok(None);
        }
        let mut days = vec![month_day(first)?];
        let mut end = self
            .lit_any(after_first, &["日", "号"])
            .map_or(after_first, |(e, _)| e);
        loop {
            let after_suffix = self
                .lit_any(end, &["之前", "以前", "前"])
                .map_or(end, |(e, _)| e);
            if !self.is_sep(after_suffix) {
                break;
            }
            let Some(next) = self.num(after_suffix + 1) else {
                break;
            };
            let follow = after_suffix + 2;
            let marked = self.lit_any(follow, &["日", "号"]);
            if marked.is_none() && !self.is_sep(follow) {
                break;
            }
            days.push(month_day(next)?);
            end = marked.map_or(follow, |(e, _)| e);
        }
        days.sort_unstable();
        days.dedup();
        Ok(Some((days, end)))
    }

    fn yearly(&self, i: usize, k: usize) -> Res<(Cadence, usize)> {
        if let Some((end, _)) = self.lit_any(k, &["年底", "年末", "底", "末", "终"]) {
            return Ok((Cadence::Yearly { month: 12, day: 31 }, end));
        }
        let Some((month, spec, end)) = self.month_spec(k)? else {
            return Ok((Cadence::Yearly { month: 12, day: 31 }, k));
        };
        let day = match spec {
            DaySpec::Day(day) => {
                if month == 2 && day == 29 {
                    return Err(DeadlineError::new(format!(
                        "“{}”并非每年都有：请写成“每年2月底前”",
                        self.text(i, end)
                    )));
                }
                ymd(COMMON_YEAR, i64::from(month), day)
                    .map_err(|_| invalid_day(month, day, None))?
                    .day()
            }
            DaySpec::Xun(day) => i8::try_from(day).unwrap_or(31),
            DaySpec::End => month_end(COMMON_YEAR, month)?.day(),
            DaySpec::Bare => {
                if let Some((after, _)) = self.lit_any(end, &["之前", "以前", "前"]) {
                    return Err(DeadlineError::new(format!(
                        "“{}”含义不明：是每年{month}月1日前还是{month}月底前？请写成“每年{month}月底前”或具体日期",
                        self.text(i, after)
                    )));
                }
                month_end(COMMON_YEAR, month)?.day()
            }
        };
        let month = u8::try_from(month).unwrap_or(12);
        let day = u8::try_from(day).unwrap_or(31);
        Ok((Cadence::Yearly { month, day }, end))
    }

    // -- dated = core [ range core ] [ suffix ] ---------------------------------------------

    fn dated(&self, i: usize, year: i16) -> Res<Option<Dated>> {
        let first = match self.core(i, year)? {
            Some(core) => core,
            None => match self.range_start_year(i)? {
                Some(core) => core,
                None => return Ok(None),
            },
        };
        let mut last = first;
        let mut explicit = first.year;
        if !first.closed
            && let Some((j, _)) = self.lit_any(first.end, &RANGE)
            && let Some(second) = self.core(j, first.year.unwrap_or(year))?
        {
            if second.date < first.date {
                return Err(DeadlineError::new(format!(
                    "“{}”起止颠倒：结束日期早于开始日期",
                    self.text(i, second.end)
                )));
            }
            explicit = second.year.or(first.year);
            last = second;
        }
        if last.closed {
            return Ok(Some(Dated {
                date: last.date,
                end: last.end,
                suffixed: true,
                year: explicit,
            }));
        }
        let (end, suffix) = self.suffix(i, last.end)?;
        if suffix == Some(Suffix::Before) {
            match last.bare {
                Bare::Month(y, m) => return Err(ambiguous_month(&self.text(i, end), y, m)),
                Bare::Year(y) => return Err(ambiguous_year(&self.text(i, end), y)),
                Bare::No => {}
            }
        }
        Ok(Some(Dated {
            date: last.date,
            end,
            suffixed: suffix.is_some(),
            year: explicit,
        }))
    }

    /// A bare year that starts a range of years (`2024-2026年`, `2024—2026年`): only the
    /// second year carries 年, so the first is read as that year's January 1st.
    fn range_start_year(&self, i: usize) -> Res<Option<Core>> {
        let Some(n) = self.num(i).filter(|n| n.width == 4) else {
            return Ok(None);
        };
        let Some((j, _)) = self.lit_any(i + 1, &RANGE) else {
            return Ok(None);
        };
        if self.num(j).is_none_or(|m| m.width != 4) || self.lit(j + 1, "年").is_none() {
            return Ok(None);
        }
        let y = year_value(n.value)?;
        let date = Date::new(y, 1, 1)
            .map_err(|_| DeadlineError::new(format!("年份{y}超出可处理的范围")))?;
        Ok(Some(Core {
            year: Some(y),
            ..Core::new(date, i + 1)
        }))
    }

    /// suffix = before | within ; refuses 前后 and start-only words (后/以后/起).
    fn suffix(&self, from: usize, i: usize) -> Res<(usize, Option<Suffix>)> {
        if let Some((j, word)) = self.lit_any(i, &BEFORE) {
            if word.ends_with('前')
                && let Some(after) = self.lit(j, "后")
            {
                return Err(DeadlineError::new(format!(
                    "“{}”不是明确的时限：请写成“{}”或其他具体日期",
                    self.text(from, after),
                    self.text(from, j)
                )));
            }
            return Ok((j, Some(Suffix::Before)));
        }
        if let Some((j, _)) = self.lit_any(i, &WITHIN) {
            return Ok((j, Some(Suffix::Within)));
        }
        if let Some((j, _)) = self.lit_any(i, &AFTER) {
            return Err(start_only(&self.text(from, j)));
        }
        Ok((i, None))
    }

    /// core = numeric_date | year_ref [ after_year ] | after_year.
    fn core(&self, i: usize, year: i16) -> Res<Option<Core>> {
        // A core starts with a number or one of these characters; the free text after a
        // deadline is scanned for further dates at every position, so reject the rest early.
        if let Some(c) = self.ch(i)
            && !matches!(
                c,
                '今' | '本'
                    | '当'
                    | '明'
                    | '次'
                    | '下'
                    | '来'
                    | '上'
                    | '全'
                    | '元'
                    | '春'
                    | '清'
                    | '劳'
                    | '端'
                    | '中'
                    | '国'
                    | '第'
                    | 'Q'
                    | 'q'
                    | '年'
                    | '季'
                    | '节'
                    | '月'
            )
        {
            return Ok(None);
        }
        if let Some(core) = self.numeric_date(i)? {
            return Ok(Some(core));
        }
        if let Some((y, j)) = self.year_ref(i)? {
            if let Some(mut core) = self.after_year(j, y, true)? {
                core.year = Some(y);
                return Ok(Some(core));
            }
            return Ok(Some(Core {
                date: month_end(y, 12)?,
                end: j,
                bare: Bare::Year(y),
                year: Some(y),
                closed: false,
            }));
        }
        self.after_year(i, year, false)
    }

    /// numeric_date = YYYY sep M sep D | YYYY sep M | YYYYMMDD ; sep = "." | "/" | "-".
    fn numeric_date(&self, i: usize) -> Res<Option<Core>> {
        let Some(n) = self.num(i).filter(|n| !n.chinese) else {
            return Ok(None);
        };
        if n.width == 8 {
            let y = year_value(n.value / 10_000)?;
            let date = ymd(y, i64::from(n.value / 100 % 100), n.value % 100)?;
            return Ok(Some(Core {
                year: Some(y),
                ..Core::new(date, self.day_mark(i + 1))
            }));
        }
        if n.width != 4 {
            return Ok(None);
        }
        let Some(sep @ ('.' | '/' | '-')) = self.ch(i + 1) else {
            return Ok(None);
        };
        let Some(month) = self.ascii_num(i + 2, 2) else {
            return Ok(None);
        };
        let y = year_value(n.value)?;
        if self.ch(i + 3) == Some(sep)
            && let Some(day) = self.ascii_num(i + 4, 2)
        {
            let date = ymd(y, i64::from(month), day)?;
            return Ok(Some(Core {
                year: Some(y),
                ..Core::new(date, self.day_mark(i + 5))
            }));
        }
        let m = check_month(month)?;
        Ok(Some(Core {
            date: month_end(y, m)?,
            end: i + 3,
            bare: Bare::Month(y, m),
            year: Some(y),
            closed: false,
        }))
    }

    /// Skips an optional 日/号.
    fn day_mark(&self, i: usize) -> usize {
        self.lit_any(i, &["日", "号"]).map_or(i, |(j, _)| j)
    }

    /// year_ref = YYYY "年" | ("今"|"本"|"当") "年" | ("明"|"次"|"下"|"来") "年".
    fn year_ref(&self, i: usize) -> Res<Option<(i16, usize)>> {
        if let Some(n) = self.num(i)
            && n.width == 4
            && let Some(j) = self.lit(i + 1, "年")
        {
            return Ok(Some((year_value(n.value)?, j)));
        }
        // 今年 is the ledger's year even after "2026年…" earlier in the text, and 明年 the
        // one after it: 明年…启动，明年…完成 are two dates of the same year.
        if let Some((j, _)) = self.lit_any(i, &["今年", "本年", "当年"]) {
            return Ok(Some((self.ledger_year, j)));
        }
        if let Some((j, _)) = self.lit_any(i, &["明年", "次年", "下年", "来年"]) {
            let year = self.ledger_year;
            let next = year
                .checked_add(1)
                .ok_or_else(|| DeadlineError::new(format!("年份{year}超出可处理的范围")))?;
            return Ok(Some((next, j)));
        }
        Ok(None)
    }

    /// after_year = month_part | quarter | half | ["年"] year_tail | festival.
    fn after_year(&self, i: usize, y: i16, prefixed: bool) -> Res<Option<Core>> {
        if let Some(core) = self.month_part(i, y)? {
            return Ok(Some(core));
        }
        if let Some(core) = self.quarter(i, y)? {
            return Ok(Some(core));
        }
        if let Some((j, word)) = self.lit_any(i, &["上半年", "下半年", "全年"]) {
            let month = if word == "上半年" { 6 } else { 12 };
            return Ok(Some(Core::new(month_end(y, month)?, j)));
        }
        if let Some(core) = self.festival(i, y, prefixed)? {
            return Ok(Some(core));
        }
        if prefixed && let Some((month, j)) = self.year_tail(i) {
            return Ok(Some(Core::new(month_end(y, month)?, j)));
        }
        if let Some(j) = self.lit(i, "年") {
            if let Some((month, k)) = self.year_tail(j) {
                return Ok(Some(Core::new(month_end(y, month)?, k)));
            }
            if !prefixed {
                if let Some(k) = self.lit(j, "前") {
                    return Err(DeadlineError::new(format!(
                        "“{}”含义不明：是春节前还是年底前？请写成“春节前”或“年底前”",
                        self.text(i, k)
                    )));
                }
                if let Some((k, _)) = self.lit_any(j, &AFTER) {
                    return Err(start_only(&self.text(i, k)));
                }
            }
        }
        if let Some((j, _)) = self.lit_any(
            i,
            &[
                "本月", "当月", "上月", "下月", "次月", "月底", "月末", "月内",
            ],
        ) {
            let j = self.lit_any(j, &["底", "末"]).map_or(j, |(e, _)| e);
            let j = self.suffix(i, j).map_or(j, |(e, _)| e);
            return Err(DeadlineError::new(format!(
                "“{}”没有说明是哪个月：请写成“11月底前”等具体月份；如需每月报送，请写成“每月底前”",
                self.text(i, j)
            )));
        }
        if let Some((j, _)) = self.lit_any(i, &["季度末", "季度底", "季末"]) {
            return Err(DeadlineError::new(format!(
                "“{}”没有说明是哪个季度：请写成“一季度末”等；如需每季度报送，请写成“每季度末”",
                self.text(i, j)
            )));
        }
        if let Some(j) = self.lit(i, "节前") {
            return Err(DeadlineError::new(format!(
                "“{}”没有说明是哪个节日：请写成“春节前”“国庆节前”等",
                self.text(i, j)
            )));
        }
        Ok(None)
    }

    /// year_tail = "度" ["底"|"末"|"终"|"内"] | "底" | "末" | "终" | "内" | "中" (→ month).
    fn year_tail(&self, i: usize) -> Option<(i8, usize)> {
        if let Some(j) = self.lit(i, "度") {
            let k = self
                .lit_any(j, &["底", "末", "终", "内"])
                .map_or(j, |(k, _)| k);
            return Some((12, k));
        }
        if let Some((j, _)) = self.lit_any(i, &["底", "末", "终", "内"]) {
            return Some((12, j));
        }
        self.lit(i, "中").map(|j| (6, j))
    }

    /// month_spec = NUM "月" ( NUM ["日"|"号"] | "上旬" | "中旬" | "下旬" | "底" | "末"
    ///              | "份" ["底"|"末"] | ε ).
    fn month_spec(&self, i: usize) -> Res<Option<(i8, DaySpec, usize)>> {
        let Some(n) = self.num(i) else {
            return Ok(None);
        };
        let Some(j) = self.lit(i + 1, "月") else {
            return Ok(None);
        };
        let month = check_month(n.value)?;
        if let Some(day) = self.num(j) {
            return Ok(Some((month, DaySpec::Day(day.value), self.day_mark(j + 1))));
        }
        if let Some((k, word)) =
            self.lit_any(j, &["上中旬", "中下旬", "上旬", "中旬", "下旬", "底", "末"])
        {
            let spec = match word {
                "上旬" => DaySpec::Xun(10),
                "中旬" | "上中旬" => DaySpec::Xun(20),
                _ => DaySpec::End,
            };
            return Ok(Some((month, spec, k)));
        }
        if let Some(k) = self.lit(j, "份") {
            return Ok(Some(match self.lit_any(k, &["底", "末"]) {
                Some((e, _)) => (month, DaySpec::End, e),
                None => (month, DaySpec::Bare, k),
            }));
        }
        if let Some(k) = self.lit(j, "初") {
            return Err(DeadlineError::new(format!(
                "“{text}”含义不明：是{month}月1日还是{month}月上旬（{month}月10日）？请写成具体日期或“{month}月上旬”",
                text = self.text(i, k)
            )));
        }
        if let Some(k) = self.lit(j, "中") {
            return Err(DeadlineError::new(format!(
                "“{text}”含义不明：是{month}月15日还是{month}月中旬（{month}月20日）？请写成“{month}月15日前”或“{month}月中旬”",
                text = self.text(i, k)
            )));
        }
        Ok(Some((month, DaySpec::Bare, j)))
    }

    /// month_part = month_spec | M ("."|"/") D.
    fn month_part(&self, i: usize, y: i16) -> Res<Option<Core>> {
        if let Some((month, spec, end)) = self.month_spec(i)? {
            let core = match spec {
                DaySpec::Day(day) | DaySpec::Xun(day) => {
                    Core::new(ymd(y, i64::from(month), day)?, end)
                }
                DaySpec::End => Core::new(month_end(y, month)?, end),
                DaySpec::Bare => Core {
                    bare: Bare::Month(y, month),
                    ..Core::new(month_end(y, month)?, end)
                },
            };
            return Ok(Some(core));
        }
        if let Some(month) = self.ascii_num(i, 2)
            && (1..=12).contains(&month)
            && matches!(self.ch(i + 1), Some('.' | '/'))
            && let Some(day) = self.ascii_num(i + 2, 2)
        {
            let month = check_month(month)?;
            return Ok(Some(Core::new(
                ymd(y, i64::from(month), day)?,
                self.day_mark(i + 3),
            )));
        }
        Ok(None)
    }

    /// quarter = ["第"] NUM ("季度"|"季") ["末"|"底"] | "Q" NUM ["末"|"底"].
    fn quarter(&self, i: usize, y: i16) -> Res<Option<Core>> {
        let (n, j) = if matches!(self.ch(i), Some('Q' | 'q'))
            && let Some(n) = self.num(i + 1)
        {
            (n, i + 2)
        } else {
            let k = self.lit(i, "第").unwrap_or(i);
            let Some(n) = self.num(k) else {
                return Ok(None);
            };
            let Some((j, _)) = self.lit_any(k + 1, &["季度", "季"]) else {
                return Ok(None);
            };
            (n, j)
        };
        let quarter = match i8::try_from(n.value) {
            Ok(q @ 1..=4) => q,
            _ => {
                return Err(DeadlineError::new(format!(
                    "“{}”不存在：季度应为一至四",
                    self.text(i, j)
                )));
            }
        };
        let end = self.lit_any(j, &["末", "底"]).map_or(j, |(e, _)| e);
        Ok(Some(Core::new(month_end(y, quarter * 3)?, end)))
    }

    /// festival = name ["假期"|"长假"|"放假"] ("前"|"之前"|"以前"), name also 五一 / 十一.
    /// Due the day before the festival's first day off in that year; 元旦 without a year is
    /// the coming one (the next year's).
    fn festival(&self, i: usize, y: i16, prefixed: bool) -> Res<Option<Core>> {
        if self
            .ch(i)
            .is_some_and(|c| !matches!(c, '元' | '春' | '清' | '劳' | '端' | '中' | '国'))
        {
            return Ok(None);
        }
        let named = FESTIVALS
            .iter()
            .find_map(|(word, name)| self.lit(i, word).map(|j| (*name, j)));
        let (name, mut j, alias) = match named {
            Some((name, j)) => (name, j, false),
            None => {
                let Some(n) = self.num(i).filter(|n| n.chinese) else {
                    return Ok(None);
                };
                let (name, rest): (&str, [&str; 3]) = match n.raw.as_str() {
                    "五一" => ("劳动节", ["劳动节", "节", "节日"]),
                    "十一" => ("国庆节", ["国庆节", "国庆", "节"]),
                    "两" if self.lit(i + 1, "节").is_some() => {
                        let end = self.lit_any(i + 2, &BEFORE).map_or(i + 2, |(e, _)| e);
                        return Err(DeadlineError::new(format!(
                            "“{}”含义不明：是元旦前还是春节前？请写成“元旦前”“春节前”或具体日期",
                            self.text(i, end)
                        )));
                    }
                    _ => return Ok(None),
                };
                let j = self.lit_any(i + 1, &rest).map_or(i + 1, |(j, _)| j);
                (name, j, true)
            }
        };
        // Two festivals named together ("元旦春节前", "中秋国庆前"): before which one?
        let joined = self.lit_any(j, &["和", "及", "与"]).map_or(j, |(k, _)| k);
        if let Some((k, other)) = FESTIVALS
            .iter()
            .find_map(|(word, other)| self.lit(joined, word).map(|k| (k, *other)))
            && other != name
        {
            let end = self.lit_any(k, &BEFORE).map_or(k, |(e, _)| e);
            return Err(DeadlineError::new(format!(
                "“{}”含义不明：是{}前还是{}前？请只写一个节日（如“{}前”）或具体日期",
                self.text(i, end),
                self.text(i, j),
                self.text(joined, k),
                self.text(joined, k)
            )));
        }
        if let Some((k, _)) = self.lit_any(j, &["假期", "长假", "放假"]) {
            j = k;
        }
        let Some((k, _)) = self.lit_any(j, &["之前", "以前", "前"]) else {
            if alias {
                return Ok(None);
            }
            if let Some((k, _)) = self.lit_any(j, &["期间", "以后", "之后", "后"]) {
                return Err(start_only(&self.text(i, k)));
            }
            return Err(DeadlineError::new(format!(
                "“{text}”含义不明：是{text}前（放假前一天）还是{text}期间？请写成“{text}前”或具体日期",
                text = self.text(i, j)
            )));
        };
        if let Some(after) = self.lit(k, "后") {
            return Err(DeadlineError::new(format!(
                "“{}”不是明确的时限：请写成“{}”或具体日期",
                self.text(i, after),
                self.text(i, k)
            )));
        }
        let first_day_off = if name == NEW_YEAR {
            let target = if prefixed { Some(y) } else { y.checked_add(1) };
            let target =
                target.ok_or_else(|| DeadlineError::new(format!("年份{y}超出可处理的范围")))?;
            self.new_year_break(target)?
        } else {
            self.calendar.festival_start(y, name).ok_or_else(|| {
                DeadlineError::new(format!(
                    "{y}年{name}的放假日期未知（该年节假日安排尚未录入）：请写成具体日期，或请管理员先录入{y}年节假日安排"
                ))
            })?
        };
        let date = first_day_off
            .yesterday()
            .map_err(|_| DeadlineError::new(format!("年份{y}超出可处理的范围")))?;
        Ok(Some(Core {
            closed: true,
            ..Core::new(date, k)
        }))
    }

    /// First day off of the New Year break of `year`: January 1st, or earlier when the
    /// break starts in the previous December (2023's began on 2022-12-31).
    fn new_year_break(&self, year: i16) -> Res<Date> {
        let mut start = Date::new(year, 1, 1)
            .map_err(|_| DeadlineError::new(format!("年份{year}超出可处理的范围")))?;
        while let Ok(previous) = start.yesterday() {
            if self
                .calendar
                .festival(previous)
                .is_some_and(|name| name.contains(NEW_YEAR))
            {
                start = previous;
            } else {
                break;
            }
        }
        Ok(start)
    }
}

// ---------------------------------------------------------------------------------------
// Dates and messages

fn year_value(value: u32) -> Res<i16> {
    i16::try_from(value)
        .ok()
        .filter(|y| (1000..=9999).contains(y))
        .ok_or_else(|| DeadlineError::new(format!("年份“{value}”超出可处理的范围")))
}

fn check_month(month: u32) -> Res<i8> {
    match i8::try_from(month) {
        Ok(m @ 1..=12) => Ok(m),
        _ => Err(DeadlineError::new(format!(
            "“{month}月”不存在：月份应为1至12"
        ))),
    }
}

fn month_end(year: i16, month: i8) -> Res<Date> {
    Date::new(year, month, 1)
        .map(|d| d.last_of_month())
        .map_err(|_| DeadlineError::new(format!("年份{year}超出可处理的范围")))
}

fn invalid_day(month: i8, day: u32, year_and_days: Option<(i16, i8)>) -> DeadlineError {
    match year_and_days {
        Some((year, days)) => DeadlineError::new(format!(
            "“{month}月{day}日”不存在：{year}年{month}月只有{days}天"
        )),
        None => DeadlineError::new(format!("“{month}月{day}日”不存在")),
    }
}

fn ymd(year: i16, month: i64, day: u32) -> Res<Date> {
    let month = check_month(u32::try_from(month).unwrap_or(u32::MAX))?;
    let last = month_end(year, month)?;
    match i8::try_from(day) {
        Ok(d) if d >= 1 && d <= last.day() => {
            Date::new(year, month, d).map_err(|_| invalid_day(month, day, Some((year, last.day()))))
        }
        _ => Err(invalid_day(month, day, Some((year, last.day())))),
    }
}

fn month_day(n: &NumTok) -> Res<u8> {
    match u8::try_from(n.value) {
        Ok(day @ 1..=31) => Ok(day),
        _ => Err(DeadlineError::new(format!(
            "“每月{}日”不存在：日期应为1至31",
            n.raw
        ))),
    }
}

fn ambiguous_month(text: &str, year: i16, month: i8) -> DeadlineError {
    let last = month_end(year, month).map_or(31, |d| d.day());
    let earlier = if month == 1 {
        "上年12月底前".to_owned()
    } else {
        format!("{}月底前", month - 1)
    };
    DeadlineError::new(format!(
        "“{text}”含义不明：是{month}月1日前还是{month}月{last}日前？请写成“{month}月底前”或“{earlier}”"
    ))
}

fn ambiguous_year(text: &str, year: i16) -> DeadlineError {
    DeadlineError::new(format!(
        "“{text}”含义不明：是{year}年1月1日前还是{year}年12月31日前？请写成“{year}年底前”或“{}年底前”",
        i32::from(year) - 1
    ))
}

fn start_only(text: &str) -> DeadlineError {
    DeadlineError::new(format!(
        "“{text}”只说明了开始时间，没有说明完成时限：请写成“X月底前”或具体日期"
    ))
}

fn period_error(text: &str) -> DeadlineError {
    DeadlineError::new(format!(
        "“{text}”无法换算为确定的完成日期：请写成具体日期（如“9月底前”）或“N个工作日内”"
    ))
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn parse(text: &str, year: i16) -> Deadline {
        parse_deadline(text, year, &WorkCalendar::official())
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn error(text: &str, year: i16) -> String {
        match parse_deadline(text, year, &WorkCalendar::official()) {
            Ok(deadline) => panic!("{text} should be refused, got {deadline:?}"),
            Err(e) => e.message,
        }
    }

    fn on(y: i16, m: i8, d: i8) -> Deadline {
        Deadline::Date(date(y, m, d))
    }

    fn milestones(dates: &[(i16, i8, i8)]) -> Deadline {
        Deadline::Milestones(dates.iter().map(|&(y, m, d)| date(y, m, d)).collect())
    }

    #[test]
    fn a_date_followed_by_qian_is_due_on_that_date_in_the_ledger_year() {
        assert_eq!(parse("6月底前", 2024), on(2024, 6, 30));
        assert_eq!(parse("6月30日前", 2025), on(2025, 6, 30));
        assert_eq!(parse("10月15日前", 2025), on(2025, 10, 15));
        assert_eq!(parse("10月15日前", 2026), on(2026, 10, 15));
    }

    #[test]
    fn an_explicit_year_wins_over_the_ledger_year() {
        for text in ["2023.6.30", "2023-6-30", "2023/6/30", "2023年6月30日"] {
            assert_eq!(parse(text, 2025), on(2023, 6, 30), "{text}");
        }
    }

    #[test]
    fn an_explicit_year_carries_forward_to_the_later_milestones() {
        assert_eq!(
            parse("2026年3月底前启动，6月底前完成", 2025),
            milestones(&[(2026, 3, 31), (2026, 6, 30)])
        );
    }

    #[test]
    fn a_month_with_di_mo_or_fen_or_alone_ends_on_its_last_day() {
        for text in ["6月底前", "6月底", "6月末", "6月份"] {
            assert_eq!(parse(text, 2025), on(2025, 6, 30), "{text}");
        }
        assert_eq!(parse("8月", 2025), on(2025, 8, 31));
        assert_eq!(parse("2月底前", 2024), on(2024, 2, 29));
        assert_eq!(parse("2月底前", 2025), on(2025, 2, 28));
    }

    #[test]
    fn a_bare_month_followed_by_qian_is_refused_with_a_question() {
        let message = error("8月前", 2025);
        assert!(message.contains('？'), "{message}");
        assert!(message.contains("“8月前”"), "{message}");
        assert!(message.contains("8月1日前还是8月31日前"), "{message}");
        assert!(message.contains("“8月底前”或“7月底前”"), "{message}");
        assert!(error("1月前", 2025).contains("上年12月底前"));
        assert!(error("2月份之前", 2024).contains("2月29日前"));
        assert!(error("2025年前", 2025).contains("2025年12月31日前"));
    }

    #[test]
    fn xun_end_on_the_10th_the_20th_and_the_last_day() {
        assert_eq!(parse("11月中旬", 2025), on(2025, 11, 20));
        assert_eq!(parse("11月上旬前", 2025), on(2025, 11, 10));
        assert_eq!(parse("2月下旬", 2025), on(2025, 2, 28));
    }

    #[test]
    fn quarters_end_on_their_last_day() {
        for (text, month, day) in [
            ("一季度末", 3, 31),
            ("第一季度", 3, 31),
            ("一季度", 3, 31),
            ("三季度末", 9, 30),
            ("第三季度前", 9, 30),
        ] {
            assert_eq!(parse(text, 2025), on(2025, month, day), "{text}");
        }
    }

    #[test]
    fn halves_and_year_words_end_on_june_30th_or_december_31st() {
        assert_eq!(parse("上半年", 2025), on(2025, 6, 30));
        assert_eq!(parse("年中", 2025), on(2025, 6, 30));
        for text in [
            "下半年",
            "年底前",
            "年底",
            "年内",
            "年末",
            "全年",
            "12月底前",
        ] {
            assert_eq!(parse(text, 2025), on(2025, 12, 31), "{text}");
        }
    }

    #[test]
    fn a_festival_is_due_the_day_before_its_first_day_off() {
        assert_eq!(parse("春节前", 2025), on(2025, 1, 27));
        assert_eq!(parse("春节前", 2024), on(2024, 2, 9));
        assert_eq!(parse("国庆节前", 2025), on(2025, 9, 30));
        assert_eq!(parse("国庆节前", 2023), on(2023, 9, 28));
        assert_eq!(
            parse("中秋节前", 2025),
            on(2025, 9, 30),
            "merged with 国庆节"
        );
        assert_eq!(parse("中秋节前", 2024), on(2024, 9, 14));
    }

    #[test]
    fn yuandan_qian_means_before_the_coming_new_year() {
        assert_eq!(parse("元旦前", 2025), on(2025, 12, 31));
        assert_eq!(
            parse("元旦前", 2022),
            on(2022, 12, 30),
            "the 2023 break began on 2022-12-31"
        );
        assert_eq!(parse("2026年元旦前", 2026), on(2025, 12, 31));
    }

    #[test]
    fn a_festival_without_data_for_the_year_is_refused() {
        let message = error("春节前", 2031);
        assert!(message.contains("2031年春节"), "{message}");
        assert!(message.contains("未录入"), "{message}");
    }

    #[test]
    fn milestones_are_sorted_deduplicated_and_collapse_to_one_date() {
        assert_eq!(
            parse("9月底前完成，年底前见效", 2025),
            milestones(&[(2025, 9, 30), (2025, 12, 31)])
        );
        assert_eq!(
            parse("年底前见效；9月底前完成", 2025),
            milestones(&[(2025, 9, 30), (2025, 12, 31)])
        );
        assert_eq!(parse("12月31日前完成，年底前见效", 2025), on(2025, 12, 31));
        assert_eq!(
            parse("6月底前启动并于10月底前完成", 2025),
            milestones(&[(2025, 6, 30), (2025, 10, 31)])
        );
        assert_eq!(parse("3月-5月", 2025), on(2025, 5, 31));
        assert_eq!(
            parse("9月底前完成排查和年底前整改", 2025),
            milestones(&[(2025, 9, 30), (2025, 12, 31)])
        );
        let due = parse("9月底前完成，年底前见效", 2025).due();
        assert_eq!(due, Some(date(2025, 12, 31)));
    }

    #[test]
    fn words_after_a_date_are_free_text_unless_they_hold_another_deadline() {
        assert_eq!(parse("9月底前完成全年任务", 2025), on(2025, 9, 30));
        assert_eq!(parse("3月底前完成一季度目标", 2025), on(2025, 3, 31));
        assert_eq!(parse("6月底前完成，确保质量", 2025), on(2025, 6, 30));
        assert_eq!(parse("6月底前完成往年前期遗留问题", 2025), on(2025, 6, 30));
    }

    #[test]
    fn monthly_reports_are_a_recurring_cadence() {
        let monthly = parse("每月25日前报送进展", 2025);
        assert_eq!(monthly, Deadline::Recurring(Cadence::Monthly(vec![25])));
        assert_eq!(
            monthly.to_json_line(),
            r#"{"kind":"recurring","due":null,"milestones":[],"cadence":"monthly:25","working_days":null}"#
        );
        assert_eq!(
            parse("每月10日、25日前", 2025),
            Deadline::Recurring(Cadence::Monthly(vec![10, 25]))
        );
        assert_eq!(
            parse("每月", 2025),
            Deadline::Recurring(Cadence::Monthly(vec![31]))
        );
        assert_eq!(
            parse("每月一次", 2025),
            Deadline::Recurring(Cadence::Monthly(vec![31]))
        );
        assert_eq!(
            parse("按月报送", 2025),
            Deadline::Recurring(Cadence::Monthly(vec![31]))
        );
    }

    #[test]
    fn other_cadences_are_read_by_their_unit() {
        let cases = [
            ("每周五", Cadence::Weekly(5)),
            ("每周五前报送", Cadence::Weekly(5)),
            ("每周日", Cadence::Weekly(7)),
            ("每天", Cadence::Daily),
            ("每日", Cadence::Daily),
            ("每季度", Cadence::Quarterly),
            ("每季度末", Cadence::QuarterlyEnd),
            ("每半年", Cadence::Semiannual),
            ("每年6月30日前", Cadence::Yearly { month: 6, day: 30 }),
        ];
        for (text, cadence) in cases {
            assert_eq!(parse(text, 2025), Deadline::Recurring(cadence), "{text}");
        }
    }

    #[test]
    fn ongoing_work_has_no_due_date() {
        for text in ["长期坚持", "长期", "持续推进", "常态化推进"] {
            assert_eq!(parse(text, 2025), Deadline::Ongoing, "{text}");
        }
        assert_eq!(
            parse("长期坚持", 2025).to_json_line(),
            r#"{"kind":"ongoing","due":null,"milestones":[],"cadence":null,"working_days":null}"#
        );
    }

    #[test]
    fn a_cadence_wins_over_ongoing_and_a_date_wins_over_both() {
        assert_eq!(
            parse("长期坚持，每月报送进展", 2025),
            Deadline::Recurring(Cadence::Monthly(vec![31]))
        );
        assert_eq!(parse("9月底前建成，长期坚持", 2025), on(2025, 9, 30));
        assert_eq!(
            parse("每月10日前报送，每月20日前报送", 2025),
            Deadline::Recurring(Cadence::Monthly(vec![10, 20]))
        );
    }

    #[test]
    fn working_days_are_counted_from_assignment() {
        for (text, days) in [
            ("30个工作日内", 30),
            ("收到后15个工作日内办结", 15),
            ("交办后10个工作日内", 10),
        ] {
            assert_eq!(
                parse(text, 2025),
                Deadline::Relative { working_days: days },
                "{text}"
            );
        }
        assert_eq!(
            parse("30个工作日内", 2025).to_json_line(),
            r#"{"kind":"relative","due":null,"milestones":[],"cadence":null,"working_days":30}"#
        );
    }

    #[test]
    fn calendar_days_are_refused_with_a_question() {
        for text in ["3日内", "3天内", "交办后5天"] {
            let message = error(text, 2025);
            assert!(message.contains("自然日还是"), "{text}: {message}");
            assert!(message.contains('？'), "{text}: {message}");
        }
        assert!(error("10个自然日内", 2025).contains("按工作日计算"));
        for text in ["3个月内", "一周内", "半个月内"] {
            assert!(
                error(text, 2025).contains("无法换算"),
                "{text}: {}",
                error(text, 2025)
            );
        }
    }

    #[test]
    fn ambiguous_or_vague_texts_are_refused_never_guessed() {
        let cases = [
            ("8月初", "8月1日还是8月上旬"),
            ("8月中", "8月15日还是8月中旬"),
            ("年前", "春节前还是年底前"),
            ("春节", "春节前（放假前一天）还是春节期间"),
            ("春节后", "只说明了开始时间"),
            ("8月后", "只说明了开始时间"),
            ("6月30日前后", "不是明确的时限"),
            ("尽快", "没有明确的完成时限"),
            ("季度末", "哪个季度"),
            ("节前", "哪个节日"),
            ("每周末", "每周五还是每周日"),
            ("每月初", "每月1日还是每月上旬"),
            ("每周一、周三", "只能设一个报送日"),
            ("每年2月29日前", "并非每年都有"),
            ("30个工作日内，6月底前", "以哪一个为准"),
            ("10个工作日内；20个工作日内", "以哪一个为准"),
            ("每月报送，每周五报送", "以哪一个为准"),
            ("春节后10个工作日内", "从交办之日起算"),
            ("11月至9月", "起止颠倒"),
            ("每月2次", "没有说明在哪几天"),
            ("每周两次", "没有说明在哪几天"),
        ];
        for (text, needle) in cases {
            let message = error(text, 2025);
            assert!(message.contains(needle), "{text}: {message}");
        }
    }

    #[test]
    fn impossible_dates_are_refused_with_the_reason() {
        let message = error("2月30日前", 2025);
        assert!(message.contains("“2月30日”不存在"), "{message}");
        assert!(message.contains("2025年2月只有28天"), "{message}");
        assert_eq!(parse("2月29日前", 2024), on(2024, 2, 29));
        let message = error("13月底前", 2025);
        assert!(message.contains("“13月”不存在"), "{message}");
        assert!(error("第五季度", 2025).contains("季度应为一至四"));
        assert!(error("每月32日前", 2025).contains("1至31"));
        assert!(error("2023.2.30", 2025).contains("2023年2月只有28天"));
    }

    #[test]
    fn unknown_text_is_refused_naming_it() {
        let message = error("另行通知", 2025);
        assert!(
            message.starts_with("无法识别完成时限“另行通知”：请写成“6月底前”"),
            "{message}"
        );
        let message = error("6月底前启动，25日前完成", 2025);
        assert!(message.contains("中的“25日前完成”"), "{message}");
        assert!(error("", 2025).contains("完成时限为空"));
        assert!(error(" 。", 2025).contains("完成时限为空"));
    }

    #[test]
    fn full_width_characters_spaces_chinese_numerals_and_a_final_full_stop_are_normalised() {
        assert_eq!(parse("６月３０日前", 2025), on(2025, 6, 30));
        assert_eq!(parse(" 6 月 底 前 。", 2025), on(2025, 6, 30));
        assert_eq!(parse("十一月二十五日", 2025), on(2025, 11, 25));
        assert_eq!(parse("二〇二三年六月三十日", 2025), on(2023, 6, 30));
        assert_eq!(
            parse("9月底前完成，年底前见效。", 2025),
            milestones(&[(2025, 9, 30), (2025, 12, 31)])
        );
        assert_eq!(normalise("６月，７月；Ａ　Ｂ。"), "6月,7月;AB");
    }

    #[test]
    fn chinese_numerals_are_read_positionally_or_digit_by_digit() {
        let value = |s: &str| chinese_value(&s.chars().collect::<Vec<_>>());
        assert_eq!(value("十"), (10, 0));
        assert_eq!(value("十一"), (11, 0));
        assert_eq!(value("二十五"), (25, 0));
        assert_eq!(value("廿五"), (25, 0));
        assert_eq!(value("一百零五"), (105, 0));
        assert_eq!(value("二〇二五"), (2025, 4));
        assert_eq!(value("两"), (2, 1));
    }

    #[test]
    fn cadence_codes_are_stable() {
        let cases = [
            (Cadence::Daily, "daily"),
            (Cadence::Weekly(5), "weekly:5"),
            (Cadence::Monthly(vec![25]), "monthly:25"),
            (Cadence::Monthly(vec![10, 25]), "monthly:10,25"),
            (Cadence::Quarterly, "quarterly"),
            (Cadence::QuarterlyEnd, "quarterly:end"),
            (Cadence::Semiannual, "semiannual"),
            (Cadence::Yearly { month: 6, day: 30 }, "yearly:06-30"),
        ];
        for (cadence, code) in cases {
            assert_eq!(cadence.code(), code);
        }
    }

    #[test]
    fn due_kind_and_json_agree_for_every_kind() {
        let dated = on(2025, 6, 30);
        assert_eq!(dated.kind(), "date");
        assert_eq!(dated.due(), Some(date(2025, 6, 30)));
        assert_eq!(
            dated.to_json_line(),
            r#"{"kind":"date","due":"2025-06-30","milestones":[],"cadence":null,"working_days":null}"#
        );
        let nodes = milestones(&[(2025, 6, 30), (2025, 10, 31)]);
        assert_eq!(nodes.kind(), "milestones");
        assert_eq!(nodes.due(), Some(date(2025, 10, 31)));
        assert_eq!(
            nodes.to_json_line(),
            r#"{"kind":"milestones","due":"2025-10-31","milestones":["2025-06-30","2025-10-31"],"cadence":null,"working_days":null}"#
        );
        assert_eq!(Deadline::Recurring(Cadence::Daily).kind(), "recurring");
        assert_eq!(Deadline::Recurring(Cadence::Daily).due(), None);
        assert_eq!(Deadline::Ongoing.kind(), "ongoing");
        assert_eq!(Deadline::Relative { working_days: 3 }.kind(), "relative");
        assert_eq!(Deadline::Relative { working_days: 3 }.due(), None);
    }

    #[test]
    fn two_xun_together_end_with_the_later_one() {
        assert_eq!(parse("5月中下旬", 2025), on(2025, 5, 31));
        assert_eq!(parse("5月上中旬", 2025), on(2025, 5, 20));
    }

    #[test]
    fn a_span_of_years_may_write_nian_once() {
        assert_eq!(parse("2024-2026年", 2025), on(2026, 12, 31));
        assert_eq!(parse("2024—2026年", 2025), on(2026, 12, 31));
        assert!(error("2026-2024年", 2025).contains("起止颠倒"));
    }

    #[test]
    fn ming_nian_counts_from_the_ledger_year_even_after_a_named_year() {
        assert_eq!(
            parse("2026年3月底前启动，明年6月底前完成", 2025),
            milestones(&[(2026, 3, 31), (2026, 6, 30)])
        );
    }

    #[test]
    fn every_xun_and_the_last_day_of_the_month_are_monthly_cadences() {
        for text in ["每旬", "每旬末"] {
            assert_eq!(
                parse(text, 2025),
                Deadline::Recurring(Cadence::Monthly(vec![10, 20, 31])),
                "{text}"
            );
        }
        assert_eq!(
            parse("每月最后一日", 2025),
            Deadline::Recurring(Cadence::Monthly(vec![31]))
        );
    }

    #[test]
    fn what_a_cadence_cannot_hold_is_refused_not_dropped() {
        assert!(error("每月最后一个工作日", 2025).contains("无法随节假日移动"));
        for text in ["每季度第一个月10日前", "每年二季度"] {
            let message = error(text, 2025);
            assert!(message.contains("报送日无法读取"), "{text}: {message}");
        }
        let last = parse_deadline("每月最后一个工作日", 2025, &WorkCalendar::official());
        assert!(
            !matches!(last, Ok(Deadline::Relative { .. })),
            "最后一个 is never read as 1 working day: {last:?}"
        );
    }

    #[test]
    fn two_festivals_or_a_month_without_its_number_are_refused() {
        for text in ["元旦春节前", "两节前"] {
            let message = error(text, 2025);
            assert!(
                message.contains("是元旦前还是春节前？"),
                "{text}: {message}"
            );
        }
        for text in ["本月底前", "月底前"] {
            let message = error(text, 2025);
            assert!(message.contains("没有说明是哪个月"), "{text}: {message}");
        }
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        push_json_string(&mut out, "a\"b\\c\nd\u{1}中");
        assert_eq!(out, r#""a\"b\\c\nd\u0001中""#);
    }
}
