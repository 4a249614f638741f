//! The unit tree: create, list, rename, move, merge, find.

use crate::harness::{TestDb, invalid_fields, new_unit};
use zhongshu_domain::access::{Role, Viewer};
use zhongshu_domain::ids::UnitId;
use zhongshu_domain::org::UnitName;
use zhongshu_store::Error;
use zhongshu_store::units::{Unit, UnitChanges};

store_tests!(
    units_are_listed_parents_before_children,
    a_duplicate_name_under_one_parent_is_refused_and_nothing_is_written,
    the_same_name_under_a_different_parent_is_allowed,
    renaming_a_unit_from_a_stale_copy_is_refused,
    a_unit_cannot_be_moved_under_its_own_child,
    moving_a_unit_moves_its_whole_subtree,
    merging_a_unit_moves_its_users_and_children_and_keeps_it_as_merged,
    a_unit_is_found_by_its_name_or_by_its_full_path,
    an_unknown_unit_name_gets_a_suggestion,
);

async fn units_are_listed_parents_before_children(db: &TestDb) {
    let console = Viewer::console();
    let sys = console.as_sys_admin().unwrap();
    db.region().await;
    assert_eq!(db.store.region().await.unwrap().unwrap().name, "明湖县");
    // Created children first where possible, and sort orders against id order, so neither the
    // id order nor the name order is the tree order by accident.
    let mut second = new_unit(None, "县教育局");
    second.sort_order = 2;
    let education = db.store.create_unit(sys, second).await.unwrap();
    let basic = db.unit(Some(education), "基础教育股").await;
    let mut first = new_unit(None, "县财政局");
    first.sort_order = 1;
    let finance = db.store.create_unit(sys, first).await.unwrap();
    let budget = db.unit(Some(finance), "预算股").await;
    let treasury = db.unit(Some(finance), "国库股").await;
    let payments = db.unit(Some(treasury), "集中支付中心").await;

    let units = db.store.list_units(&console).await.unwrap();
    let ids: Vec<UnitId> = units.iter().map(|u| u.id).collect();
    // Siblings of equal sort order go by name: 国库股 before 预算股.
    assert_eq!(
        ids,
        vec![finance, treasury, payments, budget, education, basic]
    );
    for (i, unit) in units.iter().enumerate() {
        if let Some(parent) = unit.parent_id {
            let at = ids.iter().position(|id| *id == parent).unwrap();
            assert!(at < i, "{} listed before its parent", unit.name);
        }
    }
    let depth = |id: UnitId| units.iter().find(|u| u.id == id).unwrap().depth;
    assert_eq!(
        (depth(finance), depth(treasury), depth(payments)),
        (1, 2, 3)
    );
    assert_eq!(db.store.unit_count(&console).await.unwrap(), 6);
}

async fn a_duplicate_name_under_one_parent_is_refused_and_nothing_is_written(db: &TestDb) {
    let console = Viewer::console();
    db.region().await;
    let finance = db.unit(None, "县财政局").await;
    db.unit(Some(finance), "预算股").await;
    let units_before = db.unit_count().await;
    let events_before = db.audit_count().await;

    for parent in [None, Some(finance)] {
        let name = if parent.is_none() {
            "县财政局"
        } else {
            "预算股"
        };
        let err = db
            .store
            .create_unit(console.as_sys_admin().unwrap(), new_unit(parent, name))
            .await
            .expect_err("a second unit of the same name under one parent");
        assert_eq!(invalid_fields(&err), vec!["name"]);
        assert!(err.to_string().contains(name), "{err}");
    }
    assert_eq!(db.unit_count().await, units_before);
    assert_eq!(db.audit_count().await, events_before);
}

async fn the_same_name_under_a_different_parent_is_allowed(db: &TestDb) {
    let console = Viewer::console();
    db.region().await;
    let finance = db.unit(None, "县财政局").await;
    let education = db.unit(None, "县教育局").await;
    let a = db.unit(Some(finance), "办公室").await;
    let b = db.unit(Some(education), "办公室").await;
    assert_ne!(a, b);
    assert_eq!(db.store.get_unit(&console, b).await.unwrap().name, "办公室");
    // Renaming into a clash is refused the same way as creating one.
    let bureau = db.store.get_unit(&console, education).await.unwrap();
    let err = db
        .store
        .update_unit(
            console.as_sys_admin().unwrap(),
            education,
            changes(&bureau, "县财政局"),
        )
        .await
        .expect_err("a rename onto a sibling's name");
    assert_eq!(invalid_fields(&err), vec!["name"]);
}

