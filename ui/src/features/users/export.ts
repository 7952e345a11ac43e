// CSV export of the users table without the screen: which export columns the table's
// visible columns stand for, and the words for a finished export. Pure, unit-tested.
import type { ColumnView } from "../../lib/bindings";
import type { ColumnId } from "./columns";

/** The export columns each table column stands for. */
const EXPORT_OF: Record<ColumnId, readonly string[]> = {
  name: ["name"],
  email: ["email"],
  userName: ["userName"],
  phone: ["phone"],
  role: ["role"],
  licence: ["licence"],
  status: ["status"],
  branch: ["homeBranch", "branches"],
  securityGroup: ["securityGroup"],
  zones: ["zones"],
  invitation: ["invitation"],
  mfa: ["mfaEnabled"],
  lastSignIn: ["lastSignIn"],
  login: ["lastSignInMethod"],
};

/** The export's columns for the table's visible ones, in the table's order, keeping only
 * columns the engine offers (an unknown name would fail the export). */
export function exportColumnsFor(visible: readonly ColumnId[], offered: readonly ColumnView[]): string[] {
  const names = new Set(offered.map((c) => c.name));
  const out: string[] = [];
  for (const id of visible) {
    for (const name of EXPORT_OF[id] ?? []) if (names.has(name) && !out.includes(name)) out.push(name);
  }
  return out;
}

/** "Exported 1,204 users to users-2026-11-23.csv." */
export function exportedText(rows: number, fileName: string): string {
  return `Exported ${rows.toLocaleString("en-US")} ${rows === 1 ? "user" : "users"} to ${fileName}.`;
}
