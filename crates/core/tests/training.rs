//! Training, analysis and scoring on demo data: the lifecycle rules a user relies on.

use std::sync::{mpsc, Arc, Mutex};

use ueba_core::demo::{generate_into_store, DemoConfig};
use ueba_core::ueba::datasets::{self, ResultView, TrainingStatus};
use ueba_core::ueba::scoring::{self, AnomalyFilter, ScoreSource};
use ueba_core::ueba::settings::{self, AnomalyAction, AnomalySettings};
use ueba_core::ueba::training::{self, TrainOptions, TrainingError};
use ueba_core::ueba::{analysis, status, DatasetInput, TimeRangeSettings};
use ueba_core::{CancelToken, Store};

const DAY: i64 = 86_400_000;
/// End of the demo span (2025-01-01T00:00Z).
const END: i64 = 1_735_689_600_000;

/// 30 days of demo traffic; attacks only in the last 7 days.
fn demo_store(connections: u64) -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("w.db")).expect("open");
    let config = DemoConfig {
        connections,
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
    (dir, Arc::new(store))
}

/// A dataset over the attack-free first 23 days.
fn training_window(store: &Store) -> String {
    let input = DatasetInput {
        time_range_settings: TimeRangeSettings {
            start: Some(END - 30 * DAY),
            end: Some(END - 7 * DAY),
            exclude: vec![],
        },
        comment: Some("first three weeks".into()),
        use_for_inference_once_trained: false,
    };
    datasets::create(store, &input, Some("tester")).expect("create")
}

fn train(store: &Store, id: &str, options: &TrainOptions) -> training::TrainingOutcome {
    training::train_blocking(store, id, options, &|_| {}, &CancelToken::new()).expect("train")
}

