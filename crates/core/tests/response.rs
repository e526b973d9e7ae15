//! The response loop: alerts raised from anomalies, investigation, and the audit trail.

use std::sync::Arc;

use ueba_core::demo::{generate_into_store, DemoConfig};
use ueba_core::response::alerts::{self, status, AlertFilter, PromoteRequest};
use ueba_core::response::audit::{self, account_uuid, Actor, AuditFilter, Door};
use ueba_core::response::filter::{Filter, FilterClause};
use ueba_core::response::investigation::{
    self, AlertStatusChange, CloseWithReason, InvestigationAction, InvestigationNote,
    PerformInvestigationActionRequest, UpdateOwner,
};
use ueba_core::response::policies::{self, action, Policy, PolicyUpdate};
use ueba_core::response::workflows::{
    self, action_run, run_status, AnswerActions, AnswerRequest, RunFilter, Workflow,
    WorkflowAction, WorkflowRun,
};
use ueba_core::response::{enums, sensors, ResponseError};
use ueba_core::ueba::training::{self, TrainOptions};
use ueba_core::ueba::{analysis, datasets, scoring, DatasetInput, TimeRangeSettings};
use ueba_core::{CancelToken, Store};

const DAY: i64 = 86_400_000;
const END: i64 = 1_735_689_600_000;

/// Demo traffic with attacks in the last week, a model trained on the first three weeks, and
/// analysis run over everything.
fn analysed_store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("w.db")).expect("open");
    let config = DemoConfig {
        connections: 12_000,
        days: 30,
        attack_rate: 0.01,
        end_ms: END,
        attack_window: Some(ueba_core::demo::AttackWindow {
            start_ms: END - 7 * DAY,
            end_ms: END,
        }),
        ..DemoConfig::default()
    };
    generate_into_store(&store, &config, &|_, _| {}, &CancelToken::new()).expect("demo");
    let id = datasets::create(
        &store,
        &DatasetInput {
            time_range_settings: TimeRangeSettings {
                start: Some(END - 30 * DAY),
                end: Some(END - 7 * DAY),
                exclude: vec![],
            },
            comment: None,
            use_for_inference_once_trained: false,
        },
        Some("tester"),
    )
    .expect("dataset");
    training::train_blocking(
        &store,
        &id,
        &TrainOptions::default(),
        &|_| {},
        &CancelToken::new(),
    )
    .expect("train");
    analysis::start(&store, &id).expect("analyze");
    let store = Arc::new(store);
    analyse(&store);
    (dir, store)
}

/// Scores everything with the active dataset (raising alerts, applying policies).
fn analyse(store: &Store) {
    scoring::analyze_range(store, None, None).expect("score");
}

/// Forgets every alert (so the next analysis raises them anew, under the policies of now).
fn forget_alerts(store: &Store) {
    store
        .write(|c| {
            c.execute("DELETE FROM alerts", [])
                .map_err(ueba_core::StoreError::from)
        })
        .expect("delete");
}

fn all_statuses() -> AlertFilter {
    AlertFilter {
        statuses: vec![status::OPEN, status::IN_PROGRESS, status::CLOSED],
        ..AlertFilter::default()
    }
}

fn every_anomaly() -> scoring::AnomalyFilter {
    scoring::AnomalyFilter {
        limit: Some(u32::MAX),
        ..Default::default()
    }
}

fn analyst() -> Actor {
    Actor::local(Door::Cli)
}

fn action(a: InvestigationAction, update_time: i64) -> PerformInvestigationActionRequest {
    PerformInvestigationActionRequest {
        action: Some(a),
        alert_update_time: update_time,
        ..Default::default()
    }
}

fn note(text: &str) -> InvestigationAction {
    InvestigationAction {
        note: Some(InvestigationNote {
            card_id: String::new(),
            note_text: text.into(),
        }),
        ..Default::default()
    }
}

fn close(incident: i64) -> InvestigationAction {
    InvestigationAction {
        close_with_reason: Some(CloseWithReason {
            incident_status: incident,
            note_text: "checked with the admin team".into(),
        }),
        ..Default::default()
    }
}

fn audit_count(store: &Store, uuid: &str) -> usize {
    audit::query(
        store,
        &AuditFilter {
            object_uuid: Some(uuid.into()),
            ..AuditFilter::default()
        },
    )
    .expect("audit")
    .len()
}

#[test]
fn every_anomaly_becomes_one_alert_with_its_connection_and_explanation() {
    let (_dir, store) = analysed_store();
    let anomalies = scoring::list_anomalies(&store, &every_anomaly()).expect("anomalies");
    assert!(!anomalies.is_empty(), "the demo attacks are flagged");
    let alerts = alerts::query(&store, &all_statuses()).expect("alerts");
    assert_eq!(alerts.len(), anomalies.len());
    for a in &anomalies {
        let alert = alerts::get(&store, &alerts::event_uuid(&a.connection_id)).expect("alert");
        assert_eq!(
            alert.connection_id.as_deref(),
            Some(a.connection_id.as_str())
        );
        assert_eq!(alert.status, status::OPEN);
        assert_eq!(alert.event_type, alerts::EVENT_TYPE_ANOMALY);
        assert_eq!(alert.severity, alerts::severity_for_score(a.score));
        assert!(enums::ALERT_SEVERITY.contains(alert.severity));
        assert_eq!(alert.related_entities.users, vec![a.user.clone()]);
        assert_eq!(alert.related_entities.devices, vec![a.target_host.clone()]);
        assert_eq!(
            alert.related_entities.sources,
            vec![a.remote_address.clone()]
        );
        assert_eq!(
            alert.related_entities.connections,
            vec![a.connection_id.clone()]
        );
        assert!(!alert.features.is_empty());
        assert!(alert.description.contains(&a.user), "{}", alert.description);
        assert_eq!(alert.explanation, a.explanation);
    }
    // Rescoring replaces anomalies but raises nothing twice and keeps the analyst's work.
    let first = &alerts[0];
    investigation::perform(&store, &analyst(), &first.uuid, &action(note("seen"), 0))
        .expect("note");
    scoring::analyze_range(&store, None, None).expect("rescore");
    let again = alerts::query(&store, &all_statuses()).expect("alerts");
    assert_eq!(again.len(), alerts.len());
    assert_eq!(
        investigation::history(&store, &first.uuid)
            .expect("history")
            .len(),
        1
    );
}

