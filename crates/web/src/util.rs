//! Small helpers of the web edge: URL encoding, cookies, times shown in Asia/Shanghai, and form
//! and JSON extractors whose rejections speak Chinese.

use crate::error::WebError;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

/// Percent-encodes a query value.
pub fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a percent-encoded form value (`+` already turned into spaces by the caller).
pub fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(value) = u8::from_str_radix(hex, 16)
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A cookie's value from the request, if present.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Unix milliseconds, by value or through references (templates hand over `&&i64`).
pub trait Millis {
    fn millis(&self) -> i64;
}

impl Millis for i64 {
    fn millis(&self) -> i64 {
        *self
    }
}

impl<T: Millis + ?Sized> Millis for &T {
    fn millis(&self) -> i64 {
        (**self).millis()
    }
}

/// Unix milliseconds as Beijing time, `2026-11-25 14:03`.
pub fn beijing_time(ms: impl Millis) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(ms.millis()) else {
        return String::new();
    };
    match jiff::tz::TimeZone::get("Asia/Shanghai") {
        Ok(tz) => ts.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string(),
        Err(_) => ts.strftime("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// Today in Beijing.
pub fn beijing_today() -> jiff::civil::Date {
    let now = jiff::Timestamp::now();
    match jiff::tz::TimeZone::get("Asia/Shanghai") {
        Ok(tz) => now.to_zoned(tz).date(),
        Err(_) => now.to_zoned(jiff::tz::TimeZone::UTC).date(),
    }
}

/// A form body; a malformed one is a Chinese 400, an oversized one a 413.
pub struct ValidForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ValidForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(ValidForm(value)),
            Err(rejection) => Err(form_rejection(rejection)),
        }
    }
}

fn form_rejection(rejection: FormRejection) -> WebError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return WebError::TooLarge;
    }
    WebError::BadRequest(format!("表单数据格式不正确：{}", rejection.body_text()))
}

/// A JSON body; malformed JSON is a Chinese 400, an oversized one a 413.
pub struct ValidJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ValidJson<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ValidJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> WebError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return WebError::TooLarge;
    }
    let reason = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "请求须为 JSON（Content-Type: application/json）".to_owned()
        }
        JsonRejection::JsonSyntaxError(_) => "JSON 语法错误".to_owned(),
        JsonRejection::JsonDataError(e) => format!("JSON 字段不正确：{}", e.body_text()),
        other => other.body_text(),
    };
    WebError::BadRequest(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_keeps_paths_readable_and_escapes_the_rest() {
        assert_eq!(url_encode("/units?a=1"), "/units%3Fa%3D1");
        assert_eq!(url_encode("单"), "%E5%8D%95");
    }

    #[test]
    fn beijing_time_is_eight_hours_ahead_of_utc() {
        assert_eq!(beijing_time(0), "1970-01-01 08:00");
    }
}
