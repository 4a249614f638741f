//! Accounts over HTTP: the administrator creates one, its owner must change the password at
//! first sign-in; roles are the security administrator's.

use crate::harness::{DEMO_PASSWORD, TestApp};
use reqwest::StatusCode;
use zhongshu_domain::access::Role;
use zhongshu_domain::audit::AuditCode;

on_both_engines!(
    a_new_account_must_change_its_password_before_anything_else,
    the_security_administrator_grants_roles_and_the_user_must_sign_in_again,
);

const FIRST_PASSWORD: &str = "Chushi#2026";
const NEW_PASSWORD: &str = "Xinmima#2027";

async fn a_new_account_must_change_its_password_before_anything_else(app: &TestApp) {
    let admin = app.login_demo("xitong").await;
    let unit = app.unit_id("县财政局").await.to_string();
    let created = admin
        .post_form(
            "/users",
            &[
                ("username", "zhangwei"),
                ("display_name", "张伟"),
                ("title", "科员"),
                ("unit_id", unit.as_str()),
                ("password", FIRST_PASSWORD),
            ],
        )
        .await;
    created.assert_status(StatusCode::SEE_OTHER);
    let user = app.user("zhangwei").await;
    assert_eq!(
        created.location(),
        format!("/users/{}?ok=user_created", user.id)
    );
    assert!(user.must_change_password);
    assert!(
        user.roles.is_empty(),
        "the system administrator grants no roles"
    );
    assert_eq!(user.display_name, "张伟");

    // First sign-in goes to the password page, and so does every other page until it is done.
    let login = app.try_login("zhangwei", FIRST_PASSWORD).await;
    login.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(login.location(), "/password");
    let visitor = app.login("zhangwei", FIRST_PASSWORD).await;
    for path in ["/", "/units", "/account"] {
        let reply = visitor.get(path).await;
        reply.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(reply.location(), "/password", "{path}");
    }
    let token_page = visitor.post_form("/account/tokens", &[("name", "x")]).await;
    token_page.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(token_page.location(), "/password");
    visitor
        .get("/password")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("张伟");

    // A weak password is refused next to the field, in Chinese.
    let weak = visitor
        .post_form(
            "/password",
            &[
                ("current", FIRST_PASSWORD),
                ("new", "abc"),
                ("confirm", "abc"),
            ],
        )
        .await;
    weak.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("<p class=\"field-error\">密码至少需要8个字符");
    visitor.get("/").await.assert_status(StatusCode::SEE_OTHER);

    let mismatch = visitor
        .post_form(
            "/password",
            &[
                ("current", FIRST_PASSWORD),
                ("new", NEW_PASSWORD),
                ("confirm", "Xinmima#2028"),
            ],
        )
        .await;
    mismatch
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("两次输入的新密码不一致");

    let wrong_current = visitor
        .post_form(
            "/password",
            &[
                ("current", "Cuowu#2026x"),
                ("new", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
    wrong_current
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("当前密码不正确");

    let good = visitor
        .post_form(
            "/password",
            &[
                ("current", FIRST_PASSWORD),
                ("new", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
    good.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(good.location(), "/account?ok=password_changed");
    visitor
        .get("/")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("张伟");
    assert!(!app.user("zhangwei").await.must_change_password);
    assert_eq!(
        app.audit_count(AuditCode::PasswordChanged, "zhangwei")
            .await,
        1
    );

    // The old password no longer works; the new one goes straight to the home page.
    app.try_login("zhangwei", FIRST_PASSWORD)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let again = app.try_login("zhangwei", NEW_PASSWORD).await;
    again.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(again.location(), "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_account_with_bad_fields_is_refused_and_not_created() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let unit = app.unit_id("县财政局").await.to_string();
    let reply = admin
        .post_form(
            "/users",
            &[
                ("username", "Zhang Wei"),
                ("display_name", ""),
                ("unit_id", unit.as_str()),
                ("password", "short"),
            ],
        )
        .await;
    reply
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("用户名只能包含小写字母")
        .assert_contains("姓名须为1至40个字")
        .assert_contains("密码至少需要8个字符")
        // The typed password is never sent back.
        .assert_lacks("value=\"short\"");
    let taken = admin
        .post_form(
            "/users",
            &[
                ("username", "xinxi"),
                ("display_name", "重名"),
                ("unit_id", unit.as_str()),
                ("password", FIRST_PASSWORD),
            ],
        )
        .await;
    taken
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("用户名“xinxi”已存在");
    let no_unit = admin
        .post_form(
            "/users",
            &[
                ("username", "lisi"),
                ("display_name", "李四"),
                ("unit_id", ""),
                ("password", FIRST_PASSWORD),
            ],
        )
        .await;
    no_unit
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("请选择所属单位");
    assert!(app.audit_events(AuditCode::UserCreated).await.is_empty());
}

async fn the_security_administrator_grants_roles_and_the_user_must_sign_in_again(app: &TestApp) {
    let security = app.login_demo("anquan").await;
    let member = app.login_demo("czj_lly").await;
    member.get("/").await.assert_status(StatusCode::OK);
    let target = app.user("czj_lly").await;
    let version = target.version.to_string();
    let reply = security
        .post_form(
            &format!("/users/{}/roles", target.id),
            &[
                ("role", "liaison"),
                ("role", "editor"),
                ("version", version.as_str()),
            ],
        )
        .await;
    reply.assert_status(StatusCode::SEE_OTHER);
    let after = app.user("czj_lly").await;
    assert_eq!(after.roles, vec![Role::Editor, Role::Liaison]);
    // The change takes effect now: the old session is gone.
    let stale = member.get("/").await;
    stale.assert_status(StatusCode::SEE_OTHER);
    assert!(stale.location().starts_with("/login"));

    // A second save on the old version is refused as stale.
    let conflict = security
        .post_form(
            &format!("/users/{}/roles", target.id),
            &[("role", "liaison"), ("version", version.as_str())],
        )
        .await;
    conflict
        .assert_status(StatusCode::CONFLICT)
        .assert_contains("已被他人修改");
    assert_eq!(
        app.user("czj_lly").await.roles,
        vec![Role::Editor, Role::Liaison]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_administrator_unlocks_disables_and_enables_an_account() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let id = app.user_id("zhiban").await;

    // Locked by five wrong passwords, then unlocked: the right password works again.
    for _ in 0..5 {
        app.try_login("zhiban", "Wrong#2026pw").await;
    }
    app.try_login("zhiban", DEMO_PASSWORD)
        .await
        .assert_status(StatusCode::UNAUTHORIZED)
        .assert_contains("锁定");
    let unlocked = admin.post_form(&format!("/users/{id}/unlock"), &[]).await;
    unlocked.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(unlocked.location(), format!("/users/{id}?ok=unlocked"));
    assert!(
        app.try_login("zhiban", DEMO_PASSWORD)
            .await
            .set_session_cookie()
            .is_some()
    );

    // Disabled: refused with its own reason, and its sessions end; enabled again: it signs in.
    let session = app.login_demo("zhiban").await;
    admin
        .post_form(&format!("/users/{id}/disable"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.try_login("zhiban", DEMO_PASSWORD)
        .await
        .assert_status(StatusCode::UNAUTHORIZED)
        .assert_contains("已停用");
    let after = session.get("/").await;
    after.assert_status(StatusCode::SEE_OTHER);
    assert!(
        after.location().starts_with("/login"),
        "{}",
        after.location()
    );
    admin
        .post_form(&format!("/users/{id}/enable"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(
        app.try_login("zhiban", DEMO_PASSWORD)
            .await
            .set_session_cookie()
            .is_some()
    );

    // Only the system administrator may do it; the refusal is audited.
    let security = app.login_demo("anquan").await;
    security
        .post_form(&format!("/users/{id}/disable"), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(app.audit_events(AuditCode::UserDisabled).await.len(), 1);
    assert_eq!(app.audit_events(AuditCode::UserEnabled).await.len(), 1);
    assert_eq!(app.audit_events(AuditCode::UserUnlocked).await.len(), 1);
}
