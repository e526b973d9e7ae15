mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use common::*;
use ueba_analytics::*;

const TRAIN_N: usize = 30_000;

fn train_rows() -> &'static Vec<Row> {
    static R: OnceLock<Vec<Row>> = OnceLock::new();
    R.get_or_init(|| normal(TRAIN_N, 1, 0, 56))
}

fn trained(kind: ModelKind) -> &'static TrainedEnsemble {
    static G: OnceLock<TrainedEnsemble> = OnceLock::new();
    static P: OnceLock<TrainedEnsemble> = OnceLock::new();
    let cell = match kind {
        ModelKind::GaussianMixture => &G,
        ModelKind::Pca => &P,
    };
    cell.get_or_init(|| {
        let cfg = TrainConfig {
            model: kind,
            ..TrainConfig::default()
        };
        train(&inputs(train_rows()), &cfg, &|_| true).expect("training succeeds")
    })
}

/// Fresh normal traffic (later weeks) plus planted anomalies.
fn test_rows() -> &'static Vec<Row> {
    static R: OnceLock<Vec<Row>> = OnceLock::new();
    R.get_or_init(|| {
        let mut rows = normal(6_000, 2, 56, 14);
        rows.extend(anomalies(120, 3, 56, 14));
        rows
    })
}

#[test]
fn baseline_counts_and_unseen_entities() {
    let rows = train_rows();
    let ins = inputs(rows);
    let b = Baseline::fit(ins.iter());
    assert_eq!(b.population.total as usize, rows.len());
    assert_eq!(b.users.len(), USERS);
    let (p, known) = b.profile("nobody", false);
    assert!(!known);
    assert_eq!(p.total, b.population.total);
    // An unseen user, source, host and account: finite features from the population profile.
    let odd = ConnectionFeaturesInput {
        user: "nobody",
        remote_address: "198.51.100.9",
        target_host: "never-seen",
        target_host_account: Some("ghost"),
        conn_type: "VNC",
        connected_ms: START_MS,
        duration_s: None,
        bytes_in: None,
        bytes_out: Some(5),
        failed: false,
        authentication_method: None,
    };
    for fc in FeatureConfig::ALL {
        let m = fc.compute(&b, &[odd], false);
        assert_eq!(m.dim(), (1, fc.dim()));
        assert!(m.iter().all(|v| v.is_finite()), "{fc:?}: {m:?}");
    }
    let src = FeatureConfig::Source.compute(&b, &[odd], false);
    assert_eq!(src[[0, 4]], 1.0, "source is new");
    let acc = FeatureConfig::AccessPattern.compute(&b, &[odd], false);
    assert_eq!(
        (acc[[0, 3]], acc[[0, 4]]),
        (1.0, 1.0),
        "host and account are new"
    );
    // Rarity of something never seen exceeds the rarity of the user's usual source.
    let usual = rows[0].input();
    let u = FeatureConfig::Source.compute(&b, &[usual], false);
    assert!(src[[0, 2]] > u[[0, 2]]);
    // Leave-one-out: a user with a single training connection is treated as unseen.
    let single = [ConnectionFeaturesInput {
        user: "solo",
        ..usual
    }];
    let b1 = Baseline::fit(ins.iter().chain(single.iter()));
    assert!(!b1.profile("solo", true).1);
    assert!(b1.profile("solo", false).1);
    assert_eq!(subnet_of("203.0.113.7"), "203.0.113.0/24");
    assert_eq!(subnet_of("bastion.example"), "bastion.example");
    // The baseline serialises deterministically.
    let j1 = serde_json::to_string(&b).expect("json");
    let j2 = serde_json::to_string(&Baseline::fit(ins.iter())).expect("json");
    assert_eq!(j1, j2);
}

#[test]
fn feature_configs_shapes_are_finite() {
    let rows = &train_rows()[..2000];
    let ins = inputs(rows);
    let b = Baseline::fit(ins.iter());
    let names: Vec<&str> = FeatureConfig::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(names, ["time_of_use", "source", "access_pattern", "volume"]);
    for fc in FeatureConfig::ALL {
        for loo in [false, true] {
            let m = fc.compute(&b, &ins, loo);
            assert_eq!(m.dim(), (rows.len(), fc.feature_names().len()));
            assert!(m.iter().all(|v| v.is_finite()), "{fc:?} loo={loo}");
        }
    }
    // Volume is relative to the user's own baseline: a typical row sits near 0.
    let v = FeatureConfig::Volume.compute(&b, &ins, false);
    let mean_abs = v.iter().map(|x| x.abs()).sum::<f64>() / v.len() as f64;
    assert!(mean_abs < 1.5, "{mean_abs}");
}

