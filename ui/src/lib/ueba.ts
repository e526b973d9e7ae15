// UEBA functions shared by the Datasets, Analysis and Anomalies pages.
import type { Dataset } from "./bindings/Dataset";
import type { Histogram } from "./bindings/Histogram";
import type { TrainingResult } from "./bindings/TrainingResult";
import type { TrainingStatus } from "./bindings/TrainingStatus";

/**
 * Expected share of normal traffic flagged at threshold `t` (0 loose … 1 strict):
 * `10^(−3 + 2t)`, i.e. 0.1 % at 0, 1 % at 0.5 and 10 % at 1.
 */
export function expectedFlagRate(t: number): number {
  const clamped = Number.isNaN(t) ? 0 : Math.min(1, Math.max(0, t));
  return 10 ** (-3 + 2 * clamped);
}

/** The index into `FlagPreview.flagged` for threshold `t`. */
export function thresholdStep(t: number): number {
  return Math.min(100, Math.max(0, Math.round(t * 100)));
}

/** The results of a dataset's latest training run (one per feature config), by name. */
export function latestRun(dataset: Dataset): TrainingResult[] {
  const results = dataset.training_results;
  if (results.length === 0) return [];
  // Results are oldest first; every result of a run shares its start time.
  const last = results[results.length - 1]?.created ?? null;
  return results
    .filter((r) => r.created === last)
    .sort((a, b) => a.feature_config_name.localeCompare(b.feature_config_name));
}

/** The overall status of a run: TRAINING while any is, FAILURE if any failed, else SUCCESS. */
export function runStatus(run: TrainingResult[]): TrainingStatus | null {
  if (run.length === 0) return null;
  if (run.some((r) => r.status === "TRAINING")) return "TRAINING";
  if (run.some((r) => r.status === "FAILURE")) return "FAILURE";
  return "SUCCESS";
}

/** Whether analysis can start with this dataset (its latest run succeeded). */
export function isTrained(dataset: Dataset): boolean {
  return runStatus(latestRun(dataset)) === "SUCCESS";
}

/** The first failure of a run, for display. */
export function runFailure(run: TrainingResult[]): TrainingResult | null {
  return run.find((r) => r.status === "FAILURE") ?? null;
}

/**
 * The raw score at which the share `1 − rate` of the validation scores lies below: where the
 * threshold (a cut on the normalized score, `score > 1 − rate`) falls on the raw histogram.
 * Interpolates linearly inside the bin that holds that quantile; null for an empty histogram.
 */
export function rawCut(histogram: Histogram, rate: number): number | null {
  const total = histogram.hist.reduce((a, b) => a + b, 0);
  const edges = histogram.bin_edges;
  if (total <= 0 || edges.length !== histogram.hist.length + 1) return null;
  const target = (1 - rate) * total;
  let below = 0;
  for (let i = 0; i < histogram.hist.length; i += 1) {
    const count = histogram.hist[i] ?? 0;
    const lo = edges[i] ?? 0;
    const hi = edges[i + 1] ?? lo;
    if (count > 0 && below + count >= target) {
      return lo + ((target - below) / count) * (hi - lo);
    }
    below += count;
  }
  return edges[edges.length - 1] ?? null;
}

/** Short id for tables (`3f2a9c1e`). */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** A dataset's display name: its comment, else its short id. */
export function datasetName(dataset: Dataset | null | undefined, id?: string | null): string {
  if (dataset) return dataset.comment?.trim() || `Dataset ${shortId(dataset.id)}`;
  return id ? `Dataset ${shortId(id)}` : "—";
}
