//! Reading a 任务分解表 (task decomposition table) as county offices make them: an Excel
//! workbook (.xlsx, .xls, .ods) or a CSV file saved by Excel, in UTF-8 or GBK.
//!
//! Such a table breaks the year's 重点任务 into 具体措施, each with a 牵头单位, its 责任单位 and
//! a 完成时限. Offices put a merged title above the header, group the rows under category rows
//! (“一、推动经济高质量发展”, merged across the table), merge each 重点任务 and its 序号 over
//! the rows of its measures (or, in CSV, write them only on the first one), list several units
//! in one cell and leave thousands of empty formatted rows below the data. This module reads
//! one [`TaskRow`] per 具体措施, with the category and the 重点任务 it belongs to and the row
//! number the spreadsheet shows. Checking the values is the domain's job.

use std::collections::HashSet;
use std::io::Cursor;

use calamine::{Data, Dimensions, ExcelDateTime, Reader, Sheets, open_workbook_auto_from_rs};
use zhongshu_domain::org::RowProblem;

use crate::units::{
    Column, file_problem, find_column, header_key, is_workbook, not_a_workbook, number_text,
    read_csv,
};

const NO_DATA: &str = "没有任何任务数据";
/// The header row must be within this many rows from the top.
const HEADER_SEARCH_ROWS: usize = 15;

const SEQ: Column = Column {
    name: "序号",
    synonyms: &["编号", "序"],
};
const TASK: Column = Column {
    name: "重点任务",
    synonyms: &["重点工作", "主要任务", "任务", "工作任务"],
};
const MEASURE: Column = Column {
    name: "具体措施",
    synonyms: &["措施", "工作措施", "具体任务", "主要措施", "工作内容"],
};
const LEAD: Column = Column {
    name: "牵头单位",
    synonyms: &["牵头部门", "主责单位", "责任牵头单位"],
};
const CO_UNITS: Column = Column {
    name: "责任单位",
    synonyms: &["配合单位", "协办单位", "参与单位", "责任部门"],
};
const LEADER: Column = Column {
    name: "责任领导",
    synonyms: &["分管领导", "牵头领导", "县级领导"],
};
const PERSON: Column = Column {
    name: "责任人",
    synonyms: &["具体责任人", "联系人", "经办人"],
};
const DEADLINE: Column = Column {
    name: "完成时限",
    synonyms: &["完成时间", "时限要求", "完成期限", "时间节点", "时限"],
};
const NOTE: Column = Column {
    name: "备注",
    synonyms: &["说明"],
};
const ALL_COLUMNS: [&Column; 9] = [
    &SEQ, &TASK, &MEASURE, &LEAD, &CO_UNITS, &LEADER, &PERSON, &DEADLINE, &NOTE,
];

/// One 具体措施 row of the table: one item. The type lives in the domain, which checks it.
pub use zhongshu_domain::supervision::TaskRow;

/// Reads a task decomposition table from an .xlsx/.xls/.ods workbook (its first sheet) or a
/// .csv file (UTF-8 with or without BOM, or GBK/GB18030).
///
/// `file_name` decides the format by its extension (case-insensitive); with an unknown
/// extension the bytes are sniffed. The header row is the first of the top fifteen rows that
/// names a 具体措施 column, or both 重点任务 and 牵头单位 (a second header row right below
/// it, as under a merged “责任单位” over “牵头单位 | 配合单位”, is read with it); rows above it
/// are skipped. Columns are found by their text in any order, under their proper names or
/// those offices commonly use instead.
///
/// A value in a merged cell applies down every row of the merged region (and into the
/// 具体措施 column when merged across it); 序号 and 重点任务 left blank under the first
/// measure of a group are filled down too. A row with one heading (“一、…”, “（一）…”, or text
/// alone in the first columns, or merged across the table) sets the category of the rows
/// below it. Rows without a 具体措施, a 牵头单位 and a 完成时限 are skipped; a row with a
/// 具体措施 but no 牵头单位 or 完成时限 is returned for the domain to report.
///
/// # Errors
///
/// Problems with the whole file (not a workbook, unreadable encoding, missing 具体措施,
/// 牵头单位 or 完成时限 column, no data) come back as a single [`RowProblem`] with row 0 and
/// column “文件”.
pub fn read_task_table(file_name: &str, bytes: &[u8]) -> Result<Vec<TaskRow>, Vec<RowProblem>> {
    if bytes.is_empty() {
        return Err(file_problem(NO_DATA));
    }
    let sheet = if is_workbook(file_name, bytes) {
        read_workbook(bytes)?
    } else {
        read_csv_sheet(bytes)?
    };
    rows_from_sheet(sheet)
}

/// A sheet read as text: its rows that have anything written in them, and its merged cells.
#[derive(Debug, Default)]
struct Sheet {
    /// In order of their row numbers.
    rows: Vec<SheetRow>,
    merges: Vec<Merge>,
}

#[derive(Debug)]
struct SheetRow {
    /// The row number as the spreadsheet shows it (1-based).
    number: usize,
    /// Trimmed cell text; merged values are filled in later.
    cells: Vec<String>,
    /// The column of the only non-empty cell as written, if there is exactly one.
    lone_cell: Option<usize>,
}

impl SheetRow {
    /// A row as written, or `None` when every cell is empty.
    fn new(number: usize, cells: Vec<String>) -> Option<SheetRow> {
        let mut written = cells.iter().enumerate().filter(|(_, c)| !c.is_empty());
        let first = written.next()?.0;
        let lone_cell = written.next().is_none().then_some(first);
        Some(SheetRow {
            number,
            cells,
            lone_cell,
        })
    }

