//! Supervision (督查督办): an item's lifecycle as a state machine, who may move it, and the
//! red/yellow/green signal computed on the official working-day calendar.
//!
//! Items are accountable to units: each lead and co-unit acknowledges (签收) and reports for
//! itself. The item's own state follows the lead unit; the co-units' acknowledgements and
//! reports are tracked beside it. Every transition is decided here, with no I/O, so the rules
//! are tested exhaustively and the store only records what this module allowed.

use crate::calendar::WorkCalendar;
use jiff::civil::Date;
use serde::Serialize;

/// One 具体措施 row of a 任务分解表 as read from the file, before it is checked: one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRow {
    /// The sheet's row number as Excel shows it (1-based).
    pub row: usize,
    /// The latest category row above it (“一、推动经济高质量发展”), empty if none.
    pub category: String,
    /// The 序号 of its 重点任务.
    pub seq: String,
    /// The 重点任务: the parent item that groups its measures.
    pub task: String,
    /// The 具体措施: the item's title.
    pub measure: String,
    pub lead_unit: String,
    /// The 责任单位 (配合单位), already split.
    pub co_units: Vec<String>,
    pub leader: String,
    pub person: String,
    /// The 完成时限 as written.
    pub deadline: String,
    pub note: String,
}

/// How urgent an item is; 特急 items count in hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Normal,
    Urgent,
    Critical,
}

impl Urgency {
    pub fn code(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::Urgent => "urgent",
            Urgency::Critical => "critical",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Urgency::Normal => "一般",
            Urgency::Urgent => "紧急",
            Urgency::Critical => "特急",
        }
    }

    pub fn from_code(code: &str) -> Option<Urgency> {
        [Urgency::Normal, Urgency::Urgent, Urgency::Critical]
            .into_iter()
            .find(|u| u.code() == code || u.label() == code)
    }
}

/// Where an item comes from (事项来源).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// 决策部署
    Decision,
    /// 全会、经济工作会议重点任务
    Plenary,
    /// 常委会议定事项
    StandingCommittee,
    /// 领导批示
    Instruction,
    /// 会议纪要
    Minutes,
    /// 改革要点
    Reform,
    /// 调研回访
    Research,
    /// 人大代表建议、政协委员提案
    Congress,
    /// 群众、媒体、网络反映问题
    Public,
}

impl Source {
    pub const ALL: [Source; 9] = [
        Source::Decision,
        Source::Plenary,
        Source::StandingCommittee,
        Source::Instruction,
        Source::Minutes,
        Source::Reform,
        Source::Research,
        Source::Congress,
        Source::Public,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Source::Decision => "decision",
            Source::Plenary => "plenary",
            Source::StandingCommittee => "standing_committee",
            Source::Instruction => "instruction",
            Source::Minutes => "minutes",
            Source::Reform => "reform",
            Source::Research => "research",
            Source::Congress => "congress",
            Source::Public => "public",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Source::Decision => "决策部署",
            Source::Plenary => "全会、经济工作会议重点任务",
            Source::StandingCommittee => "常委会议定事项",
            Source::Instruction => "领导批示",
            Source::Minutes => "会议纪要",
            Source::Reform => "改革要点",
            Source::Research => "调研回访",
            Source::Congress => "人大建议、政协提案",
            Source::Public => "群众、媒体、网络反映问题",
        }
    }

    pub fn from_code(code: &str) -> Option<Source> {
        Source::ALL
            .into_iter()
            .find(|s| s.code() == code || s.label() == code)
    }
}

/// 特急 items count in hours, not working days: one is due [`CRITICAL_HOURS`] hours after it
/// is assigned (交办), whatever the calendar says. Its light is red once that instant has
/// passed and yellow in the last [`CRITICAL_YELLOW_HOURS`] hours. Fixed for now; a setting
/// may make them configurable later.
pub const CRITICAL_HOURS: i64 = 24;
/// The yellow window of a 特急 item, in hours before it is due.
pub const CRITICAL_YELLOW_HOURS: i64 = 4;
const HOUR_MS: i64 = 3_600_000;

/// When a 特急 item assigned at `assigned_at_ms` (unix ms) is due.
pub fn critical_due_at(assigned_at_ms: i64) -> i64 {
    assigned_at_ms.saturating_add(CRITICAL_HOURS * HOUR_MS)
}

