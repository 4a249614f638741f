//! Roles, capabilities and the viewer: who may do what.
//!
//! Permission is a value you must hold. A store function that changes the organisation takes a
//! [`SysAdmin`] proof, which only [`Viewer::as_sys_admin`] can make; a function that grants roles
//! takes a [`SecurityAdmin`]; reading the audit log takes an [`AuditAdmin`]. The three separated
//! administrators (三员分立) cannot stand in for one another, and none of them reads business
//! content.

use crate::ids::{UnitId, UserId};
use serde::Serialize;
use std::fmt;

/// A role a user holds. The codes are stable: they are stored and typed on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Leader,
    Supervisor,
    Editor,
    Liaison,
    UnitHead,
    DutyOfficer,
    SysAdmin,
    SecurityAdmin,
    AuditAdmin,
}

impl Role {
    /// Every role, in the order the pages list them.
    pub const ALL: [Role; 9] = [
        Role::Leader,
        Role::Supervisor,
        Role::Editor,
        Role::Liaison,
        Role::UnitHead,
        Role::DutyOfficer,
        Role::SysAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
    ];

    /// The stable code stored in the database and used on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Supervisor => "supervisor",
            Role::Editor => "editor",
            Role::Liaison => "liaison",
            Role::UnitHead => "unit_head",
            Role::DutyOfficer => "duty_officer",
            Role::SysAdmin => "sys_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
        }
    }

    /// The name office staff know the role by.
    pub fn label(self) -> &'static str {
        match self {
            Role::Leader => "领导",
            Role::Supervisor => "督查室",
            Role::Editor => "信息编辑",
            Role::Liaison => "单位联络员",
            Role::UnitHead => "单位负责人",
            Role::DutyOfficer => "值班员",
            Role::SysAdmin => "系统管理员",
            Role::SecurityAdmin => "安全管理员",
            Role::AuditAdmin => "安全审计员",
        }
    }

    /// Parses a role code; `None` for an unknown one.
    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code.trim())
    }

    /// One of the three separated administrators.
    pub fn is_admin(self) -> bool {
        matches!(
            self,
            Role::SysAdmin | Role::SecurityAdmin | Role::AuditAdmin
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a page or API call needs. The mapping from roles is [`Viewer::can`], in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// Create, rename, move, merge and import units; edit the calendar (系统管理员).
    ManageOrganisation,
    /// Create users, reset passwords, unlock and disable accounts (系统管理员).
    ManageUsers,
    /// See the user list (system and security administrators).
    ListUsers,
    /// Grant and revoke roles (安全管理员).
    GrantRoles,
    /// Read and verify the audit log (安全审计员).
    ReadAudit,
    /// See the effective settings (system and security administrators).
    ViewSettings,
    /// Register, assign, review and close supervision items; import and export the ledger (督查室).
    Supervise,
    /// See every supervision item of the region (督查室 and leaders).
    SeeAllItems,
    /// Sign for and report on the items of one's own unit (联络员, 单位负责人).
    ActForUnit,
    /// Write instructions (批示) on items (领导).
    Instruct,
}

/// The signed-in person a request acts for. Every business query takes one.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user_id: Option<UserId>,
    pub username: String,
    pub display_name: String,
    pub unit_id: Option<UnitId>,
    pub unit_name: String,
    roles: Vec<Role>,
    /// The client's address, recorded in audit events.
    pub client_addr: Option<String>,
}

impl Viewer {
    /// A signed-in user.
    pub fn user(
        user_id: UserId,
        username: String,
        display_name: String,
        unit_id: UnitId,
        unit_name: String,
        mut roles: Vec<Role>,
    ) -> Viewer {
        roles.sort();
        roles.dedup();
        Viewer {
            user_id: Some(user_id),
            username,
            display_name,
            unit_id: Some(unit_id),
            unit_name,
            roles,
            client_addr: None,
        }
    }

    /// The operator at the server's console (`zhongshu user add`, `unit import`, `import items`…).
    /// Whoever runs the binary on the server already holds the database and the audit key, so
    /// the console acts as the three administrators and, for the ledger's imports and exports,
    /// as the supervision office; its actions are audited as `console`.
    pub fn console() -> Viewer {
        Viewer {
            user_id: None,
            username: "console".to_owned(),
            display_name: "命令行".to_owned(),
            unit_id: None,
            unit_name: String::new(),
            roles: vec![
                Role::Supervisor,
                Role::SysAdmin,
                Role::SecurityAdmin,
                Role::AuditAdmin,
            ],
            client_addr: Some("console".to_owned()),
        }
    }

    /// Someone not signed in (a sign-in attempt), named by the username they typed.
    pub fn anonymous(username: &str) -> Viewer {
        Viewer {
            user_id: None,
            username: username.chars().take(64).collect(),
            display_name: String::new(),
            unit_id: None,
            unit_name: String::new(),
            roles: Vec::new(),
            client_addr: None,
        }
    }

    /// Records where the request came from.
    pub fn with_client_addr(mut self, addr: Option<String>) -> Viewer {
        self.client_addr = addr;
        self
    }