#[test]
fn query_filters_by_event_time_and_status() {
    let (_dir, store) = analysed_store();
    let all = alerts::query(&store, &all_statuses()).expect("all");
    assert!(
        all.windows(2).all(|w| w[0].start_time >= w[1].start_time),
        "newest first"
    );
    let mid = all[all.len() / 2].start_time;
    let later = alerts::query(
        &store,
        &AlertFilter {
            start_time: Some(mid),
            ..all_statuses()
        },
    )
    .expect("later");
    assert!(!later.is_empty() && later.iter().all(|a| a.start_time >= mid));
    assert_eq!(
        later.len(),
        all.iter().filter(|a| a.start_time >= mid).count()
    );
    // Closing one takes it out of the default (open) query.
    let target = all[0].clone();
    investigation::perform(&store, &analyst(), &target.uuid, &action(close(3), 0)).expect("close");
    let open = alerts::query(&store, &AlertFilter::default()).expect("open");
    assert_eq!(open.len(), all.len() - 1);
    assert!(open.iter().all(|a| a.uuid != target.uuid));
    let closed = alerts::query(
        &store,
        &AlertFilter {
            statuses: alerts::parse_status_filter("CLOSED").expect("parse"),
            ..AlertFilter::default()
        },
    )
    .expect("closed");
    assert_eq!(closed.len(), 1);
    assert_eq!(
        alerts::parse_status_filter("open, 2").expect("mixed"),
        vec![1, 2]
    );
    let bad = alerts::parse_status_filter("OPEN,SOLVED").expect_err("unknown");
    assert!(bad.to_string().contains("SOLVED") && bad.to_string().contains("status_filter"));
    let backwards = alerts::query(
        &store,
        &AlertFilter {
            start_time: Some(10),
            end_time: Some(5),
            ..AlertFilter::default()
        },
    );
    assert!(matches!(backwards, Err(ResponseError::Invalid { field, .. }) if field == "end_time"));
    // Paging.
    let page = alerts::query(
        &store,
        &AlertFilter {
            limit: Some(2),
            offset: Some(1),
            ..all_statuses()
        },
    )
    .expect("page");
    let expected: Vec<_> = all.iter().skip(1).take(2).map(|a| &a.uuid).collect();
    assert_eq!(page.iter().map(|a| &a.uuid).collect::<Vec<_>>(), expected);
}

