//! The simulated sensor fleet and its actions: a sensor per target host, the vendor's query
//! (filters, sorting, pages), every final state of the action state machine, abort at each
//! stage, and the effects actions have on the fleet.

use ueba_core::demo::{generate_into_store, DemoConfig};
use ueba_core::response::audit::{Actor, Door};
use ueba_core::response::sensors::actions::{
    self, ActionRequest, IsolationRequest, Timeline, STAT_KEYS,
};
use ueba_core::response::sensors::{self, FieldFilter, NewSensor, SensorQuery};
use ueba_core::response::ResponseError;
use ueba_core::{CancelToken, Store};

const END: i64 = 1_735_689_600_000;

fn fleet() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("w.db")).expect("open");
    let config = DemoConfig {
        connections: 3_000,
        days: 30,
        end_ms: END,
        ..DemoConfig::default()
    };
    generate_into_store(&store, &config, &|_, _| {}, &CancelToken::new()).expect("demo");
    (dir, store)
}

fn analyst() -> Actor {
    Actor::local(Door::Cli)
}

fn filter(field: &str, operator: &str, values: &[serde_json::Value]) -> FieldFilter {
    FieldFilter {
        field_name: field.into(),
        operator: operator.into(),
        values: values.to_vec(),
    }
}

fn ids(ids: &[&str]) -> ActionRequest {
    ActionRequest {
        sensors_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        ..ActionRequest::default()
    }
}

fn timeline(store: &Store, pending_ms: i64, progress_ms: i64) {
    actions::set_timeline(
        store,
        &analyst(),
        &Timeline {
            pending_ms,
            progress_ms,
            jitter_ms: 0,
            timeout_ms: pending_ms,
        },
    )
    .expect("timeline");
}

fn refused(result: Result<impl std::fmt::Debug, ResponseError>, field: &str) -> String {
    match result {
        Err(ResponseError::Invalid { field: f, reason }) => {
            assert_eq!(f, field, "{reason}");
            reason
        }
        other => panic!("expected a refusal of {field}, got {other:?}"),
    }
}

