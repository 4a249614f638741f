//! Attachments (附件): the files of progress reports and the evidence (佐证材料) of closure
//! requests, kept content-addressed on disk (ARCHITECTURE §10).
//!
//! A file lives at `{files_dir}/ab/cd/<sm3 hex>`, named by the SM3 hash of its bytes, so the same
//! bytes uploaded twice are stored once; each upload is its own row in `attachments`, written in
//! the transaction of the report or closure request it belongs to. The order matters: the file
//! is written (to a temporary name, fsync'ed, then renamed) *before* that transaction begins, so
//! a crash or a rollback can leave a file no row names — harmless, collectable — but never a row
//! whose file is missing or half written.
//!
//! Every upload is checked before anything is written: at most [`MAX_FILES`] per report, a size
//! limit (a setting), and a type allowed both by its extension and by its first bytes, so an
//! `.exe` renamed `.pdf` is refused. Each refusal names the file. Reading an attachment checks
//! that the viewer may see its item, exactly as the item page does, and is audited.

use crate::error::{Error, FieldProblem, Result};
use crate::read::Bind;
use crate::supervision::{ItemFilter, item_where};
use crate::{Store, Write};
use serde_json::json;
use sqlx::Row;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::{AuditCode, sm3_hex};
use zhongshu_domain::ids::UnitId;

/// The default size limit of one file: 20 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// At most this many files go with one report or one closure request.
pub const MAX_FILES: usize = 10;

/// File names longer than this (in characters) are refused rather than cut: a cut name could
/// lose the extension the type check relies on.
const MAX_NAME_CHARS: usize = 200;

/// A file as the user sent it, not yet checked or stored.
#[derive(Clone, Debug, Default)]
pub struct Upload {
    /// The name the browser gave (any directory part is dropped).
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// What an attachment belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum AttachmentKind {
    /// A file of a progress report.
    Report,
    /// Evidence (佐证材料) of a closure request.
    Closure,
}

impl AttachmentKind {
    pub fn code(self) -> &'static str {
        match self {
            AttachmentKind::Report => "report",
            AttachmentKind::Closure => "closure",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AttachmentKind::Report => "进展附件",
            AttachmentKind::Closure => "办结佐证材料",
        }
    }

    fn from_code(code: &str) -> AttachmentKind {
        if code == "closure" {
            AttachmentKind::Closure
        } else {
            AttachmentKind::Report
        }
    }
}

/// An attachment as pages list it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Attachment {
    pub id: i64,
    pub item_id: i64,
    /// The progress report it came with (`None` for closure evidence).
    pub report_id: Option<i64>,
    pub kind: AttachmentKind,
    pub file_name: String,
    /// Decided from the checked type, never taken from the browser.
    pub content_type: String,
    pub size: i64,
    /// The SM3 hash of the bytes, lower-case hex: the file's name on disk.
    pub sm3: String,
    pub uploaded_by_name: String,
    pub unit_name: String,
    pub uploaded_at: i64,
}

impl Attachment {
    /// The size for people: `356 KB`, `1.2 MB`.
    pub fn size_label(&self) -> String {
        size_label(u64::try_from(self.size).unwrap_or(0))
    }
}

/// A checked file already safe on disk, ready for its row. Only [`Store::keep_files`] makes
/// one, so a row can only be written for a file that exists.
#[derive(Clone, Debug)]
pub(crate) struct StoredFile {
    sm3: String,
    size: i64,
    file_name: String,
    content_type: &'static str,
}

/// One allowed type: its extensions, what it is served as, and how its first bytes look.
struct FileType {
    extensions: &'static [&'static str],
    content_type: &'static str,
    label: &'static str,
    looks_right: fn(&[u8]) -> bool,
}

const OLE2: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

fn is_zip(b: &[u8]) -> bool {
    b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06")
}

