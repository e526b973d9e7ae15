//! Datasets and UEBA settings: lifecycle rules, connection counts with exclusions, wire format.

use ueba_core::ingest::parse_datetime;
use ueba_core::ueba::datasets::{self, histogram, DatasetError, ResultView};
use ueba_core::ueba::settings::{self, AnomalyAction, AnomalySettings, UebaConfiguration};
use ueba_core::ueba::{DatasetInput, TimeRange, TimeRangeSettings};
use ueba_core::{CancelToken, Store};

fn ms(t: &str) -> i64 {
    parse_datetime(t).expect("time")
}

fn store_with_hours(hours: i64) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("w.db")).expect("open");
    // One connection per hour from 2026-03-01T00:00Z.
    let mut csv = String::from("connected,user,type,target_host,remote_address\n");
    for h in 0..hours {
        csv.push_str(&format!(
            "{},u{},SSH,h,10.0.0.1\n",
            ms("2026-03-01T00:00:00Z") + h * 3_600_000,
            h
        ));
    }
    let path = dir.path().join("c.csv");
    std::fs::write(&path, csv).expect("write");
    ueba_core::ingest::import_files(
        &store,
        &[path],
        &Default::default(),
        &|_| {},
        &CancelToken::new(),
    )
    .expect("import");
    (dir, store)
}

fn window(start: &str, end: &str, exclude: &[(&str, &str)]) -> TimeRangeSettings {
    TimeRangeSettings {
        start: Some(ms(start)),
        end: Some(ms(end)),
        exclude: exclude
            .iter()
            .map(|(s, e)| TimeRange {
                start: Some(ms(s)),
                end: Some(ms(e)),
            })
            .collect(),
    }
}

#[test]
fn connection_counts_honour_ranges_and_merged_exclusions() {
    let (_dir, store) = store_with_hours(240); // ten days
    assert_eq!(
        datasets::count_connections(&store, &TimeRangeSettings::default()).expect("all"),
        240
    );
    let day2 = window("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", &[]);
    assert_eq!(datasets::count_connections(&store, &day2).expect("day"), 24);
    // Overlapping and out-of-window exclusions are merged and clipped: 06:00–12:00 and 10:00–14:00
    // remove 8 hours; a range on another day removes nothing.
    let holes = window(
        "2026-03-02T00:00:00Z",
        "2026-03-03T00:00:00Z",
        &[
            ("2026-03-02T06:00:00Z", "2026-03-02T12:00:00Z"),
            ("2026-03-02T10:00:00Z", "2026-03-02T14:00:00Z"),
            ("2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z"),
        ],
    );
    assert_eq!(
        datasets::count_connections(&store, &holes).expect("holes"),
        16
    );
    let bad = window("2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z", &[]);
    let err = datasets::count_connections(&store, &bad).expect_err("reversed");
    assert!(
        err.to_string().starts_with("time_range_settings.end"),
        "{err}"
    );
}

