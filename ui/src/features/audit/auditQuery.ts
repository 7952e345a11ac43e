// The audit log's filters as the engine's query, and the page's range in words. Pure,
// unit-tested in auditQuery.test.ts.
import type { AuditQuery } from "../../lib/bindings";

/** Trimmed, or null when blank. */
function optional(value: string): string | null {
  const trimmed = value.trim();
  return trimmed ? trimmed : null;
}

export type AuditFilters = {
  action: string;
  outcome: string;
  /** `YYYY-MM-DD` from a date input, or "". */
  since: string;
  until: string;
  target: string;
};

/** The start of a local day (`YYYY-MM-DD`) as RFC 3339, or `null`. */
export function dayStart(day: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const date = new Date(`${day}T00:00:00`);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The end of a local day (`YYYY-MM-DD`) as RFC 3339, or `null`. */
export function dayEnd(day: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const date = new Date(`${day}T23:59:59.999`);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function auditQuery(filters: AuditFilters, offset: number, limit: number): AuditQuery {
  return {
    actor: null,
    target: optional(filters.target),
    action: optional(filters.action),
    outcome: optional(filters.outcome),
    since: dayStart(filters.since),
    until: dayEnd(filters.until),
    offset,
    limit,
  };
}

/** "1–50 of 1,234" for a page. */
export function pageRange(offset: number, shown: number, total: number): string {
  if (total === 0 || shown === 0) return `0 of ${total.toLocaleString()}`;
  return `${(offset + 1).toLocaleString()}–${(offset + shown).toLocaleString()} of ${total.toLocaleString()}`;
}