    fn cell(&self, column: Option<usize>) -> &str {
        column
            .and_then(|c| self.cells.get(c))
            .map_or("", String::as_str)
    }
}

/// A merged region: rows by the numbers the spreadsheet shows, columns as indexes into
/// [`SheetRow::cells`]. Its value is in its first cell.
#[derive(Clone, Copy, Debug)]
struct Merge {
    first_row: usize,
    last_row: usize,
    first_col: usize,
    last_col: usize,
}

impl Merge {
    fn covers_columns(&self, columns: &[usize]) -> bool {
        columns
            .iter()
            .all(|c| (self.first_col..=self.last_col).contains(c))
    }
}

impl Sheet {
    fn position(&self, number: usize) -> Result<usize, usize> {
        self.rows.binary_search_by_key(&number, |r| r.number)
    }

    /// The value of a merged region, from its first cell.
    fn merged_value(&self, merge: &Merge) -> Option<String> {
        let index = self.position(merge.first_row).ok()?;
        self.rows[index]
            .cells
            .get(merge.first_col)
            .filter(|text| !text.is_empty())
            .cloned()
    }

    /// The rows of a merged region that are in the sheet, from `from` on.
    fn merged_rows(&self, merge: &Merge, from: usize) -> std::ops::Range<usize> {
        let (Ok(start) | Err(start)) = self.position(merge.first_row);
        let start = start.max(from);
        let end = start
            + self.rows[start.min(self.rows.len())..]
                .iter()
                .take_while(|r| r.number <= merge.last_row)
                .count();
        start..end
    }

    /// The header keys of a row, with merged values filled both down and across, as a
    /// heading merged over two columns or two header rows names all of them.
    fn header_keys(&self, index: usize) -> Vec<String> {
        let Some(row) = self.rows.get(index) else {
            return Vec::new();
        };
        let mut cells = row.cells.clone();
        for merge in &self.merges {
            if !(merge.first_row..=merge.last_row).contains(&row.number) {
                continue;
            }
            let Some(value) = self.merged_value(merge) else {
                continue;
            };
            for cell in cells
                .iter_mut()
                .take(merge.last_col.saturating_add(1))
                .skip(merge.first_col)
            {
                if cell.is_empty() {
                    cell.clone_from(&value);
                }
            }
        }
        cells.iter().map(|c| header_key(c)).collect()
    }

    /// Fills merged values into the data rows (from index `from` on): down the region's
    /// first column, and into the item column when the region spans it (a 重点任务 merged
    /// across the 具体措施 column is its own measure). Other columns a region spans keep
    /// their own (empty) cells: a 牵头单位 merged over the 责任单位 column is no 责任单位.
    fn fill_merges(&mut self, from: usize, item: usize) {
        let merges = std::mem::take(&mut self.merges);
        for merge in &merges {
            let Some(value) = self.merged_value(merge) else {
                continue;
            };
            let rows = self.merged_rows(merge, from);
            for row in &mut self.rows[rows] {
                for col in [merge.first_col, item] {
                    if (merge.first_col..=merge.last_col).contains(&col)
                        && let Some(cell) = row.cells.get_mut(col)
                        && cell.is_empty()
                    {
                        cell.clone_from(&value);
                    }
                }
            }
        }
        self.merges = merges;
    }

    /// The numbers of the rows (from index `from` on) inside a region merged across all of
    /// the given columns: a heading written across the table.
    fn rows_merged_across(&self, from: usize, columns: &[usize]) -> HashSet<usize> {
        self.merges
            .iter()
            .filter(|m| m.covers_columns(columns))
            .flat_map(|m| {
                self.rows[self.merged_rows(m, from)]
                    .iter()
                    .map(|r| r.number)
            })
            .collect()
    }
}

fn index(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Reads the first sheet of a workbook, with its merged cells (.xlsx and .xls).
fn read_workbook(bytes: &[u8]) -> Result<Sheet, Vec<RowProblem>> {
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| {
        not_a_workbook("无法识别文件格式；如设有打开密码，请先取消密码，再另存为 .xlsx 后上传")
    })?;
    let Some(name) = book.sheet_names().into_iter().next() else {
        return Err(not_a_workbook("工作簿中没有工作表"));
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| not_a_workbook(&format!("第一个工作表无法读取：{e}")))?;
    let Some((start_row, start_col)) = range.start() else {
        return Ok(Sheet::default());
    };
    // Merged cells only help to read the table: a sheet whose merges cannot be read is read
    // without them (blank 序号 and 重点任务 cells are still filled down).
    let regions = match &mut book {
        Sheets::Xlsx(xlsx) => xlsx.merge_cells_by_sheet_name(&name).unwrap_or_default(),
        Sheets::Xls(xls) => xls.merge_cells_by_sheet_name(&name).unwrap_or_default(),
        _ => Vec::new(),
    };
    let first_row = index(start_row).saturating_add(1);
    let rows = range
        .rows()
        .enumerate()
        .filter(|(_, cells)| !cells.iter().all(is_blank_cell))
        .filter_map(|(offset, cells)| {
            SheetRow::new(
                first_row.saturating_add(offset),
                cells.iter().map(cell_text).collect(),
            )
        })
        .collect();
    let width = range.width();
    let merges = regions
        .iter()
        .filter_map(|region| merge_in_range(region, (start_row, start_col), width))
        .collect();
    Ok(Sheet { rows, merges })
}

