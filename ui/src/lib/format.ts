// Display helpers. Times are shown in UTC, like the per-day chart and the stored data.

const intFormat = new Intl.NumberFormat("en-US");

export function int(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : intFormat.format(n);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** `2025-01-31 14:05:09` (UTC). */
export function dateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `2025-01-31` (UTC). */
export function date(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "—" : dateTime(ms).slice(0, 10);
}

/** Seconds as `1h 02m`, `3m 05s` or `12.3s`. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${pad(m)}m` : `${m}m ${pad(s % 60)}s`;
}

/** Bytes as `512 B`, `1.2 KB`, `3.4 MB`, ... */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A `<input type="datetime-local">` value read as UTC, in epoch ms (null when empty/invalid). */
export function utcInputToMs(value: string): number | null {
  if (!value) return null;
  const ms = Date.parse(value.length === 16 ? `${value}:00Z` : `${value}Z`);
  return Number.isNaN(ms) ? null : ms;
}

/** Span between two instants in days, hours or minutes. */
export function span(fromMs: number | null, toMs: number | null): string {
  if (fromMs === null || toMs === null) return "—";
  const minutes = Math.max(0, toMs - fromMs) / 60000;
  if (minutes < 120) return `${Math.round(minutes)} minutes`;
  const hours = minutes / 60;
  if (hours < 48) return `${Math.round(hours)} hours`;
  return `${Math.round(hours / 24)} days`;
}

/** Epoch ms as a `<input type="datetime-local">` value in UTC (`2025-01-31T14:05`). */
export function msToUtcInput(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "";
  return dateTime(ms).slice(0, 16).replace(" ", "T");
}

/** Epoch ms as an RFC 3339 string (UTC), the wire form of dataset time ranges. */
export function msToRfc3339(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** An RFC 3339 string in epoch ms (null when absent or invalid). */
export function rfc3339ToMs(text: string | null | undefined): number | null {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** A fraction as a percentage with enough digits for small rates (`0.1 %`, `2.51 %`, `10 %`). */
export function percent(fraction: number): string {
  const p = fraction * 100;
  const digits = p < 1 ? 2 : p < 10 ? 2 : 1;
  return `${Number(p.toFixed(digits))} %`;
}

/** A number with a few significant digits (statistics, scores). */
export function num(n: number | null | undefined, digits = 4): string {
  if (n === null || n === undefined || Number.isNaN(n)) return "—";
  if (n !== 0 && (Math.abs(n) >= 1e6 || Math.abs(n) < 1e-3)) return n.toExponential(2);
  return Number(n.toPrecision(digits)).toString();
}