#[test]
fn create_get_list_update_delete() {
    let (_dir, store) = store_with_hours(24);
    let input = DatasetInput {
        time_range_settings: window("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", &[]),
        comment: Some("first day".into()),
        use_for_inference_once_trained: true,
    };
    let id = datasets::create(&store, &input, Some("alice")).expect("create");
    let d = datasets::get(&store, &id, ResultView::default()).expect("get");
    assert_eq!(
        (
            d.comment.as_deref(),
            d.is_active,
            d.use_for_inference_once_trained,
            d.created_by.as_deref()
        ),
        (Some("first day"), false, true, Some("alice"))
    );
    assert_eq!(
        datasets::list(&store, ResultView::default())
            .expect("list")
            .len(),
        1
    );

    // Simulate a finished training: a result row and stored weights.
    store.write(|c| {
        c.execute("INSERT INTO training_results (id, dataset_id, feature_config_name, status, created) VALUES ('r1', ?1, 'volume', 'SUCCESS', 0)", [&id])?;
        c.execute("INSERT INTO model_weights (dataset_id, format, weights, created) VALUES (?1, 'test', x'00', 0)", [&id])
    }).expect("seed results");
    assert_eq!(
        datasets::get(&store, &id, ResultView::default())
            .expect("get")
            .training_results
            .len(),
        1
    );

    let changed = DatasetInput {
        comment: Some("two days".into()),
        time_range_settings: window("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z", &[]),
        ..input.clone()
    };
    let d = datasets::update(&store, &id, &changed, Some("bob"), ResultView::default())
        .expect("update");
    assert!(
        d.training_results.is_empty(),
        "update empties the training history"
    );
    assert_eq!(d.updated_by.as_deref(), Some("bob"));
    let weights: i64 = store
        .write(|c| c.query_row("SELECT count(*) FROM model_weights", [], |r| r.get(0)))
        .expect("count");
    assert_eq!(weights, 0, "update deletes trained weights");

    datasets::delete(&store, &id).expect("delete");
    assert!(matches!(
        datasets::get(&store, &id, ResultView::default()),
        Err(DatasetError::NotFound(_))
    ));
    assert!(matches!(
        datasets::delete(&store, &id),
        Err(DatasetError::NotFound(_))
    ));
}

#[test]
fn an_active_dataset_can_be_neither_updated_nor_deleted() {
    let (_dir, store) = store_with_hours(24);
    let input = DatasetInput {
        time_range_settings: TimeRangeSettings::default(),
        ..Default::default()
    };
    let id = datasets::create(&store, &input, None).expect("create");
    store
        .write(|c| c.execute("UPDATE datasets SET is_active = 1 WHERE id = ?1", [&id]))
        .expect("activate");
    let err =
        datasets::update(&store, &id, &input, None, ResultView::default()).expect_err("active");
    assert!(matches!(err, DatasetError::Active(_)), "{err}");
    assert!(matches!(
        datasets::delete(&store, &id),
        Err(DatasetError::Active(_))
    ));
    assert!(datasets::get(&store, &id, ResultView::default()).is_ok());
    // Only one dataset can be active at a time.
    let other = datasets::create(&store, &input, None).expect("create");
    assert!(store
        .write(|c| c.execute("UPDATE datasets SET is_active = 1 WHERE id = ?1", [&other]))
        .is_err());
}

#[test]
fn validation_names_the_property() {
    let (_dir, store) = store_with_hours(1);
    let mut input = DatasetInput::default();
    input.time_range_settings.exclude.push(TimeRange {
        start: Some(ms("2026-03-02T00:00:00Z")),
        end: None,
    });
    let err = datasets::create(&store, &input, None).expect_err("half-open exclude");
    assert!(
        err.to_string()
            .starts_with("time_range_settings.exclude[0]"),
        "{err}"
    );
    input.time_range_settings.exclude = vec![TimeRange {
        start: Some(ms("2026-03-02T00:00:00Z")),
        end: Some(ms("2026-03-01T00:00:00Z")),
    }];
    let err = datasets::create(&store, &input, None).expect_err("reversed exclude");
    assert!(
        err.to_string()
            .starts_with("time_range_settings.exclude[0].end"),
        "{err}"
    );
}

