// CSV import without the screen: the import's field choices and the overrides sent when a
// column's field is changed, and the words for a preview and a finished run. Pure,
// unit-tested.
import type { ColumnMapping_Serialize, Field, ImportReport_Serialize, MappingOverride_Deserialize, RowPreview_Serialize } from "../../lib/bindings";

/** The fields an import can fill, with their labels, in the preview's order. */
export const IMPORT_FIELDS: readonly { field: Field; label: string }[] = [
  { field: "email", label: "Email (required)" },
  { field: "userName", label: "User name" },
  { field: "givenName", label: "First name" },
  { field: "familyName", label: "Last name" },
  { field: "name", label: "Full name" },
  { field: "displayName", label: "Display name" },
  { field: "phone", label: "Phone" },
  { field: "jobRole", label: "Job role" },
  { field: "licence", label: "Licence" },
  { field: "role", label: "Role" },
  { field: "securityGroup", label: "Security group" },
  { field: "serviceGroups", label: "Service groups" },
  { field: "zones", label: "Zones" },
  { field: "homeBranch", label: "Home branch" },
  { field: "branches", label: "Branches" },
];

export function fieldLabel(field: Field | null | undefined): string {
  if (!field) return "Not imported";
  return IMPORT_FIELDS.find((f) => f.field === field)?.label ?? field;
}

/** The overrides to send: one per header whose chosen field differs from what the file's
 * headers matched by themselves (`auto`), so the engine's own matching stays in charge of
 * the rest. `chosen` maps a header to its field ("" = not imported). */
export function overridesFor(auto: readonly ColumnMapping_Serialize[], chosen: Readonly<Record<string, string>>): MappingOverride_Deserialize[] {
  const out: MappingOverride_Deserialize[] = [];
  for (const column of auto) {
    if (!(column.header in chosen)) continue;
    const want = chosen[column.header] || null;
    if (want !== (column.field ?? null)) out.push({ header: column.header, field: want as Field | null });
  }
  return out;
}

/** Fields chosen for more than one column (the engine refuses such a mapping). */
export function doubleMapped(chosen: Readonly<Record<string, string>>): Field[] {
  const seen = new Map<string, number>();
  for (const field of Object.values(chosen)) if (field) seen.set(field, (seen.get(field) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([f]) => f as Field);
}

/** Rows to list in the preview: those with problems first (file order), then the ready ones. */
export function previewOrder(rows: readonly RowPreview_Serialize[]): RowPreview_Serialize[] {
  return [...rows.filter((r) => r.problems.length > 0), ...rows.filter((r) => r.problems.length === 0)];
}

/** "Invite 12 users" (or "Create…" without welcome emails). */
export function inviteLabel(ready: number, sendWelcome: boolean): string {
  return `${sendWelcome ? "Invite" : "Create"} ${ready.toLocaleString("en-US")} ${ready === 1 ? "user" : "users"}`;
}

/** One line for a finished import. */
export function reportText(report: ImportReport_Serialize): string {
  const parts: string[] = [];
  if (report.invited) parts.push(`${report.invited.toLocaleString("en-US")} invited`);
  const createdOnly = report.created - report.invited - report.welcomeFailed;
  if (createdOnly > 0) parts.push(`${createdOnly.toLocaleString("en-US")} created`);
  if (report.welcomeFailed) parts.push(`${report.welcomeFailed.toLocaleString("en-US")} created without welcome email`);
  if (report.failed) parts.push(`${report.failed.toLocaleString("en-US")} failed`);
  if (report.skipped) parts.push(`${report.skipped.toLocaleString("en-US")} skipped`);
  if (report.notRun) parts.push(`${report.notRun.toLocaleString("en-US")} not run`);
  return parts.length > 0 ? parts.join(" · ") : "Nothing was sent";
}
