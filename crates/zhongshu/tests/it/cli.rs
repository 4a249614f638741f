//! The command line as a contract: arguments, what is printed where, and the exit status
//! (0 success, 2 bad input with a Chinese message on stderr, 1 internal).

use crate::harness::{DEMO_PASSWORD, Workspace, block_on, connect_file};
use sqlx::{Connection, Row};

/// GBK-encodes text as Excel saves a CSV on Chinese Windows.
fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable, "the test text is GBK-encodable");
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the GBK bytes must not also read as UTF-8"
    );
    bytes.into_owned()
}

// ---- calendar ----

#[test]
fn a_make_up_sunday_is_a_workday_and_a_spring_festival_monday_is_not() {
    let ws = Workspace::new();
    let sunday = ws.ok(["calendar", "is-workday", "2024-02-04"]);
    assert_eq!(sunday.stdout.trim(), "true");
    assert!(
        !sunday.stderr.contains("未录入"),
        "2024 is a known year: {}",
        sunday.stderr
    );
    let festival = ws.ok(["calendar", "is-workday", "2024-02-12"]);
    assert_eq!(festival.stdout.trim(), "false");
}

#[test]
fn adding_and_counting_workdays_skip_the_spring_festival() {
    let ws = Workspace::new();
    let added = ws.ok(["calendar", "add-workdays", "2024-02-09", "1"]);
    assert_eq!(added.stdout.trim(), "2024-02-18");
    let counted = ws.ok(["calendar", "count-workdays", "2024-02-09", "2024-02-18"]);
    assert_eq!(counted.stdout.trim(), "1");
}

#[test]
fn an_impossible_date_is_refused_with_exit_2_and_a_chinese_message() {
    let ws = Workspace::new();
    let run = ws.run(["calendar", "is-workday", "2024-13-01"]);
    run.assert_code(2)
        .assert_stderr_contains("2024-13-01")
        .assert_stderr_contains("不是有效日期");
    assert_eq!(run.stdout.trim(), "", "no answer is printed for bad input");
}

#[test]
fn a_year_without_holiday_data_is_answered_from_weekends_with_a_warning() {
    let ws = Workspace::new();
    // 2031-01-06 is a Monday.
    let run = ws.ok(["calendar", "is-workday", "2031-01-06"]);
    assert_eq!(run.stdout.trim(), "true");
    run.assert_stderr_contains("2031年")
        .assert_stderr_contains("未录入");
}

// ---- demo, users, tokens ----

#[test]
fn demo_loads_once_and_a_second_run_says_the_data_is_already_there() {
    let ws = Workspace::new();
    let first = ws.demo();
    first.assert_stdout_contains(DEMO_PASSWORD);
    let units = ws.unit_count();
    assert!(
        units >= 100,
        "the demo county has about 150 units, got {units}"
    );

    let second = ws.ok(["demo"]);
    second
        .assert_stdout_contains("已有")
        .assert_stdout_contains("明湖县");
    assert!(
        !second.stdout.contains("已载入"),
        "the second run loaded again:\n{}",
        second.stdout
    );
    assert_eq!(ws.unit_count(), units, "the second run wrote units");
}

#[test]
fn user_list_shows_the_demo_system_administrator_with_her_role() {
    let ws = Workspace::new();
    ws.demo();
    let list = ws.ok(["user", "list"]);
    let line = list
        .stdout
        .lines()
        .find(|line| line.split('\t').next() == Some("xitong"))
        .unwrap_or_else(|| panic!("xitong is not listed:\n{}", list.stdout));
    let roles = line.split('\t').nth(2).unwrap_or_default();
    assert!(
        roles.split(',').any(|r| r == "sys_admin"),
        "xitong's roles: {line}"
    );
}

#[test]
fn user_add_creates_a_user_that_user_list_then_shows() {
    let ws = Workspace::new();
    ws.demo();
    ws.ok([
        "user",
        "add",
        "--username",
        "zhangsan",
        "--password",
        "Good#Pass2026",
        "--unit",
        "县财政局",
        "--role",
        "liaison",
        "--name",
        "张三",
    ])
    .assert_stdout_contains("zhangsan");
    let list = ws.ok(["user", "list"]);
    assert!(
        list.stdout
            .lines()
            .any(|line| line == "zhangsan\t县财政局\tliaison"),
        "{}",
        list.stdout
    );
}

