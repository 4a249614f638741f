//! The JSON API under `/api/v1`, for integrations (sign in with `Authorization: Bearer TOKEN`).
//! Errors are `{"code": "stable_code", "message": "中文说明"}`.
//!
//! Every route is registered through [`Api::route`], which records it in the OpenAPI document
//! served at `/api/v1/openapi.json`, so the document cannot list a route that does not exist or
//! miss one that does.

use crate::AppState;
use crate::auth::Session;
use crate::error::{WebError, api_errors_as_json};
use crate::util::ValidJson;
use axum::extract::{Path, Query, State};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;
use zhongshu_domain::access::Role;
use zhongshu_domain::ids::{UnitId, UserId};
use zhongshu_domain::org::{UnitName, UnitType};
use zhongshu_store::units::{NewUnit, Unit};
use zhongshu_store::users::{NewUser, User, UserFilter};

struct Api {
    router: Router<AppState>,
    paths: serde_json::Map<String, Value>,
}

impl Api {
    /// Registers a route and its entry in the OpenAPI document together.
    fn route(
        mut self,
        path: &str,
        method: &str,
        summary: &str,
        params: &[(&str, &str, &str)],
        handler: MethodRouter<AppState>,
    ) -> Api {
        let openapi_path = path.to_owned();
        let parameters: Vec<Value> = params
            .iter()
            .map(|(name, place, description)| {
                json!({ "name": name, "in": place, "required": *place == "path",
                        "description": description, "schema": { "type": "string" } })
            })
            .collect();
        let mut operation = json!({
            "summary": summary,
            "parameters": parameters,
            "security": [{ "bearer": [] }],
            "responses": {
                "200": { "description": "成功" },
                "400": { "$ref": "#/components/responses/Error" },
                "401": { "$ref": "#/components/responses/Error" },
                "403": { "$ref": "#/components/responses/Error" },
                "404": { "$ref": "#/components/responses/Error" },
                "422": { "$ref": "#/components/responses/Error" }
            }
        });
        if method == "post" {
            operation["requestBody"] = json!({
                "required": true,
                "content": { "application/json": { "schema": { "type": "object" } } }
            });
        }
        let entry = self.paths.entry(openapi_path).or_insert_with(|| json!({}));
        entry[method] = operation;
        self.router = self.router.route(path, handler);
        self
    }
}

pub fn router() -> Router<AppState> {
    let api = Api {
        router: Router::new(),
        paths: serde_json::Map::new(),
    }
    .route("/me", "get", "当前用户", &[], get(me))
    .route("/units", "get", "单位列表（树序）", &[], get(list_units))
    .route(
        "/search",
        "get",
        "检索督办事项与进展报送（按调用者可见范围）",
        &[
            ("q", "query", "搜索词，多个词以空格分开"),
            ("limit", "query", "每类最多返回条数（1–200，默认50）"),
        ],
        get(crate::search::api_search),
    )
    .route(
        "/units",
        "post",
        "新增单位（系统管理员）",
        &[],
        axum::routing::post(create_unit),
    )
    .route(
        "/units/{id}",
        "get",
        "单位详情",
        &[("id", "path", "单位编号")],
        get(get_unit),
    )
    .route(
        "/users",
        "get",
        "用户列表（系统、安全管理员）",
        &[("q", "query", "用户名或姓名")],
        get(list_users),
    )
    .route(
        "/users",
        "post",
        "新增用户（系统管理员；授予角色须同时为安全管理员）",
        &[],
        axum::routing::post(create_user),
    )
    .route(
        "/users/{id}",
        "get",
        "用户详情",
        &[("id", "path", "用户编号")],
        get(get_user),
    )
    .route(
        "/calendar/is-workday",
        "get",
        "某日是否工作日",
        &[("date", "query", "YYYY-MM-DD")],
        get(is_workday),
    )
    .route(
        "/calendar/add-workdays",
        "get",
        "某日之后第N个工作日",
        &[("date", "query", "YYYY-MM-DD"), ("n", "query", "工作日数")],
        get(add_workdays),
    )
    .route(
        "/calendar/count-workdays",
        "get",
        "两日之间的工作日数（不含开始日，含结束日）",
        &[
            ("start", "query", "YYYY-MM-DD"),
            ("end", "query", "YYYY-MM-DD"),
        ],
        get(count_workdays),
    )
    .route(
        "/calendar/years/{year}",
        "get",
        "某年的放假与调休安排",
        &[("year", "path", "年份")],
        get(calendar_year),
    );
    let doc = Arc::new(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "中枢 Zhongshu API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "党政办公协同平台接口。以 Authorization: Bearer 令牌 访问；错误为 {\"code\", \"message\"}。"
        },
        "servers": [{ "url": "/api/v1" }],
        "paths": api.paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": {
                "Error": {
                    "description": "错误",
                    "content": { "application/json": { "schema": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": { "type": "string" },
                            "message": { "type": "string" },
                            "fields": { "type": "array" }
                        }
                    } } }
                }
            }
        }
    }));
    api.router
        .route(
            "/openapi.json",
            get(move || {
                let doc = Arc::clone(&doc);
                async move { Json((*doc).clone()) }
            }),
        )
        .fallback(|| async { WebError::NotFound("接口") })
        .layer(axum::middleware::map_response(api_errors_as_json))
}

