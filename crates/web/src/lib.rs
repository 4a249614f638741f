//! The web edge: one router per business area, typed templates, sessions and permissions at the
//! door, one error type, and the JSON API under `/api/v1`.
//!
//! Requests flow one way: parse into domain types here, check the permission (a proof value
//! from the viewer), call one store function, render. Nothing here writes SQL.

pub mod account;
pub mod api;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod boards;
pub mod calendar;
pub mod config;
pub mod error;
pub mod home;
pub mod inbox;
pub mod inspections;
pub mod ledger;
pub mod org;
pub mod outbox;
pub mod people;
pub mod plans;
pub mod search;
pub mod settings;
pub mod shell;
pub mod summaries;
pub mod supervision;
pub mod util;
pub mod worker;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::csrf::CsrfLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;
use zhongshu_store::Store;

pub use config::Settings;
pub use error::WebError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
}

/// The whole application: every area's router, the static assets and the layers, added once.
pub fn app(state: AppState) -> Router {
    let csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
               font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; \
               base-uri 'none'; object-src 'none'";
    let mut csrf = CsrfLayer::new();
    if !state.settings.public_url.is_empty() {
        match csrf
            .clone()
            .add_trusted_origin(state.settings.public_url.trim_end_matches('/'))
        {
            Ok(layer) => csrf = layer,
            Err(err) => tracing::warn!("public_url 不是有效的来源地址：{err:?}"),
        }
    }
    let max_body = state
        .settings
        .security
        .max_body_mib
        .saturating_mul(1024 * 1024);
    Router::new()
        .merge(auth::router())
        .merge(home::router())
        .merge(org::router())
        .merge(people::router())
        .merge(calendar::router())
        .merge(audit::router())
        .merge(settings::router())
        .merge(account::router())
        .merge(supervision::router())
        .merge(inbox::router())
        .merge(outbox::router())
        .merge(search::router())
        .merge(boards::router())
        .merge(ledger::router())
        .merge(inspections::router())
        .merge(summaries::router())
        .merge(plans::router())
        .nest("/api/v1", api::router())
        .route("/static/app.css", get(app_css))
        .route("/static/app.js", get(app_js))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .layer(csrf.with_rejection_response(cross_site_refused))
        // Outside the CSRF layer, so it sees the responses that layer refuses with.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit_cross_site_refusals,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .with_state(state)
}

/// Serves the app on a listener the caller bound (tests bind port 0), until ctrl-c or SIGTERM.
/// The background tasks (reminder scan, outbox delivery) run beside it and stop with it.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let tasks = StopOnDrop(worker::spawn(state.clone()));
    let outcome = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    drop(tasks);
    outcome
}

/// Aborts the background tasks when the server stops, or when its future is dropped (a test
/// aborting the server).
struct StopOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

fn cross_site_refused(_err: tower_http::csrf::ProtectionError) -> Response<axum::body::Body> {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "跨站请求已被拒绝：请从本系统的页面提交表单。",
    )
        .into_response()
}

/// A refused cross-site request is a security event: record it.
async fn audit_cross_site_refusals(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let addr = auth::client_addr(&request);
    let response = next.run(request).await;
    if response
        .extensions()
        .get::<tower_http::csrf::ProtectionError>()
        .is_some()
        && method != Method::GET
    {
        let viewer = Viewer::anonymous("").with_client_addr(addr);
        if let Err(err) = state
            .store
            .record_security_event(
                &viewer,
                AuditCode::CrossSiteRequestRefused,
                &format!("{method} {path}"),
                None,
            )
            .await
        {
            tracing::error!("无法记录跨站请求：{err}");
        }
    }
    response
}

async fn healthz(State(state): State<AppState>) -> Result<&'static str, WebError> {
    state.store.ping().await?;
    Ok("ok")
}

async fn not_found() -> WebError {
    WebError::NotFound("页面")
}

async fn app_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
}

async fn app_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.js"),
    )
}
