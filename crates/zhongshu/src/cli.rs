//! The command line: names, arguments, output formats and exit codes are a contract
//! (../shared/checks/cli-contract checks them).

use crate::settings::{FlagOverrides, load};

/// Prints a line to stdout, ignoring a closed pipe (`zhongshu user list | head` must not panic).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use zhongshu_domain::access::{Role, Viewer};
use zhongshu_domain::org::{UnitName, UnitType, check_unit_rows};
use zhongshu_store::audit::Verification;
use zhongshu_store::demo::{DemoOutcome, data as demo_data};
use zhongshu_store::generate::Scale;
use zhongshu_store::units::NewUnit;
use zhongshu_store::users::{NewUser, UserFilter, random_password};
use zhongshu_store::{Error as StoreError, Store};
use zhongshu_web::{AppState, Settings};

#[derive(Parser)]
#[command(name = "zhongshu", version, about = "中枢：党政办公协同平台")]
struct Cli {
    /// 配置文件（默认读取当前目录下的 zhongshu.toml）
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// 数据目录（默认 ./data）
    #[arg(long, global = true)]
    data_dir: Option<String>,
    /// 数据库地址（默认 SQLite：数据目录下的 zhongshu.db；或 postgres://…）
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 启动网页服务
    Serve {
        /// 空库时载入演示县“明湖县”
        #[arg(long)]
        demo: bool,
        /// 监听地址（默认 127.0.0.1:8080）
        #[arg(long)]
        listen: Option<String>,
    },
    /// 执行数据库迁移
    Migrate,
    /// 初始化正式部署：创建地区和三名分立的管理员
    Init {
        #[arg(long)]
        region: String,
    },
    /// 向空库载入演示县
    Demo,
    /// 用户管理
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// 单位管理
    Unit {
        #[command(subcommand)]
        command: UnitCommand,
    },
    /// 接口令牌
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// 工作日历
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// 在线备份 SQLite 数据库到文件
    Backup { file: PathBuf },
    /// 重建全文检索索引和台账计数，并与实际数目核对
    Reindex,
    /// 审计日志
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// 按规模生成测试数据
    GenData {
        #[arg(long)]
        scale: String,
    },
    /// 完成时限
    Deadline {
        #[command(subcommand)]
        command: DeadlineCommand,
    },
    /// 导入督办事项（任务分解表）
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// 导出督办事项台账
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
}

#[derive(Subcommand)]
enum DeadlineCommand {
    /// 解析完成时限文字，输出一行 JSON
    Parse {
        #[arg(long)]
        year: i16,
        text: String,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// 导入任务分解表（全部校验通过才写入）
    Items {
        #[arg(long)]
        year: i16,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// 导出某年台账为 Excel
    Items {
        #[arg(long)]
        year: i64,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// 新增用户
    Add(UserAdd),
    /// 列出用户（用户名、单位、角色）
    List,
    /// 重置密码（打印一次性新密码）
    ResetPassword {
        #[arg(long)]
        username: String,
    },
}

#[derive(Args)]
struct UserAdd {
    #[arg(long)]
    username: String,
    #[arg(long)]
    password: String,
    #[arg(long)]
    unit: String,
    #[arg(long = "role")]
    roles: Vec<String>,
    /// 姓名（默认同用户名）
    #[arg(long)]
    name: Option<String>,
}

#[derive(Subcommand)]
enum UnitCommand {
    /// 从 Excel 或 CSV 导入单位（全部校验通过才写入）
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// 为用户创建接口令牌（最后一行为令牌）
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "命令行创建")]
        name: String,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// 是否工作日（true/false）
    IsWorkday { date: String },
    /// DATE 之后第 N 个工作日
    AddWorkdays { date: String, n: u32 },
    /// START（不含）到 END（含）之间的工作日数
    CountWorkdays { start: String, end: String },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// 校验审计链；被篡改时退出码为 3，最后一行为首个异常记录编号
    Verify,
}

/// A failure with its exit status: 2 bad input, 3 audit chain broken, 1 internal.
pub struct CliError {
    pub message: String,
    pub exit: u8,
}

impl CliError {
    fn input(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            exit: 2,
        }
    }

    fn internal(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            exit: 1,
        }
    }
}

impl From<StoreError> for CliError {
    fn from(err: StoreError) -> CliError {
        match err {
            StoreError::Database(e) => CliError::internal(format!("数据库错误：{e}")),
            StoreError::Internal(m) => CliError::internal(m),
            other => CliError::input(other.to_string()),
        }
    }
}