#[test]
fn training_stores_real_results_and_weights() {
    let (_dir, store) = demo_store(30_000);
    let id = training_window(&store);
    let progress = Mutex::new(Vec::new());
    let outcome = training::train_blocking(
        &store,
        &id,
        &TrainOptions::default(),
        &|p| progress.lock().expect("lock").push(p.clone()),
        &CancelToken::new(),
    )
    .expect("train");
    assert_eq!(outcome.status, TrainingStatus::Success, "{outcome:?}");
    assert!(outcome.num_connections > 15_000);

    let progress = progress.into_inner().expect("lock");
    assert!(progress.len() > 10, "progress is reported");
    assert!(progress
        .windows(2)
        .all(|w| w[1].fraction + 1e-9 >= w[0].fraction));

    let view = ResultView {
        logs: true,
        bin_count: 20,
    };
    let dataset = datasets::get(&store, &id, view).expect("get");
    assert!(dataset.last_training.is_some());
    assert_eq!(
        dataset.training_results.len(),
        4,
        "one result per feature config"
    );
    for r in &dataset.training_results {
        assert_eq!(r.status, TrainingStatus::Success);
        assert_eq!(r.num_connections, Some(outcome.num_connections));
        let (mean, std) = (r.mean.expect("mean"), r.std.expect("std"));
        assert!(mean.is_finite() && std > 0.0);
        assert!(r.quantile_999 >= r.quantile_99);
        assert!(!r.training_dataset_loss.is_empty());
        assert_eq!(
            r.training_dataset_loss.len(),
            r.validation_dataset_loss.len()
        );
        let h = r.validation_dataset_histogram.as_ref().expect("histogram");
        assert_eq!(h.hist.len(), 20);
        assert_eq!(h.bin_edges.len(), 21);
        assert_eq!(
            h.hist.iter().sum::<u64>(),
            (outcome.num_connections as f64 * 0.2).round() as u64,
            "the histogram holds the validation scores"
        );
        let log = r.training_log.as_deref().expect("log when asked");
        assert!(log.contains(&r.feature_config_name), "{log}");
    }
    // Logs only when asked for.
    let plain = datasets::get(&store, &id, ResultView::default()).expect("get");
    assert!(plain
        .training_results
        .iter()
        .all(|r| r.training_log.is_none()));
    assert!(plain.training_results.iter().all(|r| r
        .validation_dataset_histogram
        .as_ref()
        .is_some_and(|h| h.hist.len() == 50)));
    assert!(scoring::load_model(&store, &id).is_ok());
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let (_dir, store) = demo_store(12_000);
    let a = training_window(&store);
    let b = training_window(&store);
    train(&store, &a, &TrainOptions::default());
    train(&store, &b, &TrainOptions::default());
    let strip = |id: &str| {
        datasets::get(&store, id, ResultView::default())
            .expect("get")
            .training_results
            .into_iter()
            .map(|mut r| {
                r.created = None;
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&a), strip(&b));
    let scores = |id: &str| {
        let mut out = Vec::new();
        scoring::score_to_csv(
            &store,
            id,
            &ScoreSource::Range {
                from: None,
                to: None,
            },
            None,
            &mut out,
            "memory",
        )
        .expect("score");
        out
    };
    assert_eq!(scores(&a), scores(&b), "same seed, same scores");
}

#[test]
fn too_few_connections_fail_with_a_clear_error() {
    let (_dir, store) = demo_store(3_000);
    let id = training_window(&store);
    let outcome = train(&store, &id, &TrainOptions::default());
    assert_eq!(outcome.status, TrainingStatus::Failure);
    assert_eq!(outcome.error_code.as_deref(), Some("NOT_ENOUGH_DATA"));
    let details = outcome.error_details.expect("details");
    assert!(details.contains("at least 5000"), "{details}");
    let d = datasets::get(&store, &id, ResultView::default()).expect("get");
    assert!(d
        .training_results
        .iter()
        .all(|r| r.status == TrainingStatus::Failure
            && r.error_code.as_deref() == Some("NOT_ENOUGH_DATA")));
    // The minimum is configurable.
    let ok = train(
        &store,
        &id,
        &TrainOptions {
            min_connections: 1_000,
            ..TrainOptions::default()
        },
    );
    assert_eq!(ok.status, TrainingStatus::Success, "{ok:?}");
}

#[test]
fn a_second_training_is_refused_while_one_runs_and_cancel_ends_it() {
    let (_dir, store) = demo_store(12_000);
    let id = training_window(&store);
    let (reached, wait_reached) = mpsc::channel::<()>();
    let (release, hold) = mpsc::channel::<()>();
    let hold = Mutex::new(Some(hold));
    let reached = Mutex::new(Some(reached));
    let run = training::start(
        Arc::clone(&store),
        &id,
        TrainOptions::default(),
        Box::new(move |_| {
            // Hold the first progress report until the test has tried a second training.
            if let Some(tx) = reached.lock().expect("lock").take() {
                let _ = tx.send(());
                if let Some(rx) = hold.lock().expect("lock").take() {
                    let _ = rx.recv();
                }
            }
        }),
    )
    .expect("start");
    wait_reached.recv().expect("training started");
    assert_eq!(
        training::running(&store).expect("running").as_deref(),
        Some(id.as_str())
    );
    let second = training::train_blocking(
        &store,
        &id,
        &TrainOptions::default(),
        &|_| {},
        &CancelToken::new(),
    );
    match second {
        Err(e @ TrainingError::AlreadyRunning(_)) => {
            assert!(e.to_string().contains("training is already on-going"))
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        status::internal(&store).expect("status").training_status,
        "TRAINING"
    );
    run.cancel_token().cancel();
    release.send(()).expect("release");
    let outcome = run.wait();
    assert_eq!(outcome.status, TrainingStatus::Failure);
    assert_eq!(outcome.error_code.as_deref(), Some("CANCELLED"));
    assert_eq!(training::running(&store).expect("running"), None);
    // Once it has ended, training is possible again.
    assert_eq!(
        train(&store, &id, &TrainOptions::default()).status,
        TrainingStatus::Success
    );
}

#[test]
fn a_training_orphaned_by_a_dead_process_is_marked_interrupted() {
    let (_dir, store) = demo_store(12_000);
    let id = training_window(&store);
    // What a process killed mid-training leaves behind: TRAINING rows and an old lease.
    store
        .write(|c| {
            c.execute(
                "INSERT INTO training_results (id, dataset_id, feature_config_name, status, created)
                 VALUES ('orphan', ?1, 'time_of_use', 'TRAINING', 1)",
                [&id],
            )?;
            c.execute(
                "INSERT INTO settings (key, value) VALUES ('training_lease', ?1)",
                [format!(
                    r#"{{"dataset_id":"{id}","run":1,"heartbeat_ms":1}}"#
                )],
            )
        })
        .expect("orphan");
    assert_eq!(training::running(&store).expect("running"), None);
    train(&store, &id, &TrainOptions::default());
    let d = datasets::get(&store, &id, ResultView::default()).expect("get");
    let orphan = d
        .training_results
        .iter()
        .find(|r| r.created == Some(1))
        .expect("orphan row kept");
    assert_eq!(orphan.status, TrainingStatus::Failure);
    assert_eq!(orphan.error_code.as_deref(), Some("INTERRUPTED"));
}

#[test]
fn updating_a_trained_dataset_clears_its_history_and_weights() {
    let (_dir, store) = demo_store(12_000);
    let id = training_window(&store);
    train(&store, &id, &TrainOptions::default());
    let input = DatasetInput {
        time_range_settings: TimeRangeSettings {
            start: Some(END - 30 * DAY),
            end: Some(END - 8 * DAY),
            exclude: vec![],
        },
        ..DatasetInput::default()
    };
    let d = datasets::update(&store, &id, &input, None, ResultView::default()).expect("update");
    assert!(d.training_results.is_empty());
    assert!(d.last_training.is_none());
    assert!(matches!(
        scoring::load_model(&store, &id),
        Err(scoring::ScoringError::NotTrained(_))
    ));
    assert!(matches!(
        analysis::start(&store, &id),
        Err(analysis::AnalysisError::NotTrained(_))
    ));
}

#[test]
fn analysis_scores_arrivals_and_rescoring_replaces_a_range() {
    let (dir, store) = demo_store(30_000);
    let id = training_window(&store);
    // Untrained datasets are refused, with the reason.
    let refused = analysis::start(&store, &id).expect_err("untrained");
    assert!(
        refused.to_string().contains("has not been trained"),
        "{refused}"
    );

    let outcome = train(
        &store,
        &id,
        &TrainOptions {
            set_active_after_training: true,
            ..TrainOptions::default()
        },
    );
    assert!(
        outcome.activated,
        "set_active_after_training starts analysis"
    );
    let state = analysis::state(&store).expect("state");
    assert_eq!(state.dataset_id.as_deref(), Some(id.as_str()));
    assert!(
        datasets::get(&store, &id, ResultView::default())
            .expect("get")
            .is_active
    );
    // The active dataset can be neither deleted nor updated.
    assert!(datasets::delete(&store, &id).is_err());

    settings::save_anomaly_settings(
        &store,
        &AnomalySettings {
            action: AnomalyAction::Block,
            threshold: 0.5,
        },
    )
    .expect("settings");
    let report = scoring::analyze_range(&store, Some(END - 7 * DAY), Some(END)).expect("rescore");
    assert!(report.scored > 5_000);
    assert!(report.anomalies > 0);
    assert_eq!(
        report.blocked, report.anomalies,
        "BLOCK marks every anomaly"
    );
    // About rate(0.5) = 1 % of normal traffic plus the attacks; far from everything.
    assert!(
        (report.anomalies as f64) < 0.05 * report.scored as f64,
        "{report:?}"
    );
    let listed = scoring::list_anomalies(
        &store,
        &AnomalyFilter {
            limit: Some(10_000),
            ..AnomalyFilter::default()
        },
    )
    .expect("list");
    assert_eq!(listed.len() as u64, report.anomalies);
    let a = &listed[0];
    assert!(a.blocked && a.action == AnomalyAction::Block);
    assert_eq!(a.feature_scores.len(), 4);
    assert!(a.feature_scores[0].normalized >= a.feature_scores[3].normalized);
    assert!(
        listed.iter().any(|a| !a.explanation.is_empty()),
        "anomalies are explained in words"
    );
    // Rescoring the same range replaces, never duplicates.
    let again = scoring::analyze_range(&store, Some(END - 7 * DAY), Some(END)).expect("rescore");
    assert_eq!(again.anomalies, report.anomalies);
    assert_eq!(
        scoring::count_anomalies(&store).expect("count").0,
        report.anomalies
    );

    // A connection imported while analysis runs is scored on arrival.
    let file = dir.path().join("new.csv");
    std::fs::write(
        &file,
        format!(
            "id,connected,user,type,target_host,target_host_account,remote_address,bytes_in,bytes_out,duration\n\
             arrival-1,{},intruder.unknown,RDP,never-seen-host.example,root,203.0.113.99,900000000,1,30000\n",
            END + 3 * 3_600_000
        ),
    )
    .expect("write");
    ueba_core::ingest::import_files(
        &store,
        &[file],
        &Default::default(),
        &|_| {},
        &CancelToken::new(),
    )
    .expect("import");
    let arrived = scoring::list_anomalies(
        &store,
        &AnomalyFilter {
            user: Some("intruder.unknown".into()),
            ..AnomalyFilter::default()
        },
    )
    .expect("list");
    assert_eq!(arrived.len(), 1, "scored as it arrived");
    assert!(arrived[0].score > 0.99);

    // Stopping ends scoring on arrival and releases the dataset.
    analysis::stop(&store).expect("stop");
    assert!(matches!(
        scoring::analyze_range(&store, None, None),
        Err(scoring::ScoringError::NotAnalyzing)
    ));
    datasets::delete(&store, &id).expect("deletable once released");
}

#[test]
fn evaluation_and_batch_scores_use_labels_only_for_measuring() {
    let (dir, store) = demo_store(30_000);
    let id = training_window(&store);
    train(&store, &id, &TrainOptions::default());
    let eval = scoring::evaluate(
        &store,
        &id,
        &ScoreSource::Range {
            from: Some(END - 7 * DAY),
            to: Some(END),
        },
    )
    .expect("evaluate");
    assert!(eval.attacks > 10, "{eval:?}");
    assert!(eval.roc_auc > 0.8, "{eval:?}");
    assert!(eval.pr_auc > 0.2, "{eval:?}");
    assert!(!eval.scenarios.is_empty());
    assert!(eval.scenarios.iter().all(|s| s.scenario != "normal"));

    let mut out = Vec::new();
    let summary = scoring::score_to_csv(
        &store,
        &id,
        &ScoreSource::Range {
            from: Some(END - 7 * DAY),
            to: Some(END),
        },
        Some(0.5),
        &mut out,
        "memory",
    )
    .expect("score");
    let text = String::from_utf8(out).expect("utf8");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("id,score,anomalous,feature_config,reasons")
    );
    assert_eq!(lines.count() as u64, summary.scored);
    assert_eq!(summary.scored, eval.connections);
    assert!(summary.anomalous > 0);

    // A file can be scored without storing it; a bad row names file, line and field.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "connected,user,type,target_host,remote_address\n1735689600000,a,SSH,h,10.0.0.1\nnot-a-time,b,SSH,h,10.0.0.1\n",
    )
    .expect("write");
    let err = scoring::score_to_csv(
        &store,
        &id,
        &ScoreSource::File {
            path: bad.clone(),
            format: None,
        },
        None,
        &mut Vec::new(),
        "memory",
    )
    .expect_err("bad file");
    let msg = err.to_string();
    assert!(
        msg.contains("bad.csv") && msg.contains("line 3") && msg.contains("connected"),
        "{msg}"
    );
}