/// Zip entry names are stored uncompressed in the local headers, so an Office or OFD package
/// shows its own part names among its bytes.
fn contains(b: &[u8], needle: &[u8]) -> bool {
    b.windows(needle.len()).any(|w| w == needle)
}

const TYPES: &[FileType] = &[
    FileType {
        extensions: &["pdf"],
        content_type: "application/pdf",
        label: "PDF",
        // The standard lets a PDF header sit anywhere in the first 1024 bytes.
        looks_right: |b| contains(&b[..b.len().min(1024)], b"%PDF-"),
    },
    FileType {
        extensions: &["jpg", "jpeg"],
        content_type: "image/jpeg",
        label: "JPG 图片",
        looks_right: |b| b.starts_with(&[0xFF, 0xD8, 0xFF]),
    },
    FileType {
        extensions: &["png"],
        content_type: "image/png",
        label: "PNG 图片",
        looks_right: |b| b.starts_with(b"\x89PNG\r\n\x1a\n"),
    },
    FileType {
        extensions: &["docx"],
        content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        label: "Word（docx）",
        looks_right: |b| is_zip(b) && contains(b, b"word/"),
    },
    FileType {
        extensions: &["xlsx"],
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        label: "Excel（xlsx）",
        looks_right: |b| is_zip(b) && contains(b, b"xl/"),
    },
    FileType {
        extensions: &["doc"],
        content_type: "application/msword",
        label: "Word（doc）",
        looks_right: |b| b.starts_with(OLE2),
    },
    FileType {
        extensions: &["xls"],
        content_type: "application/vnd.ms-excel",
        label: "Excel（xls）",
        looks_right: |b| b.starts_with(OLE2),
    },
    FileType {
        extensions: &["ofd"],
        content_type: "application/ofd",
        label: "OFD 版式文件",
        looks_right: |b| is_zip(b) && contains(b, b"OFD.xml"),
    },
    FileType {
        extensions: &["zip"],
        content_type: "application/zip",
        label: "ZIP 压缩包",
        looks_right: is_zip,
    },
    FileType {
        extensions: &["txt"],
        content_type: "text/plain",
        label: "文本",
        // Text has no signature; a NUL byte means a program or other binary (every PE and ELF
        // executable has them), whatever the name says.
        looks_right: |b| !b.contains(&0),
    },
];

/// The extensions a file picker offers (`<input type=file accept=…>`); the same list as
/// [`TYPES`] (a test keeps them in step).
pub const ACCEPT: &str = ".pdf,.jpg,.jpeg,.png,.docx,.xlsx,.doc,.xls,.ofd,.zip,.txt";

const ALLOWED: &str = "PDF、JPG、PNG、Word（doc/docx）、Excel（xls/xlsx）、OFD、ZIP 和 TXT";

fn type_of(file_name: &str) -> Option<&'static FileType> {
    let (_, ext) = file_name.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    TYPES.iter().find(|t| t.extensions.contains(&ext.as_str()))
}