/// Runs `user add` for `username` with the given overrides and checks nobody was created.
#[track_caller]
fn refused_user_add(
    ws: &Workspace,
    username: &str,
    password: &str,
    unit: &str,
    role: &str,
) -> String {
    let users_before = ws.query_i64("SELECT COUNT(*) FROM users");
    let run = ws.run([
        "user",
        "add",
        "--username",
        username,
        "--password",
        password,
        "--unit",
        unit,
        "--role",
        role,
    ]);
    run.assert_code(2);
    assert_eq!(
        ws.query_i64("SELECT COUNT(*) FROM users"),
        users_before,
        "a refused user was written"
    );
    run.stderr
}

#[test]
fn user_add_with_an_unknown_role_is_refused_with_exit_2() {
    let ws = Workspace::new();
    ws.demo();
    let stderr = refused_user_add(&ws, "lisi", "Good#Pass2026", "县财政局", "emperor");
    assert!(stderr.contains("未知角色"), "{stderr}");
    assert!(stderr.contains("emperor"), "{stderr}");
    assert!(
        stderr.contains("sys_admin"),
        "the known roles are listed: {stderr}"
    );
}

#[test]
fn user_add_with_a_weak_password_is_refused_with_exit_2_mentioning_the_password() {
    let ws = Workspace::new();
    ws.demo();
    let stderr = refused_user_add(&ws, "lisi", "abc", "县财政局", "liaison");
    assert!(stderr.contains("密码"), "{stderr}");
}

#[test]
fn user_add_with_an_unknown_unit_suggests_the_nearest_names() {
    let ws = Workspace::new();
    ws.demo();
    let stderr = refused_user_add(&ws, "lisi", "Good#Pass2026", "县财政", "liaison");
    assert!(stderr.contains("县财政"), "{stderr}");
    assert!(stderr.contains("您是否要找"), "{stderr}");
    assert!(stderr.contains("县财政局"), "{stderr}");
}

#[test]
fn token_create_prints_a_64_hex_token_alone_on_its_last_line() {
    let ws = Workspace::new();
    ws.demo();
    let run = ws.ok(["token", "create", "--username", "ducha"]);
    let last = run.stdout.lines().last().unwrap_or_default();
    assert_eq!(last.len(), 64, "last line: {last:?}");
    assert!(
        last.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "not lower-case hex: {last:?}"
    );
    run.assert_stdout_contains("ducha");
    let again = ws.ok(["token", "create", "--username", "ducha"]);
    assert_ne!(again.last_line(), last, "two tokens are the same");
    assert_eq!(ws.query_i64("SELECT COUNT(*) FROM api_tokens"), 2);

    ws.run(["token", "create", "--username", "nobody"])
        .assert_code(2);
}

// ---- unit import ----

const GOOD_LIST: &str = "单位名称,上级单位,单位类型,重点信息报送单位\r\n\
                         县数据资源中心,,县直部门,是\r\n\
                         数据资源中心综合科,县数据资源中心,办公室,否\r\n\
                         县财政局国库科,县财政局,办公室,否\r\n";