/// The light of a 特急 item due at the instant `due_at_ms`, at `now_ms`.
pub fn critical_signal(state: ItemState, due_at_ms: i64, now_ms: i64) -> Signal {
    if !state.is_open() {
        Signal::None
    } else if now_ms > due_at_ms {
        Signal::Red
    } else if due_at_ms - now_ms <= CRITICAL_YELLOW_HOURS * HOUR_MS {
        Signal::Yellow
    } else {
        Signal::Green
    }
}

/// Whole hours left until `due_at_ms`, rounded up (an hour and a minute left is 2); negative
/// once overdue (rounded away from zero: a minute late is -1).
pub fn hours_left(due_at_ms: i64, now_ms: i64) -> i64 {
    let left = due_at_ms - now_ms;
    if left >= 0 {
        (left + HOUR_MS - 1) / HOUR_MS
    } else {
        -((-left + HOUR_MS - 1) / HOUR_MS)
    }
}

/// The cadence of an item whose 完成时限 names none: a progress report by the last day of
/// every month, so that the stalled signal applies to every item.
pub const DEFAULT_CADENCE: &str = "monthly:31";

/// The reporting cycle an item's units report in, from its cadence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cycle {
    /// This calendar month (monthly cadences).
    Month,
    /// This week, Monday to Sunday (weekly cadences).
    Week,
    /// Since the item was assigned (any other cadence, or none).
    SinceAssignment,
}

impl Cycle {
    pub fn from_cadence(cadence: Option<&str>) -> Cycle {
        match cadence.map(|c| c.split(':').next().unwrap_or(c)) {
            Some("monthly") => Cycle::Month,
            Some("weekly") => Cycle::Week,
            _ => Cycle::SinceAssignment,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Cycle::Month => "本月",
            Cycle::Week => "本周",
            Cycle::SinceAssignment => "交办以来",
        }
    }

    /// The first day of the cycle that contains `today`; `None` when the cycle starts at the
    /// item's assignment.
    pub fn start(self, today: Date) -> Option<Date> {
        match self {
            Cycle::Month => Some(today.first_of_month()),
            Cycle::Week => {
                let back = i64::from(today.weekday().to_monday_zero_offset());
                today.checked_sub(jiff::Span::new().days(back)).ok()
            }
            Cycle::SinceAssignment => None,
        }
    }
}

/// Where an item is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Draft,
    Registered,
    Assigned,
    InProgress,
    ClosureRequested,
    Closed,
    Cancelled,
}

impl ItemState {
    pub const ALL: [ItemState; 7] = [
        ItemState::Draft,
        ItemState::Registered,
        ItemState::Assigned,
        ItemState::InProgress,
        ItemState::ClosureRequested,
        ItemState::Closed,
        ItemState::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ItemState::Draft => "draft",
            ItemState::Registered => "registered",
            ItemState::Assigned => "assigned",
            ItemState::InProgress => "in_progress",
            ItemState::ClosureRequested => "closure_requested",
            ItemState::Closed => "closed",
            ItemState::Cancelled => "cancelled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ItemState::Draft => "草稿",
            ItemState::Registered => "已立项",
            ItemState::Assigned => "已交办",
            ItemState::InProgress => "办理中",
            ItemState::ClosureRequested => "申请办结",
            ItemState::Closed => "已办结",
            ItemState::Cancelled => "已撤销",
        }
    }

    pub fn from_code(code: &str) -> Option<ItemState> {
        ItemState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Still being worked on: signals apply.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ItemState::Registered
                | ItemState::Assigned
                | ItemState::InProgress
                | ItemState::ClosureRequested
        )
    }
}

/// What someone does to an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Register,
    Assign,
    Acknowledge,
    Dispute,
    ReportProgress,
    RequestClosure,
    ApproveClosure,
    SendBack,
    RequestExtension,
    DecideExtension,
    Cancel,
    Instruct,
    Urge,
}

impl Action {
    pub const ALL: [Action; 13] = [
        Action::Register,
        Action::Assign,
        Action::Acknowledge,
        Action::Dispute,
        Action::ReportProgress,
        Action::RequestClosure,
        Action::ApproveClosure,
        Action::SendBack,
        Action::RequestExtension,
        Action::DecideExtension,
        Action::Cancel,
        Action::Instruct,
        Action::Urge,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Action::Register => "立项",
            Action::Assign => "交办",
            Action::Acknowledge => "签收",
            Action::Dispute => "退回交办",
            Action::ReportProgress => "报送进展",
            Action::RequestClosure => "申请办结",
            Action::ApproveClosure => "同意办结",
            Action::SendBack => "退回办结申请",
            Action::RequestExtension => "申请延期",
            Action::DecideExtension => "审批延期",
            Action::Cancel => "撤销",
            Action::Instruct => "批示",
            Action::Urge => "催办",
        }
    }
}

