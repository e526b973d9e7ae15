// Typed wrappers around the Tauri commands of src-tauri/src/commands.rs, ueba_commands.rs and
// api_commands.rs.
// Every type comes from the Rust definitions through ts-rs (./bindings); none is written by hand
// here.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type { Account } from "./bindings/Account";
import type { AnalysisState } from "./bindings/AnalysisState";
import type { AnalyzeReport } from "./bindings/AnalyzeReport";
import type { Anomaly } from "./bindings/Anomaly";
import type { AnomalyFilter } from "./bindings/AnomalyFilter";
import type { AnomalySettings } from "./bindings/AnomalySettings";
import type { AppInfo } from "./bindings/AppInfo";
import type { CommandError } from "./bindings/CommandError";
import type { ConnectionFilter } from "./bindings/ConnectionFilter";
import type { Dataset } from "./bindings/Dataset";
import type { DatasetInput } from "./bindings/DatasetInput";
import type { DemoStatus } from "./bindings/DemoStatus";
import type { FlagPreview } from "./bindings/FlagPreview";
import type { ImportOptions } from "./bindings/ImportOptions";
import type { ImportProgress } from "./bindings/ImportProgress";
import type { ImportReport } from "./bindings/ImportReport";
import type { JournalFilter } from "./bindings/JournalFilter";
import type { JournalPage } from "./bindings/JournalPage";
import type { ListenerStatus } from "./bindings/ListenerStatus";
import type { NewClient } from "./bindings/NewClient";
import type { OAuthClient } from "./bindings/OAuthClient";
import type { Overview } from "./bindings/Overview";
import type { Page } from "./bindings/Page";
import type { PageRequest } from "./bindings/PageRequest";
import type { Role } from "./bindings/Role";
import type { ServiceStatus } from "./bindings/ServiceStatus";
import type { TimeRangeSettings } from "./bindings/TimeRangeSettings";
import type { TrainingOutcome } from "./bindings/TrainingOutcome";
import type { TrainingProgress } from "./bindings/TrainingProgress";

/** Event names emitted by the Rust side. */
export const IMPORT_PROGRESS = "import-progress";
export const DEMO_STATUS = "demo-status";
export const TRAINING_PROGRESS = "training-progress";
export const TRAINING_FINISHED = "training-finished";

export function appInfo(): Promise<AppInfo> {
  return invoke<AppInfo>("app_info");
}

export function overview(): Promise<Overview> {
  return invoke<Overview>("overview");
}

export function listConnections(filter: ConnectionFilter, page: PageRequest): Promise<Page> {
  return invoke<Page>("list_connections", { filter, page });
}

/** The number of matching connections, or null when counting would take too long. */
export function countConnections(filter: ConnectionFilter): Promise<number | null> {
  return invoke<number | null>("count_connections", { filter });
}

export function importFiles(paths: string[], options: ImportOptions): Promise<ImportReport[]> {
  return invoke<ImportReport[]>("import_files", { paths, options });
}

export function cancelImport(): Promise<void> {
  return invoke<void>("cancel_import");
}

export function backup(path: string): Promise<void> {
  return invoke<void>("backup", { path });
}

export function onImportProgress(handler: (p: ImportProgress) => void): Promise<UnlistenFn> {
  return listen<ImportProgress>(IMPORT_PROGRESS, (e) => handler(e.payload));
}

export function onDemoStatus(handler: (s: DemoStatus) => void): Promise<UnlistenFn> {
  return listen<DemoStatus>(DEMO_STATUS, (e) => handler(e.payload));
}

// ---- UEBA (src-tauri/src/ueba_commands.rs) ------------------------------------------------------

export function listDatasets(): Promise<Dataset[]> {
  return invoke<Dataset[]>("list_datasets");
}

/** One dataset; `logs` adds the training logs, `binCount` sets the histogram bins (default 50). */
export function getDataset(id: string, logs = false, binCount: number | null = null): Promise<Dataset> {
  return invoke<Dataset>("get_dataset", { id, logs, binCount });
}

export function createDataset(input: DatasetInput): Promise<Dataset> {
  return invoke<Dataset>("create_dataset", { input });
}

/** Changes a dataset; its training history and models are deleted. */
export function updateDataset(id: string, input: DatasetInput): Promise<Dataset> {
  return invoke<Dataset>("update_dataset", { id, input });
}

/** Deletes a dataset (refused while it is active). */
export function deleteDataset(id: string): Promise<void> {
  return invoke<void>("delete_dataset", { id });
}

/** Connections a time range setting selects. */
export function countDatasetConnections(settings: TimeRangeSettings): Promise<number> {
  return invoke<number>("count_dataset_connections", { settings });
}

