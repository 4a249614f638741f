//! The progress summary (进展汇总) as a Word document, laid out in the spirit of GB/T 9704 (党政机关
//! 公文格式): A4, margins 37/35/28/26 mm, a 二号 方正小标宋简体 title, 三号 仿宋_GB2312 body with a
//! two-character first-line indent and fixed 28 pt lines, 一、 headings in 黑体 and （一）
//! headings in 楷体_GB2312, and the page number “— 1 —” centred in the footer.
//!
//! The types here are plain words and numbers: the caller (the web layer) turns the store's
//! summary into them, so this crate knows nothing of the database.

use docx_rs::{
    AlignmentType, Docx, FieldCharType, Footer, InstrPAGE, InstrText, LineSpacing, LineSpacingType,
    PageMargin, Paragraph, Run, RunFonts, SpecialIndentType,
};

/// One group of the summary: a unit (by unit) or a responsible leader (by leader).
#[derive(Clone, Debug, Default)]
pub struct SummaryGroup {
    /// “县财政局”, or the leader's name.
    pub name: String,
    /// Items the group counts in the period.
    pub items: usize,
    /// Of those, how many had progress reported in the period.
    pub reported: usize,
    /// Of those, how many are past their due date and still open.
    pub overdue: usize,
    /// The items with progress in the period, with that progress.
    pub entries: Vec<SummaryEntry>,
    /// The items nobody reported on in the period, as the document should name them
    /// (“开展涉企收费专项检查（县市场监督管理局）”).
    pub not_reported: Vec<String>,
}

/// An item with the progress reported on it in the period.
#[derive(Clone, Debug, Default)]
pub struct SummaryEntry {
    pub title: String,
    pub reports: Vec<SummaryReport>,
}

/// One progress report, in words.
#[derive(Clone, Debug, Default)]
pub struct SummaryReport {
    /// Who reported and when, e.g. “县发展和改革局 11月18日”.
    pub by: String,
    pub done: String,
    pub problems: String,
    pub coordination: String,
    pub next_steps: String,
    pub percent: Option<i64>,
}

/// A4 in twentieths of a point.
const A4_WIDTH: u32 = 11_906;
const A4_HEIGHT: u32 = 16_838;

/// Millimetres in twentieths of a point.
fn mm(v: f64) -> i32 {
    // 1 mm = 72 / 25.4 pt = 56.69 twips; margins are a few thousand twips, well within i32.
    #[allow(clippy::cast_possible_truncation)]
    let twips = (v * 1440.0 / 25.4).round() as i32;
    twips
}

/// Font sizes in half-points: 二号 22 pt, 三号 16 pt, 四号 14 pt.
const ERHAO: usize = 44;
const SANHAO: usize = 32;
const SIHAO: usize = 28;
/// A 三号 character is 16 pt wide: two of them are the first-line indent.
const INDENT_TWO_CHARS: i32 = 2 * 16 * 20;
/// Fixed line spacing of 28 pt (22 lines on the type area, as GB/T 9704 asks).
const LINE: i32 = 28 * 20;

const TITLE_FONT: &str = "方正小标宋简体";
const BODY_FONT: &str = "仿宋_GB2312";
const HEADING_FONT: &str = "黑体";
const SUBHEADING_FONT: &str = "楷体_GB2312";
/// Western text (digits, Latin) in every font role.
const LATIN_FONT: &str = "Times New Roman";
/// The fallback for every Chinese font the reader lacks (the document default).
const FALLBACK_FONT: &str = "宋体";

fn fonts(east_asia: &str) -> RunFonts {
    RunFonts::new()
        .east_asia(east_asia)
        .ascii(LATIN_FONT)
        .hi_ansi(LATIN_FONT)
        .cs(LATIN_FONT)
}

fn run(text: &str, font: &str, size: usize) -> Run {
    Run::new().add_text(text).fonts(fonts(font)).size(size)
}

fn spacing() -> LineSpacing {
    LineSpacing::new()
        .line_rule(LineSpacingType::Exact)
        .line(LINE)
        .before(0)
        .after(0)
}

