//! Audit events: stable numeric codes, and the keyed SM3 chain that makes the log tamper-evident.
//!
//! Codes are grouped by area (1xxx sign-in and security, 2xxx organisation, 3xxx users and roles,
//! 4xxx calendar, 5xxx supervision, 9xxx system) and never reused: an auditor's saved filter must mean the same
//! thing ten years later. Each event's hash is HMAC-SM3 over the previous hash and every field
//! of the event, keyed with a secret kept outside the database, so someone who can write the
//! table cannot recompute the chain after editing it.

use hmac::{KeyInit, Mac};

/// The kind of an audit event, with its stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditCode {
    LoginSucceeded,
    LoginFailed,
    AccountLocked,
    LoggedOut,
    LoggedOutEverywhere,
    PasswordChanged,
    PasswordReset,
    PermissionRefused,
    TokenCreated,
    TokenRevoked,
    CrossSiteRequestRefused,
    UnitCreated,
    UnitRenamed,
    UnitMoved,
    UnitMerged,
    UnitUpdated,
    UnitsImported,
    RegionCreated,
    UserCreated,
    UserUpdated,
    RolesChanged,
    UserDisabled,
    UserEnabled,
    UserUnlocked,
    CalendarYearSaved,
    ItemsImported,
    ItemChanged,
    ProgressReported,
    LedgerSnapshotTaken,
    LedgerClosed,
    LedgerOpened,
    InspectionRecorded,
    FindingRecorded,
    ReferralRecorded,
    ItemRegistered,
    ExtensionRequested,
    ExtensionDecided,
    ItemUnitsChanged,
    RemindersSent,
    OutboxRetried,
    AttachmentUploaded,
    AttachmentDownloaded,
    DemoLoaded,
    DataGenerated,
}

impl AuditCode {
    /// Every code, for filters and for decoding.
    pub const ALL: [AuditCode; 44] = [
        AuditCode::LoginSucceeded,
        AuditCode::LoginFailed,
        AuditCode::AccountLocked,
        AuditCode::LoggedOut,
        AuditCode::LoggedOutEverywhere,
        AuditCode::PasswordChanged,
        AuditCode::PasswordReset,
        AuditCode::PermissionRefused,
        AuditCode::TokenCreated,
        AuditCode::TokenRevoked,
        AuditCode::CrossSiteRequestRefused,
        AuditCode::UnitCreated,
        AuditCode::UnitRenamed,
        AuditCode::UnitMoved,
        AuditCode::UnitMerged,
        AuditCode::UnitUpdated,
        AuditCode::UnitsImported,
        AuditCode::RegionCreated,
        AuditCode::UserCreated,
        AuditCode::UserUpdated,
        AuditCode::RolesChanged,
        AuditCode::UserDisabled,
        AuditCode::UserEnabled,
        AuditCode::UserUnlocked,
        AuditCode::CalendarYearSaved,
        AuditCode::ItemsImported,
        AuditCode::ItemChanged,
        AuditCode::ProgressReported,
        AuditCode::LedgerSnapshotTaken,
        AuditCode::LedgerClosed,
        AuditCode::LedgerOpened,
        AuditCode::InspectionRecorded,
        AuditCode::FindingRecorded,
        AuditCode::ReferralRecorded,
        AuditCode::ItemRegistered,
        AuditCode::ExtensionRequested,
        AuditCode::ExtensionDecided,
        AuditCode::ItemUnitsChanged,
        AuditCode::RemindersSent,
        AuditCode::OutboxRetried,
        AuditCode::AttachmentUploaded,
        AuditCode::AttachmentDownloaded,
        AuditCode::DemoLoaded,
        AuditCode::DataGenerated,
    ];