fn changes(unit: &Unit, name: &str) -> UnitChanges {
    UnitChanges {
        name: UnitName::parse(name).unwrap(),
        unit_type: unit.unit_type,
        key_reporting: unit.key_reporting,
        sort_order: unit.sort_order,
        version: unit.version,
    }
}

async fn renaming_a_unit_from_a_stale_copy_is_refused(db: &TestDb) {
    let console = Viewer::console();
    let sys = console.as_sys_admin().unwrap();
    db.region().await;
    let id = db.unit(None, "县财政局").await;
    let copy = db.store.get_unit(&console, id).await.unwrap();
    assert_eq!(copy.version, 1);

    db.store
        .update_unit(sys, id, changes(&copy, "县财政局（国资委）"))
        .await
        .unwrap();
    let renamed = db.store.get_unit(&console, id).await.unwrap();
    assert_eq!(renamed.name, "县财政局（国资委）");
    assert_eq!(renamed.version, 2);

    let err = db
        .store
        .update_unit(sys, id, changes(&copy, "县财政局（旧）"))
        .await
        .expect_err("an edit of version 1 after version 2 was saved");
    assert!(matches!(err, Error::StaleVersion), "{err:?}");
    let after = db.store.get_unit(&console, id).await.unwrap();
    assert_eq!(after.name, "县财政局（国资委）");
    assert_eq!(after.version, 2);
    // The same stale copy cannot move the unit either.
    let err = db
        .store
        .move_unit(sys, id, None, copy.version)
        .await
        .expect_err("a move from a stale copy");
    assert!(matches!(err, Error::StaleVersion), "{err:?}");
}

async fn a_unit_cannot_be_moved_under_its_own_child(db: &TestDb) {
    let console = Viewer::console();
    let sys = console.as_sys_admin().unwrap();
    db.region().await;
    let office = db.unit(None, "县委办公室").await;
    let child = db.unit(Some(office), "县委督查室").await;
    let grandchild = db.unit(Some(child), "督查一科").await;
    let before = db.store.get_unit(&console, office).await.unwrap();

    for target in [child, grandchild, office] {
        let err = db
            .store
            .move_unit(sys, office, Some(target), before.version)
            .await
            .expect_err("a move into its own subtree");
        assert_eq!(invalid_fields(&err), vec!["parent_id"]);
    }
    let after = db.store.get_unit(&console, office).await.unwrap();
    assert_eq!(after.parent_id, None);
    assert_eq!(after.path, before.path);
    assert_eq!(after.version, before.version);
}

async fn moving_a_unit_moves_its_whole_subtree(db: &TestDb) {
    let console = Viewer::console();
    let sys = console.as_sys_admin().unwrap();
    db.region().await;
    let office = db.unit(None, "县委办公室").await;
    let government = db.unit(None, "县政府办公室").await;
    let supervision = db.unit(Some(office), "督查室").await;
    let first = db.unit(Some(supervision), "督查一科").await;
    let desk = db.unit(Some(first), "综合组").await;
    let get = |id| {
        let console = console.clone();
        let store = db.store.clone();
        async move { store.get_unit(&console, id).await.unwrap() }
    };
    assert_eq!(get(desk).await.depth, 4);

    // Up to the region: the subtree's depth drops by one.
    let s = get(supervision).await;
    db.store
        .move_unit(sys, supervision, None, s.version)
        .await
        .unwrap();
    let s = get(supervision).await;
    assert_eq!((s.parent_id, s.depth), (None, 1));
    assert_eq!(s.path, format!("/{supervision}/"));
    assert_eq!(get(first).await.depth, 2);
    assert_eq!(
        get(desk).await.path,
        format!("/{supervision}/{first}/{desk}/")
    );
    assert_eq!(get(desk).await.depth, 3);

    // Under another unit: every descendant's path follows.
    db.store
        .move_unit(sys, supervision, Some(government), s.version)
        .await
        .unwrap();
    let s = get(supervision).await;
    assert_eq!(s.parent_id, Some(government));
    assert_eq!(s.version, 3);
    assert_eq!(s.path, format!("/{government}/{supervision}/"));
    let d = get(desk).await;
    assert_eq!(
        d.path,
        format!("/{government}/{supervision}/{first}/{desk}/")
    );
    assert_eq!(d.depth, 4);
    // The unit it left keeps its own path; the tree lists the subtree under its new parent
    // (县委办公室 sorts before 县政府办公室).
    assert_eq!(get(office).await.path, format!("/{office}/"));
    let listed: Vec<UnitId> = db
        .store
        .list_units(&console)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(listed, vec![office, government, supervision, first, desk]);
}

