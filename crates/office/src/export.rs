//! Excel export of a ledger view: the import's columns, so an exported file can be edited and
//! imported again, plus what the system computed (截止日期, 状态, 信号, 最新进展).

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

/// One row of the export, already in words.
#[derive(Clone, Debug, Default)]
pub struct ExportRow {
    pub seq: String,
    pub task: String,
    pub measure: String,
    pub lead_unit: String,
    pub co_units: String,
    pub leader: String,
    pub person: String,
    pub deadline: String,
    pub note: String,
    pub due_date: String,
    pub state: String,
    pub signal: String,
    pub latest_progress: String,
}

/// The column headers, in order.
pub const HEADERS: [&str; 13] = [
    "序号",
    "重点任务",
    "具体措施",
    "牵头单位",
    "责任单位",
    "责任领导",
    "责任人",
    "完成时限",
    "备注",
    "截止日期",
    "状态",
    "信号",
    "最新进展",
];

const WIDTHS: [f64; 13] = [
    6.0, 18.0, 36.0, 18.0, 24.0, 10.0, 10.0, 16.0, 12.0, 12.0, 10.0, 12.0, 40.0,
];

/// Writes the rows as an .xlsx workbook: a title row, the header, then one row per item.
pub fn write_items_xlsx(title: &str, rows: &[ExportRow]) -> Result<Vec<u8>, String> {
    build(title, rows).map_err(|e| format!("生成 Excel 文件失败：{e}"))
}

fn build(title: &str, rows: &[ExportRow]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_low_memory()?;
    sheet.set_name("督办事项")?;
    let title_format = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color("#F2DCDB")
        .set_align(FormatAlign::Center);
    let cell = Format::new()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter);
    let last_col = u16::try_from(HEADERS.len() - 1).unwrap_or(0);
    sheet.merge_range(0, 0, 0, last_col, title, &title_format)?;
    for (col, (name, width)) in HEADERS.iter().zip(WIDTHS).enumerate() {
        let col = u16::try_from(col).unwrap_or(0);
        sheet.write_string_with_format(1, col, *name, &header)?;
        sheet.set_column_width(col, width)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 2).unwrap_or(u32::MAX);
        let values = [
            &r.seq,
            &r.task,
            &r.measure,
            &r.lead_unit,
            &r.co_units,
            &r.leader,
            &r.person,
            &r.deadline,
            &r.note,
            &r.due_date,
            &r.state,
            &r.signal,
            &r.latest_progress,
        ];
        for (col, value) in values.into_iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(0);
            sheet.write_string_with_format(row, col, value.as_str(), &cell)?;
        }
    }
    sheet.set_freeze_panes(2, 0)?;
    let last_row = u32::try_from(rows.len() + 1).unwrap_or(u32::MAX);
    sheet.autofilter(1, 0, last_row, last_col)?;
    workbook.save_to_buffer()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    #[test]
    fn an_export_reads_back_with_its_headers_and_rows() {
        let rows = vec![ExportRow {
            seq: "1".into(),
            task: "重大项目建设".into(),
            measure: "（1）完成年度目标任务".into(),
            lead_unit: "县财政局".into(),
            due_date: "2025-12-31".into(),
            state: "办理中".into(),
            signal: "绿灯（正常）".into(),
            ..ExportRow::default()
        }];
        let bytes = write_items_xlsx("2025年督办事项台账", &rows).unwrap();
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("督办事项").unwrap();
        let cell = |r: u32, c: u32| match range.get_value((r, c)) {
            Some(Data::String(s)) => s.clone(),
            _ => String::new(),
        };
        assert_eq!(cell(0, 0), "2025年督办事项台账");
        assert_eq!(cell(1, 9), "截止日期");
        assert_eq!(cell(2, 2), "（1）完成年度目标任务");
        assert_eq!(cell(2, 9), "2025-12-31");
    }
}