/// A merged region relative to a sheet range starting at `start` (0-based row and column)
/// `width` columns wide; `None` when its first cell, which holds its value, is outside.
fn merge_in_range(region: &Dimensions, start: (u32, u32), width: usize) -> Option<Merge> {
    let (top, left) = region.start;
    let (bottom, right) = region.end;
    if top < start.0 || left < start.1 {
        return None;
    }
    let first_col = index(left - start.1);
    if first_col >= width {
        return None;
    }
    let last_col = index(right.saturating_sub(start.1))
        .min(width - 1)
        .max(first_col);
    let first_row = index(top).saturating_add(1);
    let last_row = index(bottom).saturating_add(1).max(first_row);
    (last_row > first_row || last_col > first_col).then_some(Merge {
        first_row,
        last_row,
        first_col,
        last_col,
    })
}

fn is_blank_cell(cell: &Data) -> bool {
    match cell {
        Data::Empty => true,
        Data::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

/// A workbook cell as trimmed text: integral numbers without “.0”, dates as “2025-06-30”.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) => text.trim().to_owned(),
        Data::Float(number) => number_text(*number),
        Data::Bool(true) => "是".to_owned(),
        Data::Bool(false) => "否".to_owned(),
        Data::DateTime(value) => date_time_text(value),
        Data::DateTimeIso(text) => {
            let text = text.trim();
            text.strip_suffix("T00:00:00").unwrap_or(text).to_owned()
        }
        other => other.to_string().trim().to_owned(),
    }
}

/// An Excel date (a serial number of days since 1899-12-30, or 1904-01-01 in a workbook so
/// set) as “2025-06-30”, with “ 17:30” when it has a time of day; a time alone as “17:30”.
fn date_time_text(value: &ExcelDateTime) -> String {
    let serial = value.as_f64();
    if !value.is_datetime() || !serial.is_finite() || serial < 0.0 {
        return number_text(serial);
    }
    let (year, month, day, hour, minute, second, _) = value.to_ymd_hms_milli();
    let time = match (hour, minute, second) {
        (0, 0, 0) => String::new(),
        (_, _, 0) => format!("{hour:02}:{minute:02}"),
        _ => format!("{hour:02}:{minute:02}:{second:02}"),
    };
    if serial < 1.0 && !time.is_empty() {
        return time;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if time.is_empty() {
        date
    } else {
        format!("{date} {time}")
    }
}

/// Reads a CSV file (no merged cells), keeping the row numbers Excel shows.
fn read_csv_sheet(bytes: &[u8]) -> Result<Sheet, Vec<RowProblem>> {
    let rows = read_csv(bytes)?
        .into_iter()
        .filter_map(|(number, cells)| SheetRow::new(number, cells))
        .collect();
    Ok(Sheet {
        rows,
        merges: Vec::new(),
    })
}

/// Where the table's columns are.
#[derive(Debug)]
struct Columns {
    seq: Option<usize>,
    task: Option<usize>,
    measure: Option<usize>,
    lead: usize,
    co_units: Option<usize>,
    leader: Option<usize>,
    person: Option<usize>,
    deadline: usize,
    note: Option<usize>,
    /// The column that names an item: 具体措施, else 重点任务.
    item: usize,
}

impl Columns {
    /// Finds the columns in a header row, or names the required ones it lacks.
    fn find(keys: &[String]) -> Result<Columns, Vec<&'static Column>> {
        let measure = find_column(keys, &MEASURE);
        let task = find_column(keys, &TASK);
        let item = measure.or(task);
        let lead = find_column(keys, &LEAD);
        let deadline = find_column(keys, &DEADLINE);
        let (Some(item), Some(lead), Some(deadline)) = (item, lead, deadline) else {
            let mut missing = Vec::new();
            if item.is_none() {
                missing.push(&MEASURE);
            }
            if lead.is_none() {
                missing.push(&LEAD);
            }
            if deadline.is_none() {
                missing.push(&DEADLINE);
            }
            return Err(missing);
        };
        Ok(Columns {
            seq: find_column(keys, &SEQ),
            task,
            measure,
            lead,
            co_units: find_column(keys, &CO_UNITS),
            leader: find_column(keys, &LEADER),
            person: find_column(keys, &PERSON),
            deadline,
            note: find_column(keys, &NOTE),
            item,
        })
    }

    /// The columns holding an item's details, where a lone text is no heading.
    fn is_detail(&self, col: usize) -> bool {
        col == self.lead
            || col == self.deadline
            || [self.co_units, self.leader, self.person, self.note].contains(&Some(col))
    }

    fn is_named(&self, col: usize) -> bool {
        col == self.item
            || self.is_detail(col)
            || [self.seq, self.task, self.measure].contains(&Some(col))
    }
}

fn is_known_name(key: &str) -> bool {
    ALL_COLUMNS
        .iter()
        .any(|column| column.names().any(|name| name == key))
}

/// Whether a row (as header keys) is the header: it names a 具体措施 column, or both a
/// 重点任务 and a 牵头单位 column.
fn is_header(keys: &[String]) -> bool {
    find_column(keys, &MEASURE).is_some()
        || (find_column(keys, &TASK).is_some() && find_column(keys, &LEAD).is_some())
}

/// Whether a row below the header is a second header row: only column names.
fn is_sub_header(keys: &[String]) -> bool {
    let mut names = keys.iter().filter(|k| !k.is_empty()).peekable();
    names.peek().is_some() && names.all(|k| is_known_name(k))
}