/// How the acting person stands to the item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// The supervision office (督查室).
    Supervisor,
    /// A leader (any leader may instruct; the responsible leader is notified).
    Leader,
    /// Liaison or head of the lead unit.
    LeadUnit,
    /// Liaison or head of a co-unit.
    CoUnit,
    /// Anyone else.
    Other,
}

/// Why a transition was refused, in Chinese.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Decides whether `standing` may take `action` on an item in `state`, and the state after.
pub fn transition(
    state: ItemState,
    action: Action,
    standing: Standing,
) -> Result<ItemState, Refused> {
    use Action as A;
    use ItemState as S;
    use Standing as P;
    let allowed_by: &[Standing] = match action {
        A::Register
        | A::Assign
        | A::ApproveClosure
        | A::SendBack
        | A::DecideExtension
        | A::Cancel
        | A::Urge => &[P::Supervisor],
        A::Acknowledge | A::ReportProgress => &[P::LeadUnit, P::CoUnit],
        A::Dispute | A::RequestClosure | A::RequestExtension => &[P::LeadUnit],
        A::Instruct => &[P::Leader],
    };
    if !allowed_by.contains(&standing) {
        let who = match action {
            A::Instruct => "只有领导可以批示",
            A::Acknowledge | A::ReportProgress => "只有牵头单位或配合单位可以签收和报送进展",
            A::Dispute | A::RequestClosure | A::RequestExtension => {
                "只有牵头单位可以退回交办、申请办结或申请延期"
            }
            _ => "只有督查室可以执行此操作",
        };
        return Err(Refused(who.to_owned()));
    }
    let next = match (action, state) {
        (A::Register, S::Draft) => S::Registered,
        (A::Assign, S::Registered) => S::Assigned,
        (A::Acknowledge, S::Assigned) if standing == P::LeadUnit => S::InProgress,
        (A::Acknowledge, s @ (S::Assigned | S::InProgress)) => s,
        (A::Dispute, S::Assigned) => S::Registered,
        (A::ReportProgress, S::Assigned) if standing == P::LeadUnit => S::InProgress,
        (A::ReportProgress, s @ (S::Assigned | S::InProgress)) => s,
        (A::RequestClosure, S::InProgress) => S::ClosureRequested,
        (A::ApproveClosure, S::ClosureRequested) => S::Closed,
        (A::SendBack, S::ClosureRequested) => S::InProgress,
        (A::RequestExtension, s @ (S::Assigned | S::InProgress)) => s,
        (A::DecideExtension, s) if s.is_open() => s,
        (A::Cancel, s) if s != S::Closed && s != S::Cancelled => S::Cancelled,
        (A::Instruct, s) if s != S::Cancelled => s,
        (A::Urge, s @ (S::Assigned | S::InProgress)) => s,
        (action, state) => {
            return Err(Refused(format!(
                "事项当前为“{}”，不能{}",
                state.label(),
                action.label()
            )));
        }
    };
    Ok(next)
}

/// The traffic light of an item or of one unit's part of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Red,
    Yellow,
    Green,
    /// The cadence report is missing (the commonest failure: owners who never update).
    Stalled,
    /// No light: closed, cancelled, or ongoing without a report date.
    None,
}

impl Signal {
    pub fn label(self) -> &'static str {
        match self {
            Signal::Red => "红灯（逾期）",
            Signal::Yellow => "黄灯（临期）",
            Signal::Green => "绿灯（正常）",
            Signal::Stalled => "未按时报送",
            Signal::None => "—",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Signal::Red => "red",
            Signal::Yellow => "yellow",
            Signal::Green => "green",
            Signal::Stalled => "stalled",
            Signal::None => "none",
        }
    }
}

/// Computes the signal: red when `due` has passed, yellow when it falls within `yellow_days`
/// working days (an item due today is yellow), stalled when a cadence report was due and none
/// came, green otherwise.
pub fn signal(
    state: ItemState,
    due: Option<Date>,
    next_report: Option<Date>,
    last_report: Option<Date>,
    today: Date,
    yellow_days: u32,
    calendar: &WorkCalendar,
) -> Signal {
    if !state.is_open() {
        return Signal::None;
    }
    if let Some(due) = due {
        if due < today {
            return Signal::Red;
        }
        // "Due within N working days": no later than the Nth working day after today.
        if due <= calendar.add_workdays(today, yellow_days) {
            return Signal::Yellow;
        }
    }
    if let Some(report_due) = next_report {
        let reported = last_report.is_some_and(|r| r >= report_window_start(report_due));
        if report_due < today && !reported {
            return Signal::Stalled;
        }
    }
    // An item with no due date (recurring, ongoing) is green while its reports keep coming:
    // `next_report` is the report date already passed, so it cannot make it yellow.
    Signal::Green
}

