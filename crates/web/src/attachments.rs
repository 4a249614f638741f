//! Attachments (附件) at the web edge: reading a form that may carry files, and the download.
//!
//! The forms that take files (a progress report, a closure request with its evidence) are
//! `multipart/form-data`; the same routes still accept a plain urlencoded form, so scripts and
//! the pages without files keep working. Their routes lift the global body limit and
//! [`read_form`] enforces the attachment limits itself while it reads, part by part: a file over
//! the size limit is refused by name as soon as it passes it, instead of the whole request
//! failing with an anonymous "too large" after it has been buffered.
//!
//! A download goes through [`Store::open_attachment`](zhongshu_store::Store::open_attachment),
//! which applies the item page's visibility and audits the read; the file is streamed from disk
//! with `Content-Disposition: attachment` and `nosniff`, so a browser never renders an upload
//! inline as a page of this site.

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::pin::Pin;
use std::task::{Context, Poll};
use zhongshu_store::Error as StoreError;
use zhongshu_store::attachments::{MAX_FILES, Upload, clean_file_name, size_label};

/// The largest text field accepted (a report's "done" is a few paragraphs at most).
const MAX_TEXT_BYTES: usize = 256 * 1024;
/// The most parts a form may have, files and text together.
const MAX_PARTS: usize = 64;

/// A submitted form: its text fields in order, and its files.
#[derive(Debug, Default)]
pub struct Submitted {
    pub pairs: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

impl Submitted {
    /// The first value of a text field ("" when absent).
    pub fn get(&self, name: &str) -> String {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

fn refused(message: String) -> WebError {
    WebError::Store(StoreError::invalid("files", message))
}

fn malformed() -> WebError {
    WebError::BadRequest("上传内容不正确，请重新选择文件后提交".to_owned())
}

/// Reads a form posted as `multipart/form-data` (files under the name `files`) or urlencoded.
/// A file that breaks a limit is `Store(Invalid)` with the field `files`, naming the file, so
/// the caller can show it on the page it came from; the full checks of type and content are
/// the store's, when the files are written.
pub async fn read_form(state: &AppState, request: Request) -> Result<Submitted, WebError> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return read_urlencoded(state, request).await;
    }
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|_| malformed())?;
    let max_file = state.store.attachment_max_bytes();
    let mut form = Submitted::default();
    let mut parts = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(|_| malformed())? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(WebError::BadRequest("表单的字段过多".to_owned()));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(raw_name) = field.file_name().map(str::to_owned) {
            let file_name = clean_file_name(&raw_name);
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|_| malformed())? {
                if (bytes.len() + chunk.len()) as u64 > max_file {
                    return Err(refused(format!(
                        "附件“{file_name}”超过{}的上限",
                        size_label(max_file)
                    )));
                }
                bytes.extend_from_slice(&chunk);
            }
            // An empty file input still sends a part, with no name and no bytes.
            if raw_name.is_empty() && bytes.is_empty() {
                continue;
            }
            if name == "files" {
                if form.files.len() == MAX_FILES {
                    return Err(refused(format!("一次最多上传{MAX_FILES}个附件")));
                }
                form.files.push(Upload {
                    file_name: raw_name,
                    bytes,
                });
            }
            continue;
        }
        let mut text = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| malformed())? {
            if text.len() + chunk.len() > MAX_TEXT_BYTES {
                return Err(WebError::TooLarge);
            }
            text.extend_from_slice(&chunk);
        }
        form.pairs
            .push((name, String::from_utf8_lossy(&text).into_owned()));
    }
    Ok(form)
}

/// A urlencoded body, bounded by the general body limit (the route lifted the layer's).
async fn read_urlencoded(state: &AppState, request: Request) -> Result<Submitted, WebError> {
    let limit = state
        .settings
        .security
        .max_body_mib
        .saturating_mul(1024 * 1024);
    let body = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| WebError::TooLarge)?;
    let pairs = body
        .split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let text = String::from_utf8_lossy(pair).replace('+', " ");
            let (key, value) = text.split_once('=').unwrap_or((&text, ""));
            (crate::util::url_decode(key), crate::util::url_decode(value))
        })
        .collect();
    Ok(Submitted {
        pairs,
        files: Vec::new(),
    })
}

/// RFC 5987 encoding for `filename*=UTF-8''…`: everything but unreserved ASCII is escaped.
fn rfc5987(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET /supervision/attachments/{id}`: the file, if the viewer may see its item.
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(WebError::NotFound("附件"))?;
    let (attachment, path) = state.store.open_attachment(&session.viewer, id).await?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| StoreError::Internal(format!("无法读取附件文件 {}：{e}", path.display())))?;
    // Old clients read the ASCII `filename`; every current browser prefers `filename*`.
    let ext = attachment
        .file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| e.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_default();
    let disposition = format!(
        "attachment; filename=\"attachment-{id}.{ext}\"; filename*=UTF-8''{}",
        rfc5987(&attachment.file_name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, attachment.content_type.clone()),
            (header::CONTENT_LENGTH, attachment.size.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        Body::from_stream(FileChunks {
            file,
            buf: vec![0; 64 * 1024].into_boxed_slice(),
        }),
    )
        .into_response())
}

/// A file read in 64 KiB chunks, as the response body: a 20 MB attachment never sits in memory
/// whole.
struct FileChunks {
    file: tokio::fs::File,
    buf: Box<[u8]>,
}

impl futures_core::Stream for FileChunks {
    type Item = std::io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let mut buf = tokio::io::ReadBuf::new(&mut this.buf);
        match tokio::io::AsyncRead::poll_read(Pin::new(&mut this.file), cx, &mut buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) if buf.filled().is_empty() => Poll::Ready(None),
            Poll::Ready(Ok(())) => Poll::Ready(Some(Ok(Bytes::copy_from_slice(buf.filled())))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_escaped_for_content_disposition() {
        assert_eq!(rfc5987("进展 1.pdf"), "%E8%BF%9B%E5%B1%95%201.pdf");
        assert_eq!(rfc5987("a\"b;c.txt"), "a%22b%3Bc.txt");
    }
}