type Outcome = Result<ExitCode, CliError>;

pub async fn run() -> Outcome {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return Ok(ExitCode::from(code));
        }
    };
    let listen = match &cli.command {
        Command::Serve { listen, .. } => listen.clone(),
        _ => None,
    };
    let settings = load(
        cli.config.as_deref(),
        FlagOverrides {
            data_dir: cli.data_dir.clone(),
            database_url: cli.database_url.clone(),
            listen,
        },
    )
    .map_err(CliError::input)?;
    init_logging();
    let console = Viewer::console();
    match cli.command {
        Command::Serve { demo, .. } => serve(settings, demo).await,
        Command::Migrate => {
            let store = settings.open_store().await?;
            store.close().await;
            out!("数据库迁移完成");
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { region } => init(&settings, &console, &region).await,
        Command::Demo => {
            let store = settings.open_store().await?;
            let password = demo_password(&settings)?;
            let outcome = load_demo(&store, &console, &password, &settings).await;
            store.close().await;
            outcome
        }
        Command::User { command } => user(&settings, &console, command).await,
        Command::Unit {
            command: UnitCommand::Import { file },
        } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| CliError::input(format!("无法读取 {}：{e}", file.display())))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let rows =
                zhongshu_office::units::read_unit_list(&name, &bytes).map_err(|problems| {
                    CliError::input(join(problems.iter().map(ToString::to_string)))
                })?;
            let checked = check_unit_rows(&rows).map_err(|problems| {
                CliError::input(join(problems.iter().map(ToString::to_string)))
            })?;
            let store = settings.open_store().await?;
            let admin = sys_admin(&console)?;
            let count = store.import_units(admin, checked).await;
            store.close().await;
            out!("已导入 {} 个单位", count?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            command: TokenCommand::Create { username, name },
        } => {
            let store = settings.open_store().await?;
            let lister = console
                .as_user_lister()
                .map_err(|e| CliError::internal(e.to_string()))?;
            let user = store.find_user(lister, &username).await?;
            let (_, token) = store
                .create_token(sys_admin(&console)?, user.id, &name)
                .await?;
            store.close().await;
            out!("已为 {} 创建接口令牌（只显示这一次）：", user.username);
            out!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Calendar { command } => calendar(&settings, command).await,
        Command::Backup { file } => backup(&settings, &file).await,
        Command::Reindex => reindex(&settings).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let store = settings.open_store().await?;
            let admin = console
                .as_audit_admin()
                .map_err(|e| CliError::internal(e.to_string()))?;
            let outcome = store
                .verify_audit(admin, &settings.audit_checkpoint_dir())
                .await;
            store.close().await;
            match outcome? {
                Verification::Intact { events } => {
                    out!("审计链完整：共 {events} 条记录");
                    Ok(ExitCode::SUCCESS)
                }
                Verification::Broken {
                    first_bad_id,
                    reason,
                } => {
                    out!("审计链被破坏：{reason}");
                    out!("{first_bad_id}");
                    Ok(ExitCode::from(3))
                }
            }
        }
        Command::GenData { scale } => gen_data(&settings, &console, &scale).await,
        Command::Deadline {
            command: DeadlineCommand::Parse { year, text },
        } => {
            let store = settings.open_store().await?;
            let calendar = store.work_calendar().await;
            store.close().await;
            let calendar = calendar?;
            let deadline = zhongshu_domain::deadline::parse_deadline(&text, year, &calendar)
                .map_err(|e| CliError::input(e.message))?;
            out!("{}", deadline.to_json_line());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            command: ImportCommand::Items { year, file },
        } => import_items(&settings, &console, year, &file).await,
        Command::Export {
            command: ExportCommand::Items { year, out },
        } => export_items(&settings, &console, year, &out).await,
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ZHONGSHU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,zhongshu=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn join(lines: impl Iterator<Item = String>) -> String {
    lines.collect::<Vec<_>>().join("\n")
}

fn sys_admin(console: &Viewer) -> Result<zhongshu_domain::access::SysAdmin<'_>, CliError> {
    console
        .as_sys_admin()
        .map_err(|e| CliError::internal(e.to_string()))
}

fn demo_password(settings: &Settings) -> Result<String, CliError> {
    if settings.demo_password.is_empty() {
        Ok(random_password()?)
    } else {
        Ok(settings.demo_password.expose().to_owned())
    }
}