fn labels(rows: &[Row]) -> Vec<bool> {
    rows.iter().map(|r| r.scenario != "normal").collect()
}

#[test]
fn both_families_detect_planted_anomalies() {
    let rows = test_rows();
    let ins = inputs(rows);
    for kind in [ModelKind::GaussianMixture, ModelKind::Pca] {
        let ens = trained(kind);
        let scores = ens.combined_values(&ins);
        let m = evaluate(&scores, &labels(rows));
        assert!(m.roc_auc > 0.9, "{kind:?}: {m:?}");
        assert!(m.pr_auc > 0.5, "{kind:?}: {m:?}");
    }
}

#[test]
fn losses_are_real_and_finite() {
    for kind in [ModelKind::GaussianMixture, ModelKind::Pca] {
        let ens = trained(kind);
        assert_eq!(ens.results.len(), 4);
        for r in &ens.results {
            assert!(!r.training_loss.is_empty(), "{}", r.name);
            assert_eq!(r.training_loss.len(), r.validation_loss.len());
            assert!(r
                .training_loss
                .iter()
                .chain(&r.validation_loss)
                .all(|v| v.is_finite()));
            assert_eq!(r.num_connections, TRAIN_N);
            assert!(r.quantile_999 >= r.quantile_99 && r.std > 0.0, "{r:?}");
            assert!(r.log.len() >= 4);
            let (first, last) = (r.training_loss[0], *r.training_loss.last().expect("loss"));
            // More PCA components never increase the error. EM on the regularised covariances
            // optimises a penalised objective, so the plain NLL may rise marginally.
            assert!(
                last <= first + 1e-2 * (1.0 + first.abs()),
                "{kind:?} {}: {first} -> {last}",
                r.name
            );
        }
    }
}

#[test]
fn histogram_has_bin_count_bins_over_validation() {
    let ens = trained(ModelKind::GaussianMixture);
    for r in &ens.results {
        assert_eq!(r.histogram.hist.len(), 50);
        assert_eq!(r.histogram.bin_edges.len(), 51);
        assert_eq!(
            r.histogram.hist.iter().sum::<u64>(),
            (TRAIN_N as f64 * 0.2) as u64
        );
    }
}

#[test]
fn deterministic_for_a_seed() {
    let rows = &train_rows()[..8000];
    let ins = inputs(rows);
    let cfg = TrainConfig {
        min_connections: 1000,
        max_iterations: 20,
        ..TrainConfig::default()
    };
    let a = train(&ins, &cfg, &|_| true).expect("train");
    let b = train(&ins, &cfg, &|_| true).expect("train");
    assert_eq!(a.to_json().expect("json"), b.to_json().expect("json"));
    let c = train(&ins, &TrainConfig { seed: 7, ..cfg }, &|_| true).expect("train");
    assert_ne!(a.results[0].validation_loss, c.results[0].validation_loss);
    // Serialised weights score identically.
    let restored = TrainedEnsemble::from_json(&a.to_json().expect("json")).expect("parse");
    let probe = inputs(&test_rows()[..500]);
    assert_eq!(a.score_values(&probe), restored.score_values(&probe));
}

#[test]
fn too_few_connections_is_a_clear_error() {
    let ins = inputs(&train_rows()[..1234]);
    let err = train(&ins, &TrainConfig::default(), &|_| true).expect_err("too few");
    assert_eq!(
        err.to_string(),
        "dataset has 1234 connections; training needs at least 5000"
    );
    assert_eq!(err.code(), "NOT_ENOUGH_DATA");
}

#[test]
fn progress_callback_can_cancel() {
    let ins = inputs(&train_rows()[..6000]);
    let calls = AtomicUsize::new(0);
    let err = train(&ins, &TrainConfig::default(), &|p| {
        assert_eq!(p.config_count, 4);
        calls.fetch_add(1, Ordering::SeqCst) + 1 < 5
    })
    .expect_err("cancelled");
    assert_eq!(err, TrainError::Cancelled);
    // Configs are fitted in parallel: a worker may report once more before it sees the stop.
    let n = calls.load(Ordering::SeqCst);
    assert!((5..=8).contains(&n), "{n} progress calls");
}

#[test]
fn threshold_mapping() {
    assert!((expected_flag_rate(0.0) - 0.001).abs() < 1e-12);
    assert!((expected_flag_rate(0.5) - 0.01).abs() < 1e-12);
    assert!((expected_flag_rate(1.0) - 0.1).abs() < 1e-12);
    assert!((expected_flag_rate(2.0) - 0.1).abs() < 1e-12);
    assert!(is_anomalous(0.995, 0.5) && !is_anomalous(0.985, 0.5));
    assert!(is_anomalous(0.95, 1.0) && !is_anomalous(0.95, 0.0));
}

