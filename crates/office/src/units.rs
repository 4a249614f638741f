//! Reading an uploaded unit list (单位名单) as county offices make them: an Excel workbook
//! (.xlsx, .xls, .ods) or a CSV file saved by Excel, in UTF-8 or GBK.
//!
//! Offices put a title row above the header, name columns in their own words, and leave
//! thousands of empty formatted rows below the data. This module finds the header row and the
//! columns by their text, skips empty rows and keeps each row's number as the spreadsheet shows
//! it, so that problems found later can point a person at the right cell. Checking the values
//! themselves is the domain's job ([`zhongshu_domain::org::check_unit_rows`]).

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use zhongshu_domain::org::{RowProblem, UnitListRow};

/// The column name used for problems with the whole file.
const FILE_COLUMN: &str = "文件";
const NO_DATA: &str = "没有任何单位数据";
const BAD_ENCODING: &str = "文件编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV";
/// The header row must be within this many rows from the top.
const HEADER_SEARCH_ROWS: usize = 10;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const ZIP_MAGIC: &[u8] = b"PK";
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// A column of the unit list: its name and the other names offices give it.
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) synonyms: &'static [&'static str],
}

impl Column {
    /// The names to look for, the proper one first.
    pub(crate) fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.synonyms.iter().copied())
    }

    /// How a missing column is named in a problem: `“单位类型”（也可写作“类型”“单位类别”）`.
    pub(crate) fn describe(&self) -> String {
        let also: String = self.synonyms.iter().map(|s| format!("“{s}”")).collect();
        format!("“{}”（也可写作{also}）", self.name)
    }
}

const NAME: Column = Column {
    name: "单位名称",
    synonyms: &["单位", "名称", "单位全称"],
};
const PARENT: Column = Column {
    name: "上级单位",
    synonyms: &["上级", "上级部门", "主管单位"],
};
const UNIT_TYPE: Column = Column {
    name: "单位类型",
    synonyms: &["类型", "单位类别"],
};
const KEY_REPORTING: Column = Column {
    name: "重点信息报送单位",
    synonyms: &["重点报送单位", "是否重点信息报送单位", "重点单位"],
};

/// A sheet read as text: each row's number as the spreadsheet shows it (1-based) and its
/// trimmed cells.
type Grid = Vec<(usize, Vec<String>)>;

/// Reads a unit list from an .xlsx/.xls/.ods workbook or a .csv file (UTF-8 with or without
/// BOM, or GBK/GB18030 as Excel saves CSV on Chinese Windows).
///
/// `file_name` decides the format by its extension (case-insensitive); with an unknown
/// extension the bytes are sniffed (zip or OLE magic → workbook, else CSV). A workbook is read
/// from its first sheet.
///
/// Columns are found by their header text (单位名称, 上级单位, 单位类型, 重点信息报送单位, or
/// the names offices commonly use instead); the header row is the first of the top ten rows
/// that names the 单位名称 column, and rows above it are skipped. Rows whose relevant cells are
/// all empty are skipped. Each [`UnitListRow::row`] is the row number the spreadsheet shows.
///
/// # Errors
///
/// Problems with the whole file (not a workbook, unreadable encoding, missing 单位名称 or
/// 单位类型 column, no data) come back as a single [`RowProblem`] with row 0 and column “文件”.
pub fn read_unit_list(file_name: &str, bytes: &[u8]) -> Result<Vec<UnitListRow>, Vec<RowProblem>> {
    if bytes.is_empty() {
        return Err(file_problem(NO_DATA));
    }
    let grid = if is_workbook(file_name, bytes) {
        read_workbook(bytes)?
    } else {
        read_csv(bytes)?
    };
    rows_from_grid(&grid)
}

/// Whether the file is a workbook: by extension, else by its first bytes.
pub(crate) fn is_workbook(file_name: &str, bytes: &[u8]) -> bool {
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.trim().to_ascii_lowercase());
    match extension.as_deref() {
        Some("xlsx" | "xlsm" | "xlsb" | "xls" | "ods") => true,
        Some("csv") => false,
        _ => bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(OLE_MAGIC),
    }
}

pub(crate) fn file_problem(reason: impl Into<String>) -> Vec<RowProblem> {
    vec![RowProblem {
        row: 0,
        column: FILE_COLUMN.to_owned(),
        reason: reason.into(),
    }]
}