#[test]
fn the_privx_dataset_document_is_read_and_written() {
    // The seed's full example: server-managed fields are accepted and ignored on input.
    let posted = r#"{"id":"5bf77342-221c-11ee-be56-0242ac120002","last_training":"2023-06-07T17:32:28Z","is_active":true,
        "use_for_inference_once_trained":true,"time_range_settings":{"start":"2023-06-07T17:32:28Z","end":"2023-06-08T17:32:28Z",
        "exclude":[{"start":"2023-06-07T18:00:00Z","end":"2023-06-07T19:00:00Z"}]},"training_results":[],"comment":"string",
        "created":"2023-06-07T17:32:28Z","created_by":"string","updated":"2023-06-07T17:32:28Z","updated_by":"string"}"#;
    let input: DatasetInput = serde_json::from_str(posted).expect("parse");
    assert_eq!(
        input.time_range_settings.start,
        Some(ms("2023-06-07T17:32:28Z"))
    );
    assert_eq!(input.time_range_settings.exclude.len(), 1);
    let (_dir, store) = store_with_hours(1);
    let id = datasets::create(&store, &input, None).expect("create");
    let out = serde_json::to_value(datasets::get(&store, &id, ResultView::default()).expect("get"))
        .expect("json");
    assert_eq!(
        out["time_range_settings"]["start"],
        "2023-06-07T17:32:28.000Z"
    );
    assert_eq!(out["is_active"], false, "a new dataset is never active");
    assert!(out["training_results"]
        .as_array()
        .is_some_and(|a| a.is_empty()));
}

#[test]
fn histograms_have_the_asked_bins() {
    let scores: Vec<f64> = (0..1000).map(|i| i as f64 / 10.0).collect();
    let h = histogram(&scores, 50);
    assert_eq!((h.hist.len(), h.bin_edges.len()), (50, 51));
    assert_eq!(h.hist.iter().sum::<u64>(), 1000);
    assert_eq!(h.bin_edges[0], 0.0);
    assert!((h.bin_edges[50] - 99.9).abs() < 1e-9);
}

#[test]
fn anomaly_settings_and_configuration_are_stored() {
    let (_dir, store) = store_with_hours(1);
    assert_eq!(
        settings::anomaly_settings(&store).expect("default"),
        AnomalySettings::default()
    );
    let strict = AnomalySettings {
        action: AnomalyAction::Block,
        threshold: 1.0,
    };
    settings::save_anomaly_settings(&store, &strict).expect("save");
    assert_eq!(settings::anomaly_settings(&store).expect("load"), strict);
    let err = settings::save_anomaly_settings(
        &store,
        &AnomalySettings {
            threshold: 1.5,
            ..strict
        },
    )
    .expect_err("range");
    assert!(err.to_string().starts_with("threshold"), "{err}");
    for (t, rate) in [(0.0, 0.001), (0.5, 0.01), (1.0, 0.1)] {
        let r = AnomalySettings {
            threshold: t,
            ..strict
        }
        .expected_flag_rate();
        assert!((r - rate).abs() < 1e-12, "{t}: {r}");
    }
    let config = UebaConfiguration {
        address: Some("https://ueba.local:8443".into()),
        trust_anchors: Some("-----BEGIN CERTIFICATE-----".into()),
    };
    settings::save_configuration(&store, &config).expect("save");
    assert_eq!(settings::configuration(&store).expect("load"), config);
    assert_eq!(
        serde_json::to_value(strict).expect("json")["action"],
        "BLOCK"
    );
}

mod analysis {
    use super::*;
    use ueba_core::ueba::analysis::{self, AnalysisError, InferenceStatus};

    fn record(store: &Store, id: &str, created: i64, status: &str, weights: bool) {
        store
            .write(|c| {
                c.execute(
                    "INSERT INTO training_results (id, dataset_id, feature_config_name, status, error_details, created)
                     VALUES (?1, ?2, 'volume', ?3, CASE WHEN ?3 = 'FAILURE' THEN 'too few connections' END, ?4)",
                    rusqlite::params![format!("{id}-{created}"), id, status, created],
                )?;
                if weights {
                    c.execute("INSERT OR REPLACE INTO model_weights (dataset_id, format, weights, created) VALUES (?1, 't', x'00', 0)", [id])?;
                }
                Ok::<_, rusqlite::Error>(())
            })
            .expect("record");
    }