/// Finds the header and the columns, fills merged and blank cells, then reads the items.
fn rows_from_sheet(mut sheet: Sheet) -> Result<Vec<TaskRow>, Vec<RowProblem>> {
    if sheet.rows.is_empty() {
        return Err(file_problem(NO_DATA));
    }
    let top: Vec<Vec<String>> = (0..sheet.rows.len().min(HEADER_SEARCH_ROWS))
        .map(|index| sheet.header_keys(index))
        .collect();
    let Some(header_index) = top.iter().position(|keys| is_header(keys)) else {
        return Err(missing_columns(&likely_header(&top), false));
    };
    let mut keys = top[header_index].clone();
    let mut data_start = header_index + 1;
    let below = sheet.header_keys(data_start);
    if is_sub_header(&below) {
        if keys.len() < below.len() {
            keys.resize(below.len(), String::new());
        }
        for (key, sub) in keys.iter_mut().zip(below) {
            if !sub.is_empty() {
                *key = sub;
            }
        }
        data_start += 1;
    }
    let columns = Columns::find(&keys).map_err(|_| missing_columns(&keys, true))?;
    sheet.fill_merges(data_start, columns.item);
    let across =
        sheet.rows_merged_across(data_start, &[columns.item, columns.lead, columns.deadline]);

    let mut items = Vec::new();
    let mut category = "";
    // The 序号 and 重点任务 of the group the rows belong to, for cells left blank below it.
    let mut group: (&str, &str) = ("", "");
    for row in sheet.rows.iter().skip(data_start) {
        if let Some(heading) = heading(row, &columns, across.contains(&row.number)) {
            category = heading;
            group = ("", "");
            continue;
        }
        let mut seq = row.cell(columns.seq);
        let mut task = row.cell(columns.task);
        let measure = row.cell(Some(columns.item));
        let lead_unit = row.cell(Some(columns.lead));
        let deadline = row.cell(Some(columns.deadline));
        if columns.measure.is_some() {
            if !task.is_empty() {
                group = (seq, task);
            } else if !measure.is_empty() && (seq.is_empty() || seq == group.0) {
                task = group.1;
                if seq.is_empty() {
                    seq = group.0;
                }
            }
        }
        if measure.is_empty() && lead_unit.is_empty() && deadline.is_empty() {
            continue;
        }
        if is_repeated_header(measure, lead_unit) {
            continue;
        }
        items.push(TaskRow {
            row: row.number,
            category: category.to_owned(),
            seq: seq.to_owned(),
            task: task.to_owned(),
            measure: measure.to_owned(),
            lead_unit: lead_unit.to_owned(),
            co_units: split_units(row.cell(columns.co_units)),
            leader: row.cell(columns.leader).to_owned(),
            person: row.cell(columns.person).to_owned(),
            deadline: deadline.to_owned(),
            note: row.cell(columns.note).to_owned(),
        });
    }
    if items.is_empty() {
        return Err(file_problem(NO_DATA));
    }
    Ok(items)
}

/// A header row repeated among the data, as when two tables are pasted one under another.
fn is_repeated_header(measure: &str, lead_unit: &str) -> bool {
    let measure = header_key(measure);
    let lead_unit = header_key(lead_unit);
    (MEASURE.names().any(|n| n == measure) || TASK.names().any(|n| n == measure))
        && LEAD.names().any(|n| n == lead_unit)
}

/// The heading a row sets as the category of the rows below, if it is a category row: one
/// text alone on its row, merged across the table, or numbered as a heading (“一、”,
/// “（一）”), or written in the first columns (序号 or an unnamed one) where no item detail
/// goes.
fn heading<'a>(row: &'a SheetRow, columns: &Columns, merged_across: bool) -> Option<&'a str> {
    let col = row.lone_cell?;
    let text = row.cells.get(col)?.as_str();
    let is_heading = if merged_across || is_top_heading(text) {
        true
    } else if col == columns.item || columns.is_detail(col) {
        // A measure or a detail alone is an incomplete item, for the domain to report.
        false
    } else if is_sub_heading(text) {
        true
    } else if columns.seq == Some(col) || (!columns.is_named(col) && col < columns.item) {
        !is_plain_number(text)
    } else {
        // A 重点任务 alone on its row: the measures below belong to it.
        false
    };
    is_heading.then_some(text)
}

fn is_chinese_numeral(c: char) -> bool {
    "一二三四五六七八九十百零〇两".contains(c)
}

/// “一、…”, “一．…”, “第一部分…”: a top-level heading.
fn is_top_heading(text: &str) -> bool {
    let rest = text.trim_start_matches(is_chinese_numeral);
    if rest.len() < text.len() && rest.starts_with(['、', '．', '.']) {
        return true;
    }
    let Some(rest) = text.strip_prefix('第') else {
        return false;
    };
    let rest = rest.trim_start_matches(|c: char| is_chinese_numeral(c) || c.is_ascii_digit());
    rest.len() + '第'.len_utf8() < text.len()
        && ["部分", "章", "篇", "类", "方面", "板块"]
            .iter()
            .any(|unit| rest.starts_with(unit))
}

/// “（一）…”, “(一)…”: a second-level heading.
fn is_sub_heading(text: &str) -> bool {
    let Some(rest) = text.strip_prefix(['（', '(']) else {
        return false;
    };
    let after = rest.trim_start_matches(is_chinese_numeral);
    after.len() < rest.len() && after.starts_with(['）', ')'])
}

/// “1”, “1.”, “2、”: a 序号 alone.
fn is_plain_number(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '、' | '．'))
}