/** Starts training in the background (refused while any training runs). */
export function trainDataset(id: string, setActiveAfterTraining: boolean): Promise<void> {
  return invoke<void>("train_dataset", { id, setActiveAfterTraining });
}

/** Cancels the training this window started; false when there was none. */
export function cancelTraining(): Promise<boolean> {
  return invoke<boolean>("cancel_training");
}

/** The id of the dataset being trained, if any. */
export function runningTraining(): Promise<string | null> {
  return invoke<string | null>("running_training");
}

export function analysisState(): Promise<AnalysisState> {
  return invoke<AnalysisState>("analysis_state");
}

export function startAnalysis(id: string): Promise<AnalysisState> {
  return invoke<AnalysisState>("start_analysis", { id });
}

export function stopAnalysis(): Promise<AnalysisState> {
  return invoke<AnalysisState>("stop_analysis");
}

export function anomalySettings(): Promise<AnomalySettings> {
  return invoke<AnomalySettings>("anomaly_settings");
}

export function saveAnomalySettings(settings: AnomalySettings): Promise<AnomalySettings> {
  return invoke<AnomalySettings>("save_anomaly_settings", { settings });
}

/** What each threshold step 0.00…1.00 would flag over the last `days` days of stored data. */
export function flagPreview(id: string, days: number): Promise<FlagPreview> {
  return invoke<FlagPreview>("flag_preview", { id, days });
}

/** Rescores `[from, to)` (epoch ms; null = open) with the active dataset. */
export function rescore(from: number | null, to: number | null): Promise<AnalyzeReport> {
  return invoke<AnalyzeReport>("rescore", { from, to });
}

export function listAnomalies(filter: AnomalyFilter): Promise<Anomaly[]> {
  return invoke<Anomaly[]>("list_anomalies", { filter });
}

export function serviceStatus(): Promise<ServiceStatus> {
  return invoke<ServiceStatus>("service_status");
}

export function onTrainingProgress(handler: (p: TrainingProgress) => void): Promise<UnlistenFn> {
  return listen<TrainingProgress>(TRAINING_PROGRESS, (e) => handler(e.payload));
}

export function onTrainingFinished(handler: (o: TrainingOutcome) => void): Promise<UnlistenFn> {
  return listen<TrainingOutcome>(TRAINING_FINISHED, (e) => handler(e.payload));
}

// ---- REST listener, accounts, OAuth clients, journal (src-tauri/src/api_commands.rs) ----------

export function listenerStatus(): Promise<ListenerStatus> {
  return invoke<ListenerStatus>("listener_status");
}

/** Starts the listener on the loopback addresses (port 0 picks a free one). */
export function startListener(port: number, tls: boolean): Promise<ListenerStatus> {
  return invoke<ListenerStatus>("start_listener", { port, tls });
}

/** Stops the listener gracefully; trainings started through it go on. */
export function stopListener(): Promise<ListenerStatus> {
  return invoke<ListenerStatus>("stop_listener");
}

/** Whether the listener starts with the app, with the stored port and TLS choice. */
export function setListenerStartOnLaunch(enabled: boolean): Promise<ListenerStatus> {
  return invoke<ListenerStatus>("set_listener_start_on_launch", { enabled });
}

/** Writes the local CA certificate (PEM) to `path`. */
export function exportCa(path: string): Promise<void> {
  return invoke<void>("export_ca", { path });
}

export function listAccounts(): Promise<Account[]> {
  return invoke<Account[]>("list_accounts");
}

export function addAccount(name: string, role: Role, password: string): Promise<Account> {
  return invoke<Account>("add_account", { name, role, password });
}

export function removeAccount(name: string): Promise<void> {
  return invoke<void>("remove_account", { name });
}

export function listClients(): Promise<OAuthClient[]> {
  return invoke<OAuthClient[]>("list_clients");
}

/** Creates an OAuth client; the answer holds its secret, which is never shown again. */
export function addClient(name: string, role: Role | null): Promise<NewClient> {
  return invoke<NewClient>("add_client", { name, role });
}

export function removeClient(id: string): Promise<void> {
  return invoke<void>("remove_client", { id });
}

/** Request journal lines, newest first. */
export function queryJournal(filter: JournalFilter): Promise<JournalPage> {
  return invoke<JournalPage>("query_journal", { filter });
}

/** Turns whatever a rejected command gave into a CommandError. */
export function toCommandError(e: unknown): CommandError {
  if (e && typeof e === "object" && "message" in e && typeof (e as { message: unknown }).message === "string") {
    const err = e as Partial<CommandError> & { message: string };
    return { message: err.message, cancelled: err.cancelled ?? false, report: err.report ?? null };
  }
  return { message: String(e), cancelled: false, report: null };
}
