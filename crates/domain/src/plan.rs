//! Monthly and weekly plans (月计划/周计划) derived from the ledger: which dates of an item
//! fall in a period — its due date (截止), its milestones (节点), the report dates of its
//! cadence (报送进展) — and whether it is carried in as overdue (逾期未完成).
//!
//! Pure functions over an item's deadline columns (due date, milestones, cadence code, the day
//! it was assigned); the store loads the items the viewer may see and the web layer shows the
//! result. Cadence codes are those of [`crate::deadline::Cadence::code`].

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

use crate::calendar::WorkCalendar;

/// A month or a week (Monday to Sunday).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodKind {
    Month,
    Week,
}

/// A plan's period: its first and last day, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodKind,
    pub start: Date,
    pub end: Date,
}

impl Period {
    /// The month holding `day`.
    pub fn month_of(day: Date) -> Period {
        let start = day.first_of_month();
        Period {
            kind: PeriodKind::Month,
            start,
            end: start.last_of_month(),
        }
    }

    /// The week (Monday to Sunday) holding `day`.
    pub fn week_of(day: Date) -> Period {
        let back = i64::from(day.weekday().to_monday_zero_offset());
        let start = day.checked_sub(back.days()).unwrap_or(day);
        Period {
            kind: PeriodKind::Week,
            start,
            end: start.checked_add(6.days()).unwrap_or(start),
        }
    }

    /// `2026-11` → that month; `None` for anything else.
    pub fn parse_month(text: &str) -> Option<Period> {
        let (year, month) = text.trim().split_once('-')?;
        let year: i16 = year.parse().ok().filter(|y| (1000..=9998).contains(y))?;
        let month: i8 = month.parse().ok()?;
        Date::new(year, month, 1).ok().map(Period::month_of)
    }

    /// `2026-11-23` → the week holding that day (any day of it); `None` for anything else.
    pub fn parse_week(text: &str) -> Option<Period> {
        let day: Date = text.trim().parse().ok()?;
        (1000..=9998)
            .contains(&day.year())
            .then(|| Period::week_of(day))
    }

    /// The period before this one, of the same kind.
    pub fn previous(&self) -> Period {
        let day = self.start.yesterday().unwrap_or(self.start);
        self.same_kind(day)
    }

    /// The period after this one, of the same kind.
    pub fn next(&self) -> Period {
        let day = self.end.tomorrow().unwrap_or(self.end);
        self.same_kind(day)
    }

    fn same_kind(&self, day: Date) -> Period {
        match self.kind {
            PeriodKind::Month => Period::month_of(day),
            PeriodKind::Week => Period::week_of(day),
        }
    }

    pub fn contains(&self, day: Date) -> bool {
        self.start <= day && day <= self.end
    }

    /// The code the page's links carry: `2026-11` for a month, the Monday for a week.
    pub fn code(&self) -> String {
        match self.kind {
            PeriodKind::Month => format!("{:04}-{:02}", self.start.year(), self.start.month()),
            PeriodKind::Week => self.start.to_string(),
        }
    }

    /// `month` or `week`, the name of the query parameter.
    pub fn kind_code(&self) -> &'static str {
        match self.kind {
            PeriodKind::Month => "month",
            PeriodKind::Week => "week",
        }
    }

    /// `2026年11月`, or `2026年11月23日至11月29日` (`2026年12月28日至2027年1月3日`).
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Month => format!("{}年{}月", self.start.year(), self.start.month()),
            PeriodKind::Week => {
                let end = if self.end.year() == self.start.year() {
                    format!("{}月{}日", self.end.month(), self.end.day())
                } else {
                    format!(
                        "{}年{}月{}日",
                        self.end.year(),
                        self.end.month(),
                        self.end.day()
                    )
                };
                format!(
                    "{}年{}月{}日至{end}",
                    self.start.year(),
                    self.start.month(),
                    self.start.day()
                )
            }
        }
    }

    /// The ledger years the period touches (two for a week across New Year).
    pub fn years(&self) -> Vec<i16> {
        if self.start.year() == self.end.year() {
            vec![self.start.year()]
        } else {
            vec![self.start.year(), self.end.year()]
        }
    }
}