/// The size for people: `356 KB`, `1.2 MB`.
pub fn size_label(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        // One decimal without floating point: tenths of a MiB, rounded.
        let tenths = (bytes * 10 + MIB / 2) / MIB;
        if tenths.is_multiple_of(10) {
            format!("{} MB", tenths / 10)
        } else {
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// The name as it will be kept: the last path component (old browsers send `C:\…\a.pdf`),
/// without control characters, trimmed.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    base.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Checks every upload against the rules: how many, the size limit, a name, an allowed type
/// whose first bytes match its extension. One problem per refused file, naming it.
pub fn check_uploads(uploads: &[Upload], max_bytes: u64) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    if uploads.len() > MAX_FILES {
        problems.push(FieldProblem::new(
            "files",
            format!(
                "一次最多上传{MAX_FILES}个附件，本次选择了{}个",
                uploads.len()
            ),
        ));
    }
    for upload in uploads {
        problems.extend(check_one(upload, max_bytes));
    }
    problems
}

fn check_one(upload: &Upload, max_bytes: u64) -> Option<FieldProblem> {
    let name = clean_file_name(&upload.file_name);
    let refuse = |message: String| Some(FieldProblem::new("files", message));
    if name.is_empty() {
        return refuse("有一个附件没有文件名，请重新选择文件".to_owned());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return refuse(format!(
            "附件“{}…”的文件名超过{MAX_NAME_CHARS}个字，请改短后再上传",
            name.chars().take(20).collect::<String>()
        ));
    }
    let size = upload.bytes.len() as u64;
    if size > max_bytes {
        return refuse(format!(
            "附件“{name}”大小为{}，超过{}的上限",
            size_label(size),
            size_label(max_bytes)
        ));
    }
    if size == 0 {
        return refuse(format!("附件“{name}”是空文件"));
    }
    let Some(kind) = type_of(&name) else {
        return refuse(format!(
            "附件“{name}”的类型不允许上传：只接受 {ALLOWED} 文件"
        ));
    };
    if !(kind.looks_right)(&upload.bytes) {
        return refuse(format!(
            "附件“{name}”的内容不是{}文件，与扩展名不符（可能是改了扩展名的其他文件）",
            kind.label
        ));
    }
    None
}

/// A per-process counter for temporary names, so two uploads of one file at once never share
/// a temporary file.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` under their hash, unless a file of that hash and size is there already.
/// The bytes go to a temporary file in the same directory, are fsync'ed, and only then renamed
/// to the hash name (a rename within one directory is atomic), and the directory is fsync'ed so
/// the name survives a power cut: a crash leaves at worst a stray temporary file.
fn write_content_addressed(root: &Path, sm3: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = root.join(&sm3[..2]).join(&sm3[2..4]);
    let path = dir.join(sm3);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
        return Ok(());
    }
    std::fs::create_dir_all(&dir)?;
    let temp = dir.join(format!(
        ".{sm3}.{}-{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let outcome = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, &path)?;
        sync_dir(&dir)?;
        // The two levels above may have just been created: make their entries durable too.
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        sync_dir(root)
    })();
    if outcome.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    outcome
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Directories cannot be opened for fsync on Windows; NTFS journals the rename itself.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

fn is_sm3_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Store {
    /// Sets the size limit of one attachment, in bytes.
    pub fn set_attachment_max_bytes(&self, bytes: u64) {
        self.inner
            .attachment_max_bytes
            .store(bytes, Ordering::Relaxed);
    }

    /// The size limit of one attachment, in bytes.
    pub fn attachment_max_bytes(&self) -> u64 {
        self.inner.attachment_max_bytes.load(Ordering::Relaxed)
    }

    /// Where the file of the given SM3 hash lives (or would live) on disk.
    pub fn attachment_path(&self, sm3: &str) -> Result<PathBuf> {
        if !is_sm3_hex(sm3) {
            return Err(Error::NotFound("附件"));
        }
        Ok(self
            .inner
            .files_dir
            .join(&sm3[..2])
            .join(&sm3[2..4])
            .join(sm3))
    }

    /// Checks the uploads (see [`check_uploads`]) and writes each file under its hash. Called
    /// before the transaction that records them: see the module documentation for why.
    pub(crate) async fn keep_files(&self, uploads: Vec<Upload>) -> Result<Vec<StoredFile>> {
        let problems = check_uploads(&uploads, self.attachment_max_bytes());
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        if uploads.is_empty() {
            return Ok(Vec::new());
        }
        let root = self.inner.files_dir.clone();
        // Hashing and fsync take a while for large files: keep them off the async workers.
        tokio::task::spawn_blocking(move || {
            uploads
                .into_iter()
                .map(|upload| {
                    let file_name = clean_file_name(&upload.file_name);
                    let content_type =
                        type_of(&file_name).map_or("application/octet-stream", |t| t.content_type);
                    let sm3 = sm3_hex(&upload.bytes);
                    write_content_addressed(&root, &sm3, &upload.bytes)
                        .map_err(|e| Error::Internal(format!("无法保存附件“{file_name}”：{e}")))?;
                    Ok(StoredFile {
                        sm3,
                        size: i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX),
                        file_name,
                        content_type,
                    })
                })
                .collect::<Result<Vec<_>>>()
        })
        .await
        .map_err(|e| Error::Internal(format!("保存附件的任务失败：{e}")))?
    }

    /// Whether the viewer may see the item: the same conditions as the item page.
    async fn may_see_item(&self, viewer: &Viewer, item_id: i64) -> Result<bool> {
        let Some((where_sql, binds)) = item_where(viewer, &ItemFilter::default()) else {
            return Ok(false);
        };
        let sql = format!(
            "SELECT i.id FROM items i WHERE i.is_group = 0 AND i.id = ${} {where_sql}",
            binds.len() + 1
        );
        let mut binds = binds;
        binds.push(Bind::I(item_id));
        Ok(self.read_one(&sql, &binds).await?.is_some())
    }

    /// Every attachment of an item the viewer may see, oldest first.
    pub async fn item_attachments(&self, viewer: &Viewer, item_id: i64) -> Result<Vec<Attachment>> {
        if !self.may_see_item(viewer, item_id).await? {
            return Err(Error::NotFound("事项"));
        }
        let rows = self
            .read(
                &format!("{SELECT_ATTACHMENT} WHERE a.item_id = $1 ORDER BY a.id"),
                &[Bind::I(item_id)],
            )
            .await?;
        rows.iter().map(attachment_from_row).collect()
    }

    /// One attachment and the path of its file, if the viewer may see its item; the read is
    /// audited. An attachment of an item the viewer may not see is "not found", as the item is.
    pub async fn open_attachment(&self, viewer: &Viewer, id: i64) -> Result<(Attachment, PathBuf)> {
        let row = self
            .read_one(
                &format!("{SELECT_ATTACHMENT} WHERE a.id = $1"),
                &[Bind::I(id)],
            )
            .await?
            .ok_or(Error::NotFound("附件"))?;
        let attachment = attachment_from_row(&row)?;
        if !self.may_see_item(viewer, attachment.item_id).await? {
            return Err(Error::NotFound("附件"));
        }
        let path = self.attachment_path(&attachment.sm3)?;
        if !path.is_file() {
            return Err(Error::Internal(format!(
                "附件{id}的文件 {} 不存在",
                path.display()
            )));
        }
        let mut w = self.write().await?;
        w.audit(
            viewer,
            AuditCode::AttachmentDownloaded,
            &format!("attachment:{id}"),
            None,
            Some(json!({
                "item_id": attachment.item_id,
                "file_name": attachment.file_name,
                "sm3": attachment.sm3,
            })),
        )
        .await?;
        w.commit().await?;
        Ok((attachment, path))
    }
}