    /// The stable numeric code stored with the event.
    pub fn code(self) -> i64 {
        match self {
            AuditCode::LoginSucceeded => 1000,
            AuditCode::LoginFailed => 1001,
            AuditCode::AccountLocked => 1002,
            AuditCode::LoggedOut => 1003,
            AuditCode::LoggedOutEverywhere => 1004,
            AuditCode::PasswordChanged => 1005,
            AuditCode::PasswordReset => 1006,
            AuditCode::PermissionRefused => 1007,
            AuditCode::TokenCreated => 1008,
            AuditCode::TokenRevoked => 1009,
            AuditCode::CrossSiteRequestRefused => 1010,
            AuditCode::UnitCreated => 2000,
            AuditCode::UnitRenamed => 2001,
            AuditCode::UnitMoved => 2002,
            AuditCode::UnitMerged => 2003,
            AuditCode::UnitUpdated => 2004,
            AuditCode::UnitsImported => 2005,
            AuditCode::RegionCreated => 2006,
            AuditCode::UserCreated => 3000,
            AuditCode::UserUpdated => 3001,
            AuditCode::RolesChanged => 3002,
            AuditCode::UserDisabled => 3003,
            AuditCode::UserEnabled => 3004,
            AuditCode::UserUnlocked => 3005,
            AuditCode::CalendarYearSaved => 4000,
            AuditCode::ItemsImported => 5000,
            AuditCode::ItemChanged => 5001,
            AuditCode::ProgressReported => 5002,
            AuditCode::LedgerSnapshotTaken => 5010,
            AuditCode::LedgerClosed => 5011,
            AuditCode::LedgerOpened => 5012,
            AuditCode::InspectionRecorded => 5020,
            AuditCode::FindingRecorded => 5021,
            AuditCode::ReferralRecorded => 5022,
            AuditCode::ItemRegistered => 5030,
            AuditCode::ExtensionRequested => 5031,
            AuditCode::ExtensionDecided => 5032,
            AuditCode::ItemUnitsChanged => 5033,
            AuditCode::RemindersSent => 5040,
            AuditCode::OutboxRetried => 5041,
            AuditCode::AttachmentUploaded => 5050,
            AuditCode::AttachmentDownloaded => 5051,
            AuditCode::DemoLoaded => 9000,
            AuditCode::DataGenerated => 9001,
        }
    }

    /// Decodes a stored code.
    pub fn from_code(code: i64) -> Option<AuditCode> {
        AuditCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// What the audit page calls it.
    pub fn label(self) -> &'static str {
        match self {
            AuditCode::LoginSucceeded => "登录成功",
            AuditCode::LoginFailed => "登录失败",
            AuditCode::AccountLocked => "账号锁定",
            AuditCode::LoggedOut => "退出登录",
            AuditCode::LoggedOutEverywhere => "退出全部登录",
            AuditCode::PasswordChanged => "修改密码",
            AuditCode::PasswordReset => "重置密码",
            AuditCode::PermissionRefused => "越权访问被拒绝",
            AuditCode::TokenCreated => "创建接口令牌",
            AuditCode::TokenRevoked => "吊销接口令牌",
            AuditCode::CrossSiteRequestRefused => "跨站请求被拒绝",
            AuditCode::UnitCreated => "新增单位",
            AuditCode::UnitRenamed => "单位更名",
            AuditCode::UnitMoved => "调整上级单位",
            AuditCode::UnitMerged => "单位合并",
            AuditCode::UnitUpdated => "修改单位属性",
            AuditCode::UnitsImported => "导入单位",
            AuditCode::RegionCreated => "初始化地区",
            AuditCode::UserCreated => "新增用户",
            AuditCode::UserUpdated => "修改用户",
            AuditCode::RolesChanged => "调整角色",
            AuditCode::UserDisabled => "停用用户",
            AuditCode::UserEnabled => "启用用户",
            AuditCode::UserUnlocked => "解除锁定",
            AuditCode::CalendarYearSaved => "保存节假日安排",
            AuditCode::ItemsImported => "导入督办事项",
            AuditCode::ItemChanged => "督办事项流转",
            AuditCode::ProgressReported => "报送进展",
            AuditCode::LedgerSnapshotTaken => "台账查账",
            AuditCode::LedgerClosed => "台账结账",
            AuditCode::LedgerOpened => "台账建账",
            AuditCode::InspectionRecorded => "登记督查",
            AuditCode::FindingRecorded => "登记督查发现问题",
            AuditCode::ReferralRecorded => "移交问责线索",
            AuditCode::ItemRegistered => "督办事项立项",
            AuditCode::ExtensionRequested => "申请延期",
            AuditCode::ExtensionDecided => "审批延期",
            AuditCode::ItemUnitsChanged => "调整承办单位",
            AuditCode::RemindersSent => "发送到期提醒",
            AuditCode::OutboxRetried => "重新投递外部消息",
            AuditCode::AttachmentUploaded => "上传附件",
            AuditCode::AttachmentDownloaded => "下载附件",
            AuditCode::DemoLoaded => "载入演示数据",
            AuditCode::DataGenerated => "生成测试数据",
        }
    }