#[test]
fn calibrated_flag_rate_on_fresh_normal_traffic() {
    let ens = trained(ModelKind::GaussianMixture);
    let fresh = normal(20_000, 99, 56, 14);
    let scores = ens.score(&inputs(&fresh));
    for (t, lo, hi) in [(0.5, 0.005, 0.02), (1.0, 0.07, 0.14)] {
        let rate = scores.iter().filter(|s| s.anomalous_at(t)).count() as f64 / fresh.len() as f64;
        // Binomial noise on 6 000 validation + 20 000 test rows is ~0.15 % at 1 %.
        assert!(rate > lo && rate < hi, "t={t}: rate {rate}");
    }
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(&s.score)));
}

#[test]
fn explanation_names_the_features_that_drove_it() {
    let ens = trained(ModelKind::GaussianMixture);
    let usual = train_rows()
        .iter()
        .find(|r| r.user == "user00")
        .expect("user00")
        .clone();
    let day_start = usual.ms - usual.ms.rem_euclid(DAY_MS);
    let med = ens.baseline.users["user00"].bytes_out.median;
    let crafted = Row {
        src: "203.0.113.7".into(),
        ms: day_start + 3 * 3_600_000 + 12 * 60_000,
        host: "db-fin-01".into(),
        account: Some("root".into()),
        bytes_out: (med.exp() * 40.0) as i64,
        ..usual.clone()
    };
    let s = &ens.score(&[crafted.input()])[0];
    assert!(s.anomalous_at(0.0), "{s:?}");
    let text = s.reasons.join("; ");
    for needle in [
        "source 203.0.113.7 never seen for user00",
        "03:12 is outside user00's usual hours",
        "bytes_out 40× user00's median",
        "first use of account root on db-fin-01 by user00",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
    // A usual connection gets no reasons.
    let normal_score = &ens.score(&[usual.input()])[0];
    assert!(normal_score.score < 0.9, "{normal_score:?}");
    assert!(normal_score.reasons.is_empty());
    // An unseen user is scored against the population, with a finite score.
    let stranger = Row {
        user: "newcomer".into(),
        ..usual
    };
    let st = &ens.score(&[stranger.input()])[0];
    assert!(st.score.is_finite() && st.per_config.iter().all(|c| c.1.is_finite()));
    assert!(ens.explain(&stranger.input())[0].contains("newcomer has no history"));
}

#[test]
fn metrics_on_hand_computed_examples() {
    // Ranked: 0.9+ 0.8- 0.7+ 0.6- 0.5+ ; pairs (pos > neg): 0.9>both (2), 0.7>0.6 (1), 0.5 none
    // → AUC = 3/6. AP = (1/3)(1/1) + (1/3)(2/3) + (1/3)(3/5) = 0.7555…
    let s = [0.9, 0.8, 0.7, 0.6, 0.5];
    let l = [true, false, true, false, true];
    let m = evaluate(&s, &l);
    assert!((m.roc_auc - 0.5).abs() < 1e-12, "{m:?}");
    assert!(
        (m.pr_auc - (1.0 + 2.0 / 3.0 + 0.6) / 3.0).abs() < 1e-12,
        "{m:?}"
    );
    // 2 negatives → at most 0 false positives: threshold = max negative 0.8 → recall 1/3.
    assert!((m.recall_at_1pct_fpr - 1.0 / 3.0).abs() < 1e-12);
    // Ties count half: one positive and one negative with equal scores.
    let m = evaluate(&[0.5, 0.5], &[true, false]);
    assert!((m.roc_auc - 0.5).abs() < 1e-12 && (m.pr_auc - 0.5).abs() < 1e-12);
    // Perfect separation.
    let m = evaluate(&[3.0, 2.0, 1.0, 0.0], &[true, true, false, false]);
    assert_eq!((m.roc_auc, m.pr_auc, m.recall_at_1pct_fpr), (1.0, 1.0, 1.0));
    // 200 negatives 0..199: 1 % → 2 may pass; threshold = 3rd highest = 197.
    let mut scores: Vec<f64> = (0..200).map(f64::from).collect();
    let mut scen: Vec<&str> = vec!["normal"; 200];
    scores.extend([197.0, 197.5, 250.0, 10.0]);
    scen.extend(["a", "a", "b", "b"]);
    let r = evaluate_scenarios(&scores, &scen);
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].scenario.as_str(), r[0].count, r[0].recall_at_1pct_fpr),
        ("a", 2, 0.5)
    );
    assert_eq!(
        (r[1].scenario.as_str(), r[1].recall_at_1pct_fpr),
        ("b", 0.5)
    );
}