/// A paragraph of the body: indented two characters, justified.
fn body_paragraph(runs: Vec<Run>) -> Paragraph {
    let mut p = Paragraph::new()
        .align(AlignmentType::Both)
        .indent(
            None,
            Some(SpecialIndentType::FirstLine(INDENT_TWO_CHARS)),
            None,
            None,
        )
        .line_spacing(spacing());
    for r in runs {
        p = p.add_run(r);
    }
    p
}

fn body(text: &str) -> Paragraph {
    body_paragraph(vec![run(text, BODY_FONT, SANHAO)])
}

/// “一、…” in 黑体.
fn heading(text: &str) -> Paragraph {
    body_paragraph(vec![run(text, HEADING_FONT, SANHAO)]).keep_next(true)
}

/// “（一）…” in 楷体.
fn subheading(text: &str) -> Paragraph {
    body_paragraph(vec![run(text, SUBHEADING_FONT, SANHAO)]).keep_next(true)
}

fn centred(text: &str, font: &str, size: usize, line: i32) -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Center)
        .line_spacing(
            LineSpacing::new()
                .line_rule(LineSpacingType::Exact)
                .line(line),
        )
        .add_run(run(text, font, size))
}

fn empty_line() -> Paragraph {
    Paragraph::new()
        .line_spacing(spacing())
        .add_run(run("", BODY_FONT, SANHAO))
}

/// 1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九; beyond that, Arabic digits.
pub fn chinese_number(n: usize) -> String {
    const DIGITS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0 => DIGITS[0].to_owned(),
        1..=9 => DIGITS[n].to_owned(),
        10..=99 => {
            let (tens, ones) = (n / 10, n % 10);
            let mut s = String::new();
            if tens > 1 {
                s.push_str(DIGITS[tens]);
            }
            s.push('十');
            if ones > 0 {
                s.push_str(DIGITS[ones]);
            }
            s
        }
        _ => n.to_string(),
    }
}

/// The title without the numbering it was written with (“（1）”, “(2)”, “3.”, “四、”, “（五）”), so
/// the document's own numbering is not doubled: “（一）（1）…” reads as a typo.
pub fn strip_numbering(title: &str) -> &str {
    let t = title.trim();
    let is_numeral = |c: char| c.is_ascii_digit() || "〇一二三四五六七八九十百".contains(c);
    let body = |rest: &str| -> Option<usize> {
        let n = rest.chars().take_while(|c| is_numeral(*c)).count();
        (n > 0).then(|| rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i))
    };
    for (open, close) in [("（", "）"), ("(", ")"), ("（", ")"), ("(", "）")] {
        if let Some(rest) = t.strip_prefix(open)
            && let Some(end) = body(rest)
            && let Some(after) = rest[end..].strip_prefix(close)
            && !after.trim().is_empty()
        {
            return after.trim_start();
        }
    }
    if let Some(end) = body(t) {
        for mark in ["、", "．", ". ", "."] {
            if let Some(after) = t[end..].strip_prefix(mark)
                && !after.trim().is_empty()
                // “3.5亿元…” is a number, not numbering.
                && !after.starts_with(|c: char| c.is_ascii_digit())
            {
                return after.trim_start();
            }
        }
    }
    t
}

/// Text ending in a full stop (or other closing punctuation) once.
fn sentence(text: &str) -> String {
    let t = text.trim();
    if t.ends_with(['。', '！', '？', '；', '…', '.', '!', '?']) {
        t.to_owned()
    } else {
        format!("{t}。")
    }
}

/// The footer: “— 1 —” centred, 四号 宋体.
fn footer() -> Footer {
    let page = Run::new()
        .fonts(fonts(FALLBACK_FONT))
        .size(SIHAO)
        .add_field_char(FieldCharType::Begin, false)
        .add_instr_text(InstrText::PAGE(InstrPAGE::new()))
        .add_field_char(FieldCharType::Separate, false)
        .add_text("1")
        .add_field_char(FieldCharType::End, false);
    Footer::new().add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .add_run(run("— ", FALLBACK_FONT, SIHAO))
            .add_run(page)
            .add_run(run(" —", FALLBACK_FONT, SIHAO)),
    )
}

