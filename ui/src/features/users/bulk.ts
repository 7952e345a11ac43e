// Bulk actions on the users table without the screen: which actions the bar offers and why
// one is disabled, the request sent to `runBulk`, the confirmation's words, and the live
// progress folded from the channel's events. Pure, unit-tested.
import type { BulkAction_Deserialize, BulkProgressView, BulkRequest_Deserialize, BulkResultView, BulkSelection_Deserialize, BulkSummaryView, FeatureName, SearchQuery } from "../../lib/bindings";
import type { Selection } from "./selection";

export type BulkName =
  | "resend-welcome"
  | "suspend"
  | "unsuspend"
  | "deactivate"
  | "set-licence"
  | "set-role"
  | "set-branches"
  | "set-zones"
  | "revoke-sessions"
  | "reset-mfa";

/** What an action asks for before it runs. */
export type BulkForm = "none" | "deactivate" | "licence" | "role" | "branches" | "zones";

export type BulkDef = {
  name: BulkName;
  label: string;
  /** The server feature it needs (`app.feature(name)`), if any. */
  feature: FeatureName | null;
  /** Confirmed with the count first. */
  destructive: boolean;
  form: BulkForm;
  /** "Suspend {n}": the confirm button's words. */
  verb: string;
  /** What happens, for the confirmation. */
  explain: string;
};

export const BULK_ACTIONS: readonly BulkDef[] = [
  { name: "resend-welcome", label: "Resend invitation", feature: "send-welcome", destructive: false, form: "none", verb: "Resend to", explain: "Pending and expired invitations get a new link; the old one stops working. Users who are not invited are skipped." },
  { name: "set-licence", label: "Licence…", feature: null, destructive: false, form: "licence", verb: "Change licence of", explain: "Their licence changes to the one chosen." },
  { name: "set-role", label: "Role…", feature: null, destructive: false, form: "role", verb: "Change role of", explain: "Their role changes to the one chosen. Your own account is skipped." },
  { name: "set-branches", label: "Branch…", feature: null, destructive: false, form: "branches", verb: "Change branch of", explain: "Their home branch and/or branches change as given." },
  { name: "set-zones", label: "Zones…", feature: null, destructive: false, form: "zones", verb: "Change zones of", explain: "Their zones are replaced by the ones given." },
  { name: "revoke-sessions", label: "Sign out everywhere", feature: "revoke-sessions", destructive: true, form: "none", verb: "Sign out", explain: "Every session ends; they must sign in again." },
  { name: "reset-mfa", label: "Reset two-factor", feature: "reset-mfa", destructive: true, form: "none", verb: "Reset two-factor for", explain: "Their two-factor enrolment is cleared; they set it up again at next sign-in." },
  { name: "suspend", label: "Suspend", feature: "suspend", destructive: true, form: "none", verb: "Suspend", explain: "They are signed out now and cannot sign in until unsuspended. Your own account is skipped." },
  { name: "unsuspend", label: "Unsuspend", feature: "unsuspend", destructive: false, form: "none", verb: "Unsuspend", explain: "They can sign in again." },
  { name: "deactivate", label: "Deactivate…", feature: "deactivate", destructive: true, form: "deactivate", verb: "Deactivate", explain: "Their data is kept; they cannot sign in and drop out of assignment lists. Their responsibilities go to the people chosen." },
];

export function bulkDef(name: BulkName): BulkDef {
  const found = BULK_ACTIONS.find((a) => a.name === name);
  if (!found) throw new Error(`unknown bulk action ${name}`);
  return found;
}

export type BulkGate = {
  readOnlyReason: string | null;
  feature: (name: FeatureName) => { available: boolean; reason: string | null };
};

/** Why the action cannot be used now, or null when it can. */
export function bulkDisabledReason(def: BulkDef, gate: BulkGate): string | null {
  if (gate.readOnlyReason) return gate.readOnlyReason;
  if (def.feature) {
    const f = gate.feature(def.feature);
    if (!f.available) return f.reason ?? "This server does not offer this action.";
  }
  return null;
}

/** What the action's small form holds. */
export type BulkValues = {
  licence: string;
  role: string;
  homeBranch: string;
  branches: string;
  zones: string;
  /** Responsibility kind → the user taking it over. */
  handovers: Record<string, string>;
};

export function emptyValues(): BulkValues {
  return { licence: "", role: "", homeBranch: "", branches: "", zones: "", handovers: {} };
}

/** `a; b, c` → `["a", "b", "c"]` (blank parts dropped, duplicates kept once). */
export function splitList(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[;,|\n]/)) {
    const value = part.trim();
    if (value && !out.includes(value)) out.push(value);
  }
  return out;
}