#[test]
fn every_target_host_has_a_sensor_that_the_vendor_query_finds() {
    let (_dir, store) = fleet();
    let hosts: Vec<(String, String)> = store
        .read(|c| {
            c.prepare(
                "SELECT target_host, group_concat(DISTINCT type) FROM connections
                 GROUP BY target_host ORDER BY target_host COLLATE NOCASE",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(ueba_core::StoreError::from)
        })
        .expect("hosts");
    let all = sensors::list(&store).expect("list");
    assert_eq!(all.len(), hosts.len());
    for ((host, types), s) in hosts.iter().zip(&all) {
        assert_eq!(&s.machine_name, host);
        let expected = if types.contains("RDP") {
            "WINDOWS"
        } else if types.contains("SSH") {
            "LINUX"
        } else {
            "UNKNOWN"
        };
        assert_eq!(s.os_type, expected, "{host}: {types}");
        assert!(s.sensor_id.ends_with(&format!(":{}", s.pylum_id)));
        assert!(!s.isolated && s.actions_in_progress == 0);
    }
    // Ids are derived from the host: the same in another database.
    let (_dir2, again) = fleet();
    assert_eq!(sensors::list(&again).expect("list"), all);

    // Pages count from 0 (`offset` is a page number), in the order asked.
    let page = |offset, dir: &str| {
        sensors::query(
            &store,
            &SensorQuery {
                limit: 3,
                offset,
                sort_direction: dir.into(),
                ..SensorQuery::default()
            },
        )
        .expect("query")
    };
    let first = page(0, "ASC");
    assert_eq!(first.total_results as usize, all.len());
    assert!(first.has_more_results);
    assert_eq!(first.sensors, all[..3].to_vec());
    assert_eq!(page(1, "ASC").sensors, all[3..6].to_vec());
    let last = page(((all.len() - 1) / 3) as u32, "ASC");
    assert!(!last.has_more_results);
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(page(0, "DESC").sensors, reversed[..3].to_vec());

    // Filters: all must hold.
    let q = |filters: Vec<FieldFilter>| {
        sensors::query(
            &store,
            &SensorQuery {
                limit: 1000,
                filters,
                ..SensorQuery::default()
            },
        )
    };
    let name = all[0].machine_name.clone();
    let equals = q(vec![filter(
        "machineName",
        "Equals",
        &[name.clone().into()],
    )])
    .expect("eq");
    assert_eq!(equals.sensors, vec![all[0].clone()]);
    let not = q(vec![filter(
        "machineName",
        "NotEquals",
        &[name.clone().into()],
    )])
    .expect("ne");
    assert_eq!(not.total_results as usize, all.len() - 1);
    let part = name[1..name.len().min(4)].to_uppercase();
    let contains = q(vec![filter(
        "machineName",
        "ContainsIgnoreCase",
        &[part.clone().into()],
    )])
    .expect("contains");
    assert!(contains
        .sensors
        .iter()
        .all(|s| s.machine_name.to_uppercase().contains(&part)));
    assert!(contains.sensors.contains(&all[0]));
    let linux_online = q(vec![
        filter("osType", "Equals", &["LINUX".into()]),
        filter("isolated", "Equals", &["false".into()]),
    ])
    .expect("and");
    assert_eq!(
        linux_online.total_results as usize,
        all.iter().filter(|s| s.os_type == "LINUX").count()
    );
    let later = q(vec![filter(
        "firstSeenTime",
        "GreaterThan",
        &[all[0].first_seen_time.into()],
    )])
    .expect("gt");
    assert_eq!(
        later.total_results as usize,
        all.iter()
            .filter(|s| s.first_seen_time > all[0].first_seen_time)
            .count()
    );

    // Bad queries name what is wrong.
    refused(
        q(vec![filter("colour", "Equals", &["x".into()])]),
        "filters[0].fieldName",
    );
    refused(
        q(vec![filter("status", "Resembles", &["x".into()])]),
        "filters[0].operator",
    );
    refused(
        q(vec![filter("status", "Equals", &[])]),
        "filters[0].values",
    );
    let bad_sort = SensorQuery {
        sorting_field_name: "colour".into(),
        ..SensorQuery::default()
    };
    refused(sensors::query(&store, &bad_sort), "sortingFieldName");
    let bad_dir = SensorQuery {
        sort_direction: "UP".into(),
        ..SensorQuery::default()
    };
    refused(sensors::query(&store, &bad_dir), "sortDirection");
}

#[test]
fn actions_reach_every_final_state_and_change_the_fleet() {
    let (_dir, store) = fleet();
    let me = analyst();
    timeline(&store, 0, 0);
    let all = sensors::list(&store).expect("list");
    let (a, b, c) = (&all[0], &all[1], &all[2]);
    let stat = |d: &actions::ActionDetail, k: &str| d.action.global_stats.stats[k];
    let run = |word: &str, req: ActionRequest| {
        actions::start(&store, &me, word, &req)
            .expect("start")
            .expect("sensors selected")
    };

    // Succeeded, then AlreadyUpdated; the 32 counters are all there.
    let up = run("upgrade", ids(&[&a.pylum_id]));
    assert!(up.action.final_state);
    assert_eq!(up.action.action_type, "Upgrade");
    assert_eq!(up.action.global_stats.stats.len(), STAT_KEYS.len());
    assert_eq!(
        (stat(&up, "Succeeded"), up.action.total_number_of_probes),
        (1, 1)
    );
    assert_eq!(
        sensors::get(&store, &a.sensor_id).expect("a").version,
        sensors::CURRENT_VERSION
    );
    let again = run("upgrade", ids(&[&a.sensor_id]));
    assert_eq!(stat(&again, "AlreadyUpdated"), 1);

    // A disconnected sensor times out.
    sensors::set_disconnected(&store, &me, &b.machine_name, true).expect("disconnect");
    let restart = run("restart", ids(&[&b.pylum_id]));
    assert_eq!(stat(&restart, "Timeout"), 1);
    assert_eq!(
        sensors::get(&store, &b.pylum_id).expect("b").status,
        "Offline"
    );

    // Archive works on the server; an archived sensor ends NotSupported; unarchive restores.
    let archive = run(
        "archive",
        ActionRequest {
            argument: Some("decommissioned".into()),
            ..ids(&[&c.pylum_id])
        },
    );
    assert_eq!(
        archive.action.action_arguments,
        Some(vec!["decommissioned".into()])
    );
    let archived = sensors::get(&store, &c.pylum_id).expect("c");
    assert_eq!(
        (archived.status.as_str(), archived.archive_reason.as_str()),
        ("Archived", "decommissioned")
    );
    assert_eq!(
        stat(&run("restart", ids(&[&c.pylum_id])), "NotSupported"),
        1
    );
    run("unarchive", ids(&[&c.pylum_id]));
    assert_eq!(
        sensors::get(&store, &c.pylum_id).expect("c").status,
        "Online"
    );

    // Unknown ids are counted UnknownProbe beside the known ones; none known at all: nothing.
    let mixed = run("fetchLogs", ids(&[&a.pylum_id, "no-such-sensor"]));
    assert_eq!(
        (stat(&mixed, "Succeeded"), stat(&mixed, "UnknownProbe")),
        (1, 1)
    );
    assert_eq!(mixed.action.total_number_of_probes, 2);
    assert!(
        actions::start(&store, &me, "restart", &ids(&["no-such-sensor"]))
            .expect("start")
            .is_none()
    );
    let nothing = ActionRequest {
        filters: vec![filter("machineName", "Equals", &["no-such-host".into()])],
        ..ActionRequest::default()
    };
    assert!(actions::start(&store, &me, "restart", &nothing)
        .expect("start")
        .is_none());

    // Filters select the sensors; arguments change them.
    let by_filter = ActionRequest {
        filters: vec![filter(
            "machineName",
            "Equals",
            &[a.machine_name.clone().into()],
        )],
        argument: Some("ENABLE".into()),
        ..ActionRequest::default()
    };
    run("setPreventionMode", by_filter);
    run("stopCollection", ids(&[&a.pylum_id]));
    run(
        "addToGroup",
        ActionRequest {
            argument: Some("dmz".into()),
            ..ids(&[&a.pylum_id])
        },
    );
    let changed = sensors::get(&store, &a.pylum_id).expect("a");
    assert_eq!(
        (
            changed.prevention_status.as_str(),
            changed.collection_status.as_str(),
            changed.group_id.as_str()
        ),
        ("ENABLED", "DISABLED", "dmz")
    );

    // Isolation through pylumIds: the answer maps each id; the sensor is isolated, then not.
    let isolation = IsolationRequest {
        pylum_ids: vec![a.pylum_id.clone(), "ghost".into()],
        ..IsolationRequest::default()
    };
    let (answer, detail) = actions::isolate(&store, &me, true, &isolation)
        .expect("isolate")
        .expect("known");
    assert_eq!(answer[&a.pylum_id], "Succeeded");
    assert_eq!(answer["ghost"], "UnknownProbe");
    assert_eq!(detail.action.action_type, "Isolate");
    assert!(sensors::get(&store, &a.pylum_id).expect("a").isolated);
    actions::isolate(&store, &me, false, &isolation).expect("un-isolate");
    assert!(!sensors::get(&store, &a.pylum_id).expect("a").isolated);

    // What happens to a sensor while its action runs ends it: disconnected, Disconnected;
    // deleted, ProbeRemoved.
    let (d, e) = (&all[3], &all[4]);
    timeline(&store, 3_600_000, 0);
    let long = run("restart", ids(&[&d.pylum_id]));
    assert_eq!(stat(&long, "Pending"), 1);
    sensors::set_disconnected(&store, &me, &d.pylum_id, true).expect("disconnect");
    let cut = actions::detail(&store, long.action.batch_id).expect("detail");
    assert!(cut.action.final_state);
    assert_eq!(stat(&cut, "Disconnected"), 1);
    sensors::set_disconnected(&store, &me, &d.pylum_id, false).expect("connect");
    let doomed = run("restart", ids(&[&e.pylum_id]));
    timeline(&store, 0, 0);
    run("delete", ids(&[&e.pylum_id]));
    let removed = actions::detail(&store, doomed.action.batch_id).expect("detail");
    assert_eq!(stat(&removed, "ProbeRemoved"), 1);
    assert!(removed.action.final_state);

    // Delete removes the sensor from the fleet.
    run("delete", ids(&[&a.pylum_id]));
    assert!(matches!(
        sensors::get(&store, &a.pylum_id),
        Err(ResponseError::NotFound { .. })
    ));
    assert_eq!(sensors::list(&store).expect("list").len(), all.len() - 2);

    // Every action is listed, newest first, and none is left in progress.
    let listed = actions::all_actions(&store).expect("all");
    assert!(listed
        .windows(2)
        .all(|w| w[0].start_time >= w[1].start_time));
    assert!(listed.iter().all(|x| x.final_state));
    assert!(sensors::list(&store)
        .expect("list")
        .iter()
        .all(|s| s.actions_in_progress == 0));
}

#[test]
fn bad_action_requests_are_refused_by_name_and_start_nothing() {
    let (_dir, store) = fleet();
    let me = analyst();
    let s = sensors::list(&store).expect("list")[0].clone();
    refused(
        actions::start(&store, &me, "explode", &ids(&[&s.pylum_id])),
        "action",
    );
    refused(
        actions::start(
            &store,
            &me,
            "setPreventionMode",
            &ActionRequest {
                argument: Some("MAYBE".into()),
                ..ids(&[&s.pylum_id])
            },
        ),
        "argument",
    );
    refused(
        actions::start(&store, &me, "addToGroup", &ids(&[&s.pylum_id])),
        "argument",
    );
    refused(
        actions::start(
            &store,
            &me,
            "restart",
            &ActionRequest {
                argument: Some("now".into()),
                ..ids(&[&s.pylum_id])
            },
        ),
        "argument",
    );
    refused(
        actions::start(&store, &me, "restart", &ActionRequest::default()),
        "sensorsIds",
    );
    refused(
        actions::start(
            &store,
            &me,
            "restart",
            &ActionRequest {
                filters: vec![filter("status", "Equals", &["Online".into()])],
                ..ids(&[&s.pylum_id])
            },
        ),
        "sensorsIds",
    );
    refused(
        actions::isolate(&store, &me, true, &IsolationRequest::default()),
        "pylumIds",
    );
    refused(
        actions::start_on_sensors(
            &store,
            &me,
            "isolate",
            vec![s.pylum_id.clone()],
            Some("now".into()),
        ),
        "argument",
    );
    assert!(actions::all_actions(&store).expect("all").is_empty());
    refused(
        sensors::add(
            &store,
            &me,
            &NewSensor {
                machine_name: s.machine_name.clone(),
                ..NewSensor::default()
            },
        )
        .map_err(|e| match e {
            ResponseError::Conflict(why) => ResponseError::Invalid {
                field: "machineName".into(),
                reason: why,
            },
            other => other,
        }),
        "machineName",
    );
    refused(
        sensors::add(
            &store,
            &me,
            &NewSensor {
                machine_name: "new-host".into(),
                os_type: "BEOS".into(),
                ..NewSensor::default()
            },
        ),
        "osType",
    );
    let added = sensors::add(
        &store,
        &me,
        &NewSensor {
            machine_name: "new-host".into(),
            internal_ip_address: "10.1.2.3".into(),
            os_type: "LINUX".into(),
            disconnected: false,
        },
    )
    .expect("add");
    assert_eq!(sensors::get(&store, "new-host").expect("get"), added);
}

#[test]
fn abort_at_each_stage_and_again() {
    let (_dir, store) = fleet();
    let me = analyst();
    let s = sensors::list(&store).expect("list")[0].clone();
    let isolate = |store: &Store| {
        actions::isolate(
            store,
            &me,
            true,
            &IsolationRequest {
                pylum_ids: vec![s.pylum_id.clone()],
                ..IsolationRequest::default()
            },
        )
        .expect("isolate")
        .expect("known")
        .1
    };

    // Pending: an hour before the sensor starts.
    timeline(&store, 3_600_000, 0);
    let pending = isolate(&store);
    assert!(!pending.action.final_state);
    assert_eq!(pending.action.global_stats.stats["Pending"], 1);
    assert_eq!(
        sensors::get(&store, &s.pylum_id)
            .expect("s")
            .actions_in_progress,
        1
    );
    let aborted = actions::abort(&store, &me, pending.action.batch_id).expect("abort");
    assert!(aborted.final_state);
    assert_eq!(aborted.global_stats.stats["Aborted"], 1);
    assert_eq!(aborted.aborter_user.as_deref(), Some(me.login.as_str()));
    assert!(aborted.abort_time > 0 && aborted.abort_http_status_code == Some(200));
    let sensor = sensors::get(&store, &s.pylum_id).expect("s");
    assert!(!sensor.isolated, "an aborted isolation isolates nothing");
    assert_eq!(sensor.actions_in_progress, 0);
    // Aborting again changes nothing.
    assert_eq!(
        actions::abort(&store, &me, pending.action.batch_id).expect("again"),
        aborted
    );

    // InProgress: started, an hour from its end.
    timeline(&store, 0, 3_600_000);
    let running = isolate(&store);
    assert_eq!(running.action.global_stats.stats["InProgress"], 1);
    let aborted = actions::abort(&store, &me, running.action.batch_id).expect("abort");
    assert_eq!(aborted.global_stats.stats["Aborted"], 1);
    assert!(!sensors::get(&store, &s.pylum_id).expect("s").isolated);

    // Finished: nothing to abort; the action stays as it ended.
    timeline(&store, 0, 0);
    let done = isolate(&store);
    assert!(done.action.final_state);
    let unchanged = actions::abort(&store, &me, done.action.batch_id).expect("abort");
    assert_eq!(unchanged.aborter_user, None);
    assert_eq!(unchanged.global_stats.stats["Succeeded"], 1);
    assert!(sensors::get(&store, &s.pylum_id).expect("s").isolated);

    // An unknown batch.
    assert!(matches!(
        actions::abort(&store, &me, 42),
        Err(ResponseError::NotFound { .. })
    ));
}

#[test]
fn hosts_silent_for_30_days_before_the_newest_connection_go_offline() {
    let (_dir, store) = fleet();
    let before = sensors::list(&store).expect("list");
    assert!(before.iter().all(|s| !s.disconnected));
    // One connection 40 days after the demo traffic, to one of its hosts.
    let host = before[0].machine_name.clone();
    store
        .write(|c| {
            c.execute(
                "INSERT INTO connections (id, connected, user, type, target_host, remote_address)
                 VALUES ('late-1', ?1, 'alice', 'SSH', ?2, '192.0.2.1')",
                rusqlite::params![END + 40 * 86_400_000, host],
            )
            .map_err(ueba_core::StoreError::from)
        })
        .expect("insert");
    let after = sensors::list(&store).expect("list");
    for s in &after {
        assert_eq!(s.disconnected, s.machine_name != host, "{}", s.machine_name);
        assert_eq!(
            s.status,
            if s.machine_name == host {
                "Online"
            } else {
                "Offline"
            }
        );
    }
}