pub(crate) fn not_a_workbook(detail: &str) -> Vec<RowProblem> {
    file_problem(format!("文件不是有效的 Excel 工作簿（{detail}）"))
}

/// Reads the first sheet of a workbook as text.
fn read_workbook(bytes: &[u8]) -> Result<Grid, Vec<RowProblem>> {
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| {
        not_a_workbook("无法识别文件格式；如设有打开密码，请先取消密码，再另存为 .xlsx 后上传")
    })?;
    let range = match book.worksheet_range_at(0) {
        None => return Err(not_a_workbook("工作簿中没有工作表")),
        Some(Err(e)) => return Err(not_a_workbook(&format!("第一个工作表无法读取：{e}"))),
        Some(Ok(range)) => range,
    };
    let Some((start_row, _)) = range.start() else {
        return Ok(Grid::new());
    };
    let first_row = usize::try_from(start_row).unwrap_or(usize::MAX);
    Ok(range
        .rows()
        .enumerate()
        .map(|(offset, cells)| {
            let row = first_row.saturating_add(offset).saturating_add(1);
            (row, cells.iter().map(cell_text).collect())
        })
        .collect())
}

/// A workbook cell as trimmed text; integral numbers without “.0”.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::Float(number) => number_text(*number),
        Data::Bool(true) => "是".to_owned(),
        Data::Bool(false) => "否".to_owned(),
        Data::String(text) => text.trim().to_owned(),
        other => other.to_string().trim().to_owned(),
    }
}

pub(crate) fn number_text(number: f64) -> String {
    // Below 2^53 every integral float is exactly an i64.
    if number.is_finite() && number.trunc() == number && number.abs() < 9.0e15 {
        format!("{}", number as i64)
    } else {
        number.to_string()
    }
}

/// Decodes a CSV file: UTF-8 (a BOM is dropped), else GB18030, which includes GBK.
fn decode_csv(bytes: &[u8]) -> Result<Cow<'_, str>, Vec<RowProblem>> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    // UTF-16 ("Unicode 文本") would decode as GB18030 without errors, into nonsense.
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(file_problem(BAD_ENCODING));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            if had_errors {
                return Err(file_problem(BAD_ENCODING));
            }
            text
        }
    };
    if text.contains('\0') {
        return Err(file_problem(BAD_ENCODING));
    }
    Ok(text)
}