    #[test]
    fn analysis_starts_only_on_a_finished_successful_training() {
        let (_dir, store) = store_with_hours(1);
        let input = DatasetInput::default();
        let id = datasets::create(&store, &input, None).expect("create");
        assert!(matches!(
            analysis::start(&store, "nope"),
            Err(AnalysisError::NotFound(_))
        ));
        assert!(matches!(
            analysis::start(&store, &id),
            Err(AnalysisError::NotTrained(_))
        ));
        record(&store, &id, 1, "TRAINING", false);
        let err = analysis::start(&store, &id).expect_err("running");
        assert!(matches!(err, AnalysisError::TrainingRunning(_)), "{err}");
        record(&store, &id, 2, "FAILURE", false);
        let err = analysis::start(&store, &id).expect_err("failed");
        assert!(err.to_string().contains("too few connections"), "{err}");
        record(&store, &id, 3, "SUCCESS", true);
        let state = analysis::start(&store, &id).expect("start");
        assert_eq!(
            (state.status, state.dataset_id.as_deref()),
            (InferenceStatus::Running, Some(id.as_str()))
        );
        assert!(
            datasets::get(&store, &id, ResultView::default())
                .expect("get")
                .is_active
        );
        assert_eq!(analysis::state(&store).expect("state"), state);

        // Starting with another trained dataset moves the active flag.
        let other = datasets::create(&store, &input, None).expect("create");
        record(&store, &other, 4, "SUCCESS", true);
        analysis::start(&store, &other).expect("switch");
        assert!(
            !datasets::get(&store, &id, ResultView::default())
                .expect("get")
                .is_active
        );
        assert!(matches!(
            datasets::delete(&store, &other),
            Err(DatasetError::Active(_))
        ));

        let stopped = analysis::stop(&store).expect("stop");
        assert_eq!(stopped.status, InferenceStatus::Stopped);
        datasets::delete(&store, &other).expect("deletable once analysis stopped");
    }

    #[test]
    fn status_reports_the_real_state() {
        use ueba_core::ueba::status;
        let (_dir, store) = store_with_hours(1);
        let s = status::service(&store).expect("status");
        assert_eq!(s.status, "WARNING");
        assert!(
            s.issues.iter().any(|i| i.code == "NO_TRAINED_MODEL"),
            "{:?}",
            s.issues
        );
        assert!(s
            .status_details
            .iter()
            .any(|d| d.k == "connections" && d.v == "1"));
        assert_eq!(
            status::service(&store).expect("again").app_id,
            s.app_id,
            "stable for the process"
        );
        let i = status::internal(&store).expect("internal");
        assert_eq!(
            (i.training_status.as_str(), i.inference_status),
            ("MODELS_MISSING", InferenceStatus::Stopped)
        );

        let id = datasets::create(&store, &DatasetInput::default(), None).expect("create");
        record(&store, &id, 1, "SUCCESS", true);
        analysis::start(&store, &id).expect("start");
        let i = status::internal(&store).expect("internal");
        assert_eq!(
            (i.training_status.as_str(), i.inference_status),
            ("MODELS_AVAILABLE", InferenceStatus::Running)
        );
        assert_eq!(i.dataset_id.as_deref(), Some(id.as_str()));
        assert_eq!(i.model_instance_status.len(), 1);
        assert_eq!(i.model_instance_status[0].status, "RUNNING");
        assert_eq!(status::service(&store).expect("status").status, "RUNNING");

        record(&store, &id, 2, "TRAINING", false);
        // A training counts as running while its process holds a live lease.
        let lease = format!(
            r#"{{"dataset_id":"{id}","run":2,"heartbeat_ms":{}}}"#,
            chrono::Utc::now().timestamp_millis()
        );
        store.set_setting("training_lease", &lease).expect("lease");
        assert_eq!(
            status::internal(&store).expect("internal").training_status,
            "RETRAINING"
        );
        assert_eq!(status::service(&store).expect("status").status, "PENDING");
    }
}