/// Splits a 责任单位 cell into units: on 、，,/；; and whitespace, but not inside brackets
/// (“县教育局（县体育局、县语委办）” is one unit). Empty parts and repeats are dropped.
fn split_units(text: &str) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    let mut push = |part: &str| {
        let part = part.trim();
        if !part.is_empty() && !units.iter().any(|u| u == part) {
            units.push(part.to_owned());
        }
    };
    let mut depth = 0usize;
    let mut start = 0;
    for (at, c) in text.char_indices() {
        match c {
            '（' | '(' | '【' | '[' => depth += 1,
            '）' | ')' | '】' | ']' => depth = depth.saturating_sub(1),
            '、' | '，' | ',' | '/' | '／' | '；' | ';' => {}
            c if c.is_whitespace() => {}
            _ => continue,
        }
        if depth == 0 && !matches!(c, '）' | ')' | '】' | ']') {
            push(&text[start..at]);
            start = at + c.len_utf8();
        }
    }
    push(&text[start..]);
    units
}

/// The row most likely meant as the header when none names the columns needed: the one
/// naming the most known columns, else the first with anything in it.
fn likely_header(top: &[Vec<String>]) -> Vec<String> {
    let known = |keys: &Vec<String>| keys.iter().filter(|k| is_known_name(k)).count();
    top.iter()
        .filter(|keys| known(keys) > 0)
        .fold(None::<&Vec<String>>, |best, keys| match best {
            Some(best) if known(best) >= known(keys) => Some(best),
            _ => Some(keys),
        })
        .or_else(|| top.iter().find(|keys| keys.iter().any(|k| !k.is_empty())))
        .cloned()
        .unwrap_or_default()
}

