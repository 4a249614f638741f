//! The frame around every page: who is signed in, the left navigation (only what the viewer
//! may open, and only modules that exist), a calendar warning and a one-line notice.

use crate::AppState;
use crate::error::WebError;
use zhongshu_domain::access::{Capability, Viewer};

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

pub struct Shell {
    pub title: String,
    pub region: String,
    pub user: String,
    pub unit: String,
    pub roles: String,
    pub nav: Vec<NavItem>,
    pub notice: Option<String>,
    pub warning: Option<String>,
    /// Unread in-app notifications, shown in the top bar.
    pub unread: i64,
}

/// The region's name for headings; the product name before a region exists.
pub async fn region_name(state: &AppState) -> Result<String, WebError> {
    Ok(state
        .store
        .region()
        .await?
        .map_or_else(|| "中枢".to_owned(), |r| r.name))
}

impl Shell {
    pub async fn new(
        state: &AppState,
        viewer: &Viewer,
        title: &str,
        active: &str,
    ) -> Result<Shell, WebError> {
        let mut nav = vec![("/", "首页")];
        if viewer.can(Capability::SeeAllItems) {
            nav.push(("/supervision", "督查督办"));
            nav.push(("/supervision/board", "挂图作战"));
            nav.push(("/supervision/ledgers", "年度台账"));
            nav.push(("/supervision/inspections", "督查检查"));
            nav.push(("/supervision/summaries", "进展汇总"));
        }
        if viewer.can(Capability::ActForUnit) {
            nav.push(("/supervision/mine", "本单位督办"));
            if !viewer.can(Capability::SeeAllItems) {
                nav.push(("/supervision/summaries", "进展汇总"));
            }
        }
        if viewer.can(Capability::SeeAllItems) || viewer.can(Capability::ActForUnit) {
            nav.push(("/supervision/plan", "月/周计划"));
        }
        nav.push(("/units", "组织机构"));
        if viewer.can(Capability::ListUsers) {
            nav.push(("/users", "用户管理"));
        }
        nav.push(("/calendar", "工作日历"));
        if viewer.can(Capability::ReadAudit) {
            nav.push(("/audit", "审计日志"));
        }
        if viewer.can(Capability::ViewSettings) {
            nav.push(("/settings", "系统设置"));
        }
        if viewer.can(Capability::Supervise) || viewer.can(Capability::ManageUsers) {
            nav.push(("/supervision/outbox", "发件箱"));
        }
        nav.push(("/inbox", "站内消息"));
        nav.push(("/account", "个人中心"));
        let calendar = state.store.work_calendar().await?;
        let warning = calendar.warning_for(crate::util::beijing_today());
        Ok(Shell {
            title: title.to_owned(),
            region: region_name(state).await?,
            user: if viewer.display_name.is_empty() {
                viewer.username.clone()
            } else {
                viewer.display_name.clone()
            },
            unit: viewer.unit_name.clone(),
            roles: viewer
                .roles()
                .iter()
                .map(|r| r.label())
                .collect::<Vec<_>>()
                .join("、"),
            nav: nav
                .into_iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    active: href == active,
                })
                .collect(),
            notice: None,
            warning,
            unread: state.store.unread_count(viewer).await?,
        })
    }

    pub fn with_notice(mut self, notice: Option<&str>) -> Shell {
        self.notice = notice.map(notice_text).filter(|t| !t.is_empty());
        self
    }
}

/// Notices after a redirect are named by a code, so a link cannot put words on the page.
fn notice_text(code: &str) -> String {
    match code {
        "unit_created" => "单位已新增",
        "unit_saved" => "单位已保存",
        "unit_moved" => "单位已调整上级",
        "unit_merged" => "单位已合并",
        "units_imported" => "单位已导入",
        "user_created" => "用户已新增",
        "roles_saved" => "角色已保存，该用户需重新登录",
        "unlocked" => "账号已解锁",
        "disabled" => "账号已停用",
        "enabled" => "账号已启用",
        "calendar_saved" => "节假日安排已保存",
        "password_changed" => "密码已修改",
        "signed_out_elsewhere" => "已退出其他所有登录",
        "token_created" => "接口令牌已创建",
        "items_imported" => "任务分解表已导入，事项已交办到各单位",
        "item_changed" => "操作已完成",
        "progress_reported" => "进展已报送",
        "item_drafted" => "事项已保存为草稿，可在本页立项并交办",
        "item_assigned" => "事项已立项并交办，已通知承办单位",
        "extension_requested" => "延期申请已提交，待督查室审批",
        "extension_approved" => "已同意延期，完成时限已调整",
        "extension_refused" => "已不同意延期，完成时限不变",
        "units_changed" => "承办单位已调整",
        "units_changed_assigned" => "承办单位已调整并重新交办，已通知新的承办单位",
        "all_read" => "已全部标为已读",
        "outbox_retried" => "已重新排入发件箱，稍后自动投递",
        "email_saved" => "电子邮箱已保存",
        "ledger_opened" => "台账已建账",
        "snapshot_taken" => "查账完成：本次统计的数字已冻结保存",
        "ledger_closed" => "年度台账已结账",
        "inspection_recorded" => "督查已登记，可在下方登记发现的问题",
        "finding_recorded" => "问题已登记，整改事项已交办到被督查单位",
        "referral_recorded" => "移交已记录",
        _ => "",
    }
    .to_owned()
}