const SELECT_ATTACHMENT: &str = "SELECT a.id, a.item_id, a.report_id, a.kind, a.file_name, \
     a.content_type, a.size, a.sm3, a.uploaded_by_name, COALESCE(un.name, '') AS unit_name, \
     a.uploaded_at FROM attachments a LEFT JOIN units un ON un.id = a.unit_id";

fn attachment_from_row(r: &crate::read::Row) -> Result<Attachment> {
    Ok(Attachment {
        id: r.try_get("id")?,
        item_id: r.try_get("item_id")?,
        report_id: r.try_get("report_id")?,
        kind: AttachmentKind::from_code(&r.try_get::<String>("kind")?),
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sm3: r.try_get("sm3")?,
        uploaded_by_name: r.try_get("uploaded_by_name")?,
        unit_name: r.try_get("unit_name")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

/// Where the rows of some stored files go.
pub(crate) struct Owner {
    pub item_id: i64,
    pub report_id: Option<i64>,
    pub unit: Option<UnitId>,
    pub kind: AttachmentKind,
}

/// Writes one row per stored file, with its audit event, inside the caller's transaction.
pub(crate) async fn record(
    w: &mut Write<'_>,
    viewer: &Viewer,
    owner: &Owner,
    files: &[StoredFile],
    now: i64,
) -> Result<()> {
    for file in files {
        let id: i64 = sqlx::query(
            "INSERT INTO attachments (sm3, size, file_name, content_type, uploaded_by, \
             uploaded_by_name, unit_id, uploaded_at, item_id, report_id, kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(&file.sm3)
        .bind(file.size)
        .bind(&file.file_name)
        .bind(file.content_type)
        .bind(viewer.user_id.map(|u| u.get()))
        .bind(viewer.display_or_username())
        .bind(owner.unit.map(UnitId::get))
        .bind(now)
        .bind(owner.item_id)
        .bind(owner.report_id)
        .bind(owner.kind.code())
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        w.audit(
            viewer,
            AuditCode::AttachmentUploaded,
            &format!("attachment:{id}"),
            None,
            Some(json!({
                "item_id": owner.item_id,
                "report_id": owner.report_id,
                "kind": owner.kind.code(),
                "file_name": file.file_name,
                "size": file.size,
                "sm3": file.sm3,
            })),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(name: &str, bytes: &[u8]) -> Upload {
        Upload {
            file_name: name.to_owned(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn a_renamed_executable_is_refused_by_name() {
        let problems = check_uploads(&[upload("汇报.pdf", b"MZ\x90\0\x03\0\0\0")], 1024);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("汇报.pdf"), "{problems:?}");
        assert!(problems[0].message.contains("扩展名不符"), "{problems:?}");
    }

    #[test]
    fn allowed_types_pass_when_their_bytes_match() {
        let ok = [
            upload("a.pdf", b"%PDF-1.7\n"),
            upload("b.JPG", &[0xFF, 0xD8, 0xFF, 0xE0]),
            upload("c.png", b"\x89PNG\r\n\x1a\n...."),
            upload("d.docx", b"PK\x03\x04....word/document.xml"),
            upload("e.xls", OLE2),
            upload("f.txt", "进展说明".as_bytes()),
        ];
        assert!(check_uploads(&ok, 1024).is_empty());
    }

    #[test]
    fn size_count_and_type_limits_are_named() {
        let big = check_uploads(&[upload("大.pdf", &[b'%'; 2048])], 1024);
        assert!(big[0].message.contains("大.pdf") && big[0].message.contains("上限"));
        let exe = check_uploads(&[upload("setup.exe", b"MZ")], 1024);
        assert!(exe[0].message.contains("setup.exe") && exe[0].message.contains("不允许"));
        let many = vec![upload("a.txt", b"x"); MAX_FILES + 1];
        assert!(check_uploads(&many, 1024)[0].message.contains("最多"));
    }

    #[test]
    fn directory_parts_and_control_characters_leave_the_name() {
        assert_eq!(clean_file_name("C:\\Users\\x\\报告.pdf"), "报告.pdf");
        assert_eq!(clean_file_name("../a\u{0}b.txt "), "ab.txt");
    }

    #[test]
    fn the_file_picker_offers_exactly_the_allowed_types() {
        let offered: Vec<&str> = ACCEPT
            .split(',')
            .map(|e| e.trim_start_matches('.'))
            .collect();
        let allowed: Vec<&str> = TYPES
            .iter()
            .flat_map(|t| t.extensions.iter().copied())
            .collect();
        assert_eq!(offered, allowed);
    }

    #[test]
    fn sizes_read_as_kb_and_mb() {
        assert_eq!(size_label(1), "1 KB");
        assert_eq!(size_label(20 * 1024 * 1024), "20 MB");
        assert_eq!(size_label(1_258_291), "1.2 MB");
    }
}
