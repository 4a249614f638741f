//! The organisation: unit types, unit names and the rows of a unit list to import.
//!
//! A unit is named by its name where that is unique in the deployment, else by its path
//! (`明湖县/县财政局`); names therefore may not contain `/`.

use serde::Serialize;

/// The kind of a unit. Labels are what offices write in their unit lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitType {
    Township,
    Subdistrict,
    Department,
    Office,
    Other,
}

impl UnitType {
    pub const ALL: [UnitType; 5] = [
        UnitType::Township,
        UnitType::Subdistrict,
        UnitType::Department,
        UnitType::Office,
        UnitType::Other,
    ];

    /// Stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            UnitType::Township => "township",
            UnitType::Subdistrict => "subdistrict",
            UnitType::Department => "department",
            UnitType::Office => "office",
            UnitType::Other => "other",
        }
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            UnitType::Township => "乡镇",
            UnitType::Subdistrict => "街道",
            UnitType::Department => "县直部门",
            UnitType::Office => "办公室",
            UnitType::Other => "其他",
        }
    }

    pub fn from_code(code: &str) -> Option<UnitType> {
        UnitType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Reads a label as offices write it (乡镇, 镇, 乡, 街道, 县直部门, 部门, 市直部门…) or a code.
    pub fn from_label(text: &str) -> Option<UnitType> {
        let t = text.trim();
        if let Some(found) = UnitType::from_code(t) {
            return Some(found);
        }
        match t {
            "乡镇" | "乡" | "镇" | "乡镇（街道）" | "乡镇(街道)" => {
                Some(UnitType::Township)
            }
            "街道" | "街道办事处" => Some(UnitType::Subdistrict),
            "县直部门" | "部门" | "县直单位" | "市直部门" | "区直部门" | "直属部门" => {
                Some(UnitType::Department)
            }
            "办公室" | "科室" | "内设机构" => Some(UnitType::Office),
            "其他" | "其它" => Some(UnitType::Other),
            _ => None,
        }
    }

    /// The labels a user may type, for error messages.
    pub fn accepted_labels() -> String {
        UnitType::ALL
            .iter()
            .map(|t| t.label())
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// A unit's name, checked: trimmed, 1–50 characters, no `/` (the path separator), no control
/// characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UnitName(String);

impl UnitName {
    /// Parses a name; the error is a Chinese reason.
    pub fn parse(text: &str) -> Result<UnitName, String> {
        let name = text.trim();
        if name.is_empty() {
            return Err("单位名称不能为空".to_owned());
        }
        if name.chars().count() > 50 {
            return Err("单位名称不能超过50个字".to_owned());
        }
        if name.contains('/') {
            return Err("单位名称不能包含“/”".to_owned());
        }
        if name.chars().any(char::is_control) {
            return Err("单位名称不能包含控制字符".to_owned());
        }
        Ok(UnitName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Reads a yes/no cell as offices write it (是/否, Y/N, 1/0, √, 空).
pub fn parse_flag(text: &str) -> Result<bool, String> {
    match text.trim().to_lowercase().as_str() {
        "是" | "y" | "yes" | "true" | "1" | "√" | "✓" => Ok(true),
        "否" | "n" | "no" | "false" | "0" | "" | "×" => Ok(false),
        other => Err(format!("“{other}”不是“是”或“否”")),
    }
}

/// One data row of a unit list as read from the file, before it is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitListRow {
    /// The row number as the spreadsheet shows it (the header is row 1).
    pub row: usize,
    pub name: String,
    pub parent: String,
    pub unit_type: String,
    pub key_reporting: String,
}

/// A problem in an imported file, located by row and column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    pub row: usize,
    pub column: String,
    pub reason: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.row == 0 {
            write!(f, "{}：{}", self.column, self.reason)
        } else {
            write!(f, "第{}行“{}”：{}", self.row, self.column, self.reason)
        }
    }
}

/// A unit-list row whose fields are valid on their own (the parent is resolved by the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedUnitRow {
    pub row: usize,
    pub name: UnitName,
    /// The parent's name or path as written; empty means directly under the region.
    pub parent: String,
    pub unit_type: UnitType,
    pub key_reporting: bool,
}

/// Checks each row's own fields and repeats within the file; returns every problem found.
pub fn check_unit_rows(rows: &[UnitListRow]) -> Result<Vec<CheckedUnitRow>, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    let mut seen: std::collections::HashMap<(String, String), usize> = Default::default();
    if rows.is_empty() {
        problems.push(RowProblem {
            row: 0,
            column: "文件".to_owned(),
            reason: "没有任何单位数据".to_owned(),
        });
    }
    for r in rows {
        let name = UnitName::parse(&r.name).map_err(|reason| RowProblem {
            row: r.row,
            column: "单位名称".to_owned(),
            reason,
        });
        let unit_type = UnitType::from_label(&r.unit_type).ok_or_else(|| RowProblem {
            row: r.row,
            column: "单位类型".to_owned(),
            reason: if r.unit_type.trim().is_empty() {
                format!("不能为空，应为{}之一", UnitType::accepted_labels())
            } else {
                format!(
                    "“{}”不是可用的单位类型，应为{}之一",
                    r.unit_type.trim(),
                    UnitType::accepted_labels()
                )
            },
        });
        let key = parse_flag(&r.key_reporting).map_err(|reason| RowProblem {
            row: r.row,
            column: "重点信息报送单位".to_owned(),
            reason,
        });
        match (name, unit_type, key) {
            (Ok(name), Ok(unit_type), Ok(key_reporting)) => {
                let parent = r.parent.trim().to_owned();
                let slot = (parent.clone(), name.as_str().to_owned());
                if let Some(first) = seen.get(&slot) {
                    problems.push(RowProblem {
                        row: r.row,
                        column: "单位名称".to_owned(),
                        reason: format!("与第{first}行重复"),
                    });
                } else {
                    seen.insert(slot, r.row);
                    checked.push(CheckedUnitRow {
                        row: r.row,
                        name,
                        parent,
                        unit_type,
                        key_reporting,
                    });
                }
            }
            (name, unit_type, key) => {
                problems.extend(name.err());
                problems.extend(unit_type.err());
                problems.extend(key.err());
            }
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(row: usize, name: &str, parent: &str, kind: &str, key: &str) -> UnitListRow {
        UnitListRow {
            row,
            name: name.into(),
            parent: parent.into(),
            unit_type: kind.into(),
            key_reporting: key.into(),
        }
    }

    #[test]
    fn unit_types_are_read_as_offices_write_them() {
        assert_eq!(UnitType::from_label("乡镇"), Some(UnitType::Township));
        assert_eq!(
            UnitType::from_label(" 县直部门 "),
            Some(UnitType::Department)
        );
        assert_eq!(UnitType::from_label("街道"), Some(UnitType::Subdistrict));
        assert_eq!(UnitType::from_label("公司"), None);
    }

    #[test]
    fn a_name_with_a_slash_or_nothing_in_it_is_refused() {
        assert!(UnitName::parse("县委/办公室").is_err());
        assert!(UnitName::parse("   ").is_err());
        assert_eq!(
            UnitName::parse(" 县财政局 ").map(UnitName::into_string),
            Ok("县财政局".to_owned())
        );
    }

    #[test]
    fn every_bad_row_is_reported_with_its_row_and_column() {
        let rows = vec![
            row(2, "县财政局", "", "县直部门", "否"),
            row(3, "", "", "县直部门", "否"),
            row(4, "县教育局", "", "公司", "也许"),
            row(5, "县财政局", "", "县直部门", "是"),
        ];
        let problems = check_unit_rows(&rows).err().unwrap_or_default();
        let located: Vec<(usize, &str)> = problems
            .iter()
            .map(|p| (p.row, p.column.as_str()))
            .collect();
        assert_eq!(
            located,
            vec![
                (3, "单位名称"),
                (4, "单位类型"),
                (4, "重点信息报送单位"),
                (5, "单位名称")
            ]
        );
        assert_eq!(problems[3].to_string(), "第5行“单位名称”：与第2行重复");
    }

    #[test]
    fn flags_accept_the_usual_spellings() {
        assert_eq!(parse_flag("是"), Ok(true));
        assert_eq!(parse_flag(""), Ok(false));
        assert!(parse_flag("maybe").is_err());
    }
}