/** What is missing from the form before the action can run, or null. */
export function formProblem(def: BulkDef, values: BulkValues): string | null {
  switch (def.form) {
    case "licence":
      return values.licence ? null : "Choose a licence.";
    case "role":
      return values.role ? null : "Choose a role.";
    case "branches":
      return values.homeBranch.trim() || splitList(values.branches).length > 0 ? null : "Give a home branch, branches, or both.";
    case "zones":
      return null;
    case "deactivate":
      // A kind may stay empty when none of them holds it: the server refuses (per user,
      // with the reason) anyone who does, and "Retry failed" asks again for just them.
      return null;
    default:
      return null;
  }
}

/** The action as `runBulk` takes it. */
export function toAction(def: BulkDef, values: BulkValues): BulkAction_Deserialize {
  switch (def.name) {
    case "resend-welcome":
      return { kind: "resendWelcome" };
    case "suspend":
      return { kind: "suspend" };
    case "unsuspend":
      return { kind: "unsuspend" };
    case "revoke-sessions":
      return { kind: "revokeSessions" };
    case "reset-mfa":
      return { kind: "resetMfa" };
    case "set-licence":
      return { kind: "setLicence", licence: values.licence };
    case "set-role":
      return { kind: "setRole", role: values.role };
    case "set-branches": {
      const branches = splitList(values.branches);
      return { kind: "setBranches", homeBranch: values.homeBranch.trim() || null, branches: branches.length > 0 ? branches : null };
    }
    case "set-zones":
      return { kind: "setZones", zones: splitList(values.zones) };
    case "deactivate":
      return {
        kind: "deactivate",
        handovers: Object.entries(values.handovers)
          .filter(([, userId]) => !!userId)
          .map(([kind, userId]) => ({ kind, userId })),
      };
  }
}

/** Who the action is for: the ticked rows, or everything the view matches. */
export function toSelection(selection: Selection, query: SearchQuery): BulkSelection_Deserialize {
  if (selection.all) return { kind: "view", query: { ...query, offset: 0, limit: 1 } };
  return { kind: "ids", ids: [...selection.ids] };
}

export function toRequest(def: BulkDef, values: BulkValues, selection: Selection, query: SearchQuery): BulkRequest_Deserialize {
  return { action: toAction(def, values), selection: toSelection(selection, query), concurrency: null };
}

function people(count: number): string {
  return `${count.toLocaleString("en-US")} ${count === 1 ? "user" : "users"}`;
}

/** The confirmation's title and button: "Suspend 12 users?" / "Suspend 12 users". */
export function confirmWords(def: BulkDef, count: number): { title: string; button: string } {
  const what = `${def.verb} ${people(count)}`;
  return { title: `${what}?`, button: what };
}

/** A job as the progress panel shows it. */
export type BulkRun = {
  jobId: string | null;
  finished: number;
  total: number;
  /** Results in the order they landed. */
  results: BulkResultView[];
  summary: BulkSummaryView | null;
};

export function startRun(): BulkRun {
  return { jobId: null, finished: 0, total: 0, results: [], summary: null };
}

/** Folds one progress event into the run (the first announces the job and its size). */
export function applyProgress(run: BulkRun, event: BulkProgressView): BulkRun {
  const results = event.result ? [...run.results, event.result] : run.results;
  return { ...run, jobId: event.jobId, finished: Math.max(run.finished, event.finished), total: event.total, results };
}

export function finishRun(run: BulkRun, summary: BulkSummaryView): BulkRun {
  return { ...run, jobId: summary.jobId, finished: summary.total - summary.notRun, total: summary.total, results: summary.results, summary };
}

/** "Done", "Skipped (already done)", "Failed", "Not run". */
export function outcomeText(result: BulkResultView): string {
  switch (result.outcome) {
    case "done":
      return "Done";
    case "skipped":
      return result.alreadyDone ? "Already done" : "Skipped";
    case "failed":
      return "Failed";
    case "notRun":
      return "Not run";
  }
}

/** One line for the end: "9 done · 2 skipped · 1 failed" (zeros left out, but never empty). */
export function summaryText(summary: BulkSummaryView): string {
  const parts: string[] = [];
  if (summary.done) parts.push(`${summary.done.toLocaleString("en-US")} done`);
  if (summary.skipped) parts.push(`${summary.skipped.toLocaleString("en-US")} skipped`);
  if (summary.failed) parts.push(`${summary.failed.toLocaleString("en-US")} failed`);
  if (summary.notRun) parts.push(`${summary.notRun.toLocaleString("en-US")} not run`);
  return parts.length > 0 ? parts.join(" · ") : "Nobody to change";
}