/// The problem for a header row (or, when `header_found` is false, the row taken for one)
/// lacking a required column.
fn missing_columns(keys: &[String], header_found: bool) -> Vec<RowProblem> {
    let missing: Vec<String> = match Columns::find(keys) {
        Ok(_) => Vec::new(),
        Err(missing) => missing.into_iter().map(Column::describe).collect(),
    };
    let mut found: Vec<&str> = Vec::new();
    for key in keys.iter().filter(|k| !k.is_empty()) {
        if !found.contains(&key.as_str()) {
            found.push(key);
        }
    }
    let found = if found.is_empty() {
        "文件中没有找到任何列标题".to_owned()
    } else {
        format!("文件中找到的列：{}", found.join("、"))
    };
    let hint = if header_found {
        String::new()
    } else {
        format!(
            "。列标题行应在前{HEADER_SEARCH_ROWS}行内，含“具体措施”列，或同时含“重点任务”和“牵头单位”列"
        )
    };
    let missing = if missing.is_empty() {
        format!("{}或{}", MEASURE.describe(), TASK.describe())
    } else {
        missing.join("、")
    };
    file_problem(format!("缺少{missing}列；{found}{hint}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_xlsxwriter::{ExcelDateTime as WriterDate, Format, FormatBorder, Workbook};

    const SAMPLE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/sample-renwu-fenjie-2025.xlsx"
    );

    fn sample() -> Option<Vec<u8>> {
        let bytes = std::fs::read(SAMPLE).ok();
        if bytes.is_none() {
            println!("跳过：没有找到示例任务分解表 {SAMPLE}");
        }
        bytes
    }

    fn only_problem(result: Result<Vec<TaskRow>, Vec<RowProblem>>) -> RowProblem {
        let problems = result.unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        let problem = problems.into_iter().next().unwrap();
        assert_eq!(problem.row, 0);
        assert_eq!(problem.column, "文件");
        problem
    }

    fn row_numbered(rows: &[TaskRow], number: usize) -> &TaskRow {
        rows.iter()
            .find(|r| r.row == number)
            .unwrap_or_else(|| panic!("no row {number} in {rows:#?}"))
    }

    fn units(names: &[&str]) -> Vec<String> {
        names.iter().map(|&n| n.to_owned()).collect()
    }

    /// Writes rows of text from cell A1 on (empty strings are left unwritten).
    fn write_rows(sheet: &mut rust_xlsxwriter::Worksheet, first_row: u32, rows: &[&[&str]]) {
        for (r, cells) in rows.iter().enumerate() {
            for (c, text) in cells.iter().enumerate() {
                if !text.is_empty() {
                    sheet
                        .write_string(first_row + r as u32, c as u16, *text)
                        .unwrap();
                }
            }
        }
    }

    fn check_sample_rows(rows: &[TaskRow]) {
        // Rows 4–34 less the category rows 15 and 24: 29 measures.
        let numbers: Vec<usize> = rows.iter().map(|r| r.row).collect();
        let expected: Vec<usize> = (4..=34).filter(|n| ![15, 24].contains(n)).collect();
        assert_eq!(numbers, expected, "{rows:#?}");
        assert_eq!(rows.len(), 29);
        assert_eq!(
            rows[0],
            TaskRow {
                row: 4,
                category: "一、推动经济高质量发展".to_owned(),
                seq: "1".to_owned(),
                task: "重大项目建设".to_owned(),
                measure: "（1）完成年度目标任务的60%以上".to_owned(),
                lead_unit: "县卫生健康委员会".to_owned(),
                co_units: Vec::new(),
                leader: "王芳".to_owned(),
                person: "吴磊".to_owned(),
                deadline: "年底前".to_owned(),
                note: String::new(),
            }
        );
        let sixth = row_numbered(rows, 6);
        assert_eq!(
            sixth.co_units,
            units(&["县市场监督管理局", "县自然资源和规划局"])
        );
        assert_eq!(sixth.task, "重大项目建设");
        assert_eq!(sixth.seq, "1");
        assert_eq!(sixth.measure, "（3）组织业务培训不少于2次");
        let sixteenth = row_numbered(rows, 16);
        assert_eq!(sixteenth.category, "二、持续改善民生福祉");
        assert_eq!(
            (sixteenth.seq.as_str(), sixteenth.task.as_str()),
            ("4", "学前教育普惠")
        );
        assert_eq!(row_numbered(rows, 34).category, "三、提升基层治理效能");
        assert_eq!(row_numbered(rows, 34).task, "数字化治理");
        assert!(rows.iter().any(|r| r.deadline == "每月25日前报送进展"));
        assert!(rows.iter().any(|r| r.deadline == "9月底前完成，年底前见效"));
        for heading_row in [1, 2, 3, 15, 24] {
            assert!(
                rows.iter().all(|r| r.row != heading_row),
                "row {heading_row}"
            );
        }
        assert!(rows.iter().all(|r| !r.task.is_empty() && !r.seq.is_empty()));
    }

    #[test]
    fn the_project_sample_reads_its_twenty_nine_measures_under_their_categories_and_tasks() {
        let Some(bytes) = sample() else { return };
        let rows = read_task_table("sample-renwu-fenjie-2025.xlsx", &bytes).unwrap();
        check_sample_rows(&rows);
    }

    #[test]
    fn the_sample_resaved_with_a_hundred_thousand_empty_formatted_rows_reads_the_same_and_fast() {
        let Some(bytes) = sample() else { return };
        let original = read_workbook(&bytes).unwrap();
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        for row in &original.rows {
            for (col, text) in row.cells.iter().enumerate() {
                if !text.is_empty() {
                    sheet
                        .write_string(row.number as u32 - 1, col as u16, text)
                        .unwrap();
                }
            }
        }
        let plain = Format::new();
        for merge in &original.merges {
            let value = original.merged_value(merge).unwrap_or_default();
            sheet
                .merge_range(
                    merge.first_row as u32 - 1,
                    merge.first_col as u16,
                    merge.last_row as u32 - 1,
                    merge.last_col as u16,
                    &value,
                    &plain,
                )
                .unwrap();
        }
        assert_eq!(original.merges.len(), 22);
        let bordered = Format::new().set_border(FormatBorder::Thin);
        for row in 34..100_000 {
            for col in 0..9 {
                sheet.write_blank(row, col, &bordered).unwrap();
            }
        }
        sheet.write_string(99_998, 4, " ").unwrap();
        let resaved = book.save_to_buffer().unwrap();

        let started = std::time::Instant::now();
        let rows = read_task_table("任务分解表.xlsx", &resaved).unwrap();
        let took = started.elapsed();
        println!("读取含 100000 行空白格式行的任务分解表用时 {took:?}");
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
        check_sample_rows(&rows);
        assert_eq!(rows, read_task_table("sample.xlsx", &bytes).unwrap());
    }

    #[test]
    fn synonym_headers_in_another_order_below_title_rows_read_and_co_units_split() {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet
            .merge_range(0, 0, 0, 6, "明湖县2025年重点工作任务分解表", &Format::new())
            .unwrap();
        write_rows(
            sheet,
            1,
            &[
                &["（2025年3月修订）"],
                &[
                    "完成时间（月/日）",
                    "配合单位",
                    "",
                    "主要任务",
                    "*工作措施",
                    "牵 头 部 门",
                    "具体责任人",
                ],
                &["一、优化营商环境"],
                &[
                    "6月底前",
                    "县财政局，县税务局,县人社局/县医保局；县统计局",
                    "",
                    "政务服务提速",
                    "1.推行“一件事一次办”",
                    "县行政审批服务局",
                    "张三",
                ],
                &[
                    "年底前",
                    "县司法局  县公安局\n县信访局",
                    "",
                    "",
                    "2.压缩审批时限",
                    "县行政审批服务局",
                ],
                &["", "", "", "", "3.建立“好差评”制度"],
            ],
        );
        let bytes = book.save_to_buffer().unwrap();
        let rows = read_task_table("分解表.xlsx", &bytes).unwrap();
        assert_eq!(
            rows,
            vec![
                TaskRow {
                    row: 5,
                    category: "一、优化营商环境".to_owned(),
                    seq: String::new(),
                    task: "政务服务提速".to_owned(),
                    measure: "1.推行“一件事一次办”".to_owned(),
                    lead_unit: "县行政审批服务局".to_owned(),
                    co_units: units(&["县财政局", "县税务局", "县人社局", "县医保局", "县统计局"]),
                    leader: String::new(),
                    person: "张三".to_owned(),
                    deadline: "6月底前".to_owned(),
                    note: String::new(),
                },
                TaskRow {
                    row: 6,
                    category: "一、优化营商环境".to_owned(),
                    seq: String::new(),
                    task: "政务服务提速".to_owned(),
                    measure: "2.压缩审批时限".to_owned(),
                    lead_unit: "县行政审批服务局".to_owned(),
                    co_units: units(&["县司法局", "县公安局", "县信访局"]),
                    leader: String::new(),
                    person: String::new(),
                    deadline: "年底前".to_owned(),
                    note: String::new(),
                },
                TaskRow {
                    row: 7,
                    category: "一、优化营商环境".to_owned(),
                    seq: String::new(),
                    task: "政务服务提速".to_owned(),
                    measure: "3.建立“好差评”制度".to_owned(),
                    lead_unit: String::new(),
                    co_units: Vec::new(),
                    leader: String::new(),
                    person: String::new(),
                    deadline: String::new(),
                    note: String::new(),
                },
            ]
        );
    }

    #[test]
    fn a_gbk_csv_with_each_task_written_only_on_its_first_measure_fills_it_down() {
        let csv = "云溪县2025年重点任务分解表,,,,,,\r\n\
                   序号,重点任务,具体措施,牵头单位,责任单位,完成时限,备注\r\n\
                   一、推动经济高质量发展,,,,,,\r\n\
                   1,重大项目建设,（1）完成年度目标任务的60%以上,县发展和改革委员会,县财政局、县自然资源和规划局,年底前,\r\n\
                   ,,（2）建立月调度、季通报工作机制,县财政局,,10月15日前,\r\n\
                   2,民营经济发展,（1）梳理问题清单,县工商业联合会,,第一季度,需报送台账\r\n\
                   ,,（2）开展专项督查,县市场监督管理局,\"县委办公室，县政府办公室\",每月25日前报送进展,\r\n\
                   二、持续改善民生福祉,,,,,,\r\n\
                   3,学前教育普惠,（1）开展专项督查,县教育局,,6月底前,\r\n\
                   ,,,,,,\r\n\
                   ,,,,,,\r\n";
        let (gbk, _, had_errors) = encoding_rs::GBK.encode(csv);
        assert!(!had_errors);
        assert!(
            std::str::from_utf8(&gbk).is_err(),
            "the fixture must not be UTF-8"
        );
        let rows = read_task_table("任务分解表.csv", &gbk).unwrap();
        assert_eq!(
            rows,
            read_task_table("任务分解表.csv", csv.as_bytes()).unwrap()
        );
        let summary: Vec<(usize, &str, &str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.row,
                    r.category.as_str(),
                    r.seq.as_str(),
                    r.task.as_str(),
                    r.deadline.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (4, "一、推动经济高质量发展", "1", "重大项目建设", "年底前"),
                (
                    5,
                    "一、推动经济高质量发展",
                    "1",
                    "重大项目建设",
                    "10月15日前"
                ),
                (6, "一、推动经济高质量发展", "2", "民营经济发展", "第一季度"),
                (
                    7,
                    "一、推动经济高质量发展",
                    "2",
                    "民营经济发展",
                    "每月25日前报送进展"
                ),
                (9, "二、持续改善民生福祉", "3", "学前教育普惠", "6月底前"),
            ]
        );
        assert_eq!(rows[0].co_units, units(&["县财政局", "县自然资源和规划局"]));
        assert_eq!(rows[3].co_units, units(&["县委办公室", "县政府办公室"]));
        assert_eq!(rows[2].note, "需报送台账");
        assert_eq!(rows[1].measure, "（2）建立月调度、季通报工作机制");
    }

    #[test]
    fn a_table_without_a_lead_unit_column_names_the_missing_column() {
        let csv =
            "序号,重点任务,具体措施,责任单位,完成时限\n1,重大项目建设,（1）开工,县财政局,年底前\n";
        let problem = only_problem(read_task_table("tasks.csv", csv.as_bytes()));
        assert!(problem.reason.contains("“牵头单位”"), "{}", problem.reason);
        assert!(
            problem
                .reason
                .contains("文件中找到的列：序号、重点任务、具体措施、责任单位、完成时限"),
            "{}",
            problem.reason
        );
        assert!(
            !problem.reason.contains("“具体措施”（"),
            "{}",
            problem.reason
        );
        assert!(
            !problem.reason.contains("“完成时限”（"),
            "{}",
            problem.reason
        );
    }

    #[test]
    fn a_plain_text_file_named_xlsx_is_not_an_excel_workbook() {
        let problem = only_problem(read_task_table("任务分解表.xlsx", b"not a spreadsheet"));
        assert!(problem.reason.contains("Excel"), "{}", problem.reason);
    }

    #[test]
    fn excel_dates_in_the_deadline_column_read_as_iso_dates() {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        write_rows(sheet, 0, &[&["具体措施", "牵头单位", "完成时限"]]);
        let iso = Format::new().set_num_format("yyyy-mm-dd");
        let chinese = Format::new().set_num_format("yyyy年m月d日");
        let builtin = Format::new().set_num_format_index(14);
        let with_time = Format::new().set_num_format("yyyy-mm-dd hh:mm");
        let date = WriterDate::from_ymd(2025, 6, 30).unwrap();
        sheet.write_datetime_with_format(1, 2, &date, &iso).unwrap();
        sheet
            .write_number_with_format(2, 2, 45838.0, &chinese)
            .unwrap();
        sheet
            .write_number_with_format(3, 2, 45838.0, &builtin)
            .unwrap();
        sheet
            .write_number_with_format(4, 2, 45838.75, &with_time)
            .unwrap();
        sheet.write_number(5, 2, 45838.0).unwrap();
        for row in 1..6 {
            sheet.write_string(row, 0, format!("措施{row}")).unwrap();
            sheet.write_string(row, 1, "县财政局").unwrap();
        }
        let bytes = book.save_to_buffer().unwrap();
        let rows = read_task_table("dates.xlsx", &bytes).unwrap();
        let deadlines: Vec<&str> = rows.iter().map(|r| r.deadline.as_str()).collect();
        assert_eq!(
            deadlines,
            [
                "2025-06-30",
                "2025-06-30",
                "2025-06-30",
                "2025-06-30 18:00",
                "45838"
            ]
        );
    }

    #[test]
    fn a_table_without_measures_reads_each_key_task_as_an_item() {
        let csv = "序号,重点工作,牵头单位,配合单位,分管领导,完成期限\n\
                   一、经济发展,,,,,\n\
                   1,推进重大项目建设,县发展和改革委员会,县财政局,王芳,年底前\n\
                   2,优化营商环境,县行政审批服务局,,李明,6月底前\n";
        let rows = read_task_table("tasks.csv", csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].measure, "推进重大项目建设");
        assert_eq!(rows[0].task, "推进重大项目建设");
        assert_eq!(rows[0].category, "一、经济发展");
        assert_eq!(rows[1].leader, "李明");
        assert_eq!(rows[1].deadline, "6月底前");
        assert_eq!(rows[1].row, 4);
    }

    #[test]
    fn a_merged_two_row_header_and_a_task_merged_across_the_measure_column_read() {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        let plain = Format::new();
        sheet.merge_range(0, 0, 1, 0, "序号", &plain).unwrap();
        sheet.merge_range(0, 1, 1, 1, "重点任务", &plain).unwrap();
        sheet.merge_range(0, 2, 1, 2, "具体措施", &plain).unwrap();
        sheet.merge_range(0, 3, 0, 4, "责任单位", &plain).unwrap();
        sheet.merge_range(0, 5, 1, 5, "完成时限", &plain).unwrap();
        write_rows(sheet, 1, &[&["", "", "", "牵头单位", "配合单位"]]);
        sheet.merge_range(2, 0, 3, 0, "1", &plain).unwrap();
        sheet.merge_range(2, 1, 3, 1, "河湖长制", &plain).unwrap();
        write_rows(
            sheet,
            2,
            &[
                &[
                    "",
                    "",
                    "（1）开展巡河",
                    "县水利局",
                    "各乡镇（街道）、县生态环境分局",
                    "长期坚持",
                ],
                &["", "", "（2）清理河道", "县水利局", "", "汛期前"],
            ],
        );
        sheet.write_string(4, 0, "2").unwrap();
        sheet
            .merge_range(4, 1, 4, 2, "完成森林防火演练", &plain)
            .unwrap();
        sheet.merge_range(4, 3, 4, 4, "县林业局", &plain).unwrap();
        sheet.write_string(4, 5, "3月底前").unwrap();
        let bytes = book.save_to_buffer().unwrap();

        let rows = read_task_table("two-row-header.xlsx", &bytes).unwrap();
        // Row, 序号, 重点任务, 具体措施, 牵头单位, 责任单位.
        type Summary<'a> = (usize, &'a str, &'a str, &'a str, &'a str, Vec<String>);
        let summary: Vec<Summary> = rows
            .iter()
            .map(|r| {
                (
                    r.row,
                    r.seq.as_str(),
                    r.task.as_str(),
                    r.measure.as_str(),
                    r.lead_unit.as_str(),
                    r.co_units.clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    3,
                    "1",
                    "河湖长制",
                    "（1）开展巡河",
                    "县水利局",
                    units(&["各乡镇（街道）", "县生态环境分局"])
                ),
                (4, "1", "河湖长制", "（2）清理河道", "县水利局", Vec::new()),
                (
                    5,
                    "2",
                    "完成森林防火演练",
                    "完成森林防火演练",
                    "县林业局",
                    Vec::new()
                ),
            ]
        );
    }

    #[test]
    fn co_units_split_on_separators_but_not_inside_brackets() {
        assert_eq!(
            split_units(
                " 县教育局（县体育局、县语委办）、县财政局;县财政局 ／县卫生健康委员会(县中医院,县人民医院)"
            ),
            units(&[
                "县教育局（县体育局、县语委办）",
                "县财政局",
                "县卫生健康委员会(县中医院,县人民医院)"
            ])
        );
        assert!(split_units(" 、，").is_empty());
    }

    #[test]
    fn a_file_without_data_rows_or_any_header_says_so() {
        for (name, bytes) in [
            ("tasks.csv", &b""[..]),
            ("tasks.csv", "具体措施,牵头单位,完成时限\n,,\n\n".as_bytes()),
            (
                "tasks.csv",
                "具体措施,牵头单位,完成时限\n一、经济发展,,\n".as_bytes(),
            ),
        ] {
            let problem = only_problem(read_task_table(name, bytes));
            assert_eq!(problem.reason, "没有任何任务数据", "{name} {bytes:?}");
        }
        let problem = only_problem(read_task_table(
            "tasks.csv",
            "云溪县任务表\n重点任务,责任单位\n项目,县财政局\n".as_bytes(),
        ));
        assert!(problem.reason.contains("“牵头单位”"), "{}", problem.reason);
        assert!(problem.reason.contains("“完成时限”"), "{}", problem.reason);
        assert!(
            problem
                .reason
                .contains("文件中找到的列：重点任务、责任单位"),
            "{}",
            problem.reason
        );
        assert!(problem.reason.contains("前15行内"), "{}", problem.reason);
    }

    #[test]
    fn headings_are_told_from_numbered_measures() {
        assert!(is_top_heading("一、推动经济高质量发展"));
        assert!(is_top_heading("十二．其他"));
        assert!(is_top_heading("第三部分 民生"));
        assert!(!is_top_heading("第一季度"));
        assert!(!is_top_heading("一季度完成"));
        assert!(is_sub_heading("（一）项目建设"));
        assert!(is_sub_heading("(二)营商环境"));
        assert!(!is_sub_heading("（1）完成年度目标"));
        assert!(is_plain_number("12"));
        assert!(is_plain_number("3、"));
        assert!(!is_plain_number("1、民生"));
    }
}