/// The paragraphs of one group's section.
fn group_paragraphs(index: usize, group: &SummaryGroup) -> Vec<Paragraph> {
    let mut out = vec![heading(&format!(
        "{}、{}",
        chinese_number(index + 1),
        group.name.trim()
    ))];
    let mut overview = format!(
        "本期督办事项{}项，报送进展{}项，未报送{}项",
        group.items,
        group.reported,
        group.items.saturating_sub(group.reported)
    );
    if group.overdue > 0 {
        overview.push_str(&format!("，逾期未办结{}项", group.overdue));
    }
    overview.push('。');
    out.push(body(&overview));
    for (i, entry) in group.entries.iter().enumerate() {
        out.push(subheading(&format!(
            "（{}）{}",
            chinese_number(i + 1),
            strip_numbering(&entry.title)
        )));
        for report in &entry.reports {
            let mut by = report.by.trim().to_owned();
            if let Some(p) = report.percent {
                if by.is_empty() {
                    by = format!("完成进度{p}%");
                } else {
                    by = format!("{by}报送，完成进度{p}%");
                }
            } else if !by.is_empty() {
                by.push_str("报送");
            }
            if !by.is_empty() {
                out.push(body(&format!("（{by}）")));
            }
            let parts = [
                ("已完成：", &report.done),
                ("存在问题：", &report.problems),
                ("需协调事项：", &report.coordination),
                ("下步打算：", &report.next_steps),
            ];
            for (label, text) in parts {
                if !text.trim().is_empty() {
                    out.push(body(&format!("{label}{}", sentence(text))));
                }
            }
        }
    }
    if !group.not_reported.is_empty() {
        let list: Vec<String> = group
            .not_reported
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{}.{}", i + 1, strip_numbering(t)))
            .collect();
        out.push(body(&format!(
            "本期未报送进展的事项：{}。",
            list.join("；")
        )));
    }
    out
}