#[test]
fn unit_import_reads_a_gbk_csv_and_refuses_the_same_file_again_without_writing() {
    let ws = Workspace::new();
    ws.demo();
    let file = ws.file("单位名单.csv", &gbk(GOOD_LIST));
    let before = ws.unit_count();

    ws.ok([
        std::ffi::OsStr::new("unit"),
        "import".as_ref(),
        file.as_os_str(),
    ])
    .assert_stdout_contains("已导入 3 个单位");
    assert_eq!(ws.unit_count(), before + 3);
    let names = ws.unit_names();
    for name in ["县数据资源中心", "数据资源中心综合科", "县财政局国库科"] {
        assert!(names.iter().any(|n| n == name), "{name} was not imported");
    }
    // The nested row landed under its parent from the same file.
    let nested = block_on(async {
        let mut conn = ws.connect().await;
        let row = sqlx::query(
            "SELECT p.name AS parent FROM units c JOIN units p ON p.id = c.parent_id \
             WHERE c.name = '数据资源中心综合科'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        let parent: String = row.try_get("parent").unwrap();
        conn.close().await.unwrap();
        parent
    });
    assert_eq!(nested, "县数据资源中心");

    let events = ws.query_i64("SELECT COUNT(*) FROM audit_events");
    let again = ws.run([
        std::ffi::OsStr::new("unit"),
        "import".as_ref(),
        file.as_os_str(),
    ]);
    again
        .assert_code(2)
        .assert_stderr_contains("已存在")
        .assert_stderr_contains("第2行");
    assert_eq!(ws.unit_count(), before + 3, "the second import wrote units");
    assert_eq!(
        ws.query_i64("SELECT COUNT(*) FROM audit_events"),
        events,
        "the refused import was audited as done"
    );
}

#[test]
fn an_import_with_an_unknown_parent_names_the_row_and_column_and_writes_nothing() {
    let ws = Workspace::new();
    ws.demo();
    let list = "单位名称,上级单位,单位类型,重点信息报送单位\r\n\
                县新设服务中心,,县直部门,否\r\n\
                县新设服务中心办公室,县新设服务中心,办公室,否\r\n\
                县孤儿科,县不存在局,办公室,否\r\n";
    let file = ws.file("bad-parent.csv", &gbk(list));
    let before = ws.unit_count();
    let run = ws.run([
        std::ffi::OsStr::new("unit"),
        "import".as_ref(),
        file.as_os_str(),
    ]);
    run.assert_code(2)
        .assert_stderr_contains("第4行")
        .assert_stderr_contains("上级单位")
        .assert_stderr_contains("县不存在局");
    assert_eq!(ws.unit_count(), before);
    let names = ws.unit_names();
    for name in ["县新设服务中心", "县新设服务中心办公室", "县孤儿科"] {
        assert!(
            !names.iter().any(|n| n == name),
            "{name} was written by a refused import"
        );
    }
}

// ---- backup ----

#[test]
fn backup_writes_an_openable_sqlite_copy_and_refuses_to_overwrite_a_file() {
    let ws = Workspace::new();
    ws.demo();
    let units = ws.unit_count();
    let file = ws.root().join("备份.db");
    ws.ok([std::ffi::OsStr::new("backup"), file.as_os_str()]);
    let copied: i64 = block_on(async {
        let mut conn = connect_file(&file).await;
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM units")
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        conn.close().await.unwrap();
        n
    });
    assert_eq!(copied, units);

    let existing = ws.file("existing.db", b"precious");
    let run = ws.run([std::ffi::OsStr::new("backup"), existing.as_os_str()]);
    run.assert_code(2).assert_stderr_contains("已存在");
    assert_eq!(std::fs::read(&existing).unwrap(), b"precious");
}

#[test]
fn backup_into_a_missing_directory_is_bad_input_with_exit_2() {
    let ws = Workspace::new();
    ws.demo();
    let missing = ws.root().join("no-such-dir");
    let file = missing.join("zhongshu.db");
    let run = ws.run([std::ffi::OsStr::new("backup"), file.as_os_str()]);
    run.assert_code(2)
        .assert_stderr_contains("no-such-dir")
        .assert_stderr_contains("不存在");
    assert!(!missing.exists(), "the directory was created");
}

// ---- reindex ----

#[test]
fn reindex_rebuilds_the_search_index_and_tallies_and_finds_them_equal_to_a_fresh_count() {
    let ws = Workspace::new();
    ws.demo();
    // A restore that lost the derived rows: the search words and the tallies are gone.
    block_on(async {
        let mut conn = connect_file(&ws.db_path()).await;
        for sql in [
            "DELETE FROM item_search",
            "DELETE FROM item_tallies",
            "DELETE FROM item_due_tallies",
            "DELETE FROM item_counted",
        ] {
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    });
    let items = ws.query_i64("SELECT COUNT(*) FROM items WHERE is_group = 0");
    assert!(items > 0, "the demo ledger has items");
    assert_eq!(ws.query_i64("SELECT COUNT(*) FROM item_counted"), 0);
    let run = ws.ok(["reindex"]);
    run.assert_stdout_contains(&format!("事项 {items}"))
        .assert_stdout_contains("台账计数与实际数目一致");
    assert_eq!(ws.query_i64("SELECT COUNT(*) FROM item_counted"), items);
    assert!(
        ws.query_i64("SELECT COUNT(*) FROM item_tallies WHERE name LIKE 'state:%' AND n > 0") > 0
    );
}

// ---- init, gen-data, migrate ----

#[test]
fn init_creates_three_separate_administrators_once() {
    let ws = Workspace::new();
    let run = ws.ok(["init", "--region", "测试县"]);
    run.assert_stdout_contains("测试县");
    for username in ["sysadmin", "secadmin", "auditadmin"] {
        let line = run
            .stdout
            .lines()
            .find(|line| line.split_whitespace().next() == Some(username))
            .unwrap_or_else(|| panic!("{username} is not printed:\n{}", run.stdout));
        let password = line
            .split("密码：")
            .nth(1)
            .map(str::trim)
            .unwrap_or_default();
        assert!(password.len() >= 8, "{username}'s password: {line}");
    }
    let list = ws.ok(["user", "list"]);
    for (username, role) in [
        ("sysadmin", "sys_admin"),
        ("secadmin", "security_admin"),
        ("auditadmin", "audit_admin"),
    ] {
        let line = list
            .stdout
            .lines()
            .find(|line| line.split('\t').next() == Some(username))
            .unwrap_or_else(|| panic!("{username} is not listed:\n{}", list.stdout));
        assert!(line.ends_with(&format!("\t{role}")), "{line}");
    }

    let users = ws.query_i64("SELECT COUNT(*) FROM users");
    let again = ws.run(["init", "--region", "测试县"]);
    again.assert_code(2).assert_stderr_contains("已初始化");
    assert_eq!(ws.query_i64("SELECT COUNT(*) FROM users"), users);
    assert_eq!(ws.query_i64("SELECT COUNT(*) FROM regions"), 1);
}

#[test]
fn gen_data_at_county_scale_adds_about_150_units() {
    let ws = Workspace::new();
    ws.demo();
    let before = ws.unit_count();
    let run = ws.ok(["gen-data", "--scale", "county"]);
    let added = ws.unit_count() - before;
    assert!((140..=160).contains(&added), "added {added} units");
    run.assert_stdout_contains(&format!("已生成 {added} 个单位"));
}

#[test]
fn gen_data_with_an_unknown_scale_is_refused_with_exit_2() {
    let ws = Workspace::new();
    let run = ws.run(["gen-data", "--scale", "nonsense"]);
    run.assert_code(2)
        .assert_stderr_contains("未知规模")
        .assert_stderr_contains("county");
    assert!(
        !ws.db_path().exists(),
        "bad input opened (and created) the database"
    );
}

#[test]
fn migrate_succeeds_on_a_new_and_on_an_already_migrated_database() {
    let ws = Workspace::new();
    ws.ok(["migrate"]).assert_stdout_contains("数据库迁移完成");
    assert!(ws.db_path().exists());
    ws.ok(["migrate"]).assert_stdout_contains("数据库迁移完成");
    assert_eq!(ws.unit_count(), 0);
}

#[test]
fn the_data_directory_can_be_given_by_zhongshu_data_dir() {
    let ws = Workspace::new();
    let elsewhere = ws.root().join("from-env");
    let run = ws
        .bare_command()
        .env("ZHONGSHU_DATA_DIR", &elsewhere)
        .arg("demo")
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    assert!(elsewhere.join("zhongshu.db").exists());
    assert!(elsewhere.join("audit").join("audit.key").exists());
    assert!(!ws.data_dir().exists(), "the default data dir was used");
}

#[test]
fn an_unknown_command_is_bad_input_with_exit_2() {
    let ws = Workspace::new();
    ws.run(["no-such-command"]).assert_code(2);
    ws.run(["calendar", "add-workdays", "2024-02-09", "-1"])
        .assert_code(2);
}

#[test]
fn an_unreadable_audit_key_is_an_internal_error_with_exit_1() {
    let ws = Workspace::new();
    let key = ws.data_dir().join("audit").join("audit.key");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::write(&key, "not a hex key").unwrap();
    let run = ws.run(["migrate"]);
    run.assert_code(1).assert_stderr_contains("审计密钥文件");
    assert!(!run.stdout.contains("数据库迁移完成"), "{}", run.stdout);
}