    /// The name to show in histories: the display name, or the username if there is none.
    pub fn display_or_username(&self) -> String {
        if self.display_name.is_empty() {
            self.username.clone()
        } else {
            self.display_name.clone()
        }
    }

    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The one place where roles become capabilities.
    pub fn can(&self, capability: Capability) -> bool {
        match capability {
            Capability::ManageOrganisation | Capability::ManageUsers => {
                self.has_role(Role::SysAdmin)
            }
            Capability::ListUsers | Capability::ViewSettings => {
                self.has_role(Role::SysAdmin) || self.has_role(Role::SecurityAdmin)
            }
            Capability::GrantRoles => self.has_role(Role::SecurityAdmin),
            Capability::ReadAudit => self.has_role(Role::AuditAdmin),
            Capability::Supervise => self.has_role(Role::Supervisor),
            Capability::SeeAllItems => {
                self.has_role(Role::Supervisor) || self.has_role(Role::Leader)
            }
            Capability::ActForUnit => self.has_role(Role::Liaison) || self.has_role(Role::UnitHead),
            Capability::Instruct => self.has_role(Role::Leader),
        }
    }

    /// Proof of the system administrator's powers, or `Forbidden`.
    pub fn as_sys_admin(&self) -> Result<SysAdmin<'_>, Forbidden> {
        self.proof(Capability::ManageOrganisation)
            .map(|viewer| SysAdmin { viewer })
    }

    /// Proof of the security administrator's powers, or `Forbidden`.
    pub fn as_security_admin(&self) -> Result<SecurityAdmin<'_>, Forbidden> {
        self.proof(Capability::GrantRoles)
            .map(|viewer| SecurityAdmin { viewer })
    }

    /// Proof of the audit administrator's powers, or `Forbidden`.
    pub fn as_audit_admin(&self) -> Result<AuditAdmin<'_>, Forbidden> {
        self.proof(Capability::ReadAudit)
            .map(|viewer| AuditAdmin { viewer })
    }

    /// Proof of the supervision office's powers (督查室), or `Forbidden`.
    pub fn as_supervisor(&self) -> Result<Supervisor<'_>, Forbidden> {
        self.proof(Capability::Supervise)
            .map(|viewer| Supervisor { viewer })
    }

    /// Proof that the viewer may list users, or `Forbidden`.
    pub fn as_user_lister(&self) -> Result<UserLister<'_>, Forbidden> {
        self.proof(Capability::ListUsers)
            .map(|viewer| UserLister { viewer })
    }

    fn proof(&self, capability: Capability) -> Result<&Viewer, Forbidden> {
        if self.can(capability) {
            Ok(self)
        } else {
            Err(Forbidden { capability })
        }
    }
}

/// The viewer lacks a capability.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("无权执行此操作")]
pub struct Forbidden {
    pub capability: Capability,
}

macro_rules! proof {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name<'a> {
            viewer: &'a Viewer,
        }

        impl<'a> $name<'a> {
            /// The viewer behind the proof, for the audit record.
            pub fn viewer(&self) -> &'a Viewer {
                self.viewer
            }
        }
    };
}

proof!(
    /// Held only by a system administrator (系统管理员).
    SysAdmin
);
proof!(
    /// Held only by a security administrator (安全管理员).
    SecurityAdmin
);
proof!(
    /// Held only by an audit administrator (安全审计员).
    AuditAdmin
);
proof!(
    /// Held by the administrators who may see the user list.
    UserLister
);
proof!(
    /// Held only by the supervision office (督查室).
    Supervisor
);

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(roles: &[Role]) -> Viewer {
        Viewer::user(
            UserId::from_db(1),
            "u".into(),
            "U".into(),
            UnitId::from_db(1),
            "单位".into(),
            roles.to_vec(),
        )
    }

    #[test]
    fn role_codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_code(role.code()), Some(role));
        }
        assert_eq!(Role::from_code("root"), None);
    }

    #[test]
    fn the_three_administrators_cannot_stand_in_for_one_another() {
        let sys = viewer(&[Role::SysAdmin]);
        let sec = viewer(&[Role::SecurityAdmin]);
        let aud = viewer(&[Role::AuditAdmin]);
        assert!(sys.as_sys_admin().is_ok());
        assert!(sys.as_security_admin().is_err());
        assert!(sys.as_audit_admin().is_err());
        assert!(sec.as_security_admin().is_ok());
        assert!(sec.as_sys_admin().is_err());
        assert!(sec.as_audit_admin().is_err());
        assert!(aud.as_audit_admin().is_ok());
        assert!(aud.as_sys_admin().is_err());
        assert!(aud.as_security_admin().is_err());
    }

    #[test]
    fn business_roles_hold_no_administrator_proof() {
        for role in Role::ALL.into_iter().filter(|r| !r.is_admin()) {
            let v = viewer(&[role]);
            assert!(v.as_sys_admin().is_err(), "{role:?}");
            assert!(v.as_security_admin().is_err(), "{role:?}");
            assert!(v.as_audit_admin().is_err(), "{role:?}");
            assert!(v.as_user_lister().is_err(), "{role:?}");
        }
    }
}