    /// Security events (sign-in, refusals) as opposed to changes of data.
    pub fn is_security_event(self) -> bool {
        (1000..2000).contains(&self.code())
    }
}

/// Every field of a stored event that the chain protects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainedFields<'a> {
    pub id: i64,
    pub code: i64,
    pub actor_user_id: Option<i64>,
    pub actor_name: &'a str,
    pub actor_unit_id: Option<i64>,
    pub target: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub client_addr: Option<&'a str>,
    pub occurred_at: i64,
    pub prev_hash: &'a str,
}

type HmacSm3 = hmac::Hmac<sm3::Sm3>;

/// The event's link in the chain: lower-case hex of HMAC-SM3(key, encoding of every field).
///
/// Each field is length-prefixed and `None` has its own marker, so no two different events
/// encode to the same bytes (a plain join could let "ab"+"c" collide with "a"+"bc").
pub fn chain_hash(key: &[u8], fields: &ChainedFields<'_>) -> String {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an impossible digest
    // rather than panic if a future version says otherwise.
    let Ok(mut mac) = <HmacSm3 as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    let mut put = |bytes: Option<&[u8]>| match bytes {
        Some(b) => {
            mac.update(&(b.len() as u64).to_be_bytes());
            mac.update(b);
        }
        None => mac.update(&u64::MAX.to_be_bytes()),
    };
    put(Some(b"zhongshu-audit-v1"));
    put(Some(&fields.id.to_be_bytes()));
    put(Some(&fields.code.to_be_bytes()));
    put(fields
        .actor_user_id
        .map(i64::to_be_bytes)
        .as_ref()
        .map(|b| &b[..]));
    put(Some(fields.actor_name.as_bytes()));
    put(fields
        .actor_unit_id
        .map(i64::to_be_bytes)
        .as_ref()
        .map(|b| &b[..]));
    put(Some(fields.target.as_bytes()));
    put(fields.before.map(str::as_bytes));
    put(fields.after.map(str::as_bytes));
    put(fields.client_addr.map(str::as_bytes));
    put(Some(&fields.occurred_at.to_be_bytes()));
    put(Some(fields.prev_hash.as_bytes()));
    hex::encode(mac.finalize().into_bytes())
}

/// Plain SM3 of some bytes, in lower-case hex (session and API tokens are stored this way).
pub fn sm3_hex(bytes: &[u8]) -> String {
    use sm3::Digest;
    hex::encode(sm3::Sm3::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> ChainedFields<'static> {
        ChainedFields {
            id: 1,
            code: 2000,
            actor_user_id: Some(3),
            actor_name: "xitong",
            actor_unit_id: Some(4),
            target: "unit:5",
            before: None,
            after: Some("{\"name\":\"县财政局\"}"),
            client_addr: Some("127.0.0.1"),
            occurred_at: 1_700_000_000_000,
            prev_hash: "",
        }
    }

    #[test]
    fn sm3_matches_the_standard_test_vector() {
        assert_eq!(
            sm3_hex(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn codes_are_unique_and_decode() {
        let mut seen = std::collections::HashSet::new();
        for code in AuditCode::ALL {
            assert!(seen.insert(code.code()), "{code:?} reuses a code");
            assert_eq!(AuditCode::from_code(code.code()), Some(code));
        }
    }

    #[test]
    fn any_changed_field_changes_the_hash() {
        let key = b"k";
        let base = chain_hash(key, &fields());
        assert_eq!(base.len(), 64);
        let mut f = fields();
        f.id = 2;
        assert_ne!(chain_hash(key, &f), base);
        let mut f = fields();
        f.before = Some("");
        assert_ne!(chain_hash(key, &f), base, "None and empty differ");
        let mut f = fields();
        f.prev_hash = "00";
        assert_ne!(chain_hash(key, &f), base);
        assert_ne!(chain_hash(b"other key", &fields()), base);
    }
}