#[test]
fn flag_preview_counts_fall_as_the_threshold_loosens() {
    let (_dir, store) = demo_store(12_000);
    let id = training_window(&store);
    train(&store, &id, &TrainOptions::default());
    let p = scoring::flag_preview(&store, &id, Some(END - 7 * DAY), Some(END)).expect("preview");
    assert_eq!(p.flagged.len(), 101);
    assert!(
        p.flagged.windows(2).all(|w| w[0] <= w[1]),
        "t = 1 flags the most"
    );
    assert!(p.flagged[100] > p.flagged[0]);
    assert!(p.flagged[100] <= p.connections);
}

/// The scheduling policy of the calling thread (Linux: field 41 of /proc/thread-self/stat).
#[cfg(target_os = "linux")]
fn thread_policy() -> i64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("stat");
    let after_name = &stat[stat.rfind(')').expect("name") + 1..];
    // Fields are numbered from 1 and this slice starts at field 3.
    after_name
        .split_whitespace()
        .nth(41 - 3)
        .and_then(|n| n.parse().ok())
        .expect("policy field")
}

/// Linux's SCHED_IDLE.
#[cfg(target_os = "linux")]
const SCHED_IDLE: i64 = 5;

/// A background training must not take CPU from the listener or the window: loading and
/// fitting (the run's fitting thread and the workers it spawns) are in the idle scheduling
/// class, while saving, which holds the database's write lock, keeps the normal class.
#[cfg(target_os = "linux")]
#[test]
fn background_training_runs_in_the_idle_scheduling_class() {
    use ueba_core::ueba::training::TrainingPhase;
    let (_dir, store) = demo_store(12_000);
    let id = training_window(&store);
    let caller = thread_policy();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let run = training::start(
        Arc::clone(&store),
        &id,
        TrainOptions::default(),
        Box::new(move |p| {
            let name = std::thread::current().name().map(str::to_owned);
            record
                .lock()
                .expect("lock")
                .push((p.phase, name, thread_policy()));
        }),
    )
    .expect("start");
    assert_eq!(run.wait().status, TrainingStatus::Success);
    let seen = seen.lock().expect("lock");
    let (work, saving): (Vec<_>, Vec<_>) = seen
        .iter()
        .partition(|(phase, _, _)| *phase != TrainingPhase::Saving);
    assert!(!work.is_empty() && !saving.is_empty(), "{seen:?}");
    assert!(
        work.iter().all(|(_, _, policy)| *policy == SCHED_IDLE),
        "loading and fitting ran with policies {work:?}"
    );
    // Both the fitting thread and the workers it spawned reported.
    assert!(work
        .iter()
        .any(|(_, name, _)| name.as_deref() == Some("ueba-training-fit")));
    assert!(work.iter().any(|(_, name, _)| name.is_none()));
    assert!(
        saving
            .iter()
            .all(|(_, name, policy)| *policy == caller && name.as_deref() == Some("ueba-training")),
        "saving ran as {saving:?}"
    );
    // The caller's own class is untouched.
    assert_eq!(thread_policy(), caller);
}

/// While this process answers requests (foreground work), a background training waits at its
/// next pause point, and it goes on once the work is over.
#[test]
fn background_training_waits_while_foreground_work_runs() {
    let (_dir, store) = demo_store(12_000);
    let id = training_window(&store);
    let reports = Arc::new(Mutex::new(0usize));
    let count = Arc::clone(&reports);
    let request = ueba_core::foreground::begin();
    let run = training::start(
        Arc::clone(&store),
        &id,
        TrainOptions::default(),
        Box::new(move |_| *count.lock().expect("lock") += 1),
    )
    .expect("start");
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert_eq!(
        *reports.lock().expect("lock"),
        1,
        "only the first report before the pause"
    );
    assert!(!run.is_finished());
    drop(request);
    assert_eq!(run.wait().status, TrainingStatus::Success);
    assert!(*reports.lock().expect("lock") > 1);
}
