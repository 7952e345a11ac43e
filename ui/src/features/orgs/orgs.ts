// The organisations screen's pure logic: the words for the engine's offers, the typed
// confirmation a deletion waits for, and the table after the server answered a change.
// What may be done to an organisation is the engine's (`OrgRow.offers`); nothing here
// decides it. Unit-tested in orgs.test.ts.
import type { OrgAction, OrgRow } from "../../lib/bindings";

/** A button's words for each offer. */
export const ACTION_LABELS: Record<OrgAction, string> = {
  "set-plan": "Change plan…",
  suspend: "Suspend…",
  reactivate: "Reactivate…",
  delete: "Delete…",
};

/** Whether the engine offers `action` for `row`. */
export function offers(row: OrgRow, action: OrgAction): boolean {
  return row.offers.includes(action);
}

/**
 * Whether what was typed repeats the organisation's id, so the delete button may be
 * pressed (the engine and the server check it again). Surrounding spaces are forgiven;
 * case is not: ids are lower case, and the id is what must be typed.
 */
export function deleteConfirmed(typed: string, id: string): boolean {
  return id.length > 0 && typed.trim() === id;
}

/** The rows with `saved` in place of the row of the same id (added, by id, when new). */
export function withRow(rows: readonly OrgRow[], saved: OrgRow): OrgRow[] {
  const others = rows.filter((row) => row.id !== saved.id);
  return [...others, saved].sort((a, b) => a.id.localeCompare(b.id));
}

/** The rows without organisation `id`. */
export function withoutRow(rows: readonly OrgRow[], id: string): OrgRow[] {
  return rows.filter((row) => row.id !== id);
}