/// Reads a CSV file as text, numbering rows as Excel shows them when it opens the file.
pub(crate) fn read_csv(bytes: &[u8]) -> Result<Grid, Vec<RowProblem>> {
    let text = decode_csv(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Grid::new();
    // The csv crate skips blank lines, which Excel shows as rows, and its line numbers lag
    // behind after CRLF, so rows are counted here: the line breaks before where a record
    // starts, less those inside earlier quoted cells, which Excel shows within one row.
    let mut scanned = 0usize;
    let mut breaks_before = 0usize;
    let mut breaks_in_cells = 0usize;
    let mut last_row = 0usize;
    for record in reader.records() {
        let record = record.map_err(|e| file_problem(format!("CSV 文件格式有误（{e}）")))?;
        let read_from = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(scanned)
            .clamp(scanned, text.len());
        let start = read_from
            + text.as_bytes()[read_from..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        breaks_before += text.get(scanned..start).map_or(0, line_breaks);
        scanned = start;
        let row = (breaks_before + 1)
            .saturating_sub(breaks_in_cells)
            .max(last_row + 1);
        breaks_in_cells += record.iter().map(line_breaks).sum::<usize>();
        last_row = row;
        grid.push((
            row,
            record.iter().map(|cell| cell.trim().to_owned()).collect(),
        ));
    }
    Ok(grid)
}

/// Line breaks as Excel counts them: CRLF, LF or a lone CR.
fn line_breaks(text: &str) -> usize {
    let bytes = text.as_bytes();
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count()
}

/// A header cell as matched: trimmed, with spaces (half- and full-width), line breaks,
/// “required” asterisks and a trailing note in brackets (`单位类型（乡镇/街道）`) removed.
pub(crate) fn header_key(cell: &str) -> String {
    let key: String = cell
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\u{feff}' | '\u{200b}' | '*' | '＊'))
        .collect();
    match key.find(['（', '(']) {
        Some(at) if at > 0 && key.ends_with(['）', ')']) => key[..at].to_owned(),
        _ => key,
    }
}

/// The index of a column in a header row, preferring the column's proper name to a synonym.
pub(crate) fn find_column(keys: &[String], column: &Column) -> Option<usize> {
    column
        .names()
        .find_map(|name| keys.iter().position(|key| key == name))
}

fn is_blank(cells: &[String]) -> bool {
    cells.iter().all(String::is_empty)
}

/// Finds the header row and the columns, then reads the data rows below it.
fn rows_from_grid(grid: &[(usize, Vec<String>)]) -> Result<Vec<UnitListRow>, Vec<RowProblem>> {
    if grid.iter().all(|(_, cells)| is_blank(cells)) {
        return Err(file_problem(NO_DATA));
    }
    let header = grid
        .iter()
        .take(HEADER_SEARCH_ROWS)
        .enumerate()
        .map(|(index, (_, cells))| (index, cells.iter().map(|c| header_key(c)).collect()))
        .find(|(_, keys): &(usize, Vec<String>)| find_column(keys, &NAME).is_some());
    let Some((header_index, keys)) = header else {
        // No header row: show the first row with anything in it, which is most likely what
        // the office meant as its header.
        let shown = grid
            .iter()
            .map(|(_, cells)| cells)
            .find(|cells| !is_blank(cells))
            .map(|cells| cells.iter().map(|c| header_key(c)).collect::<Vec<_>>())
            .unwrap_or_default();
        return Err(missing_columns(&shown, false));
    };
    let (Some(name), Some(unit_type)) = (find_column(&keys, &NAME), find_column(&keys, &UNIT_TYPE))
    else {
        return Err(missing_columns(&keys, true));
    };
    let parent = find_column(&keys, &PARENT);
    let key_reporting = find_column(&keys, &KEY_REPORTING);

    let cell = |cells: &[String], index: Option<usize>| -> String {
        index
            .and_then(|i| cells.get(i))
            .cloned()
            .unwrap_or_default()
    };
    let rows: Vec<UnitListRow> = grid
        .iter()
        .skip(header_index + 1)
        .map(|(row, cells)| UnitListRow {
            row: *row,
            name: cell(cells, Some(name)),
            parent: cell(cells, parent),
            unit_type: cell(cells, Some(unit_type)),
            key_reporting: cell(cells, key_reporting),
        })
        .filter(|r| {
            !(r.name.is_empty()
                && r.parent.is_empty()
                && r.unit_type.is_empty()
                && r.key_reporting.is_empty())
        })
        .collect();
    if rows.is_empty() {
        return Err(file_problem(NO_DATA));
    }
    Ok(rows)
}

/// The problem for a header row (or, when `header_found` is false, the row taken for one)
/// lacking 单位名称 or 单位类型.
fn missing_columns(keys: &[String], header_found: bool) -> Vec<RowProblem> {
    let missing: Vec<String> = [&NAME, &UNIT_TYPE]
        .into_iter()
        .filter(|column| find_column(keys, column).is_none())
        .map(Column::describe)
        .collect();
    let found: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| !k.is_empty())
        .collect();
    let found = if found.is_empty() {
        "文件中没有找到任何列标题".to_owned()
    } else {
        format!("文件中找到的列：{}", found.join("、"))
    };
    let hint = if header_found {
        String::new()
    } else {
        format!("。列标题行应在前{HEADER_SEARCH_ROWS}行内")
    };
    file_problem(format!("缺少{}列；{found}{hint}", missing.join("、")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_xlsxwriter::{Format, FormatBorder, Workbook};

    const SAMPLE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/sample-units.csv"
    );

    const UTF8_LIST: &str = "单位名称,上级单位,单位类型,重点信息报送单位\n\
                             县委办公室,,县直部门,否\n\
                             溪口镇,,乡镇,是\n\
                             溪口镇党政办,溪口镇,办公室,\n";

    fn only_problem(result: Result<Vec<UnitListRow>, Vec<RowProblem>>) -> RowProblem {
        let problems = result.unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        let problem = problems.into_iter().next().unwrap();
        assert_eq!(problem.row, 0);
        assert_eq!(problem.column, "文件");
        problem
    }

    fn unit(row: usize, name: &str, parent: &str, unit_type: &str, key: &str) -> UnitListRow {
        UnitListRow {
            row,
            name: name.to_owned(),
            parent: parent.to_owned(),
            unit_type: unit_type.to_owned(),
            key_reporting: key.to_owned(),
        }
    }

    #[test]
    fn the_project_sample_unit_list_reads_all_eighteen_units() {
        let Ok(bytes) = std::fs::read(SAMPLE) else {
            println!("跳过：没有找到示例单位名单 {SAMPLE}");
            return;
        };
        let rows = read_unit_list("sample-units.csv", &bytes).unwrap();
        assert_eq!(rows.len(), 18);
        assert_eq!(rows[0].name, "县委办公室");
        assert_eq!(rows[0].row, 2);
        let xikou = rows.iter().find(|r| r.name == "溪口镇").unwrap();
        assert_eq!(xikou.unit_type, "乡镇");
        assert_eq!(xikou.key_reporting, "是");
    }

    #[test]
    fn a_gbk_encoded_csv_reads_the_same_as_utf8() {
        let (gbk, _, had_errors) = encoding_rs::GBK.encode(UTF8_LIST);
        assert!(!had_errors);
        assert!(
            std::str::from_utf8(&gbk).is_err(),
            "the fixture must not be UTF-8"
        );
        let from_gbk = read_unit_list("单位名单.CSV", &gbk).unwrap();
        let from_utf8 = read_unit_list("单位名单.csv", UTF8_LIST.as_bytes()).unwrap();
        assert_eq!(from_gbk, from_utf8);
        assert_eq!(
            from_gbk,
            vec![
                unit(2, "县委办公室", "", "县直部门", "否"),
                unit(3, "溪口镇", "", "乡镇", "是"),
                unit(4, "溪口镇党政办", "溪口镇", "办公室", ""),
            ]
        );
    }

    #[test]
    fn a_csv_with_a_utf8_bom_reads() {
        let mut bytes = UTF8_BOM.to_vec();
        bytes.extend_from_slice(UTF8_LIST.as_bytes());
        let rows = read_unit_list("units.csv", &bytes).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], unit(2, "县委办公室", "", "县直部门", "否"));
    }

    #[test]
    fn an_xlsx_with_a_title_row_synonym_headers_and_empty_formatted_rows_reads_its_data_rows() {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "明湖县单位名单").unwrap();
        for (col, text) in ["单位", "上级部门", "类型"].into_iter().enumerate() {
            sheet.write_string(1, col as u16, text).unwrap();
        }
        let data = [
            ["县委办公室", "", "县直部门"],
            ["溪口镇", "", "乡镇"],
            ["溪口镇党政办", "溪口镇", "办公室"],
        ];
        for (i, cells) in data.iter().enumerate() {
            for (col, text) in cells.iter().enumerate() {
                if !text.is_empty() {
                    sheet.write_string(2 + i as u32, col as u16, *text).unwrap();
                }
            }
        }
        let bordered = Format::new().set_border(FormatBorder::Thin);
        for row in 5..205 {
            for col in 0..3 {
                sheet.write_blank(row, col, &bordered).unwrap();
            }
        }
        // Calamine drops formatted blank cells; cells holding only spaces are read, as rows.
        sheet.write_string(150, 0, " ").unwrap();
        sheet.write_string(204, 2, "\u{3000}").unwrap();
        let bytes = book.save_to_buffer().unwrap();

        let grid = read_workbook(&bytes).unwrap();
        assert_eq!(grid.last().map(|(row, _)| *row), Some(205));
        let rows = read_unit_list("单位名单.xlsx", &bytes).unwrap();
        assert_eq!(
            rows,
            vec![
                unit(3, "县委办公室", "", "县直部门", ""),
                unit(4, "溪口镇", "", "乡镇", ""),
                unit(5, "溪口镇党政办", "溪口镇", "办公室", ""),
            ]
        );
    }

    #[test]
    fn numbers_in_a_workbook_read_as_integers_and_an_unknown_extension_is_sniffed() {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "单位名称").unwrap();
        sheet.write_string(0, 1, "单位类型").unwrap();
        sheet.write_string(0, 2, "重点单位").unwrap();
        sheet.write_number(1, 0, 101.0).unwrap();
        sheet.write_string(1, 1, "其他").unwrap();
        sheet.write_number(1, 2, 1.0).unwrap();
        sheet.write_number(2, 0, 2.5).unwrap();
        sheet.write_string(2, 1, "其他").unwrap();
        sheet.write_boolean(2, 2, false).unwrap();
        let bytes = book.save_to_buffer().unwrap();

        let rows = read_unit_list("upload", &bytes).unwrap();
        assert_eq!(
            rows,
            vec![
                unit(2, "101", "", "其他", "1"),
                unit(3, "2.5", "", "其他", "否"),
            ]
        );
    }

    #[test]
    fn a_plain_text_file_named_xlsx_is_not_an_excel_workbook() {
        let problem = only_problem(read_unit_list(
            "单位名单.xlsx",
            b"this is not a spreadsheet",
        ));
        assert!(problem.reason.contains("Excel"), "{}", problem.reason);
        assert!(
            problem.reason.starts_with("文件不是有效的 Excel 工作簿（"),
            "{}",
            problem.reason
        );
    }

    #[test]
    fn a_truncated_xlsx_is_not_an_excel_workbook() {
        let mut book = Workbook::new();
        book.add_worksheet().write_string(0, 0, "单位名称").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let problem = only_problem(read_unit_list("a.xlsx", &bytes[..bytes.len() / 2]));
        assert!(problem.reason.contains("Excel"), "{}", problem.reason);
    }

    #[test]
    fn a_csv_without_the_unit_type_column_names_the_missing_column() {
        let csv = "单位名称,上级单位\n县委办公室,\n";
        let problem = only_problem(read_unit_list("units.csv", csv.as_bytes()));
        assert!(problem.reason.contains("单位类型"), "{}", problem.reason);
        assert!(
            problem
                .reason
                .contains("文件中找到的列：单位名称、上级单位"),
            "{}",
            problem.reason
        );
        assert!(
            !problem.reason.contains("“单位名称”（"),
            "{}",
            problem.reason
        );
    }

    #[test]
    fn a_csv_without_any_header_row_names_both_required_columns() {
        let csv = "县委办公室,县直部门\n溪口镇,乡镇\n";
        let problem = only_problem(read_unit_list("units.csv", csv.as_bytes()));
        assert!(problem.reason.contains("“单位名称”"), "{}", problem.reason);
        assert!(problem.reason.contains("“单位类型”"), "{}", problem.reason);
    }

    #[test]
    fn headers_are_matched_without_spaces_asterisks_or_bracketed_notes() {
        let csv = "序号, 单 位 名 称 ,*单位\u{3000}类型,是否重点信息报送单位（是/否）\n\
                   1,县委办公室,县直部门,是\n";
        let rows = read_unit_list("units.csv", csv.as_bytes()).unwrap();
        assert_eq!(rows, vec![unit(2, "县委办公室", "", "县直部门", "是")]);
    }

    #[test]
    fn an_empty_file_or_a_header_alone_has_no_unit_data() {
        for (name, bytes) in [
            ("units.csv", &b""[..]),
            ("units.xlsx", &b""[..]),
            ("units.csv", "单位名称,单位类型\n,\n\n".as_bytes()),
            ("units.csv", " \n".as_bytes()),
        ] {
            let problem = only_problem(read_unit_list(name, bytes));
            assert_eq!(problem.reason, "没有任何单位数据", "{name} {bytes:?}");
        }
    }

    #[test]
    fn csv_rows_are_numbered_as_excel_shows_them() {
        for newline in ["\r\n", "\n", "\r"] {
            let csv = [
                "明湖县单位名单",
                "",
                "单位名称,单位类型",
                "\"县委\n办公室\",县直部门",
                "",
                ",",
                "溪口镇,乡镇",
                "",
            ]
            .join(newline);
            let rows = read_unit_list("units.csv", csv.as_bytes()).unwrap();
            let numbers: Vec<(usize, &str)> =
                rows.iter().map(|r| (r.row, r.name.as_str())).collect();
            assert_eq!(
                numbers,
                vec![(4, "县委\n办公室"), (7, "溪口镇")],
                "{newline:?}"
            );
        }
    }

    #[test]
    fn a_csv_in_neither_utf8_nor_gbk_reports_its_encoding() {
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "单位名称,单位类型\n".encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        for bytes in [&b"\xFF\xFF,\x80\n"[..], &utf16[..]] {
            let problem = only_problem(read_unit_list("units.csv", bytes));
            assert_eq!(
                problem.reason,
                "文件编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV"
            );
        }
    }
}
