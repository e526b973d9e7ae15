// Typed wrappers around the Tauri commands of src-tauri/src/commands.rs. Every type comes from
// the Rust definitions through ts-rs (./bindings); none is written by hand here.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type { AppInfo } from "./bindings/AppInfo";
import type { CommandError } from "./bindings/CommandError";
import type { ConnectionFilter } from "./bindings/ConnectionFilter";
import type { DemoStatus } from "./bindings/DemoStatus";
import type { ImportOptions } from "./bindings/ImportOptions";
import type { ImportProgress } from "./bindings/ImportProgress";
import type { ImportReport } from "./bindings/ImportReport";
import type { Overview } from "./bindings/Overview";
import type { Page } from "./bindings/Page";
import type { PageRequest } from "./bindings/PageRequest";

/** Event names emitted by the Rust side. */
export const IMPORT_PROGRESS = "import-progress";
export const DEMO_STATUS = "demo-status";

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

/** Turns whatever a rejected command gave into a CommandError. */
export function toCommandError(e: unknown): CommandError {
  if (e && typeof e === "object" && "message" in e && typeof (e as { message: unknown }).message === "string") {
    const err = e as Partial<CommandError> & { message: string };
    return { message: err.message, cancelled: err.cancelled ?? false, report: err.report ?? null };
  }
  return { message: String(e), cancelled: false, report: null };
}
