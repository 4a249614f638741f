//! Runs the real `zhongshu` executable against a fresh data directory, and reads the SQLite
//! database it writes the way an outsider with file access would.

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

/// The password every demo account gets in these tests.
pub const DEMO_PASSWORD: &str = "Test#2026-demo";

/// A scratch directory: the working directory of every run (so no stray `zhongshu.toml` is
/// read), with the data directory `data/` inside it, created by the binary itself.
pub struct Workspace {
    root: TempDir,
}

/// What one run of the binary printed and how it ended.
#[derive(Debug)]
pub struct Run {
    /// The exit status; -1 if the process was killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }

    /// The last non-empty line of stdout, trimmed.
    pub fn last_line(&self) -> &str {
        self.stdout
            .lines()
            .rev()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_stderr_contains(&self, text: &str) -> &Run {
        assert!(
            self.stderr.contains(text),
            "stderr lacks “{text}”:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_stdout_contains(&self, text: &str) -> &Run {
        assert!(
            self.stdout.contains(text),
            "stdout lacks “{text}”:\n{}",
            self.stdout
        );
        self
    }
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace {
            root: TempDir::new().expect("a temporary directory"),
        }
    }

    /// The scratch directory (working directory of every run).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root().join("data")
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir().join("zhongshu.db")
    }

    /// The binary with a clean `ZHONGSHU_*` environment, cheap password hashing and the demo
    /// password; no data directory chosen yet.
    pub fn bare_command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_zhongshu"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ZHONGSHU_") {
                cmd.env_remove(&key);
            }
        }
        cmd.env_remove("ZHONGSHU_DATABASE_URL")
            .env("ZHONGSHU_DEMO_PASSWORD", DEMO_PASSWORD)
            .env("ZHONGSHU_SECURITY__ARGON2_MEMORY_KIB", "64")
            .env("ZHONGSHU_SECURITY__ARGON2_ITERATIONS", "1")
            .current_dir(self.root())
            .stdin(Stdio::null());
        cmd
    }

    /// The binary with `--data-dir` set to this workspace's data directory.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.bare_command();
        cmd.arg("--data-dir").arg(self.data_dir()).args(args);
        cmd
    }

    /// Runs the binary to completion.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = self
            .command(args)
            .output()
            .expect("the zhongshu binary runs");
        Run::from_output(output)
    }

    /// Runs the binary and insists it succeeds.
    #[track_caller]
    pub fn ok<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let run = self.run(args);
        run.assert_code(0);
        run
    }

    /// Loads the demo county 明湖县.
    #[track_caller]
    pub fn demo(&self) -> Run {
        let run = self.ok(["demo"]);
        run.assert_stdout_contains("已载入演示县");
        run
    }

    /// Writes a file into the scratch directory and returns its path.
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.root().join(name);
        std::fs::write(&path, bytes).expect("a scratch file is written");
        path
    }

    /// A direct connection to the database file, as anyone with file access could open it.
    pub async fn connect(&self) -> SqliteConnection {
        connect_file(&self.db_path()).await
    }

    /// One integer from the database (the first column of the first row).
    pub fn query_i64(&self, sql: &'static str) -> i64 {
        block_on(async {
            let mut conn = self.connect().await;
            let n: i64 = sqlx::query(sql)
                .fetch_one(&mut conn)
                .await
                .expect("the query runs")
                .try_get(0)
                .expect("an integer");
            conn.close().await.expect("the connection closes");
            n
        })
    }

    pub fn unit_count(&self) -> i64 {
        self.query_i64("SELECT COUNT(*) FROM units")
    }

    /// The names of every unit, in id order.
    pub fn unit_names(&self) -> Vec<String> {
        block_on(async {
            let mut conn = self.connect().await;
            let names = sqlx::query("SELECT name FROM units ORDER BY id")
                .fetch_all(&mut conn)
                .await
                .expect("units are read")
                .iter()
                .map(|row| row.try_get::<String, _>("name").expect("a name"))
                .collect();
            conn.close().await.expect("the connection closes");
            names
        })
    }
}

/// Opens an existing SQLite file (never creates one).
pub async fn connect_file(path: &Path) -> SqliteConnection {
    assert!(path.exists(), "{} does not exist", path.display());
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{} opens: {e}", path.display()))
}

/// Runs a future to completion on a small runtime of its own (for the synchronous tests).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}