#[test]
fn the_investigation_state_machine() {
    let (_dir, store) = analysed_store();
    let uuid = alerts::query(&store, &AlertFilter::default()).expect("alerts")[0]
        .uuid
        .clone();
    let me = analyst();
    let start = alerts::get(&store, &uuid).expect("alert");

    // OPEN -> IN_PROGRESS.
    let to = |s: i64| InvestigationAction {
        alert_status_change: Some(AlertStatusChange { new_status: s }),
        ..Default::default()
    };
    let r = investigation::perform(
        &store,
        &me,
        &uuid,
        &action(to(status::IN_PROGRESS), start.update_time),
    )
    .expect("in progress");
    assert!(r.alert_update_time > start.update_time);
    assert_eq!(
        r.history_item.action.action_type, 1,
        "the type is filled in"
    );
    assert_eq!(
        alerts::get(&store, &uuid).expect("get").status,
        status::IN_PROGRESS
    );

    // A stale alert_update_time is refused and changes nothing.
    let stale =
        investigation::perform(&store, &me, &uuid, &action(note("late"), start.update_time));
    assert!(
        matches!(stale, Err(ResponseError::Conflict(ref m)) if m.contains("read it again")),
        "{stale:?}"
    );
    // The same status again is a conflict; CLOSED needs a reason; unknown values are refused.
    assert!(matches!(
        investigation::perform(&store, &me, &uuid, &action(to(status::IN_PROGRESS), 0)),
        Err(ResponseError::Conflict(_))
    ));
    let closing = investigation::perform(&store, &me, &uuid, &action(to(status::CLOSED), 0));
    assert!(
        matches!(closing, Err(ResponseError::Invalid { ref field, .. }) if field == "action.alert_status_change.new_status")
    );
    assert!(matches!(
        investigation::perform(&store, &me, &uuid, &action(close(0), 0)),
        Err(ResponseError::Invalid { ref field, .. }) if field == "action.close_with_reason.incident_status"
    ));
    assert!(matches!(
        investigation::perform(&store, &me, &uuid, &action(close(99), 0)),
        Err(ResponseError::Invalid { .. })
    ));
    assert!(matches!(
        investigation::perform(&store, &me, &uuid, &action(note("  "), 0)),
        Err(ResponseError::Invalid { ref field, .. }) if field == "action.note.note_text"
    ));
    // Two fields, or a type that disagrees with the field, are refused.
    let mut two = note("x");
    two.alert_status_change = Some(AlertStatusChange { new_status: 1 });
    assert!(investigation::perform(&store, &me, &uuid, &action(two, 0)).is_err());
    let mut wrong = note("x");
    wrong.action_type = 2;
    assert!(investigation::perform(&store, &me, &uuid, &action(wrong, 0)).is_err());

    // Close with a reason, then reopen.
    investigation::perform(&store, &me, &uuid, &action(close(3), 0)).expect("close");
    let closed = alerts::get(&store, &uuid).expect("get");
    assert_eq!((closed.status, closed.incident_status), (status::CLOSED, 3));
    assert!(closed.closed_time > 0);
    assert!(matches!(
        investigation::perform(&store, &me, &uuid, &action(close(2), 0)),
        Err(ResponseError::Conflict(_))
    ));
    investigation::perform(&store, &me, &uuid, &action(to(status::OPEN), 0)).expect("reopen");
    let reopened = alerts::get(&store, &uuid).expect("get");
    assert_eq!(
        (
            reopened.status,
            reopened.incident_status,
            reopened.closed_time
        ),
        (status::OPEN, 0, 0)
    );

    // History: exactly the accepted actions, in order, by the actor; one audit event each.
    let history = investigation::history(&store, &uuid).expect("history");
    let types: Vec<i64> = history.iter().map(|h| h.action.action_type).collect();
    assert_eq!(types, vec![1, 2, 1]);
    assert!(history.iter().all(|h| h.actor_uuid == me.uuid));
    assert!(history.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
    assert_eq!(audit_count(&store, &uuid), 3);
    assert!(matches!(
        investigation::history(&store, "no-such-alert"),
        Err(ResponseError::NotFound { .. })
    ));
}

#[test]
fn owners_are_local_accounts() {
    let (_dir, store) = analysed_store();
    ueba_core::auth::add_account(
        &store,
        "dana",
        ueba_core::auth::Role::Admin,
        "a long password 1",
    )
    .expect("account");
    let uuid = alerts::query(&store, &AlertFilter::default()).expect("alerts")[0]
        .uuid
        .clone();
    let assign = |owner: &str| InvestigationAction {
        update_owner: Some(UpdateOwner {
            owner_uuid: owner.into(),
            owner_display_name: String::new(),
        }),
        ..Default::default()
    };
    let r = investigation::perform(
        &store,
        &analyst(),
        &uuid,
        &action(assign(&account_uuid("dana")), 0),
    )
    .expect("assign");
    assert_eq!(
        r.history_item
            .action
            .update_owner
            .as_ref()
            .map(|o| o.owner_display_name.as_str()),
        Some("dana")
    );
    let alert = alerts::get(&store, &uuid).expect("get");
    assert_eq!(alert.owner_display_name, "dana");
    assert_eq!(alert.owner_uuid, account_uuid("dana"));
    assert!(alert.assignment_time > 0);
    let stranger = investigation::perform(&store, &analyst(), &uuid, &action(assign("nobody"), 0));
    assert!(
        matches!(stranger, Err(ResponseError::Invalid { ref field, .. }) if field == "action.update_owner.owner_uuid")
    );
    investigation::perform(&store, &analyst(), &uuid, &action(assign(""), 0)).expect("unassign");
    assert_eq!(alerts::get(&store, &uuid).expect("get").owner_uuid, "");
}

#[test]
fn a_batch_is_all_or_nothing() {
    let (_dir, store) = analysed_store();
    let open = alerts::query(&store, &AlertFilter::default()).expect("alerts");
    let (a, b) = (open[0].uuid.clone(), open[1].uuid.clone());
    let with_uuid = |uuid: &str, act| PerformInvestigationActionRequest {
        alert_uuid: uuid.into(),
        ..action(act, 0)
    };
    let bad = investigation::perform_batch(
        &store,
        &analyst(),
        &[with_uuid(&a, note("first")), with_uuid(&b, close(0))],
    );
    match bad {
        Err(ResponseError::Invalid { field, .. }) => {
            assert_eq!(
                field,
                "investigation_actions[1].action.close_with_reason.incident_status"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        investigation::history(&store, &a)
            .expect("history")
            .is_empty(),
        "nothing applied"
    );
    assert_eq!(audit_count(&store, &a), 0);
    let done = investigation::perform_batch(
        &store,
        &analyst(),
        &[with_uuid(&a, note("first")), with_uuid(&b, close(4))],
    )
    .expect("batch");
    assert_eq!(done.len(), 2);
    assert_eq!(alerts::get(&store, &b).expect("b").status, status::CLOSED);
    let missing = investigation::perform_batch(&store, &analyst(), &[with_uuid("nope", note("x"))]);
    assert!(matches!(missing, Err(ResponseError::NotFound { .. })));
}

#[test]
fn promoting_an_event() {
    let (_dir, store) = analysed_store();
    let flagged = scoring::list_anomalies(&store, &every_anomaly()).expect("anomalies");
    let existing = alerts::event_uuid(&flagged[0].connection_id);
    // An event that already has an alert returns it, by event uuid or connection id.
    let by_uuid = alerts::promote(
        &store,
        &analyst(),
        &PromoteRequest {
            event_id: Some(existing.clone()),
            ..Default::default()
        },
    )
    .expect("promote");
    assert_eq!(by_uuid.uuid, existing);
    // A connection analysis did not flag becomes an INFO alert, audited.
    let unflagged = |skip: i64| {
        store
            .read(|c| {
                c.query_row(
                    "SELECT id, connected FROM connections
                     WHERE id NOT IN (SELECT connection_id FROM anomalies)
                     ORDER BY connected LIMIT 1 OFFSET ?1",
                    [skip],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
                )
                .map_err(ueba_core::StoreError::from)
            })
            .expect("an unflagged connection")
    };
    let (quiet_id, quiet_connected) = unflagged(0);
    let promoted = alerts::promote(
        &store,
        &analyst(),
        &PromoteRequest {
            event_id: Some(quiet_id.clone()),
            start_time: Some(quiet_connected),
            ..Default::default()
        },
    )
    .expect("promote");
    assert_eq!(promoted.uuid, alerts::event_uuid(&quiet_id));
    assert_eq!((promoted.severity, promoted.status), (1, status::OPEN));
    assert_eq!(promoted.event_type, alerts::EVENT_TYPE_PROMOTED);
    assert_eq!(audit_count(&store, &promoted.uuid), 1);
    let event = audit::query(&store, &AuditFilter::default()).expect("audit")[0].clone();
    assert_eq!(event.op, "alert.promote");
    assert!(event.before.is_none() && event.after.is_some());
    assert_eq!(audit::get(&store, &event.uuid).expect("get"), event);
    // Unknown events, missing ids and mismatched times are refused.
    let unknown = alerts::promote(
        &store,
        &analyst(),
        &PromoteRequest {
            event_id: Some("no-such-connection".into()),
            ..Default::default()
        },
    );
    assert!(matches!(unknown, Err(ResponseError::NotFound { .. })));
    assert!(matches!(
        alerts::promote(&store, &analyst(), &PromoteRequest::default()),
        Err(ResponseError::Invalid { ref field, .. }) if field == "event_id"
    ));
    let (other_id, other_connected) = unflagged(1);
    let mismatch = alerts::promote(
        &store,
        &analyst(),
        &PromoteRequest {
            event_id: Some(other_id),
            start_time: Some(other_connected + 1),
            ..Default::default()
        },
    );
    assert!(
        matches!(mismatch, Err(ResponseError::Invalid { ref field, .. }) if field == "start_time")
    );
}

#[test]
fn the_enum_table_is_consistent_and_documented() {
    for e in enums::ALL {
        let mut values: Vec<i64> = e.values.iter().map(|v| v.value).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), e.values.len(), "{}: duplicate values", e.name);
        for v in e.values {
            assert_eq!(e.parse(v.name), Some(v.value));
            assert_eq!(e.parse(&v.name.to_lowercase()), Some(v.value));
            assert_eq!(e.name_of(v.value), Some(v.name));
        }
    }
    // The vendor's own names and listed values.
    assert_eq!(enums::ENUM_STATUS.parse("ACTIVE"), Some(2));
    let policy: Vec<i64> = enums::POLICY_ACTION
        .values
        .iter()
        .map(|v| v.value)
        .collect();
    assert_eq!(
        policy,
        vec![0, 1, 2, 3, 4, 101, 102, 103, 201, 202, 300, 301, 310, 399, 400, 500]
    );
    let mut roles: Vec<i64> = enums::TOKEN_ROLE.values.iter().map(|v| v.value).collect();
    roles.sort_unstable();
    assert_eq!(roles, vec![0, 1, 2, 3, 4, 5, 10, 12, 14, 15, 16]);
    // docs/lacework-enums.md holds the table as generated.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/lacework-enums.md");
    let doc = std::fs::read_to_string(path).expect("docs/lacework-enums.md");
    let (intro, _) = doc
        .split_once("\n## ")
        .expect("an introduction, then the table");
    let expected = format!("{intro}\n{}", enums::markdown());
    if std::env::var_os("UEBA_UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).expect("write");
    }
    assert!(
        doc == expected,
        "docs/lacework-enums.md is out of date: run this test with UEBA_UPDATE_DOCS=1"
    );
}

fn policy(name: &str, action: i64, terms: &[&str]) -> Policy {
    Policy {
        name: name.into(),
        action,
        policy_type: 1,
        session_filter: Filter {
            include_any: vec![FilterClause {
                all: terms.iter().map(|t| (*t).to_owned()).collect(),
            }],
            exclude_any: vec![],
        },
        ..Policy::default()
    }
}

#[test]
fn policies_are_validated_and_updated_with_an_audit_trail() {
    let (_dir, store) = analysed_store();
    let me = analyst();
    let refuse = |p: Policy, field: &str, mention: &str| match policies::create(&store, &me, &p) {
        Err(ResponseError::Invalid { field: f, reason }) => {
            assert_eq!(f, field);
            assert!(
                reason.contains(mention),
                "{reason:?} should mention {mention:?}"
            );
        }
        other => panic!("expected a refusal of {field}, got {other:?}"),
    };
    refuse(policy(" ", 3, &[]), "name", "name");
    refuse(policy("p", 7, &[]), "action", "ALERT_ONLY");
    refuse(
        policy("p", 3, &["source:10.0.0/8"]),
        "session_filter",
        "include_any[0].all[0]",
    );
    refuse(
        policy("p", 3, &["list:vpn-exits"]),
        "session_filter",
        "vpn-exits",
    );
    refuse(policy("p", 101, &[]), "workflow_uuid", "workflow");
    let mut suspended = policy("p", 3, &[]);
    suspended.status = 9;
    refuse(suspended, "status", "ACTIVE");

    let created =
        policies::create(&store, &me, &policy("ssh to db", 3, &["type:SSH"])).expect("create");
    assert_eq!(created.status, 2, "ACTIVE by default");
    assert_eq!(created.creator_uuid, me.uuid);
    assert_eq!(policies::get(&store, &created.uuid).expect("get"), created);

    // A partial update: only what is set changes; attributes_to_delete resets.
    let mut fields = serde_json::Map::new();
    fields.insert("priority".into(), serde_json::json!(5));
    fields.insert("uuid".into(), serde_json::json!("ignored"));
    let updated = policies::update(
        &store,
        &me,
        &created.uuid,
        &PolicyUpdate {
            policy: fields.clone(),
            attributes_to_delete: vec!["session_filter".into()],
            expected_update_time: created.update_time,
            ..PolicyUpdate::default()
        },
    )
    .expect("update");
    assert_eq!(
        (
            updated.priority,
            updated.name.as_str(),
            updated.uuid.as_str()
        ),
        (5, "ssh to db", created.uuid.as_str())
    );
    assert_eq!(updated.session_filter, Filter::default());
    assert!(updated.update_time > created.update_time);
    // A stale expected_update_time is refused; so is an unknown field or a bad value.
    let stale = policies::update(
        &store,
        &me,
        &created.uuid,
        &PolicyUpdate {
            policy: fields,
            expected_update_time: created.update_time,
            ..PolicyUpdate::default()
        },
    );
    assert!(
        matches!(stale, Err(ResponseError::Conflict(_))),
        "{stale:?}"
    );
    let mut typo = serde_json::Map::new();
    typo.insert("priorty".into(), serde_json::json!(1));
    let unknown = policies::update(
        &store,
        &me,
        &created.uuid,
        &PolicyUpdate {
            policy: typo,
            ..PolicyUpdate::default()
        },
    );
    assert!(
        matches!(unknown, Err(ResponseError::Invalid { ref reason, .. }) if reason.contains("priorty")),
        "{unknown:?}"
    );
    assert!(matches!(
        policies::get(&store, "nope"),
        Err(ResponseError::NotFound { .. })
    ));
    assert_eq!(
        audit_count(&store, &created.uuid),
        2,
        "one event per accepted change"
    );
}

#[test]
fn the_matching_policy_decides_the_response() {
    let (_dir, store) = analysed_store();
    let me = analyst();
    let alerts_before = alerts::query(&store, &all_statuses()).expect("alerts");
    // Pick a flagged user and host to aim policies at.
    let target = alerts_before[0].clone();
    let user = target.related_entities.users[0].clone();
    let other_host = alerts_before
        .iter()
        .find(|a| a.related_entities.users[0] != user)
        .map(|a| a.related_entities.devices[0].clone())
        .expect("an alert of another user");

    // ALLOW for the user's alerts; a higher-priority (smaller number) BLOCK for the same user
    // wins; a SUSPENDED policy matching everything is ignored; ISOLATE for another host.
    let mut allow = policy("allow user", 1, &[&format!("user:{user}")]);
    allow.priority = 3;
    let allow = policies::create(&store, &me, &allow).expect("allow");
    let mut block = policy("block user", 2, &[&format!("user:{user}")]);
    block.priority = 1;
    let block = policies::create(&store, &me, &block).expect("block");
    let mut everything = policy("suspended", 1, &[]);
    everything.status = 3;
    policies::create(&store, &me, &everything).expect("suspended");
    let mut isolate = policy("isolate host", 4, &[&format!("host:{other_host}")]);
    isolate.priority = 5;
    let isolate = policies::create(&store, &me, &isolate).expect("isolate");

    forget_alerts(&store);
    analyse(&store);
    let after = alerts::query(&store, &all_statuses()).expect("alerts");
    assert_eq!(after.len(), alerts_before.len());
    for a in &after {
        let (expected_action, expected_policy) = if a.related_entities.users[0] == user {
            (2, Some(block.uuid.as_str()))
        } else if a.related_entities.devices[0] == other_host {
            (4, Some(isolate.uuid.as_str()))
        } else {
            (0, None)
        };
        assert_eq!(a.policy_action_taken, expected_action, "{}", a.uuid);
        assert_eq!(a.policy_uuid.as_deref(), expected_policy);
        assert_eq!(a.status, status::OPEN, "only ALLOW closes");
        if expected_policy.is_some() {
            let history = investigation::history(&store, &a.uuid).expect("history");
            assert_eq!(history.len(), 1);
            let note = &history[0].action.note.as_ref().expect("a note").note_text;
            assert!(note.contains("matched"), "{note}");
        }
    }
    // BLOCK marked the user's anomalies blocked.
    let blocked: Vec<_> = scoring::list_anomalies(&store, &every_anomaly())
        .expect("anomalies")
        .into_iter()
        .filter(|an| an.user == user)
        .collect();
    assert!(!blocked.is_empty() && blocked.iter().all(|an| an.blocked));
    // ISOLATE (and BLOCK) recorded one request per alert for the host's sensor.
    let requests: i64 = store
        .read(|c| {
            c.query_row(
                "SELECT count(*) FROM sensor_requests WHERE host = ?1 AND action = 'isolate'",
                [&other_host],
                |r| r.get(0),
            )
            .map_err(ueba_core::StoreError::from)
        })
        .expect("count");
    assert_eq!(
        requests as usize,
        after
            .iter()
            .filter(|a| [2, 4].contains(&a.policy_action_taken)
                && a.related_entities.devices[0] == other_host)
            .count()
    );
    // ISOLATE and BLOCK started one Isolate action on the alert's host's sensor, linked to the
    // alert and named in its history.
    for a in after
        .iter()
        .filter(|a| [2, 4].contains(&a.policy_action_taken))
    {
        let started = sensors::actions::of_alert(&store, &a.uuid).expect("actions");
        assert_eq!(started.len(), 1, "{}", a.uuid);
        assert_eq!(started[0].action.action_type, "Isolate");
        assert_eq!(started[0].probes.len(), 1);
        assert_eq!(
            started[0].probes[0].machine_name,
            a.related_entities.devices[0]
        );
        let history = investigation::history(&store, &a.uuid).expect("history");
        let note = &history[0].action.note.as_ref().expect("a note").note_text;
        assert!(
            note.contains(&format!("sensor action {}", started[0].action.batch_id)),
            "{note}"
        );
    }

    // Suspending BLOCK lets ALLOW win: the user's alerts are closed as expected activity.
    let mut fields = serde_json::Map::new();
    fields.insert("status".into(), serde_json::json!(3));
    policies::update(
        &store,
        &me,
        &block.uuid,
        &PolicyUpdate {
            policy: fields,
            ..PolicyUpdate::default()
        },
    )
    .expect("suspend");
    forget_alerts(&store);
    analyse(&store);
    for a in alerts::query(&store, &all_statuses()).expect("alerts") {
        if a.related_entities.users[0] == user {
            assert_eq!(
                (a.status, a.incident_status, a.policy_action_taken),
                (status::CLOSED, 4, 1)
            );
            assert_eq!(a.policy_uuid.as_deref(), Some(allow.uuid.as_str()));
        }
    }
    // The preview finds the same alerts without changing anything.
    let preview = policies::preview(
        &store,
        &policy("what if", 3, &[&format!("user:{user}")]),
        1000,
    )
    .expect("preview");
    assert_eq!(
        preview.len(),
        after
            .iter()
            .filter(|a| a.related_entities.users[0] == user)
            .count()
    );
}

fn workflow(name: &str) -> Workflow {
    Workflow {
        name: name.into(),
        title: "Block this connection?".into(),
        answers: vec![
            AnswerActions {
                answer: "Approve".into(),
                actions: vec![
                    WorkflowAction {
                        run: action_run::BLOCK_CONNECTION,
                        ..Default::default()
                    },
                    WorkflowAction {
                        run: action_run::CLOSE_ALERT,
                        ..Default::default()
                    },
                ],
            },
            AnswerActions {
                answer: "Deny".into(),
                actions: vec![],
            },
            AnswerActions {
                answer: "Unsure".into(),
                actions: vec![],
            },
        ],
        ..Workflow::default()
    }
}

/// A RUN_WORKFLOW policy of `w` for the user of the first alert, then every alert raised again
/// under it; the policy and the user.
fn ask_about_a_user(store: &Store, w: &Workflow) -> (Policy, String) {
    let target = alerts::query(store, &all_statuses()).expect("alerts")[0].clone();
    let user = target.related_entities.users[0].clone();
    let mut p = policy("ask about user", 101, &[&format!("user:{user}")]);
    p.workflow_uuid = w.uuid.clone();
    let p = policies::create(store, &analyst(), &p).expect("policy");
    forget_alerts(store);
    analyse(store);
    (p, user)
}

fn answer(index: &str, why: &str) -> AnswerRequest {
    AnswerRequest {
        answer_index: index.into(),
        justification: why.into(),
        ..AnswerRequest::default()
    }
}

#[test]
fn workflows_are_validated_with_the_vendor_defaults() {
    let (_dir, store) = analysed_store();
    let me = analyst();
    let plain = workflows::create(
        &store,
        &me,
        &Workflow {
            name: "ask".into(),
            ..Workflow::default()
        },
    )
    .expect("create");
    let texts: Vec<&str> = plain.answers.iter().map(|a| a.answer.as_str()).collect();
    assert_eq!(texts, vec!["Approve", "Deny", "Unsure"]);
    assert_eq!(
        (
            plain.approval_ttl_sec,
            plain.execution_ttl_sec,
            plain.status
        ),
        (86_400, 600, 2)
    );
    let outcomes: Vec<i64> = plain.answers.iter().map(workflows::outcome_of).collect();
    assert_eq!(
        outcomes,
        vec![run_status::SUCCESS, run_status::FAILURE, run_status::UNSURE]
    );
    let refuse = |w: Workflow, field: &str| match workflows::create(&store, &me, &w) {
        Err(ResponseError::Invalid { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected a refusal of {field}, got {other:?}"),
    };
    refuse(Workflow::default(), "name");
    let mut bad_action = workflow("w");
    bad_action.answers[0].actions[0].run = 9;
    refuse(bad_action, "answers[0].actions[0].run");
    refuse(
        Workflow {
            recipients: vec!["alice".into()],
            ..workflow("w")
        },
        "recipients[0]",
    );
    refuse(
        Workflow {
            default_answer_index: "7".into(),
            ..workflow("w")
        },
        "default_answer_index",
    );
    refuse(
        Workflow {
            approval_ttl_sec: -5,
            ..workflow("w")
        },
        "approval_ttl_sec",
    );
    // A policy may only name a workflow that exists.
    let mut p = policy("needs a workflow", 101, &[]);
    p.workflow_uuid = "nope".into();
    assert!(
        matches!(policies::create(&store, &me, &p), Err(ResponseError::Invalid { ref field, .. }) if field == "workflow_uuid")
    );
    p.workflow_uuid = plain.uuid.clone();
    policies::create(&store, &me, &p).expect("with an existing workflow");
}

#[test]
fn a_run_workflow_policy_waits_for_an_answer_then_acts() {
    let (_dir, store) = analysed_store();
    let me = analyst();
    let w = workflows::create(&store, &me, &workflow("block on approval")).expect("workflow");
    let (p, user) = ask_about_a_user(&store, &w);

    let runs = workflows::query_runs(
        &store,
        &RunFilter {
            status: Some("PENDING".into()),
            ..RunFilter::default()
        },
    )
    .expect("runs");
    let users_alerts: Vec<_> = alerts::query(&store, &all_statuses())
        .expect("alerts")
        .into_iter()
        .filter(|a| a.related_entities.users[0] == user)
        .collect();
    assert_eq!(runs.len(), users_alerts.len(), "one run per matching alert");
    let run = runs
        .iter()
        .find(|r| r.details.get("alert_uuid") == Some(&users_alerts[0].uuid))
        .expect("linked run")
        .clone();
    assert_eq!(
        (
            run.status,
            run.policy_uuid.as_str(),
            run.user_display_name.as_str()
        ),
        (run_status::PENDING, p.uuid.as_str(), user.as_str())
    );
    assert!(run.expire_time_sec > 0 && run.can_user_approve);
    let alert_uuid = users_alerts[0].uuid.clone();
    assert_eq!(
        alerts::get(&store, &alert_uuid)
            .expect("alert")
            .policy_action_taken,
        101
    );

    // Approve: the answer's actions are carried out on the alert.
    let done = workflows::answer(
        &store,
        &me,
        "admin",
        &run.uuid,
        &answer("0", "confirmed with the user"),
    )
    .expect("answer");
    assert_eq!(
        (
            done.status,
            done.answer_index.as_str(),
            done.approver_uuid.as_str()
        ),
        (run_status::SUCCESS, "0", me.uuid.as_str())
    );
    let alert = alerts::get(&store, &alert_uuid).expect("alert");
    assert_eq!((alert.status, alert.incident_status), (status::CLOSED, 2));
    let blocked = scoring::list_anomalies(&store, &every_anomaly())
        .expect("anomalies")
        .into_iter()
        .find(|a| Some(&a.connection_id) == alert.connection_id.as_ref())
        .expect("its anomaly");
    assert!(blocked.blocked);
    let notes: Vec<String> = investigation::history(&store, &alert_uuid)
        .expect("history")
        .into_iter()
        .filter_map(|h| h.action.note.map(|n| n.note_text))
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("answered \"Approve\"") && n.contains("marked blocked")),
        "{notes:?}"
    );
    // No second answer.
    assert!(matches!(
        workflows::answer(&store, &me, "admin", &run.uuid, &answer("1", "")),
        Err(ResponseError::Conflict(_))
    ));

    // Deny another: nothing is carried out.
    let other = runs
        .iter()
        .find(|r| r.uuid != run.uuid)
        .expect("a second run");
    let denied =
        workflows::answer(&store, &me, "admin", &other.uuid, &answer("1", "")).expect("deny");
    assert_eq!(denied.status, run_status::FAILURE);
    let other_alert =
        alerts::get(&store, other.details.get("alert_uuid").expect("alert")).expect("alert");
    assert_eq!(other_alert.status, status::OPEN);
    assert!(matches!(
        workflows::answer(&store, &me, "admin", "nope", &answer("0", "")),
        Err(ResponseError::NotFound { .. })
    ));
    // An answer index outside the answers is refused, naming them.
    if let Some(third) = runs
        .iter()
        .find(|r| r.uuid != run.uuid && r.uuid != other.uuid)
    {
        let wrong = workflows::answer(&store, &me, "admin", &third.uuid, &answer("5", ""));
        assert!(
            matches!(wrong, Err(ResponseError::Invalid { ref field, ref reason }) if field == "answer_index" && reason.contains("Approve")),
            "{wrong:?}"
        );
    }
}

#[test]
fn workflow_runs_check_recipients_justification_and_expiry() {
    let (_dir, store) = analysed_store();
    let me = analyst();
    let alert = alerts::query(&store, &AlertFilter::default()).expect("alerts")[0].clone();
    let strict = workflows::create(
        &store,
        &me,
        &Workflow {
            recipients: vec!["user:bob".into(), "role:admin".into()],
            justification_required: true,
            ..workflow("strict")
        },
    )
    .expect("workflow");
    // The run-workflow investigation action starts a run and records it in the history.
    let started = investigation::perform(
        &store,
        &me,
        &alert.uuid,
        &action(
            InvestigationAction {
                run_workflow: Some(investigation::RunWorkflow {
                    workflow_uuid: strict.uuid.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            0,
        ),
    )
    .expect("run workflow");
    let run_uuid = started
        .history_item
        .action
        .run_workflow
        .as_ref()
        .expect("run")
        .workflow_run_uuid
        .clone();
    assert!(!run_uuid.is_empty());
    let bob = Actor {
        login: "bob".into(),
        uuid: account_uuid("bob"),
        display_name: "bob".into(),
        ..analyst()
    };
    let carol = Actor {
        login: "carol".into(),
        uuid: account_uuid("carol"),
        display_name: "carol".into(),
        ..analyst()
    };
    assert!(matches!(
        workflows::answer(&store, &carol, "user", &run_uuid, &answer("0", "ok")),
        Err(ResponseError::Conflict(ref m)) if m.contains("recipients")
    ));
    assert!(matches!(
        workflows::answer(&store, &bob, "user", &run_uuid, &answer("0", " ")),
        Err(ResponseError::Invalid { ref field, .. }) if field == "justification"
    ));
    // carol as an admin may answer (role:admin).
    let done = workflows::answer(
        &store,
        &carol,
        "admin",
        &run_uuid,
        &answer("2", "not sure yet"),
    )
    .expect("answer");
    assert_eq!(done.status, run_status::UNSURE);
    assert_eq!(
        alerts::get(&store, &alert.uuid).expect("alert").status,
        status::OPEN
    );

    // A run nobody answers in time ends FAILURE and the alert's history says so.
    let quick = workflows::create(
        &store,
        &me,
        &Workflow {
            approval_ttl_sec: 1,
            ..workflow("quick")
        },
    )
    .expect("workflow");
    let run = workflows::create_run(
        &store,
        &me,
        &workflows::CreateRunRequest {
            workflow_run: workflows::WorkflowRun {
                workflow_uuid: quick.uuid.clone(),
                details: [("alert_uuid".to_owned(), alert.uuid.clone())].into(),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .expect("run");
    assert_eq!(run.status, run_status::PENDING);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let expired = workflows::get_run(&store, &run.uuid).expect("run");
    assert_eq!(expired.status, run_status::FAILURE);
    assert!(expired.approver_justification.contains("expired"));
    assert!(matches!(
        workflows::answer(&store, &me, "admin", &run.uuid, &answer("0", "late")),
        Err(ResponseError::Conflict(_))
    ));
    let history = investigation::history(&store, &alert.uuid).expect("history");
    assert!(history.iter().any(|h| h
        .action
        .note
        .as_ref()
        .is_some_and(|n| n.note_text.contains("expired"))));
    // Filters.
    let by_workflow = workflows::query_runs(
        &store,
        &RunFilter {
            workflow_uuid: Some(quick.uuid.clone()),
            ..RunFilter::default()
        },
    )
    .expect("runs");
    assert_eq!(by_workflow.len(), 1);
    assert!(matches!(
        workflows::query_runs(&store, &RunFilter { status: Some("DONE".into()), ..RunFilter::default() }),
        Err(ResponseError::Invalid { ref field, .. }) if field == "status"
    ));
    assert!(matches!(
        workflows::create_run(&store, &me, &workflows::CreateRunRequest::default()),
        Err(ResponseError::Invalid { ref field, .. }) if field == "workflow_run.workflow_uuid"
    ));
}

#[test]
fn lists_feed_policy_filters() {
    use ueba_core::response::lists::{self, CreateListRequest};
    let (_dir, store) = analysed_store();
    let me = analyst();
    let target = alerts::query(&store, &all_statuses()).expect("alerts")[0].clone();
    let user = target.related_entities.users[0].clone();
    let source = target.related_entities.sources[0].clone();
    // A policy naming a list that does not exist yet is refused.
    let on_list = policy("expected admins", 1, &["list:admins"]);
    assert!(matches!(
        policies::create(&store, &me, &on_list),
        Err(ResponseError::Invalid { ref reason, .. }) if reason.contains("list:admins")
    ));
    let request = |name: &str, items: &[&str]| CreateListRequest {
        dataset_name: name.into(),
        description: "test".into(),
        items: items.iter().map(|i| (*i).to_owned()).collect(),
        ..CreateListRequest::default()
    };
    for (bad, field) in [
        (request("has space", &["x"]), "dataset_name"),
        (request("ok", &["10.0.0/8"]), "items[0]"),
        (request("ok", &[" "]), "items[0]"),
    ] {
        assert!(
            matches!(lists::create(&store, &me, &bad), Err(ResponseError::Invalid { field: ref f, .. }) if f == field)
        );
    }
    let first = lists::create(&store, &me, &request("admins", &["nobody"])).expect("create");
    assert_eq!((first.current_version, first.num_items), (1, 1));
    // Posting the same name again replaces the items.
    let second = lists::create(
        &store,
        &me,
        &request("admins", &[&user.to_uppercase(), "svc-x"]),
    )
    .expect("replace");
    assert_eq!(
        (
            second.uuid.as_str(),
            second.current_version,
            second.num_items
        ),
        (first.uuid.as_str(), 2, 2)
    );
    let got = lists::get(&store, "admins").expect("get");
    assert_eq!(got.customer_dataset_items.len(), 2);
    assert_eq!(
        got.customer_dataset_items[0].list_item.value,
        user.to_uppercase()
    );
    assert!(matches!(
        lists::get(&store, "nope"),
        Err(ResponseError::NotFound { .. })
    ));
    assert_eq!(audit_count(&store, &first.uuid), 2);
    // A network list matches source addresses inside it.
    let net = match source.parse::<std::net::IpAddr>().expect("an IP source") {
        std::net::IpAddr::V4(v4) => format!("{}.{}.0.0/16", v4.octets()[0], v4.octets()[1]),
        std::net::IpAddr::V6(v6) => format!("{v6}/64"),
    };
    lists::create(&store, &me, &request("watched-nets", &[&net])).expect("networks");
    policies::create(&store, &me, &on_list).expect("now the list exists");
    let mut watch = policy("watched sources", 2, &["list:watched-nets", "!list:admins"]);
    watch.priority = 1;
    policies::create(&store, &me, &watch).expect("watch");
    forget_alerts(&store);
    analyse(&store);
    let in_net = |a: &ueba_core::response::alerts::Alert| {
        let ip: std::net::IpAddr = a.related_entities.sources[0].parse().expect("ip");
        net.parse::<ipnet::IpNet>().expect("net").contains(&ip)
    };
    for a in alerts::query(&store, &all_statuses()).expect("alerts") {
        let on_admins = a.related_entities.users[0].eq_ignore_ascii_case(&user);
        let expected = if in_net(&a) && !on_admins {
            2
        } else if on_admins {
            1
        } else {
            0
        };
        assert_eq!(
            a.policy_action_taken, expected,
            "{} {}",
            a.related_entities.users[0], a.related_entities.sources[0]
        );
    }
}

#[test]
fn group_terms_see_the_groups_of_the_connection_user() {
    use ueba_core::response::catalog::{self, directory};
    let (_dir, store) = analysed_store();
    let me = analyst();
    let target = alerts::query(&store, &all_statuses()).expect("alerts")[0].clone();
    let user = target.related_entities.users[0].clone();
    let of_user = |found: &[ueba_core::response::alerts::Alert]| {
        found
            .iter()
            .filter(|a| a.related_entities.users[0] == user)
            .count()
    };
    let mine = of_user(&alerts::query(&store, &all_statuses()).expect("alerts"));
    // An analyst's group, empty at first: a group: term matches nobody.
    let groups = catalog::kind("group").expect("kind");
    let night = catalog::create(
        &store,
        &me,
        groups,
        None,
        &serde_json::json!({"name": "night-shift", "description": "on call at night"}),
    )
    .expect("group");
    let on_group = policy("night shift", 3, &["group:night-shift"]);
    assert!(policies::preview(&store, &on_group, 1000)
        .expect("preview")
        .is_empty());
    // The connection user appears as a Lacework user; once a member, their alerts match.
    let member = directory::discovered_user_uuid(&user);
    let group_uuid = night["uuid"].as_str().expect("uuid");
    let after = directory::set_member(&store, &me, group_uuid, &member, true).expect("member");
    assert_eq!(after["user_count"], 1);
    let matched = policies::preview(&store, &on_group, 1000).expect("preview");
    assert_eq!(matched.len(), mine);
    assert_eq!(of_user(&matched), mine);
    // Role groups come from the connections: the user's role names a group they are in.
    let roles: Vec<String> = store
        .read(|c| {
            c.query_row(
                "SELECT user_roles FROM connections WHERE user = ?1 AND user_roles <> '' LIMIT 1",
                [&user],
                |r| r.get::<_, String>(0),
            )
            .map_err(ueba_core::StoreError::from)
        })
        .map(|r| r.split(';').map(str::to_owned).collect())
        .unwrap_or_default();
    if let Some(role) = roles.first() {
        let by_role = policies::preview(
            &store,
            &policy("role group", 3, &[&format!("group:{role}")]),
            1000,
        )
        .expect("preview");
        assert!(of_user(&by_role) > 0, "group:{role} matches {user}");
    }
    // Removing the member is audited and ends the match.
    directory::set_member(&store, &me, group_uuid, &member, false).expect("remove");
    assert!(policies::preview(&store, &on_group, 1000)
        .expect("preview")
        .is_empty());
    assert_eq!(audit_count(&store, group_uuid), 3);
}

#[test]
fn token_and_workflow_updates_refuse_bad_fields_and_change_nothing() {
    use ueba_core::auth::Role;
    use ueba_core::response::tokens::{self, CreateTokenRequest, UpdateTokenRequest};
    let (_dir, store) = analysed_store();
    let me = analyst();
    let token = tokens::create(
        &store,
        &me,
        Role::Admin,
        &CreateTokenRequest {
            name: "ci".into(),
            ..CreateTokenRequest::default()
        },
    )
    .expect("token");
    let refused = |request: UpdateTokenRequest, field: &str| match tokens::update(
        &store,
        &me,
        Role::Admin,
        &token.uuid,
        &request,
    ) {
        Err(ResponseError::Invalid { field: f, reason }) => {
            assert_eq!(f, field, "{reason}");
        }
        other => panic!("{field}: {other:?}"),
    };
    refused(
        UpdateTokenRequest {
            role: Some(99),
            ..UpdateTokenRequest::default()
        },
        "role",
    );
    refused(
        UpdateTokenRequest {
            status: Some(7),
            ..UpdateTokenRequest::default()
        },
        "status",
    );
    refused(
        UpdateTokenRequest {
            attributes_to_delete: vec!["name".into()],
            ..UpdateTokenRequest::default()
        },
        "attributes_to_delete",
    );
    refused(
        UpdateTokenRequest {
            name: Some("  ".into()),
            ..UpdateTokenRequest::default()
        },
        "name",
    );
    let listed = tokens::list(&store, &me, Role::Admin, true).expect("list");
    let kept = listed.iter().find(|t| t.uuid == token.uuid).expect("token");
    assert_eq!(
        (kept.name.as_str(), kept.role, kept.status),
        ("ci", token.role, token.status)
    );
    assert_eq!(audit_count(&store, &token.uuid), 1, "only the creation");

    let flow = workflows::create(&store, &me, &workflow("approve blocks")).expect("workflow");
    let mut fields = serde_json::Map::new();
    fields.insert("colour".into(), serde_json::json!("red"));
    assert!(matches!(
        workflows::update(&store, &me, &flow.uuid, &fields),
        Err(ResponseError::Invalid { ref field, ref reason })
            if field.starts_with("workflow") && format!("{field} {reason}").contains("colour")
    ));
    let mut fields = serde_json::Map::new();
    fields.insert("approval_ttl_sec".into(), serde_json::json!("a day"));
    assert!(matches!(
        workflows::update(&store, &me, &flow.uuid, &fields),
        Err(ResponseError::Invalid { ref field, .. }) if field == "workflow.approval_ttl_sec"
    ));
    assert_eq!(workflows::get(&store, &flow.uuid).expect("get"), flow);
}

#[test]
fn a_policy_may_name_its_workflow() {
    let (_dir, store) = analysed_store();
    let me = analyst();
    let ask = workflows::create(&store, &me, &workflow("ask-the-owner")).expect("workflow");
    let named = Policy {
        workflow_name: Some("ask-the-owner".into()),
        ..policy("by name", action::RUN_WORKFLOW, &["user:alice"])
    };
    let created = policies::create(&store, &me, &named).expect("create by name");
    assert_eq!(created.workflow_uuid, ask.uuid);
    assert_eq!(created.workflow_name, None, "the name is not stored");
    assert_eq!(policies::get(&store, &created.uuid).expect("get"), created);

    // A given uuid wins over the name, as the vendor documents.
    let other = workflows::create(&store, &me, &workflow("other")).expect("workflow");
    let both = Policy {
        workflow_uuid: other.uuid.clone(),
        ..named.clone()
    };
    assert_eq!(
        policies::create(&store, &me, &both)
            .expect("create")
            .workflow_uuid,
        other.uuid
    );

    // No workflow of that name, or two: refused by field, nothing stored.
    workflows::create(&store, &me, &workflow("other")).expect("a second 'other'");
    let before = policies::list(&store).expect("list").len();
    for (name, mention) in [("nobody", "no workflow"), ("other", "2 workflows")] {
        let p = Policy {
            workflow_name: Some(name.into()),
            ..named.clone()
        };
        match policies::create(&store, &me, &p) {
            Err(ResponseError::Invalid { field, reason }) => {
                assert_eq!(field, "workflow_name");
                assert!(reason.contains(mention), "{reason}");
            }
            other => panic!("expected a refusal of workflow_name, got {other:?}"),
        }
    }
    assert_eq!(policies::list(&store).expect("list").len(), before);
}

#[test]
fn a_workflow_gates_the_isolation_of_the_host() {
    let (_dir, store) = analysed_store();
    let me = analyst();
    let mut gate = workflow("isolate on approval");
    gate.answers[0].actions = vec![WorkflowAction {
        run: action_run::ISOLATE_DEVICE,
        ..Default::default()
    }];
    let w = workflows::create(&store, &me, &gate).expect("workflow");
    ask_about_a_user(&store, &w);

    let runs = workflows::query_runs(
        &store,
        &RunFilter {
            status: Some("PENDING".into()),
            workflow_uuid: Some(w.uuid.clone()),
            ..RunFilter::default()
        },
    )
    .expect("runs");
    assert!(
        runs.len() >= 2,
        "two alerts of the user to answer differently"
    );
    let alert_of = |r: &WorkflowRun| r.details["alert_uuid"].clone();
    // Waiting for the answer: nothing is isolated yet.
    for r in &runs {
        assert!(sensors::actions::of_alert(&store, &alert_of(r))
            .expect("actions")
            .is_empty());
    }
    // Denied: nothing happens; approved: the host's sensor is isolated for that alert.
    workflows::answer(&store, &me, "admin", &runs[1].uuid, &answer("1", "not now")).expect("deny");
    assert!(sensors::actions::of_alert(&store, &alert_of(&runs[1]))
        .expect("actions")
        .is_empty());
    workflows::answer(&store, &me, "admin", &runs[0].uuid, &answer("0", "go")).expect("approve");
    let started = sensors::actions::of_alert(&store, &alert_of(&runs[0])).expect("actions");
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].action.action_type, "Isolate");
    let host = alerts::get(&store, &alert_of(&runs[0]))
        .expect("alert")
        .related_entities
        .devices[0]
        .clone();
    assert_eq!(started[0].probes[0].machine_name, host);
}
