//! The 完成时限 parser (`zhongshu_domain::deadline`) read from outside, as the import uses it.
//!
//! Two checks the issue asks for:
//!
//! * **Held-out phrasings.** Each text in [`held_out_phrasings`] is written the way county
//!   offices fill in a 任务分解表, and none of them appears in the parser's source (its unit
//!   tests included) or in `docs/deadlines.md`; the test checks that. If they all read
//!   correctly, the grammar — not a list of remembered phrases — does the work.
//! * **A property test.** Two hundred thousand strings built from the grammar's alphabet,
//!   random Unicode and mutated real phrasings never make the parser panic, and every value it
//!   returns is internally consistent, with due dates in a sane range.

use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};

use jiff::civil::Date;
use zhongshu_domain::calendar::WorkCalendar;
use zhongshu_domain::deadline::{Cadence, Deadline, parse_deadline};

// -----------------------------------------------------------------------------------------
// Expected values, written as the CLI's JSON line so every field (kind, due, milestones,
// cadence, working_days) is asserted at once.

fn json(
    kind: &str,
    due: Option<&str>,
    nodes: &[&str],
    cadence: Option<&str>,
    days: Option<u32>,
) -> String {
    let quoted = |s: &str| format!("\"{s}\"");
    let nodes: Vec<String> = nodes.iter().map(|d| quoted(d)).collect();
    format!(
        "{{\"kind\":\"{kind}\",\"due\":{},\"milestones\":[{}],\"cadence\":{},\"working_days\":{}}}",
        due.map_or("null".to_owned(), quoted),
        nodes.join(","),
        cadence.map_or("null".to_owned(), quoted),
        days.map_or("null".to_owned(), |n| n.to_string()),
    )
}

/// Due on one date.
fn due(date: &str) -> String {
    json("date", Some(date), &[], None, None)
}

/// 节点: several dates, the last one due.
fn nodes(dates: &[&str]) -> String {
    json("milestones", dates.last().copied(), dates, None, None)
}

/// A recurring report with this cadence code.
fn every(code: &str) -> String {
    json("recurring", None, &[], Some(code), None)
}

fn ongoing() -> String {
    json("ongoing", None, &[], None, None)
}

/// N working days from assignment.
fn within(days: u32) -> String {
    json("relative", None, &[], None, Some(days))
}

fn read(text: &str, year: i16) -> Result<Deadline, String> {
    parse_deadline(text, year, &WorkCalendar::official()).map_err(|e| e.message)
}

// -----------------------------------------------------------------------------------------
// Held-out phrasings