#[derive(Serialize)]
struct Me {
    id: Option<UserId>,
    username: String,
    display_name: String,
    unit_id: Option<UnitId>,
    unit_name: String,
    roles: Vec<Role>,
}

async fn me(session: Session) -> Json<Me> {
    let v = session.viewer;
    Json(Me {
        id: v.user_id,
        roles: v.roles().to_vec(),
        username: v.username,
        display_name: v.display_name,
        unit_id: v.unit_id,
        unit_name: v.unit_name,
    })
}

async fn list_units(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<Unit>>, WebError> {
    Ok(Json(state.store.list_units(&session.viewer).await?))
}

async fn get_unit(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<Unit>, WebError> {
    let id = UnitId::parse(&id).ok_or(WebError::NotFound("单位"))?;
    Ok(Json(state.store.get_unit(&session.viewer, id).await?))
}

#[derive(Deserialize)]
struct UnitInput {
    name: String,
    #[serde(default)]
    parent_id: Option<i64>,
    unit_type: String,
    #[serde(default)]
    key_reporting: bool,
    #[serde(default)]
    sort_order: i64,
}

async fn create_unit(
    State(state): State<AppState>,
    session: Session,
    ValidJson(input): ValidJson<UnitInput>,
) -> Result<(axum::http::StatusCode, Json<Unit>), WebError> {
    let admin = session.sys_admin(&state, "api:units:create").await?;
    let mut problems = Vec::new();
    let name = UnitName::parse(&input.name)
        .map_err(|m| problems.push(zhongshu_store::FieldProblem::new("name", m)))
        .ok();
    let unit_type =
        UnitType::from_code(&input.unit_type).or_else(|| UnitType::from_label(&input.unit_type));
    if unit_type.is_none() {
        problems.push(zhongshu_store::FieldProblem::new(
            "unit_type",
            format!("单位类型应为{}之一", UnitType::accepted_labels()),
        ));
    }
    let parent_id = match input.parent_id {
        None => None,
        Some(raw) => match UnitId::parse(&raw.to_string()) {
            Some(id) => Some(id),
            None => {
                problems.push(zhongshu_store::FieldProblem::new(
                    "parent_id",
                    "上级单位不正确",
                ));
                None
            }
        },
    };
    let (Some(name), Some(unit_type), true) = (name, unit_type, problems.is_empty()) else {
        return Err(zhongshu_store::Error::Invalid(problems).into());
    };
    let id = state
        .store
        .create_unit(
            admin,
            NewUnit {
                parent_id,
                name,
                unit_type,
                key_reporting: input.key_reporting,
                sort_order: input.sort_order,
            },
        )
        .await?;
    let unit = state.store.get_unit(&session.viewer, id).await?;
    Ok((axum::http::StatusCode::CREATED, Json(unit)))
}

#[derive(Deserialize)]
struct UsersQuery {
    #[serde(default)]
    q: Option<String>,
}

async fn list_users(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<UsersQuery>,
) -> Result<Json<Vec<User>>, WebError> {
    let lister = session.user_lister(&state, "api:users").await?;
    let filter = UserFilter {
        query: q.q.filter(|t| !t.trim().is_empty()),
        ..UserFilter::default()
    };
    Ok(Json(state.store.list_users(lister, &filter, 1000).await?))
}

async fn get_user(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<User>, WebError> {
    let id = UserId::parse(&id).ok_or(WebError::NotFound("用户"))?;
    let lister = session
        .user_lister(&state, &format!("api:user:{id}"))
        .await?;
    Ok(Json(state.store.get_user(lister, id).await?))
}

#[derive(Deserialize)]
struct UserInput {
    username: String,
    display_name: String,
    #[serde(default)]
    title: String,
    unit_id: i64,
    password: String,
    #[serde(default)]
    roles: Vec<String>,
}

async fn create_user(
    State(state): State<AppState>,
    session: Session,
    ValidJson(input): ValidJson<UserInput>,
) -> Result<(axum::http::StatusCode, Json<User>), WebError> {
    let admin = session.sys_admin(&state, "api:users:create").await?;
    let mut roles = Vec::new();
    for code in &input.roles {
        roles.push(Role::from_code(code).ok_or_else(|| {
            WebError::from(zhongshu_store::Error::invalid(
                "roles",
                format!("未知角色“{code}”"),
            ))
        })?);
    }
    let grant = if roles.is_empty() {
        None
    } else {
        Some(session.security_admin(&state, "api:users:roles").await?)
    };
    let unit_id = UnitId::parse(&input.unit_id.to_string()).ok_or_else(|| {
        WebError::from(zhongshu_store::Error::invalid("unit_id", "所属单位不存在"))
    })?;
    let id = state
        .store
        .create_user(
            admin,
            grant,
            NewUser {
                username: input.username.trim().to_owned(),
                display_name: input.display_name,
                title: input.title,
                unit_id,
                password: input.password,
                roles,
                must_change_password: true,
            },
            &state.settings.password_policy(),
        )
        .await?;
    let lister = session.user_lister(&state, "api:users").await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(state.store.get_user(lister, id).await?),
    ))
}

fn parse_date(text: &str, field: &'static str) -> Result<jiff::civil::Date, WebError> {
    text.trim().parse().map_err(|_| {
        zhongshu_store::Error::invalid(field, format!("“{text}”不是有效日期（格式 YYYY-MM-DD）"))
            .into()
    })
}

#[derive(Deserialize)]
struct DateQuery {
    #[serde(default)]
    date: String,
    #[serde(default)]
    n: Option<u32>,
}

async fn is_workday(
    State(state): State<AppState>,
    _session: Session,
    Query(q): Query<DateQuery>,
) -> Result<Json<Value>, WebError> {
    let date = parse_date(&q.date, "date")?;
    let calendar = state.store.work_calendar().await?;
    Ok(Json(json!({
        "date": date.to_string(),
        "workday": calendar.is_workday(date),
        "festival": calendar.festival(date),
        "warning": calendar.warning_for(date),
    })))
}

async fn add_workdays(
    State(state): State<AppState>,
    _session: Session,
    Query(q): Query<DateQuery>,
) -> Result<Json<Value>, WebError> {
    let date = parse_date(&q.date, "date")?;
    let n =
        q.n.ok_or_else(|| WebError::from(zhongshu_store::Error::invalid("n", "请给出工作日数 n")))?;
    let calendar = state.store.work_calendar().await?;
    let result = calendar.add_workdays(date, n);
    Ok(Json(json!({
        "date": date.to_string(),
        "n": n,
        "result": result.to_string(),
        "warning": calendar.warning_for(result),
    })))
}

#[derive(Deserialize)]
struct RangeQuery {
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
}

async fn count_workdays(
    State(state): State<AppState>,
    _session: Session,
    Query(q): Query<RangeQuery>,
) -> Result<Json<Value>, WebError> {
    let start = parse_date(&q.start, "start")?;
    let end = parse_date(&q.end, "end")?;
    let calendar = state.store.work_calendar().await?;
    Ok(Json(json!({
        "start": start.to_string(),
        "end": end.to_string(),
        "workdays": calendar.count_workdays(start, end),
    })))
}

async fn calendar_year(
    State(state): State<AppState>,
    _session: Session,
    Path(year): Path<String>,
) -> Result<Json<Value>, WebError> {
    let year: i16 = year
        .parse()
        .map_err(|_| WebError::from(zhongshu_store::Error::invalid("year", "年份不正确")))?;
    let calendar = state.store.work_calendar().await?;
    let Some(data) = calendar.year(year) else {
        return Err(WebError::NotFound("该年节假日数据"));
    };
    Ok(Json(json!({
        "year": year,
        "source": data.source(),
        "holidays": data.holidays().map(|(d, name)| json!({ "date": d.to_string(), "festival": name })).collect::<Vec<_>>(),
        "workdays": data.workdays().map(|d| d.to_string()).collect::<Vec<_>>(),
    })))
}