/// What falls due for an item on a day of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Due {
    /// Open and past its due date when the period starts: carried in (逾期未完成).
    Overdue,
    /// The item's due date (截止).
    Deadline,
    /// One of its milestones (节点), other than the last, which is the due date.
    Milestone,
    /// A report date of its cadence (报送进展).
    Report,
}

impl Due {
    pub fn label(self) -> &'static str {
        match self {
            Due::Overdue => "逾期未完成",
            Due::Deadline => "截止",
            Due::Milestone => "节点",
            Due::Report => "报送进展",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Due::Overdue => "overdue",
            Due::Deadline => "deadline",
            Due::Milestone => "milestone",
            Due::Report => "report",
        }
    }
}

/// The deadline columns of an item that decide what it owes in a period.
#[derive(Clone, Copy, Debug)]
pub struct PlanItem<'a> {
    pub due: Option<Date>,
    pub milestones: &'a [Date],
    /// A cadence code (`monthly:25`, `weekly:5`, `quarterly:end`…).
    pub cadence: Option<&'a str>,
    /// The day it was assigned (交办); `None` while it is not assigned yet.
    pub assigned: Option<Date>,
    /// Still open (registered to closure requested).
    pub open: bool,
}

/// What the item owes in the period, by date (an overdue carry-over is dated the period's
/// first day): its due date and milestones in the period; while it is open, the report dates
/// of its cadence from its assignment to its due date; and, when it is open and its due date
/// is before the period, an overdue line. An item assigned after the period owes nothing in it.
pub fn dates_in(period: &Period, item: &PlanItem<'_>, calendar: &WorkCalendar) -> Vec<(Date, Due)> {
    if item.assigned.is_some_and(|a| a > period.end) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(due) = item.due {
        if period.contains(due) {
            out.push((due, Due::Deadline));
        } else if item.open && due < period.start {
            out.push((period.start, Due::Overdue));
        }
    }
    for &milestone in item.milestones {
        if period.contains(milestone) && Some(milestone) != item.due {
            out.push((milestone, Due::Milestone));
        }
    }
    if item.open
        && let (Some(cadence), Some(assigned)) = (item.cadence, item.assigned)
    {
        for day in report_dates(cadence, period, calendar) {
            if day >= assigned && item.due.is_none_or(|due| day <= due) {
                out.push((day, Due::Report));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The report dates of a cadence code within the period, ascending. `daily` is every working
/// day; `weekly:N` that weekday (1 = Monday); `monthly:D…` those days (31 or a day past the
/// month's end is its last day); `quarterly` and `quarterly:end` the last day of each quarter;
/// `semiannual` June 30th and December 31st; `yearly:MM-DD` that day. Unknown codes have none.
pub fn report_dates(cadence: &str, period: &Period, calendar: &WorkCalendar) -> Vec<Date> {
    let (kind, arg) = cadence.split_once(':').unwrap_or((cadence, ""));
    let days = period_days(period);
    let mut out: Vec<Date> = match kind {
        "daily" => days
            .into_iter()
            .filter(|d| calendar.is_workday(*d))
            .collect(),
        "weekly" => match arg.parse::<i8>().ok().and_then(weekday) {
            Some(w) => days.into_iter().filter(|d| d.weekday() == w).collect(),
            None => Vec::new(),
        },
        "monthly" => {
            let wanted: Vec<i8> = arg.split(',').filter_map(|d| d.parse().ok()).collect();
            days.into_iter()
                .filter(|d| {
                    wanted
                        .iter()
                        .any(|&w| (1..=31).contains(&w) && w.min(d.days_in_month()) == d.day())
                })
                .collect()
        }
        "quarterly" => days
            .into_iter()
            .filter(|d| d.month() % 3 == 0 && *d == d.last_of_month())
            .collect(),
        "semiannual" => days
            .into_iter()
            .filter(|d| d.month() % 6 == 0 && *d == d.last_of_month())
            .collect(),
        "yearly" => match arg.split_once('-') {
            Some((m, d)) => match (m.parse::<i8>(), d.parse::<i8>()) {
                (Ok(m), Ok(d)) => days
                    .into_iter()
                    .filter(|day| day.month() == m && day.day() == d)
                    .collect(),
                _ => Vec::new(),
            },
            None => Vec::new(),
        },
        _ => Vec::new(),
    };
    out.sort();
    out.dedup();
    out
}

fn weekday(n: i8) -> Option<Weekday> {
    Weekday::from_monday_one_offset(n).ok()
}

/// Every day of the period, in order.
fn period_days(period: &Period) -> Vec<Date> {
    let mut out = Vec::new();
    let mut day = period.start;
    while day <= period.end {
        out.push(day);
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn calendar() -> WorkCalendar {
        WorkCalendar::official()
    }

    fn november() -> Period {
        Period::parse_month("2026-11").unwrap()
    }

    fn item<'a>(
        cadence: Option<&'a str>,
        due: Option<Date>,
        milestones: &'a [Date],
    ) -> PlanItem<'a> {
        PlanItem {
            due,
            milestones,
            cadence,
            assigned: Some(date(2026, 3, 2)),
            open: true,
        }
    }

    #[test]
    fn a_month_and_a_week_are_read_from_their_codes_and_a_week_starts_on_monday() {
        let month = november();
        assert_eq!(
            (month.start, month.end),
            (date(2026, 11, 1), date(2026, 11, 30))
        );
        assert_eq!(month.code(), "2026-11");
        assert_eq!(month.label(), "2026年11月");
        let week = Period::parse_week("2026-11-26").unwrap();
        assert_eq!(
            (week.start, week.end),
            (date(2026, 11, 23), date(2026, 11, 29))
        );
        assert_eq!(week.code(), "2026-11-23");
        assert_eq!(week.label(), "2026年11月23日至11月29日");
        assert_eq!(Period::parse_month("2026-13"), None);
        assert_eq!(Period::parse_month("十一月"), None);
        assert_eq!(Period::parse_week("2026-11-31"), None);
    }

    #[test]
    fn previous_and_next_periods_cross_month_and_year_ends() {
        assert_eq!(november().next().code(), "2026-12");
        assert_eq!(november().next().next().code(), "2027-01");
        assert_eq!(
            Period::parse_month("2026-01").unwrap().previous().code(),
            "2025-12"
        );
        let week = Period::parse_week("2026-12-30").unwrap();
        assert_eq!(week.code(), "2026-12-28");
        assert_eq!(week.years(), vec![2026, 2027]);
        assert_eq!(week.label(), "2026年12月28日至2027年1月3日");
        assert_eq!(week.next().code(), "2027-01-04");
        assert_eq!(week.previous().code(), "2026-12-21");
    }

    #[test]
    fn a_monthly_25_cadence_in_november_reports_on_the_25th() {
        let dates = dates_in(
            &november(),
            &item(Some("monthly:25"), None, &[]),
            &calendar(),
        );
        assert_eq!(dates, vec![(date(2026, 11, 25), Due::Report)]);
    }

    #[test]
    fn monthly_31_is_the_last_day_of_a_short_month_and_two_days_give_two_dates() {
        let february = Period::parse_month("2026-02").unwrap();
        let cal = calendar();
        assert_eq!(
            report_dates("monthly:31", &february, &cal),
            vec![date(2026, 2, 28)]
        );
        assert_eq!(
            report_dates("monthly:10,20", &november(), &cal),
            vec![date(2026, 11, 10), date(2026, 11, 20)]
        );
    }

    #[test]
    fn quarterly_end_falls_in_the_week_holding_september_30th() {
        let week = Period::parse_week("2026-09-30").unwrap();
        let dates = dates_in(&week, &item(Some("quarterly:end"), None, &[]), &calendar());
        assert_eq!(dates, vec![(date(2026, 9, 30), Due::Report)]);
        let next_week = week.next();
        assert!(
            dates_in(
                &next_week,
                &item(Some("quarterly:end"), None, &[]),
                &calendar()
            )
            .is_empty()
        );
    }

    #[test]
    fn weekly_daily_semiannual_and_yearly_cadences_have_their_dates() {
        let cal = calendar();
        let week = Period::parse_week("2026-11-23").unwrap();
        assert_eq!(
            report_dates("weekly:5", &week, &cal),
            vec![date(2026, 11, 27)]
        );
        assert_eq!(
            report_dates("weekly:7", &week, &cal),
            vec![date(2026, 11, 29)]
        );
        assert_eq!(
            report_dates("daily", &week, &cal).len(),
            5,
            "working days only"
        );
        let june = Period::parse_month("2026-06").unwrap();
        assert_eq!(
            report_dates("semiannual", &june, &cal),
            vec![date(2026, 6, 30)]
        );
        assert_eq!(
            report_dates("yearly:06-15", &june, &cal),
            vec![date(2026, 6, 15)]
        );
        assert!(report_dates("yearly:07-01", &june, &cal).is_empty());
        assert!(report_dates("fortnightly", &june, &cal).is_empty());
    }

    #[test]
    fn milestones_in_the_period_are_listed_and_the_last_one_is_the_deadline() {
        let nodes = [date(2026, 11, 10), date(2026, 11, 30), date(2026, 12, 31)];
        let dates = dates_in(
            &november(),
            &item(None, Some(date(2026, 12, 31)), &nodes),
            &calendar(),
        );
        assert_eq!(
            dates,
            vec![
                (date(2026, 11, 10), Due::Milestone),
                (date(2026, 11, 30), Due::Milestone)
            ]
        );
        let december = november().next();
        let dates = dates_in(
            &december,
            &item(None, Some(date(2026, 12, 31)), &nodes),
            &calendar(),
        );
        assert_eq!(dates, vec![(date(2026, 12, 31), Due::Deadline)]);
    }

    #[test]
    fn an_item_due_next_month_owes_nothing_this_month_but_its_reports() {
        let due = Some(date(2026, 12, 15));
        assert!(dates_in(&november(), &item(None, due, &[]), &calendar()).is_empty());
        assert_eq!(
            dates_in(
                &november(),
                &item(Some("monthly:31"), due, &[]),
                &calendar()
            ),
            vec![(date(2026, 11, 30), Due::Report)]
        );
    }

    #[test]
    fn an_item_assigned_after_the_period_owes_nothing_in_it() {
        let mut late = item(Some("monthly:25"), Some(date(2026, 11, 28)), &[]);
        late.assigned = Some(date(2026, 12, 1));
        assert!(dates_in(&november(), &late, &calendar()).is_empty());
        // Assigned mid-month: the report dates before the assignment are not owed.
        late.assigned = Some(date(2026, 11, 26));
        late.due = None;
        let cal = calendar();
        assert!(dates_in(&november(), &late, &cal).is_empty());
        late.cadence = Some("weekly:5");
        assert_eq!(
            dates_in(&november(), &late, &cal),
            vec![(date(2026, 11, 27), Due::Report)]
        );
    }

    #[test]
    fn an_open_item_past_due_is_carried_in_as_overdue_and_a_closed_one_is_not() {
        let mut late = item(Some("monthly:25"), Some(date(2026, 10, 20)), &[]);
        assert_eq!(
            dates_in(&november(), &late, &calendar()),
            vec![(date(2026, 11, 1), Due::Overdue)],
            "no report is owed after the due date: the overdue line stands for it"
        );
        late.open = false;
        assert!(dates_in(&november(), &late, &calendar()).is_empty());
        // A closed item due in the period still shows its deadline, but owes no reports.
        late.due = Some(date(2026, 11, 27));
        assert_eq!(
            dates_in(&november(), &late, &calendar()),
            vec![(date(2026, 11, 27), Due::Deadline)]
        );
    }

    #[test]
    fn an_item_not_yet_assigned_owes_no_reports() {
        let mut draft = item(Some("monthly:25"), Some(date(2026, 11, 20)), &[]);
        draft.assigned = None;
        assert_eq!(
            dates_in(&november(), &draft, &calendar()),
            vec![(date(2026, 11, 20), Due::Deadline)]
        );
    }
}