/// (ledger year, text, expected JSON line).
fn held_out_phrasings() -> Vec<(i16, &'static str, String)> {
    vec![
        // Dates: month, day, 旬, 底/末, with or without the year, Arabic or Chinese numerals.
        (2025, "十月底前", due("2025-10-31")),
        (2025, "2025年12月31日之前", due("2025-12-31")),
        (2025, "2025年12月底前", due("2025-12-31")),
        (2025, "12月20日之前", due("2025-12-20")),
        (2025, "11月30日前完成", due("2025-11-30")),
        (2025, "4月下旬", due("2025-04-30")),
        (2025, "9月上旬前完成", due("2025-09-10")),
        (2025, "6月中旬前", due("2025-06-20")),
        (2025, "十二月中旬", due("2025-12-20")),
        (2025, "11月中下旬", due("2025-11-30")),
        (2025, "2025/3/15", due("2025-03-15")),
        (2025, "二〇二五年七月一日前", due("2025-07-01")),
        (2025, "十二月三十一日前", due("2025-12-31")),
        (2025, "2025.11", due("2025-11-30")),
        (2025, "7.31前", due("2025-07-31")),
        (2025, "9.30前", due("2025-09-30")),
        (2025, "２０２５年８月３１日前", due("2025-08-31")),
        (2025, "今年10月份", due("2025-10-31")),
        (2025, "6月份底前", due("2025-06-30")),
        (2025, "20250930", due("2025-09-30")),
        (2025, "9月30号", due("2025-09-30")),
        (2025, "力争8月15日前", due("2025-08-15")),
        (2025, "截至11月30日", due("2025-11-30")),
        (2025, "完成时限：2025年10月底", due("2025-10-31")),
        (2025, "时间节点：9月底", due("2025-09-30")),
        (2025, "各乡镇于11月20日前上报", due("2025-11-20")),
        (2025, "10月31日前报县委办", due("2025-10-31")),
        (2025, "2025年10月底前完成并报送总结", due("2025-10-31")),
        (2025, "2025年12月31日24时前", due("2025-12-31")),
        (2025, "12月31日17:00前", due("2025-12-31")),
        (2025, "2026年6月", due("2026-06-30")),
        (2025, "明年3月底前", due("2026-03-31")),
        (2025, "次年6月底前", due("2026-06-30")),
        // Quarters, halves and the year.
        (2025, "第二季度末前", due("2025-06-30")),
        (2025, "第三季度末前", due("2025-09-30")),
        (2025, "一季度末前完成", due("2025-03-31")),
        (2025, "2季度", due("2025-06-30")),
        (2025, "第四季度前", due("2025-12-31")),
        (2025, "Q3末", due("2025-09-30")),
        (2025, "Q4", due("2025-12-31")),
        (2025, "2025年三季度末", due("2025-09-30")),
        (2025, "2026年一季度", due("2026-03-31")),
        (2025, "上半年完成", due("2025-06-30")),
        (2025, "下半年内", due("2025-12-31")),
        (2025, "年底前全面完成", due("2025-12-31")),
        (2025, "年内完成", due("2025-12-31")),
        (2025, "2025年底前", due("2025-12-31")),
        (2025, "今年年底前", due("2025-12-31")),
        (2025, "本年度内", due("2025-12-31")),
        // Festivals: the day before the first day off.
        (2025, "国庆节之前", due("2025-09-30")),
        (2025, "国庆节前完成", due("2025-09-30")),
        (2025, "国庆假期前", due("2025-09-30")),
        (2025, "中秋前", due("2025-09-30")),
        (2025, "端午节前完成", due("2025-05-30")),
        (2025, "劳动节前完成", due("2025-04-30")),
        (2025, "五一前", due("2025-04-30")),
        (2025, "十一前", due("2025-09-30")),
        (2025, "清明前", due("2025-04-03")),
        (2025, "2026年春节前", due("2026-02-14")),
        (2025, "明年春节前", due("2026-02-14")),
        (2025, "明年元旦前", due("2025-12-31")),
        (2026, "春节前完成", due("2026-02-14")),
        // Ranges: due at the end of the second date.
        (2025, "2025年9月至11月", due("2025-11-30")),
        (2025, "2025年9月—2026年6月", due("2026-06-30")),
        (2025, "2025-2027年", due("2027-12-31")),
        (2025, "即日起至年底", due("2025-12-31")),
        (2025, "10月中旬至11月底", due("2025-11-30")),
        (2025, "持续推进至年底", due("2025-12-31")),
        // 节点: several dated parts, sorted; free text after a date is a remark.
        (
            2025,
            "6月底前启动，10月底前完成，年底前验收",
            nodes(&["2025-06-30", "2025-10-31", "2025-12-31"]),
        ),
        (
            2025,
            "3月底前摸底，6月底前整改并于9月底前验收",
            nodes(&["2025-03-31", "2025-06-30", "2025-09-30"]),
        ),
        (
            2025,
            "4月底前制定方案，6月底前完成试点，年底前全面推开",
            nodes(&["2025-04-30", "2025-06-30", "2025-12-31"]),
        ),
        (
            2025,
            "5月底前完成，12月底前全面完成",
            nodes(&["2025-05-31", "2025-12-31"]),
        ),
        (
            2025,
            "6月底前完成整改，12月底前巩固提升",
            nodes(&["2025-06-30", "2025-12-31"]),
        ),
        (
            2025,
            "11月底前完成80%，12月底前全面完成",
            nodes(&["2025-11-30", "2025-12-31"]),
        ),
        (
            2025,
            "2025年底前完成，2026年6月底前巩固",
            nodes(&["2025-12-31", "2026-06-30"]),
        ),
        (
            2025,
            "明年3月底前启动，明年6月底前完成",
            nodes(&["2026-03-31", "2026-06-30"]),
        ),
        // A completion date with a cadence or "ongoing" in the same cell keeps the date.
        (2025, "6月底前完成，每月25日前报送进展", due("2025-06-30")),
        (
            2025,
            "每月25日前报送工作进展，12月底前完成",
            due("2025-12-31"),
        ),
        (2025, "年底前完成，长期坚持", due("2025-12-31")),
        // Recurring reports.
        (2025, "每周一上午报送", every("weekly:1")),
        (2025, "每周一报送上周工作情况", every("weekly:1")),
        (2025, "每星期三", every("weekly:3")),
        (2025, "每周四下午5点前", every("weekly:4")),
        (2025, "每周五前报送进展", every("weekly:5")),
        (2025, "每周五前，节假日顺延", every("weekly:5")),
        (2025, "长期坚持，每周五下班前报送信息", every("weekly:5")),
        (2025, "每个工作日", every("daily")),
        (2025, "每日下班前报送", every("daily")),
        (2025, "每月5日、20日前报送", every("monthly:5,20")),
        (2025, "每月10、25日", every("monthly:10,25")),
        (2025, "每月二十五日前", every("monthly:25")),
        (2025, "每月5号前", every("monthly:5")),
        (2025, "每月20日前报县委督查室", every("monthly:20")),
        (2025, "每月底前报送进展情况", every("monthly:31")),
        (2025, "每月最后一天", every("monthly:31")),
        (2025, "每月下旬报送", every("monthly:31")),
        (2025, "逐月报送", every("monthly:31")),
        (2025, "每旬报送", every("monthly:10,20,31")),
        (2025, "按季度调度", every("quarterly")),
        (2025, "每季末", every("quarterly:end")),
        (2025, "每季度末报送", every("quarterly:end")),
        (2025, "每半年报送一次", every("semiannual")),
        (2025, "每年3月底前", every("yearly:03-31")),
        (2025, "每年12月10日前报送", every("yearly:12-10")),
        (2025, "每年年底", every("yearly:12-31")),
        (2026, "每月25日前报送进展情况", every("monthly:25")),
        // Ongoing work.
        (2025, "常态化开展", ongoing()),
        (2025, "持续推进落实", ongoing()),
        (2025, "长期坚持、常抓不懈", ongoing()),
        // Working days from assignment.
        (2025, "交办后20个工作日内办结", within(20)),
        (2025, "自接件之日起5个工作日内", within(5)),
        (2025, "自交办之日起10个工作日内办结", within(10)),
        (2025, "收到交办单后5个工作日内", within(5)),
        (2025, "5个工作日内反馈", within(5)),
        (2025, "限10个工作日内答复", within(10)),
        (2025, "两个工作日内", within(2)),
    ]
}

