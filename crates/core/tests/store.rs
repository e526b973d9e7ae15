//! The database file: creation, pragmas, migrations, refusals that leave files untouched, backup.

use rusqlite::Connection;
use ueba_core::store::{latest_schema_version, Store, StoreError, APPLICATION_ID};

fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested").join("workbench.db");
    (dir, path)
}

#[test]
fn open_creates_the_file_with_wal_and_the_latest_schema() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path).expect("open");
    assert!(path.exists());
    store
        .write(|c| {
            let mode: String = c.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
            let fk: i64 = c.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
            let version: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let app: i32 = c.pragma_query_value(None, "application_id", |r| r.get(0))?;
            assert_eq!(mode, "wal");
            assert_eq!(fk, 1);
            assert_eq!(version, latest_schema_version());
            assert_eq!(app, APPLICATION_ID);
            Ok::<_, rusqlite::Error>(())
        })
        .expect("pragmas");
    drop(store);
    // Reopening an up-to-date file changes nothing and works.
    Store::open(&path).expect("reopen");
}

#[test]
fn a_newer_schema_is_refused_and_left_untouched() {
    let (_dir, path) = temp_db();
    drop(Store::open(&path).expect("open"));
    {
        let c = Connection::open(&path).expect("raw open");
        c.pragma_update(None, "user_version", latest_schema_version() + 5)
            .expect("bump");
        c.pragma_update(None, "journal_mode", "DELETE")
            .expect("leave wal");
    }
    let before = std::fs::read(&path).expect("read");
    let err = Store::open(&path).expect_err("must refuse");
    assert!(
        matches!(err, StoreError::TooNew { found, .. } if found == latest_schema_version() + 5),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("upgrade UEBA Workbench") && message.contains("left untouched"),
        "{message}"
    );
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "file must be byte-identical"
    );
    assert!(
        !path.with_extension("db-wal").exists(),
        "no WAL file may be created"
    );
}

#[test]
fn a_foreign_sqlite_file_is_refused_and_left_untouched() {
    let (_dir, path) = temp_db();
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    {
        let c = Connection::open(&path).expect("raw open");
        c.execute_batch("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup');")
            .expect("create");
    }
    let before = std::fs::read(&path).expect("read");
    let err = Store::open(&path).expect_err("must refuse");
    assert!(matches!(err, StoreError::NotWorkbench { .. }), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), before);
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_untouched() {
    let (_dir, path) = temp_db();
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let junk = b"id,connected\nthis is a CSV file, not a database\n".repeat(100);
    std::fs::write(&path, &junk).expect("write");
    let err = Store::open(&path).expect_err("must refuse");
    assert!(
        err.to_string().contains("not a UEBA Workbench database"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).expect("read"), junk);
}

#[test]
fn migrations_apply_all_or_nothing() {
    // The same mechanism as the embedded migrations: a failing step rolls back the earlier ones.
    use rusqlite_migration::{Migrations, M};
    let mut c = Connection::open_in_memory().expect("memory");
    let steps = Migrations::new(vec![
        M::up("CREATE TABLE a (x);"),
        M::up("CREATE TABLE broken (;"),
    ]);
    assert!(steps.to_latest(&mut c).is_err());
    let tables: i64 = c
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .expect("count");
    let version: i64 = c
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    assert_eq!((tables, version), (0, 0));
}

#[test]
fn embedded_migrations_are_numbered_without_gaps() {
    let files = &*ueba_core::store::SCHEMA_MIGRATIONS;
    assert!(!files.is_empty());
    for (i, (number, name, sql)) in files.iter().enumerate() {
        assert_eq!(*number, i as i64 + 1, "{name}");
        assert!(!sql.trim().is_empty(), "{name}");
    }
}

#[test]
fn backup_copies_the_live_database_and_never_overwrites() {
    let (dir, path) = temp_db();
    let store = Store::open(&path).expect("open");
    store.set_setting("marker", "kept").expect("set");
    let copy = dir.path().join("backups").join("copy.db");
    store.backup_to(&copy).expect("backup");
    let restored = Store::open(&copy).expect("open copy");
    assert_eq!(
        restored.setting("marker").expect("get").as_deref(),
        Some("kept")
    );
    let err = store.backup_to(&copy).expect_err("existing target");
    assert!(matches!(err, StoreError::BackupTargetExists(_)), "{err}");
}

#[test]
fn nested_nulls_of_older_databases_read_as_empty() {
    // Before migration 9, workflow runs and customer datasets stored unset nested objects and
    // lists as null; opening such a file turns them into {} and [] and the objects read again.
    use rusqlite_migration::{Migrations, M};
    let (_dir, path) = temp_db();
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    let mut c = Connection::open(&path).expect("open");
    let files = &*ueba_core::store::SCHEMA_MIGRATIONS;
    Migrations::new(files[..8].iter().map(|(_, _, sql)| M::up(sql)).collect())
        .to_latest(&mut c)
        .expect("schema 8");
    c.pragma_update(None, "application_id", APPLICATION_ID)
        .expect("application id");
    c.execute_batch(
        r#"INSERT INTO workflow_runs (uuid, body, status, workflow_uuid, user_uuid, app_protocol,
               app_host, app_port, app_uuid, alert_uuid, expires_ms, create_time)
           VALUES ('run-1', '{"uuid":"run-1","client_geoip_location":null,"mfa_details":null,
               "device_details":null,"geoip_details":[{"ip":"192.0.2.1"}],"status":3}',
               3, 'w', '', '', '', '', '', NULL, 0, 1);
           INSERT INTO customer_datasets (uuid, name, body)
           VALUES ('list-1', 'admins', '{"uuid":"list-1","dataset_name":"admins","properties":null}');"#,
    )
    .expect("old rows");
    drop(c);

    let store = Store::open(&path).expect("migrate");
    let run = ueba_core::response::workflows::get_run(&store, "run-1").expect("run reads");
    assert!(run.client_geoip_location.is_empty() && run.mfa_details.is_empty());
    assert!(run.device_details.is_empty());
    assert_eq!(
        run.geoip_details,
        vec![serde_json::json!({"ip": "192.0.2.1"})]
    );
    let list = ueba_core::response::lists::get(&store, "admins").expect("list reads");
    assert!(
        list.dataset.properties.is_empty(),
        "{:?}",
        list.dataset.properties
    );
}