async fn load_demo(
    store: &Store,
    console: &Viewer,
    password: &str,
    settings: &Settings,
) -> Outcome {
    match store.load_demo(sys_admin(console)?, password).await? {
        DemoOutcome::AlreadyLoaded { region } => {
            out!("数据库中已有地区“{region}”，未载入演示数据（演示数据只载入空库）");
        }
        DemoOutcome::Loaded { units, users } => {
            out!(
                "已载入演示县“{}”：{units} 个单位，{users} 个账号",
                demo_data::REGION_NAME
            );
            let sup = console
                .as_supervisor()
                .map_err(|e| CliError::internal(e.to_string()))?;
            let year = zhongshu_web::util::beijing_today().year();
            if let Some(items) = store.load_demo_ledger(sup, year).await? {
                out!("已载入{year}年督查督办演示台账：{items} 个事项");
            }
            print_demo_accounts(password, settings);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_demo_accounts(password: &str, settings: &Settings) {
    out!(
        "演示账号（密码均为：{password}{}）：",
        if settings.demo_password.is_empty() {
            "，随机生成；可用 ZHONGSHU_DEMO_PASSWORD 指定"
        } else {
            ""
        }
    );
    for p in demo_data::PEOPLE {
        let roles: Vec<&str> = p
            .roles
            .iter()
            .filter_map(|r| Role::from_code(r))
            .map(Role::label)
            .collect();
        out!(
            "  {:<12} {}（{}）",
            p.username,
            p.display_name,
            roles.join("、")
        );
    }
    out!("  每个单位另有联络员 <代码>_lly 和负责人 <代码>_fzr，如 czj_lly（县财政局联络员）");
}

async fn serve(settings: Settings, demo: bool) -> Outcome {
    let started = std::time::Instant::now();
    // The search dictionary takes about 150 ms to load: load it beside the start, not in the
    // first search.
    tokio::task::spawn_blocking(zhongshu_store::search::warm_up);
    let store = settings.open_store().await?;
    if demo {
        let console = Viewer::console();
        if store.region().await?.is_none() {
            let password = demo_password(&settings)?;
            load_demo(&store, &console, &password, &settings).await?;
        } else {
            out!("数据库中已有数据，跳过载入演示县");
        }
    }
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .map_err(|e| CliError::input(format!("无法监听 {}：{e}", settings.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::internal(e.to_string()))?;
    out!(
        "中枢已启动：http://{addr}  （数据库：{}，用时 {} 毫秒）",
        settings.database_url(),
        started.elapsed().as_millis()
    );
    let state = AppState {
        store: store.clone(),
        settings: Arc::new(settings),
    };
    zhongshu_web::serve(state, listener)
        .await
        .map_err(|e| CliError::internal(format!("服务异常退出：{e}")))?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn init(settings: &Settings, console: &Viewer, region: &str) -> Outcome {
    let store = settings.open_store().await?;
    let admin = sys_admin(console)?;
    let created = store.create_region(admin, region).await?;
    let office = store
        .create_unit(
            admin,
            NewUnit {
                parent_id: None,
                name: UnitName::parse("系统管理组").map_err(CliError::internal)?,
                unit_type: UnitType::Office,
                key_reporting: false,
                sort_order: 9999,
            },
        )
        .await?;
    out!(
        "已初始化地区“{}”。三名分立的管理员（一次性密码，首次登录须修改）：",
        created.name
    );
    let grant = console
        .as_security_admin()
        .map_err(|e| CliError::internal(e.to_string()))?;
    for (username, name, role) in [
        ("sysadmin", "系统管理员", Role::SysAdmin),
        ("secadmin", "安全管理员", Role::SecurityAdmin),
        ("auditadmin", "安全审计员", Role::AuditAdmin),
    ] {
        let password = random_password()?;
        store
            .create_user(
                admin,
                Some(grant),
                NewUser {
                    username: username.to_owned(),
                    display_name: name.to_owned(),
                    title: name.to_owned(),
                    unit_id: office,
                    password: password.clone(),
                    roles: vec![role],
                    must_change_password: true,
                },
                &settings.password_policy(),
            )
            .await?;
        out!("  {username:<11} {name}  密码：{password}");
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn user(settings: &Settings, console: &Viewer, command: UserCommand) -> Outcome {
    let store = settings.open_store().await?;
    let lister = console
        .as_user_lister()
        .map_err(|e| CliError::internal(e.to_string()))?;
    let outcome = match command {
        UserCommand::Add(add) => {
            let mut roles = Vec::new();
            for code in &add.roles {
                roles.push(Role::from_code(code).ok_or_else(|| {
                    CliError::input(format!(
                        "未知角色“{code}”，可用：{}",
                        Role::ALL
                            .iter()
                            .map(|r| r.code())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?);
            }
            let unit_id = store.find_unit(console, &add.unit).await?;
            let grant = console
                .as_security_admin()
                .map_err(|e| CliError::internal(e.to_string()))?;
            let id = store
                .create_user(
                    sys_admin(console)?,
                    Some(grant),
                    NewUser {
                        username: add.username.trim().to_owned(),
                        display_name: add.name.unwrap_or_else(|| add.username.trim().to_owned()),
                        title: String::new(),
                        unit_id,
                        password: add.password,
                        roles,
                        must_change_password: true,
                    },
                    &settings.password_policy(),
                )
                .await?;
            out!(
                "已新增用户 {}（编号 {id}），首次登录须修改密码",
                add.username.trim()
            );
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::List => {
            let users = store
                .list_users(lister, &UserFilter::default(), 1_000_000)
                .await?;
            out!("用户名\t单位\t角色");
            for u in users {
                let roles: Vec<&str> = u.roles.iter().map(|r| r.code()).collect();
                out!("{}\t{}\t{}", u.username, u.unit_name, roles.join(","));
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::ResetPassword { username } => {
            let user = store.find_user(lister, &username).await?;
            let password = store.reset_password(sys_admin(console)?, user.id).await?;
            out!("已重置 {} 的密码（首次登录须修改）：", user.username);
            out!("{password}");
            Ok(ExitCode::SUCCESS)
        }
    };
    store.close().await;
    outcome
}

fn parse_date(text: &str) -> Result<jiff::civil::Date, CliError> {
    text.trim()
        .parse()
        .map_err(|_| CliError::input(format!("“{text}”不是有效日期（格式 YYYY-MM-DD）")))
}

async fn calendar(settings: &Settings, command: CalendarCommand) -> Outcome {
    // Parse the arguments before touching the database, so bad input writes nothing.
    let store_calendar = |store: Store| async move {
        let calendar = store.work_calendar().await;
        store.close().await;
        calendar
    };
    match command {
        CalendarCommand::IsWorkday { date } => {
            let date = parse_date(&date)?;
            let calendar = store_calendar(settings.open_store().await?).await?;
            warn_missing(&calendar, date);
            out!("{}", calendar.is_workday(date));
        }
        CalendarCommand::AddWorkdays { date, n } => {
            let date = parse_date(&date)?;
            let calendar = store_calendar(settings.open_store().await?).await?;
            let result = calendar.add_workdays(date, n);
            warn_missing(&calendar, result);
            out!("{result}");
        }
        CalendarCommand::CountWorkdays { start, end } => {
            let start = parse_date(&start)?;
            let end = parse_date(&end)?;
            let calendar = store_calendar(settings.open_store().await?).await?;
            warn_missing(&calendar, end);
            out!("{}", calendar.count_workdays(start, end));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn warn_missing(calendar: &zhongshu_domain::calendar::WorkCalendar, date: jiff::civil::Date) {
    if let Some(warning) = calendar.warning_for(date) {
        eprintln!("注意：{warning}");
    }
}

async fn backup(settings: &Settings, file: &std::path::Path) -> Outcome {
    let store = settings.open_store().await?;
    let outcome = store.backup_to(file).await;
    store.close().await;
    outcome?;
    out!("已备份到 {}", file.display());
    Ok(ExitCode::SUCCESS)
}

/// Rebuilds what the store derives from items and reports (after a restore, or a bulk load by
/// other means), then checks the tallies; exit 1 if any still differs.
async fn reindex(settings: &Settings) -> Outcome {
    let store = settings.open_store().await?;
    let outcome = async {
        let indexed = store.rebuild_search_index().await?;
        store.rebuild_tallies().await?;
        let differences = store.check_tallies().await?;
        Ok::<_, zhongshu_store::Error>((indexed, differences))
    }
    .await;
    store.close().await;
    let (indexed, differences) = outcome?;
    out!(
        "已重建检索索引：事项 {}，进展报告 {}；台账计数已重建",
        indexed.items,
        indexed.reports
    );
    if differences.is_empty() {
        out!("台账计数与实际数目一致");
        Ok(ExitCode::SUCCESS)
    } else {
        for d in &differences {
            eprintln!("计数不一致：{d}");
        }
        Err(CliError::internal(format!(
            "{} 项台账计数与实际数目不一致",
            differences.len()
        )))
    }
}

async fn gen_data(settings: &Settings, console: &Viewer, scale: &str) -> Outcome {
    let scale = Scale::parse(scale).ok_or_else(|| {
        CliError::input(format!("未知规模“{scale}”，可用：county、city、province"))
    })?;
    let store = settings.open_store().await?;
    let bar = indicatif::ProgressBar::new(u64::try_from(scale.target_users()).unwrap_or(0));
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} 个账号 {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let password = demo_password(settings)?;
    let progress_bar = bar.clone();
    let progress = move |units: usize, users: usize| {
        progress_bar.set_position(u64::try_from(users).unwrap_or(0));
        progress_bar.set_message(format!("{units} 个单位"));
    };
    let outcome = store
        .generate(sys_admin(console)?, scale, &password, &progress)
        .await;
    bar.finish();
    let (units, users) = match outcome {
        Ok(done) => done,
        Err(e) => {
            store.close().await;
            return Err(e.into());
        }
    };
    out!("已生成 {units} 个单位、{users} 个账号（密码均为 {password}）");
    if scale == Scale::City {
        let started = std::time::Instant::now();
        let progress = move |items: usize, reports: usize| {
            eprintln!(
                "督办事项 {items}，进展报告 {reports}（{:.0} 秒）",
                started.elapsed().as_secs_f64()
            );
        };
        let today = zhongshu_web::util::beijing_today();
        let outcome = store
            .generate_items(sys_admin(console)?, today, &progress)
            .await;
        let c = match outcome {
            Ok(c) => c,
            Err(e) => {
                store.close().await;
                return Err(e.into());
            }
        };
        // Bulk rows bypass the per-write search index: index them all once.
        eprintln!("正在建立全文检索索引……");
        let indexed = store.rebuild_search_index().await;
        store.close().await;
        let indexed = indexed?;
        eprintln!(
            "已建立索引：事项 {}，进展报告 {}",
            indexed.items, indexed.reports
        );
        out!(
            "已生成 {} 个重点任务、{} 个督办事项（{} 个责任单位关系）、{} 条进展报告、{} 条办理记录，用时 {:.0} 秒",
            c.groups,
            c.items,
            c.item_units,
            c.reports,
            c.history,
            started.elapsed().as_secs_f64()
        );
    } else {
        store.close().await;
    }
    Ok(ExitCode::SUCCESS)
}

async fn import_items(
    settings: &Settings,
    console: &Viewer,
    year: i16,
    file: &std::path::Path,
) -> Outcome {
    if !(2000..=2100).contains(&year) {
        return Err(CliError::input(format!("台账年度“{year}”不正确")));
    }
    // The segmenter's dictionary loads (about 150 ms) while the file is read and checked: the
    // search entries are written last.
    tokio::task::spawn_blocking(zhongshu_store::search::warm_up);
    let bytes = std::fs::read(file)
        .map_err(|e| CliError::input(format!("无法读取 {}：{e}", file.display())))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rows = zhongshu_office::tasks::read_task_table(&name, &bytes)
        .map_err(|problems| CliError::input(join(problems.iter().map(ToString::to_string))))?;
    let store = settings.open_store().await?;
    let sup = console
        .as_supervisor()
        .map_err(|e| CliError::internal(e.to_string()))?;
    let outcome = store.import_items(sup, year, &rows).await;
    store.close().await;
    let summary = outcome?;
    out!(
        "已导入{year}年台账：{} 个事项（{} 项重点任务）{}",
        summary.items,
        summary.groups,
        if summary.ledger_opened {
            "，并已建账"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

async fn export_items(
    settings: &Settings,
    console: &Viewer,
    year: i64,
    out: &std::path::Path,
) -> Outcome {
    let store = settings.open_store().await?;
    let rows = store
        .list_items(
            console,
            &zhongshu_store::supervision::ItemFilter {
                year: Some(year),
                ..Default::default()
            },
            zhongshu_web::util::beijing_today(),
            settings.signals.yellow_workdays,
            1_000_000,
        )
        .await;
    store.close().await;
    let rows = rows?;
    let bytes = zhongshu_office::export::write_items_xlsx(
        &format!("{year}年督查督办事项台账"),
        &zhongshu_web::supervision::export_rows(&rows),
    )
    .map_err(CliError::internal)?;
    std::fs::write(out, bytes)
        .map_err(|e| CliError::input(format!("无法写入 {}：{e}", out.display())))?;
    out!("已导出 {} 个事项到 {}", rows.len(), out.display());
    Ok(ExitCode::SUCCESS)
}