#[test]
fn at_least_seventy_held_out_phrasings_read_as_offices_mean_them() {
    const SOURCE: &str = include_str!("../src/deadline.rs");
    const DOC: &str = include_str!("../../../docs/deadlines.md");
    let cases = held_out_phrasings();
    assert!(cases.len() >= 70, "only {} phrasings", cases.len());
    let distinct: BTreeSet<&str> = cases.iter().map(|(_, text, _)| *text).collect();
    assert_eq!(distinct.len(), cases.len(), "a phrasing is listed twice");
    let mut wrong = Vec::new();
    for (year, text, expected) in &cases {
        assert!(
            !SOURCE.contains(&format!("\"{text}\"")),
            "“{text}” is also used in the parser's source or unit tests"
        );
        for quoted in [format!("`{text}`"), format!("“{text}”")] {
            assert!(
                !DOC.contains(&quoted),
                "“{text}” is used in docs/deadlines.md"
            );
        }
        match read(text, *year) {
            Ok(deadline) if deadline.to_json_line() == *expected => {}
            Ok(deadline) => wrong.push(format!(
                "{text} ({year}): expected {expected}, got {}",
                deadline.to_json_line()
            )),
            Err(message) => wrong.push(format!(
                "{text} ({year}): expected {expected}, refused: {message}"
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} misread:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn ambiguous_phrasings_are_refused_with_a_question_and_unreadable_ones_with_a_reason() {
    // (text, a piece of the expected message, whether the message must be a question)
    let cases = [
        ("元旦春节前", "是元旦前还是春节前？", true),
        ("中秋国庆前", "是中秋前还是国庆前？", true),
        ("两节前", "是元旦前还是春节前？", true),
        ("9月前完成", "9月1日前还是9月30日前？", true),
        ("11月初前", "11月1日还是11月上旬", true),
        ("年前完成", "是春节前还是年底前？", true),
        ("每周末报送", "每周五还是每周日？", true),
        ("5天内办结", "5个自然日还是5个工作日？", true),
        (
            "2025-2027年前",
            "2027年1月1日前还是2027年12月31日前？",
            true,
        ),
        ("按月调度，按季通报", "以哪一个为准？", true),
        ("本月底前", "没有说明是哪个月", false),
        ("下月底前完成", "没有说明是哪个月", false),
        ("每季度首月10日前", "报送日无法读取", false),
        ("每年一季度", "报送日无法读取", false),
        ("每月最后一个工作日前报送", "报送日按日历日期设置", false),
        ("立行立改", "无法识别完成时限", false),
    ];
    for (text, needle, question) in cases {
        match read(text, 2025) {
            Ok(deadline) => panic!("{text} should be refused, got {}", deadline.to_json_line()),
            Err(message) => {
                assert!(message.contains(needle), "{text}: {message}");
                assert_eq!(message.contains('？'), question, "{text}: {message}");
            }
        }
    }
}

// -----------------------------------------------------------------------------------------
// Property test

/// xorshift64*: deterministic, so a failure is reproducible from the printed input alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n as u64)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The characters the grammar reads, and a few it should shrug off.
const ALPHABET: &str = "0123456789０１２３４５６７８９〇零一二三四五六七八九十百廿两\
年月日号旬季度半上中下底末初前后内以之起至到止为份个工作周星期礼拜每按逐天次\
春节国庆元旦清明劳动端午中秋五一十一假期长放今本当明来度全终旬第Q\
长期持续常态化坚持尽快立即自交办收到后于在截不晚迟最力争完成时限节点报送进展：\
，、。；;,./-~—～ 　:!?ABCxyz\"\\\n";

/// Real phrasings to mutate (a mix of held-out, documented and refused ones).
const SEEDS: [&str; 24] = [
    "6月底前",
    "2025年12月31日之前",
    "每月5日、20日前报送",
    "9月底前完成，年底前见效",
    "明年春节前",
    "交办后10个工作日内",
    "每季度末",
    "每年6月30日前",
    "2025-2027年",
    "元旦前",
    "二〇二五年七月一日前",
    "长期坚持，每月报送进展",
    "10月中旬至11月底",
    "每旬报送",
    "每月最后一天",
    "8月前",
    "Q3末",
    "20250930",
    "2025.11",
    "6月底前启动并于10月底前完成",
    "每周五前报送进展",
    "十一前",
    "3月-5月",
    "春节后10个工作日内",
];

fn random_text(rng: &mut Rng, alphabet: &[char]) -> String {
    let length = rng.below(14);
    (0..length)
        .map(|_| match rng.below(10) {
            // Any Unicode scalar value now and then, surrogates skipped.
            0 => char::from_u32(u32::try_from(rng.next() % 0x11_0000).unwrap_or(0)).unwrap_or('?'),
            _ => *rng.pick(alphabet),
        })
        .collect()
}

fn mutated(rng: &mut Rng, alphabet: &[char]) -> String {
    let mut chars: Vec<char> = rng.pick(&SEEDS).chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(4) {
            0 => chars.insert(at, *rng.pick(alphabet)),
            1 if at < chars.len() => {
                chars.remove(at);
            }
            2 if at < chars.len() => {
                let c = chars[at];
                chars.insert(at, c);
            }
            _ => {
                // Glue another phrasing on, with or without a separator.
                let other: Vec<char> = rng.pick(&SEEDS).chars().collect();
                let glue = *rng.pick(&["", "，", "、", "；", "并于"]);
                chars.splice(at..at, glue.chars().chain(other));
            }
        }
    }
    chars.into_iter().collect()
}

/// Whether the text names a year itself (four or more digits in a row, once normalised as
/// the parser does); otherwise every date must come from the ledger year, 今年/明年 or a
/// festival, and so lie near it.
fn names_a_year(text: &str) -> bool {
    let normalised: Vec<char> = text
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut run = 0;
    let mut kind = 0;
    for c in normalised {
        let this = if c.is_ascii_digit() {
            1
        } else if "〇零一二三四五六七八九两".contains(c) {
            2
        } else {
            0
        };
        run = if this != 0 && this == kind {
            run + 1
        } else {
            usize::from(this != 0)
        };
        kind = this;
        if run >= 4 {
            return true;
        }
    }
    false
}

fn check_consistent(text: &str, year: i16, deadline: &Deadline) {
    let near = i16::saturating_sub(year, 1)..=year.saturating_add(2);
    let sane = |date: Date| {
        if names_a_year(text) {
            assert!((999..=9999).contains(&date.year()), "{text:?} → {date}");
        } else {
            assert!(near.contains(&date.year()), "{text:?} ({year}) → {date}");
        }
    };
    let json = deadline.to_json_line();
    assert!(
        json.starts_with("{\"kind\":\"") && json.ends_with('}'),
        "{text:?} → {json}"
    );
    assert!(
        json.contains(&format!("\"kind\":\"{}\"", deadline.kind())),
        "{text:?} → {json}"
    );
    match deadline {
        Deadline::Date(date) => {
            sane(*date);
            assert_eq!(deadline.due(), Some(*date), "{text:?}");
        }
        Deadline::Milestones(dates) => {
            assert!(dates.len() >= 2, "{text:?}: milestones {dates:?}");
            assert!(
                dates.windows(2).all(|w| w[0] < w[1]),
                "{text:?}: {dates:?} not ascending"
            );
            dates.iter().copied().for_each(sane);
            assert_eq!(deadline.due(), dates.last().copied(), "{text:?}");
        }
        Deadline::Recurring(cadence) => {
            assert_eq!(deadline.due(), None, "{text:?}");
            match cadence {
                Cadence::Weekly(day) => assert!((1..=7).contains(day), "{text:?}: {cadence:?}"),
                Cadence::Monthly(days) => {
                    assert!(!days.is_empty(), "{text:?}: {cadence:?}");
                    assert!(
                        days.windows(2).all(|w| w[0] < w[1]),
                        "{text:?}: {cadence:?}"
                    );
                    assert!(
                        days.iter().all(|d| (1..=31).contains(d)),
                        "{text:?}: {cadence:?}"
                    );
                }
                Cadence::Yearly { month, day } => {
                    let valid = i8::try_from(*month)
                        .ok()
                        .zip(i8::try_from(*day).ok())
                        .is_some_and(|(m, d)| Date::new(2023, m, d).is_ok());
                    assert!(valid, "{text:?}: {cadence:?} is not a date every year");
                }
                Cadence::Daily
                | Cadence::Quarterly
                | Cadence::QuarterlyEnd
                | Cadence::Semiannual => {}
            }
            assert!(
                json.contains(&format!("\"cadence\":\"{}\"", cadence.code())),
                "{text:?}"
            );
        }
        Deadline::Ongoing => assert_eq!(deadline.due(), None, "{text:?}"),
        Deadline::Relative { working_days } => {
            assert!(*working_days >= 1, "{text:?}: {working_days}");
            assert_eq!(deadline.due(), None, "{text:?}");
        }
    }
}

/// One thread's share of the property test: `count` inputs from its own fixed seed.
fn never_panics_and_stays_consistent(seed: u64, count: u32) -> (u32, u32) {
    let calendar = WorkCalendar::official();
    let alphabet: Vec<char> = ALPHABET.chars().collect();
    let mut rng = Rng(seed);
    let years = [2022, 2024, 2025, 2026, 2030];
    let (mut read_ok, mut refused) = (0u32, 0u32);
    for round in 0..count {
        let text = if round % 2 == 0 {
            random_text(&mut rng, &alphabet)
        } else {
            mutated(&mut rng, &alphabet)
        };
        let year = *rng.pick(&years);
        // A panic inside the parser fails this test, naming the input.
        let parsed =
            panic::catch_unwind(AssertUnwindSafe(|| parse_deadline(&text, year, &calendar)));
        let Ok(parsed) = parsed else {
            panic!("the parser panicked on {text:?} (ledger year {year})");
        };
        match parsed {
            Ok(deadline) => {
                read_ok += 1;
                check_consistent(&text, year, &deadline);
            }
            Err(e) => {
                refused += 1;
                assert!(!e.message.is_empty(), "{text:?}: empty message");
            }
        }
    }
    (read_ok, refused)
}

#[test]
fn the_parser_never_panics_and_every_value_it_returns_is_consistent() {
    // 200,000 inputs in two deterministic halves, one per core, to stay fast in debug builds.
    let seeds = [0x9E37_79B9_7F4A_7C15, 0xD1B5_4A32_D192_ED03];
    let results: Vec<(u32, u32)> = std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .iter()
            .map(|&seed| scope.spawn(move || never_panics_and_stays_consistent(seed, 100_000)))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|e| panic::resume_unwind(e)))
            .collect()
    });
    let read_ok: u32 = results.iter().map(|r| r.0).sum();
    let refused: u32 = results.iter().map(|r| r.1).sum();
    // The generator must reach the grammar, not only produce noise.
    assert!(
        read_ok > 10_000,
        "only {read_ok} inputs were read ({refused} refused)"
    );
    assert!(refused > 10_000, "only {refused} inputs were refused");
}
