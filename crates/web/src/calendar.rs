//! The working-day calendar: a year's official holidays and make-up workdays, month by month,
//! and the administrator's form to correct or add a year (the same text format as the shipped
//! data, so a year can be pasted from a small file).

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::shell::Shell;
use crate::util::ValidForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use jiff::civil::Date;
use serde::Deserialize;
use zhongshu_domain::access::Capability;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calendar", get(calendar_page).post(save_calendar))
        .route("/calendar/import", axum::routing::post(import_calendar))
}

#[derive(Deserialize, Default)]
pub struct CalendarQuery {
    #[serde(default)]
    year: Option<i16>,
    #[serde(default)]
    ok: Option<String>,
}

pub struct Day {
    pub day: i8,
    pub class: &'static str,
    pub title: String,
}

pub struct Month {
    pub label: String,
    /// Blank cells before the 1st (weeks start on Monday).
    pub lead: usize,
    pub days: Vec<Day>,
}

pub struct Holiday {
    pub festival: String,
    pub dates: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar.html")]
pub struct CalendarPage {
    pub shell: Shell,
    pub year: i16,
    pub has_data: bool,
    pub source: String,
    pub holidays: Vec<Holiday>,
    pub workdays: Vec<String>,
    pub months: Vec<Month>,
    pub can_edit: bool,
    pub body: String,
    pub errors: Vec<String>,
    pub years: Vec<i16>,
}

async fn render(
    state: &AppState,
    session: &Session,
    year: i16,
    notice: Option<&str>,
    body: Option<String>,
    errors: Vec<String>,
) -> Result<CalendarPage, WebError> {
    let calendar = state.store.work_calendar().await?;
    let year_data = calendar.year(year);
    let mut holidays: Vec<Holiday> = Vec::new();
    if let Some(y) = year_data {
        for (date, name) in y.holidays() {
            let text = date.strftime("%-m月%-d日").to_string();
            match holidays.last_mut() {
                Some(h) if h.festival == name => {
                    h.dates.push('、');
                    h.dates.push_str(&text);
                }
                _ => holidays.push(Holiday {
                    festival: name.to_owned(),
                    dates: text,
                }),
            }
        }
    }
    let mut months = Vec::new();
    for m in 1..=12i8 {
        let Ok(first) = Date::new(year, m, 1) else {
            continue;
        };
        let lead = usize::try_from(first.weekday().to_monday_zero_offset()).unwrap_or(0);
        let mut days = Vec::new();
        for d in 1..=first.days_in_month() {
            let Ok(date) = Date::new(year, m, d) else {
                continue;
            };
            let weekend = matches!(
                date.weekday(),
                jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
            );
            let (class, title) = match calendar.festival(date) {
                Some(name) => ("holiday", name.to_owned()),
                None if calendar.is_workday(date) && weekend => ("makeup", "调休上班".to_owned()),
                None if calendar.is_workday(date) => ("", String::new()),
                None => ("weekend", "休息".to_owned()),
            };
            days.push(Day {
                day: d,
                class,
                title,
            });
        }
        months.push(Month {
            label: format!("{m}月"),
            lead,
            days,
        });
    }
    let text = year_data.map(|y| y.to_text()).unwrap_or_default();
    Ok(CalendarPage {
        shell: Shell::new(state, &session.viewer, "工作日历", "/calendar")
            .await?
            .with_notice(notice),
        year,
        has_data: year_data.is_some(),
        source: year_data
            .and_then(|y| y.source())
            .unwrap_or_default()
            .to_owned(),
        holidays,
        workdays: year_data
            .map(|y| {
                y.workdays()
                    .map(|d| d.strftime("%-m月%-d日").to_string())
                    .collect()
            })
            .unwrap_or_default(),
        months,
        can_edit: session.viewer.can(Capability::ManageOrganisation),
        body: body.unwrap_or(text),
        errors,
        years: calendar.years().map(|y| y.year()).collect(),
    })
}

async fn calendar_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<CalendarQuery>,
) -> Result<CalendarPage, WebError> {
    let year = q
        .year
        .filter(|y| (1900..=2999).contains(y))
        .unwrap_or_else(|| crate::util::beijing_today().year());
    render(&state, &session, year, q.ok.as_deref(), None, vec![]).await
}

#[derive(Deserialize)]
pub struct CalendarForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    year: Option<i16>,
}

async fn save_calendar(
    State(state): State<AppState>,
    session: Session,
    ValidForm(form): ValidForm<CalendarForm>,
) -> Result<Response, WebError> {
    save_text(state, session, form.body, form.year).await
}

/// The same as the form, from a small text file (UTF-8 or GBK) in the calendar format.
async fn import_calendar(
    State(state): State<AppState>,
    session: Session,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, WebError> {
    session.sys_admin(&state, "calendar").await?;
    let mut multipart = multipart.map_err(|_| {
        WebError::BadRequest("上传内容不正确：请以 multipart/form-data 方式上传文件".into())
    })?;
    let mut body = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| WebError::BadRequest("上传内容不正确，请重新选择文件".into()))?
    {
        if field.name() == Some("file") {
            let bytes = field
                .bytes()
                .await
                .map_err(|_| WebError::BadRequest("上传内容不正确，请重新选择文件".into()))?;
            body = Some(decode_text(&bytes));
        }
    }
    let body = body.ok_or_else(|| WebError::BadRequest("请选择节假日安排文件".into()))?;
    save_text(state, session, body, None).await
}

/// Text files from Chinese Windows are often GBK: read UTF-8 when it is, else GB18030.
fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

async fn save_text(
    state: AppState,
    session: Session,
    body: String,
    year: Option<i16>,
) -> Result<Response, WebError> {
    let admin = session.sys_admin(&state, "calendar").await?;
    let year = year.unwrap_or_else(|| crate::util::beijing_today().year());
    let form = CalendarForm {
        body,
        year: Some(year),
    };
    match state.store.save_calendar_text(admin, &form.body).await {
        Ok(years) => {
            let shown = years.first().copied().unwrap_or(year);
            Ok(Redirect::to(&format!("/calendar?year={shown}&ok=calendar_saved")).into_response())
        }
        Err(zhongshu_store::Error::Rows(problems)) => {
            let errors = problems.iter().map(ToString::to_string).collect();
            let page = render(&state, &session, year, None, Some(form.body), errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(zhongshu_store::Error::Invalid(problems)) => {
            let errors = problems.into_iter().map(|p| p.message).collect();
            let page = render(&state, &session, year, None, Some(form.body), errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