/// The summary as an A4 .docx: the title, the subtitle (the period) under it, then one section
/// per group with its reported items and, last, the items nobody reported on.
pub fn write_summary_docx(
    title: &str,
    subtitle: &str,
    groups: &[SummaryGroup],
) -> Result<Vec<u8>, String> {
    let margin = PageMargin::new()
        .top(mm(37.0))
        .bottom(mm(35.0))
        .left(mm(28.0))
        .right(mm(26.0))
        .header(mm(15.0))
        .footer(mm(25.0))
        .gutter(0);
    let mut doc = Docx::new()
        .page_size(A4_WIDTH, A4_HEIGHT)
        .page_margin(margin)
        .default_fonts(fonts(FALLBACK_FONT))
        .default_size(SANHAO)
        .footer(footer())
        .add_paragraph(centred(title.trim(), TITLE_FONT, ERHAO, 36 * 20));
    if !subtitle.trim().is_empty() {
        doc = doc.add_paragraph(centred(subtitle.trim(), SUBHEADING_FONT, SANHAO, LINE));
    }
    doc = doc.add_paragraph(empty_line());
    if groups.is_empty() {
        doc = doc.add_paragraph(body("本期没有需要汇总的督办事项。"));
    }
    for (i, group) in groups.iter().enumerate() {
        for p in group_paragraphs(i, group) {
            doc = doc.add_paragraph(p);
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut out)
        .map_err(|e| format!("生成 Word 文件失败：{e}"))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use docx_rs::BuildXML;

    fn sample() -> Vec<SummaryGroup> {
        vec![
            SummaryGroup {
                name: "县财政局".into(),
                items: 3,
                reported: 1,
                overdue: 1,
                entries: vec![SummaryEntry {
                    title: "（1）完成年度重大项目投资计划的80%以上".into(),
                    reports: vec![SummaryReport {
                        by: "县财政局 11月18日".into(),
                        done: "1至10月完成投资42.6亿元，占年度计划的78%".into(),
                        problems: "2个项目用地报批滞后。".into(),
                        coordination: String::new(),
                        next_steps: "加快用地报批".into(),
                        percent: Some(78),
                    }],
                }],
                not_reported: vec![
                    "（2）开展涉企收费专项检查".into(),
                    "新建幼儿园3所（已逾期）".into(),
                ],
            },
            SummaryGroup {
                name: "县教育局".into(),
                items: 1,
                reported: 0,
                overdue: 0,
                entries: Vec::new(),
                not_reported: vec!["完成中小学教师轮岗交流".into()],
            },
        ]
    }

    /// Every paragraph's text, in order.
    fn paragraphs(bytes: &[u8]) -> Vec<String> {
        let doc = docx_rs::read_docx(bytes).expect("the document reads back");
        doc.document
            .children
            .iter()
            .filter_map(|c| match c {
                docx_rs::DocumentChild::Paragraph(p) => Some(p.raw_text()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_summary_reads_back_with_its_title_groups_and_reports() {
        let bytes = write_summary_docx(
            "2026年11月督办事项进展汇总",
            "（2026年11月1日—11月30日）",
            &sample(),
        )
        .unwrap();
        assert!(bytes.starts_with(b"PK"));
        let texts = paragraphs(&bytes);
        assert_eq!(texts[0], "2026年11月督办事项进展汇总");
        assert_eq!(texts[1], "（2026年11月1日—11月30日）");
        for wanted in [
            "一、县财政局",
            "本期督办事项3项，报送进展1项，未报送2项，逾期未办结1项。",
            "（一）完成年度重大项目投资计划的80%以上",
            "（县财政局 11月18日报送，完成进度78%）",
            "已完成：1至10月完成投资42.6亿元，占年度计划的78%。",
            "存在问题：2个项目用地报批滞后。",
            "下步打算：加快用地报批。",
            "本期未报送进展的事项：1.开展涉企收费专项检查；2.新建幼儿园3所（已逾期）。",
            "二、县教育局",
            "本期未报送进展的事项：1.完成中小学教师轮岗交流。",
        ] {
            assert!(
                texts.iter().any(|t| t == wanted),
                "{wanted:?} is not a paragraph of {texts:#?}"
            );
        }
        // An empty field gets no paragraph.
        assert!(!texts.iter().any(|t| t.starts_with("需协调事项")));
    }

    #[test]
    fn the_page_is_a4_with_the_official_margins_and_fonts() {
        let bytes = write_summary_docx("标题", "", &sample()).unwrap();
        let doc = docx_rs::read_docx(&bytes).unwrap();
        let margin = &doc.document.section_property.page_margin;
        assert_eq!(
            (margin.top, margin.bottom, margin.left, margin.right),
            (2098, 1984, 1587, 1474)
        );
        let xml = String::from_utf8_lossy(&doc.document.build()).into_owned();
        assert!(
            xml.contains("w:w=\"11906\" w:h=\"16838\""),
            "the page is not A4"
        );
        for font in [TITLE_FONT, BODY_FONT, HEADING_FONT, SUBHEADING_FONT] {
            assert!(xml.contains(font), "{font} is not in the document");
        }
        assert!(xml.contains("w:sz w:val=\"44\""), "the title is not 二号");
        assert!(
            xml.contains("w:firstLine=\"640\""),
            "no two-character indent"
        );
    }

    #[test]
    fn an_empty_summary_says_so() {
        let bytes = write_summary_docx("标题", "", &[]).unwrap();
        let texts = paragraphs(&bytes);
        assert!(texts.iter().any(|t| t == "本期没有需要汇总的督办事项。"));
    }

    #[test]
    fn the_titles_own_numbering_is_dropped() {
        assert_eq!(
            strip_numbering("（1）完成12个老旧小区改造"),
            "完成12个老旧小区改造"
        );
        assert_eq!(strip_numbering("(2) 信访积案清仓见底"), "信访积案清仓见底");
        assert_eq!(strip_numbering("3.建立调度机制"), "建立调度机制");
        assert_eq!(strip_numbering("四、优化营商环境"), "优化营商环境");
        assert_eq!(strip_numbering("（十二）乡村振兴"), "乡村振兴");
        assert_eq!(strip_numbering("3.5亿元项目开工"), "3.5亿元项目开工");
        assert_eq!(strip_numbering("12个老旧小区改造"), "12个老旧小区改造");
        assert_eq!(strip_numbering("（1）"), "（1）");
    }

    #[test]
    fn numbers_are_written_in_chinese() {
        assert_eq!(chinese_number(1), "一");
        assert_eq!(chinese_number(10), "十");
        assert_eq!(chinese_number(12), "十二");
        assert_eq!(chinese_number(20), "二十");
        assert_eq!(chinese_number(99), "九十九");
        assert_eq!(chinese_number(100), "100");
    }
}
