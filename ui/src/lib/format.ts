// Small formatting helpers shared by the screens (pure, unit-tested).

// Formatters made once: `Date.prototype.toLocaleString` and `Number.prototype.toLocaleString`
// build a new one at every call, which the users table did for each row it drew at every
// keystroke. These give the very same text (the defaults those calls use).
const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
  second: "numeric",
});
const NUMBER = new Intl.NumberFormat();
const NUMBER_EN = new Intl.NumberFormat("en-US");

/** A count with its thousands grouped, as `toLocaleString("en-US")` writes it: 12,345. */
export function grouped(count: number): string {
  return NUMBER_EN.format(count);
}

/** "3 minutes ago", "2 days ago", "just now" for an RFC 3339 time before `now`. */
export function ago(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "never";
  const then = new Date(iso);
  if (Number.isNaN(then.getTime())) return "unknown";
  const seconds = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  if (seconds < 45) return "just now";
  const units: [number, string][] = [
    [60, "minute"],
    [3600, "hour"],
    [86400, "day"],
    [86400 * 30, "month"],
    [86400 * 365, "year"],
  ];
  let chosen: [number, string] = units[0];
  for (const unit of units) if (seconds >= unit[0]) chosen = unit;
  const count = Math.round(seconds / chosen[0]);
  return `${count} ${chosen[1]}${count === 1 ? "" : "s"} ago`;
}

/** A wire value for people: `magic_link` → "Magic link", `field` → "Field". */
export function label(value: string | null | undefined): string {
  if (!value) return "—";
  const text = value.replace(/[_-]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A local date and time. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "—" : DATE_TIME.format(date);
}

export function plural(count: number, word: string): string {
  return `${NUMBER.format(count)} ${word}${count === 1 ? "" : "s"}`;
}

/** 0–100, for a progress bar. */
export function percent(finished: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(100, Math.round((finished / total) * 100));
}