/// A report counts for a report date when it came at most a month before it.
fn report_window_start(report_due: Date) -> Date {
    report_due
        .checked_sub(jiff::Span::new().days(31))
        .unwrap_or(report_due)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cal() -> WorkCalendar {
        WorkCalendar::official()
    }

    #[test]
    fn every_action_in_every_state_by_every_standing_is_decided() {
        // The full matrix: the expected successor, or refused.
        let standings = [
            Standing::Supervisor,
            Standing::Leader,
            Standing::LeadUnit,
            Standing::CoUnit,
            Standing::Other,
        ];
        let mut allowed = 0;
        for state in ItemState::ALL {
            for action in Action::ALL {
                for standing in standings {
                    let outcome = transition(state, action, standing);
                    let expected = expected(state, action, standing);
                    assert_eq!(
                        outcome.as_ref().ok().copied(),
                        expected,
                        "{state:?} {action:?} {standing:?}: {outcome:?}"
                    );
                    if outcome.is_ok() {
                        allowed += 1;
                    }
                }
            }
        }
        assert!(allowed > 20 && allowed < 100, "{allowed}");
    }

    /// The rules written out independently of `transition`, as a table.
    fn expected(state: ItemState, action: Action, standing: Standing) -> Option<ItemState> {
        use Action as A;
        use ItemState as S;
        use Standing as P;
        match (action, standing, state) {
            (A::Register, P::Supervisor, S::Draft) => Some(S::Registered),
            (A::Assign, P::Supervisor, S::Registered) => Some(S::Assigned),
            (A::Acknowledge, P::LeadUnit, S::Assigned) => Some(S::InProgress),
            (A::Acknowledge, P::LeadUnit | P::CoUnit, S::InProgress)
            | (A::Acknowledge, P::CoUnit, S::Assigned) => Some(state),
            (A::Dispute, P::LeadUnit, S::Assigned) => Some(S::Registered),
            (A::ReportProgress, P::LeadUnit, S::Assigned) => Some(S::InProgress),
            (A::ReportProgress, P::LeadUnit | P::CoUnit, S::InProgress)
            | (A::ReportProgress, P::CoUnit, S::Assigned) => Some(state),
            (A::RequestClosure, P::LeadUnit, S::InProgress) => Some(S::ClosureRequested),
            (A::ApproveClosure, P::Supervisor, S::ClosureRequested) => Some(S::Closed),
            (A::SendBack, P::Supervisor, S::ClosureRequested) => Some(S::InProgress),
            (A::RequestExtension, P::LeadUnit, S::Assigned | S::InProgress) => Some(state),
            (
                A::DecideExtension,
                P::Supervisor,
                S::Registered | S::Assigned | S::InProgress | S::ClosureRequested,
            ) => Some(state),
            (
                A::Cancel,
                P::Supervisor,
                S::Draft | S::Registered | S::Assigned | S::InProgress | S::ClosureRequested,
            ) => Some(S::Cancelled),
            (A::Instruct, P::Leader, s) if s != S::Cancelled => Some(s),
            (A::Urge, P::Supervisor, S::Assigned | S::InProgress) => Some(state),
            _ => None,
        }
    }

    #[test]
    fn a_closed_item_cannot_be_extended_and_says_why() {
        let err = transition(
            ItemState::Closed,
            Action::RequestExtension,
            Standing::LeadUnit,
        )
        .err()
        .map(|e| e.0);
        assert_eq!(err.as_deref(), Some("事项当前为“已办结”，不能申请延期"));
    }

    #[test]
    fn a_co_unit_cannot_request_closure() {
        assert!(
            transition(
                ItemState::InProgress,
                Action::RequestClosure,
                Standing::CoUnit
            )
            .is_err()
        );
    }

    #[test]
    fn an_item_due_yesterday_is_red_and_due_today_is_yellow() {
        let today = date(2025, 3, 12);
        let s = |due| {
            signal(
                ItemState::InProgress,
                Some(due),
                None,
                None,
                today,
                3,
                &cal(),
            )
        };
        assert_eq!(s(date(2025, 3, 11)), Signal::Red);
        assert_eq!(s(today), Signal::Yellow);
        assert_eq!(s(date(2025, 3, 14)), Signal::Yellow);
        assert_eq!(s(date(2025, 3, 31)), Signal::Green);
    }

    #[test]
    fn the_yellow_window_counts_working_days_across_a_holiday() {
        // 2025-09-30 (Tue) before the National Day holiday 10-01..10-08; 09-28 (Sun) and
        // 10-11 (Sat) are make-up workdays. Three working days after 09-30 reach 10-10.
        let today = date(2025, 9, 30);
        let s = |due| {
            signal(
                ItemState::InProgress,
                Some(due),
                None,
                None,
                today,
                3,
                &cal(),
            )
        };
        assert_eq!(s(date(2025, 10, 5)), Signal::Yellow, "inside the holiday");
        assert_eq!(s(date(2025, 10, 9)), Signal::Yellow, "the 1st working day");
        assert_eq!(s(date(2025, 10, 10)), Signal::Yellow, "the 2nd working day");
        assert_eq!(
            s(date(2025, 10, 11)),
            Signal::Yellow,
            "a 调休 Saturday, 3rd"
        );
        assert_eq!(s(date(2025, 10, 13)), Signal::Green, "the 4th working day");
    }

    #[test]
    fn a_missing_cadence_report_stalls_an_item() {
        let today = date(2025, 3, 27);
        let stalled = signal(
            ItemState::InProgress,
            Some(date(2025, 12, 31)),
            Some(date(2025, 3, 25)),
            Some(date(2025, 2, 20)),
            today,
            3,
            &cal(),
        );
        assert_eq!(stalled, Signal::Stalled);
        let reported = signal(
            ItemState::InProgress,
            Some(date(2025, 12, 31)),
            Some(date(2025, 3, 25)),
            Some(date(2025, 3, 24)),
            today,
            3,
            &cal(),
        );
        assert_eq!(reported, Signal::Green);
    }

    #[test]
    fn closed_items_have_no_light() {
        let s = signal(
            ItemState::Closed,
            Some(date(2020, 1, 1)),
            None,
            None,
            date(2025, 1, 1),
            3,
            &cal(),
        );
        assert_eq!(s, Signal::None);
    }
    #[test]
    fn a_critical_item_is_red_after_24_hours_and_yellow_in_the_last_four() {
        let assigned = 1_780_000_000_000_i64;
        let due = critical_due_at(assigned);
        assert_eq!(due - assigned, 24 * HOUR_MS);
        let s = |now| critical_signal(ItemState::Assigned, due, now);
        assert_eq!(s(assigned), Signal::Green);
        assert_eq!(s(due - 4 * HOUR_MS - 1), Signal::Green);
        assert_eq!(s(due - 4 * HOUR_MS), Signal::Yellow);
        assert_eq!(s(due), Signal::Yellow);
        assert_eq!(s(due + 1), Signal::Red);
        assert_eq!(
            critical_signal(ItemState::Closed, due, due + 1),
            Signal::None
        );
        assert_eq!(hours_left(due, assigned), 24);
        assert_eq!(hours_left(due, assigned + 60_000), 24);
        assert_eq!(hours_left(due, due - HOUR_MS), 1);
        assert_eq!(hours_left(due, due), 0);
        assert_eq!(hours_left(due, due + 60_000), -1);
    }

    #[test]
    fn the_reporting_cycle_follows_the_cadence() {
        let wednesday = date(2026, 3, 18);
        assert_eq!(Cycle::from_cadence(Some("monthly:31")), Cycle::Month);
        assert_eq!(Cycle::from_cadence(Some("weekly:5")), Cycle::Week);
        assert_eq!(
            Cycle::from_cadence(Some("quarterly")),
            Cycle::SinceAssignment
        );
        assert_eq!(Cycle::from_cadence(None), Cycle::SinceAssignment);
        assert_eq!(Cycle::Month.start(wednesday), Some(date(2026, 3, 1)));
        assert_eq!(Cycle::Week.start(wednesday), Some(date(2026, 3, 16)));
        assert_eq!(
            Cycle::Week.start(date(2026, 3, 16)),
            Some(date(2026, 3, 16))
        );
        assert_eq!(
            Cycle::Week.start(date(2026, 3, 22)),
            Some(date(2026, 3, 16))
        );
        assert_eq!(Cycle::SinceAssignment.start(wednesday), None);
    }

    #[test]
    fn sources_round_trip() {
        for s in Source::ALL {
            assert_eq!(Source::from_code(s.code()), Some(s));
            assert_eq!(Source::from_code(s.label()), Some(s));
        }
        assert_eq!(Source::from_code("nope"), None);
    }
}
