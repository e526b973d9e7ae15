// Helpers shared by the REST listener, accounts and journal views.
import type { JournalRecord } from "./bindings/JournalRecord";
import type { Role } from "./bindings/Role";

/** Shortest password an account may have (the back end checks it too). */
export const MIN_PASSWORD_CHARS = 8;

/** Every role with what it grants; a `Record` so a new role fails the type check until listed. */
export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  admin: "every UEBA operation",
  connectionsManage: "connection-manage scope",
  connectionsPlayback: "connections-playback scope",
  connectionsTerminate: "connections-terminate scope",
  connectionsTrail: "connections-trail scope",
  connectionsView: "read connections, stop analysis",
  service: "microservice scope, for automation",
  user: "normal user",
};

/** The roles in documentation order. */
export const ROLES = Object.keys(ROLE_DESCRIPTIONS) as Role[];

/** A port field's value as a port (0 = any free one), or null when it is not one. */
export function parsePort(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d{1,5}$/.test(trimmed)) return null;
  const port = Number(trimmed);
  return port <= 65535 ? port : null;
}

/** The class of an HTTP status (`2xx` … `5xx`), for colouring. */
export function statusClass(status: number): "s2" | "s3" | "s4" | "s5" | "sx" {
  if (status >= 200 && status < 300) return "s2";
  if (status >= 300 && status < 400) return "s3";
  if (status >= 400 && status < 500) return "s4";
  if (status >= 500 && status < 600) return "s5";
  return "sx";
}

/** Status filter choices: a class, or a minimum. */
export const STATUS_CHOICES: { id: string; label: string; min: number | null; max: number | null }[] = [
  { id: "", label: "Any status", min: null, max: null },
  { id: "2xx", label: "2xx success", min: 200, max: 299 },
  { id: "3xx", label: "3xx redirect", min: 300, max: 399 },
  { id: "4xx", label: "4xx client error", min: 400, max: 499 },
  { id: "5xx", label: "5xx server error", min: 500, max: 599 },
  { id: "ge400", label: "≥ 400 (any error)", min: 400, max: null },
];

/** Latency in milliseconds with sensible digits (`0.42`, `12.3`, `250`). */
export function latencyMs(us: number): string {
  const ms = us / 1000;
  if (ms < 1) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return Math.round(ms).toString();
}

export type MinuteBuckets = {
  /** Start of each minute (epoch seconds, for uPlot's time axis). */
  minutes: number[];
  /** Requests in each minute. */
  requests: number[];
  /** Median latency (ms) of each minute, null when it had none. */
  medianMs: (number | null)[];
};

/** Requests per minute and their median latency over the `count` minutes ending at `nowMs`. */
export function perMinute(records: JournalRecord[], nowMs: number, count = 60): MinuteBuckets {
  const minute = 60_000;
  const last = Math.floor(nowMs / minute) * minute;
  const first = last - (count - 1) * minute;
  const latencies: number[][] = Array.from({ length: count }, () => []);
  for (const r of records) {
    const index = Math.floor((r.time - first) / minute);
    if (index >= 0 && index < count) latencies[index]?.push(r.latency_us / 1000);
  }
  return {
    minutes: latencies.map((_, i) => (first + i * minute) / 1000),
    requests: latencies.map((l) => l.length),
    medianMs: latencies.map((l) => median(l)),
  };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}

/** Copies `text` to the clipboard; false when the webview refused (the caller says so). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Older WebKit builds refuse the async clipboard; fall back to a selected text area.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}
