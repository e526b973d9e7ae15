// Typed wrappers around the sensor commands of src-tauri/src/sensor_commands.rs, and the helpers
// the Sensors and Sensor actions pages and the alert detail share. Types come from the Rust
// definitions through ts-rs (./bindings).
import { invoke } from "@tauri-apps/api/core";

import type { ActionDetail } from "./bindings/ActionDetail";
import type { SensorAction } from "./bindings/SensorAction";
import type { SensorQuery } from "./bindings/SensorQuery";
import type { SensorQueryResult } from "./bindings/SensorQueryResult";
import type { SensorVocabulary } from "./bindings/SensorVocabulary";
import type { Timeline } from "./bindings/Timeline";

export function sensorVocabulary(): Promise<SensorVocabulary> {
  return invoke<SensorVocabulary>("sensor_vocabulary");
}

export function querySensors(query: SensorQuery): Promise<SensorQueryResult> {
  return invoke<SensorQueryResult>("query_sensors", { query });
}

/** Starts an action on sensors (ids, pylumIds or machine names); null when none is known. */
export function startSensorAction(action: string, sensorIds: string[], argument: string | null): Promise<ActionDetail | null> {
  return invoke<ActionDetail | null>("start_sensor_action", { action, sensorIds, argument });
}

export function sensorActions(): Promise<ActionDetail[]> {
  return invoke<ActionDetail[]>("sensor_actions");
}

export function abortSensorAction(batchId: number): Promise<SensorAction> {
  return invoke<SensorAction>("abort_sensor_action", { batchId });
}

export function alertSensorActions(alertUuid: string): Promise<ActionDetail[]> {
  return invoke<ActionDetail[]>("alert_sensor_actions", { alertUuid });
}

export function sensorTimeline(): Promise<Timeline> {
  return invoke<Timeline>("sensor_timeline");
}

export function setSensorTimeline(timeline: Timeline): Promise<Timeline> {
  return invoke<Timeline>("set_sensor_timeline", { timeline });
}

/** The per-sensor states that are not final. */
export const UNFINISHED = ["Pending", "InProgress"];

/** The counters of an action that are not zero, in the order the fleet reports them. */
export function counts(action: SensorAction): [string, number][] {
  return Object.entries(action.globalStats.stats)
    .map(([k, v]) => [k, Number(v)] as [string, number])
    .filter(([, v]) => v > 0);
}

/** How far an action is: the share of its sensors in a final state (0–1). */
export function progress(action: SensorAction): number {
  const total = Number(action.totalNumberOfProbes);
  if (total === 0) return 1;
  const open = UNFINISHED.reduce((sum, k) => sum + Number(action.globalStats.stats[k] ?? 0), 0);
  return (total - open) / total;
}

/** A CSS class for a per-sensor state. */
export function stateClass(state: string): string {
  if (state === "Succeeded" || state === "AlreadyUpdated") return "st-success";
  if (UNFINISHED.includes(state)) return "st-open";
  if (state === "Aborted") return "st-unsure";
  return "st-failure";
}
