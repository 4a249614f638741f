//! Killing the server (SIGKILL) while eight clients write through the API: every write it
//! acknowledged is in the database afterwards, and the audit chain still verifies.

use crate::harness::{Workspace, connect_file};
use sqlx::{Connection, Row};
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WRITERS: usize = 8;
/// Write at least this long, and until this many writes were acknowledged, before the kill…
const MIN_WRITING: Duration = Duration::from_millis(1500);
const MIN_ACKNOWLEDGED: usize = 100;
/// …but never longer than this.
const MAX_WRITING: Duration = Duration::from_secs(10);

/// The server as a child process; killed (SIGKILL) if the test fails before it does.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `zhongshu serve` on a free port and learns the port from its start-up line.
fn start_server(ws: &Workspace) -> Server {
    let mut child = ws
        .command(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    // The server's log goes through the test's own output, so it is shown only on failure.
    let stderr = child.stderr.take().expect("the server's stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("server: {line}");
        }
    });
    let stdout = child.stdout.take().expect("the server's stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let base = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.split("中枢已启动：").nth(1) {
                    let url = rest.split_whitespace().next().unwrap_or_default();
                    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
                    break url.to_owned();
                }
                seen.push(line);
            }
            other => {
                let _ = child.kill();
                let status = child.wait();
                panic!("the server did not start ({other:?}, {status:?}): {seen:?}");
            }
        }
    };
    // Keep reading, so the server never blocks (or dies) on a full or closed stdout pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            println!("server: {line}");
        }
    });
    Server { child, base }
}

/// What the writers saw.
#[derive(Default)]
struct Tally {
    /// Names whose creation was answered 201.
    acknowledged: Mutex<Vec<String>>,
    /// Answers other than 201 before the kill.
    refused: AtomicUsize,
    /// Writers that ended on a failed connection or request (the kill).
    cut_off: AtomicUsize,
}

async fn writer(
    client: reqwest::Client,
    url: String,
    token: String,
    task: usize,
    tally: Arc<Tally>,
) {
    for n in 0.. {
        let name = format!("崩溃测试{task}-{n}");
        let body = serde_json::json!({ "name": name, "unit_type": "department" }).to_string();
        let sent = client
            .post(&url)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        match sent {
            Ok(reply) if reply.status().as_u16() == 201 => {
                tally.acknowledged.lock().unwrap().push(name);
            }
            Ok(reply) => {
                let status = reply.status();
                let text = reply.text().await.unwrap_or_default();
                eprintln!("writer {task}: {name} answered {status}: {text}");
                tally.refused.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                tally.cut_off.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
}

#[test]
fn every_write_acknowledged_before_a_kill_9_is_in_the_database_and_the_chain_verifies() {
    let ws = Workspace::new();
    ws.demo();
    let token = ws
        .ok(["token", "create", "--username", "xitong"])
        .last_line()
        .to_owned();
    assert_eq!(token.len(), 64, "{token}");
    let mut server = start_server(&ws);
    let url = format!("{}/api/v1/units", server.base);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let tally = Arc::new(Tally::default());
    let (acknowledged_at_kill, writers) = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let writers: Vec<_> = (0..WRITERS)
            .map(|task| {
                tokio::spawn(writer(
                    client.clone(),
                    url.clone(),
                    token.clone(),
                    task,
                    Arc::clone(&tally),
                ))
            })
            .collect();
        let started = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let acknowledged = tally.acknowledged.lock().unwrap().len();
            let elapsed = started.elapsed();
            if (elapsed >= MIN_WRITING && acknowledged >= MIN_ACKNOWLEDGED)
                || elapsed >= MAX_WRITING
            {
                break;
            }
        }
        assert!(
            writers.iter().all(|w| !w.is_finished()),
            "a writer stopped before the kill"
        );
        // SIGKILL on Unix: no shutdown, no flushing, mid-transaction for some writers.
        server.child.kill().expect("the server is killed");
        let acknowledged_at_kill = tally.acknowledged.lock().unwrap().len();
        (acknowledged_at_kill, writers)
    });
    let status = server.child.wait().unwrap();
    assert!(!status.success(), "the server exited by itself: {status:?}");
    runtime.block_on(async {
        for w in writers {
            tokio::time::timeout(Duration::from_secs(60), w)
                .await
                .expect("a writer hangs after the kill")
                .expect("a writer panicked");
        }
    });
    let acknowledged = tally.acknowledged.lock().unwrap().clone();
    eprintln!(
        "crash test: {} writes acknowledged ({} at the kill), {} refused, {} writers cut off",
        acknowledged.len(),
        acknowledged_at_kill,
        tally.refused.load(Ordering::Relaxed),
        tally.cut_off.load(Ordering::Relaxed)
    );
    assert!(!acknowledged.is_empty(), "no write was acknowledged");
    assert_eq!(
        tally.cut_off.load(Ordering::Relaxed),
        WRITERS,
        "every writer was still writing when the server died"
    );

    let stored: HashSet<String> = runtime.block_on(async {
        let mut conn = connect_file(&ws.db_path()).await;
        let names = sqlx::query("SELECT name FROM units WHERE name LIKE '崩溃测试%'")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get::<String, _>("name").unwrap())
            .collect();
        conn.close().await.unwrap();
        names
    });
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|name| !stored.contains(*name))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes were lost: {lost:?}",
        lost.len()
    );
    assert_eq!(
        acknowledged.iter().collect::<HashSet<_>>().len(),
        acknowledged.len(),
        "a name was acknowledged twice"
    );

    let verified = ws.run(["audit", "verify"]);
    verified.assert_code(0).assert_stdout_contains("审计链完整");
}
