//! Listing, counting and the overview: filters, keyset paging in both directions, scanning
//! searches across time windows, bounded counts and the cached overview.

use std::collections::HashSet;
use std::time::Duration;

use ueba_core::connections::{self, ConnectionFilter, Direction, PageRequest};
use ueba_core::demo::{generate_into_store, DemoConfig};
use ueba_core::ingest::{import_files, ImportOptions};
use ueba_core::{stats, CancelToken, Store};

fn demo_store(rows: u64) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("w.db")).expect("open");
    let config = DemoConfig {
        connections: rows,
        days: 20,
        ..DemoConfig::default()
    };
    generate_into_store(&store, &config, &|_, _| {}, &CancelToken::new()).expect("demo");
    (dir, store)
}

fn walk(store: &Store, filter: &ConnectionFilter, limit: u32) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = None;
    for _ in 0..10_000 {
        let page = connections::list(
            store,
            filter,
            &PageRequest {
                limit,
                cursor: cursor.clone(),
                direction: Direction::Next,
            },
        )
        .expect("page");
        ids.extend(page.rows.iter().map(|c| c.id.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
    panic!("paging did not end");
}

#[test]
fn paging_visits_every_row_once_newest_first_and_back() {
    let (_dir, store) = demo_store(3_000);
    let all = walk(&store, &ConnectionFilter::default(), 250);
    assert_eq!(all.len(), 3_000);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 3_000);
    // Newest first.
    let first = connections::list(
        &store,
        &ConnectionFilter::default(),
        &PageRequest {
            limit: 2,
            ..Default::default()
        },
    )
    .expect("page");
    assert!(first.rows[0].connected >= first.rows[1].connected);
    assert!(first.prev_cursor.is_none());
    // Next then Prev returns to the same page.
    let second = connections::list(
        &store,
        &ConnectionFilter::default(),
        &PageRequest {
            limit: 2,
            cursor: first.next_cursor.clone(),
            direction: Direction::Next,
        },
    )
    .expect("page");
    let back = connections::list(
        &store,
        &ConnectionFilter::default(),
        &PageRequest {
            limit: 2,
            cursor: second.prev_cursor.clone(),
            direction: Direction::Prev,
        },
    )
    .expect("page");
    assert_eq!(back.rows, first.rows);
}

#[test]
fn scanning_search_finds_every_match_across_windows() {
    let (_dir, store) = demo_store(4_000);
    // Matches spread over the whole span: the service account `svc-backup`, by text.
    let filter = ConnectionFilter {
        search: Some("VC-BACK".into()),
        ..Default::default()
    };
    let found = walk(&store, &filter, 50);
    let exact = connections::count(
        &store,
        &ConnectionFilter {
            user: Some("svc-backup".into()),
            ..Default::default()
        },
    )
    .expect("count");
    assert!(exact > 50, "the demo has svc-backup traffic");
    assert_eq!(found.len() as u64, exact);
    assert_eq!(
        found.iter().collect::<HashSet<_>>().len(),
        found.len(),
        "no row twice"
    );
    // A protocol filter alone scans too and agrees with the count.
    let vnc = ConnectionFilter {
        conn_type: Some("vnc".into()),
        ..Default::default()
    };
    assert_eq!(
        walk(&store, &vnc, 100).len() as u64,
        connections::count(&store, &vnc).expect("count")
    );
    // No match at all: an empty, complete last page.
    let none = connections::list(
        &store,
        &ConnectionFilter {
            search: Some("no-such-thing".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .expect("page");
    assert!(none.rows.is_empty() && none.complete && none.next_cursor.is_none());
}

#[test]
fn filters_combine() {
    let (_dir, store) = demo_store(2_000);
    let page = connections::list(
        &store,
        &ConnectionFilter::default(),
        &PageRequest {
            limit: 1,
            ..Default::default()
        },
    )
    .expect("page");
    let c = &page.rows[0];
    let filter = ConnectionFilter {
        user: Some(c.user.clone()),
        host: Some(c.target_host.clone()),
        conn_type: Some(c.conn_type.to_lowercase()),
        from: Some(c.connected),
        to: Some(c.connected + 1),
        search: None,
    };
    let rows = connections::list(&store, &filter, &PageRequest::default())
        .expect("page")
        .rows;
    assert!(rows.iter().any(|r| r.id == c.id));
    assert!(rows
        .iter()
        .all(|r| r.user == c.user && r.target_host == c.target_host && r.connected == c.connected));
    let n = connections::count_within(&store, &filter, Duration::from_secs(5)).expect("count");
    assert_eq!(n, Some(rows.len() as u64));
}

#[test]
fn overview_is_cached_until_the_data_changes() {
    let (dir, store) = demo_store(2_000);
    let first = stats::overview(&store).expect("overview");
    assert_eq!(first.connections, 2_000);
    assert_eq!(first.per_day.iter().map(|d| d.count).sum::<u64>(), 2_000);
    assert_eq!(first.by_type.iter().map(|d| d.count).sum::<u64>(), 2_000);
    assert!(first.top_users.len() <= stats::TOP_N && first.users >= first.top_users.len() as u64);
    assert!(first.by_label.iter().any(|l| l.name == "normal"));
    let csv = dir.path().join("one.csv");
    std::fs::write(
        &csv,
        "connected,user,type,target_host,remote_address\n2026-03-02T08:00:00Z,zed,SSH,h,10.0.0.1\n",
    )
    .expect("write");
    import_files(
        &store,
        &[csv],
        &ImportOptions::default(),
        &|_| {},
        &CancelToken::new(),
    )
    .expect("import");
    let second = stats::overview(&store).expect("overview");
    assert_eq!(
        (second.connections, second.users, second.imports),
        (2_001, first.users + 1, 1)
    );
}