async fn merging_a_unit_moves_its_users_and_children_and_keeps_it_as_merged(db: &TestDb) {
    let console = Viewer::console();
    let sys = console.as_sys_admin().unwrap();
    db.region().await;
    let old = db.unit(None, "县文化局").await;
    let new = db.unit(None, "县文化广电和旅游局").await;
    let art = db.unit(Some(old), "艺术科").await;
    let troupe = db.unit(Some(art), "县剧团").await;
    let staff = db.user(old, "wenhua", &[Role::Liaison]).await;
    let stays = db.user(new, "lvyou", &[]).await;

    db.store.merge_unit(sys, old, new).await.unwrap();

    let merged = db.store.get_unit(&console, old).await.unwrap();
    assert!(merged.merged);
    assert_eq!(merged.merged_into, Some(new));
    assert_eq!(merged.name, "县文化局", "the merged unit keeps its name");
    let art_now = db.store.get_unit(&console, art).await.unwrap();
    assert_eq!(art_now.parent_id, Some(new));
    assert_eq!(art_now.path, format!("/{new}/{art}/"));
    let troupe_now = db.store.get_unit(&console, troupe).await.unwrap();
    assert_eq!(troupe_now.path, format!("/{new}/{art}/{troupe}/"));
    let lister = console.as_user_lister().unwrap();
    assert_eq!(db.store.get_user(lister, staff).await.unwrap().unit_id, new);
    assert_eq!(db.store.get_user(lister, stays).await.unwrap().unit_id, new);
    assert_eq!(db.store.unit_count(&console).await.unwrap(), 3);

    // A merged unit takes no part in anything any more.
    let err = db
        .store
        .merge_unit(sys, new, old)
        .await
        .expect_err("merging into a merged unit");
    assert_eq!(invalid_fields(&err), vec!["into"]);
    let err = db
        .store
        .create_unit(sys, new_unit(Some(old), "新科室"))
        .await
        .expect_err("a child of a merged unit");
    assert_eq!(invalid_fields(&err), vec!["parent_id"]);
    // Its name is free again at the top level, and it is not found by name any more.
    let err = db
        .store
        .find_unit(&console, "县文化局")
        .await
        .expect_err("a merged unit found by name");
    assert_eq!(invalid_fields(&err), vec!["unit"]);
    db.unit(None, "县文化局").await;
}

async fn a_unit_is_found_by_its_name_or_by_its_full_path(db: &TestDb) {
    let console = Viewer::console();
    db.region().await;
    let party = db.unit(None, "县委办公室").await;
    let government = db.unit(None, "县政府办公室").await;
    let party_sup = db.unit(Some(party), "督查室").await;
    let gov_sup = db.unit(Some(government), "督查室").await;

    assert_eq!(
        db.store.find_unit(&console, "县委办公室").await.unwrap(),
        party
    );
    assert_eq!(
        db.store
            .find_unit(&console, " 县政府办公室 ")
            .await
            .unwrap(),
        government
    );
    let err = db
        .store
        .find_unit(&console, "督查室")
        .await
        .expect_err("an ambiguous name");
    assert_eq!(invalid_fields(&err), vec!["unit"]);
    let message = err.to_string();
    assert!(message.contains("完整路径"), "{message}");
    assert!(message.contains("明湖县/县委办公室/督查室"), "{message}");
    assert_eq!(
        db.store
            .find_unit(&console, "明湖县/县委办公室/督查室")
            .await
            .unwrap(),
        party_sup
    );
    assert_eq!(
        db.store
            .find_unit(&console, "县政府办公室/督查室")
            .await
            .unwrap(),
        gov_sup
    );
    // A path must be the unit's whole path, not just a tail of it.
    assert!(db.store.find_unit(&console, "明湖县/督查室").await.is_err());
}

async fn an_unknown_unit_name_gets_a_suggestion(db: &TestDb) {
    let console = Viewer::console();
    db.region().await;
    db.unit(None, "县财政局").await;
    db.unit(None, "县教育局").await;
    let err = db
        .store
        .find_unit(&console, "县财正局")
        .await
        .expect_err("a misspelt name");
    assert_eq!(invalid_fields(&err), vec!["unit"]);
    let message = err.to_string();
    assert!(message.contains("不存在"), "{message}");
    assert!(message.contains("您是否要找"), "{message}");
    assert!(message.contains("县财政局"), "{message}");
    // Nothing close: no suggestion.
    let err = db
        .store
        .find_unit(&console, "气象台")
        .await
        .expect_err("a name like nothing");
    assert!(!err.to_string().contains("您是否要找"), "{err}");
}
