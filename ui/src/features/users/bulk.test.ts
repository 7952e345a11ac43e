import { describe, expect, it } from "vitest";
import type { BulkResultView_Serialize as BulkResultView, BulkSummaryView_Serialize as BulkSummaryView } from "../../lib/bindings";
import {
  applyProgress,
  BULK_ACTIONS,
  bulkDef,
  bulkDisabledReason,
  confirmWords,
  emptyValues,
  finishRun,
  formProblem,
  outcomeText,
  splitList,
  startRun,
  summaryText,
  toAction,
  toRequest,
} from "./bulk";
import { DEFAULT_SORT } from "./columns";
import { percent } from "../../lib/format";
import { emptyFilters, toQuery } from "./filters";
import { NO_SELECTION, selectAllMatching, toggleSelected } from "./selection";

const open = { readOnlyReason: null, feature: () => ({ available: true, reason: null }) };

function result(id: string, outcome: BulkResultView["outcome"], reason: string | null = null): BulkResultView {
  return { id, name: `User ${id}`, outcome, alreadyDone: false, reason, code: null };
}

function summary(over: Partial<BulkSummaryView>): BulkSummaryView {
  return {
    jobId: "bulk-1",
    action: "suspend",
    total: 0,
    done: 0,
    skipped: 0,
    failed: 0,
    notRun: 0,
    cancelled: false,
    stoppedReason: null,
    usedBulk: false,
    elapsedMs: 0,
    results: [],
    retry: null,
    ...over,
  };
}

describe("the bulk bar's actions", () => {
  it("offers every action the issue lists, each with a testid-safe name", () => {
    expect(BULK_ACTIONS.map((a) => a.name)).toEqual(
      expect.arrayContaining(["resend-welcome", "deactivate", "suspend", "unsuspend", "set-licence", "set-role", "set-branches", "set-zones", "revoke-sessions", "reset-mfa"]),
    );
    for (const a of BULK_ACTIONS) expect(a.name, "used in data-testid").toMatch(/^[a-z-]+$/);
  });

  it("is disabled for read-only consoles first, then for a provider without the action", () => {
    const suspend = bulkDef("suspend");
    expect(bulkDisabledReason(suspend, open)).toBeNull();
    expect(bulkDisabledReason(suspend, { ...open, readOnlyReason: "You are offline." })).toBe("You are offline.");
    const lacking = { readOnlyReason: null, feature: (n: string) => ({ available: n !== "suspend", reason: n === "suspend" ? "Not offered here." : null }) };
    expect(bulkDisabledReason(suspend, lacking)).toBe("Not offered here.");
    expect(bulkDisabledReason(bulkDef("set-role"), lacking), "field changes need no action").toBeNull();
  });

  it("confirms with the count", () => {
    expect(confirmWords(bulkDef("suspend"), 12)).toEqual({ title: "Suspend 12 users?", button: "Suspend 12 users" });
    expect(confirmWords(bulkDef("deactivate"), 1).button).toBe("Deactivate 1 user");
    expect(confirmWords(bulkDef("suspend"), 1234).title).toBe("Suspend 1,234 users?");
  });
});

describe("the request", () => {
  it("reads lists the way people type them", () => {
    expect(splitList(" North; South,North |  ")).toEqual(["North", "South"]);
    expect(splitList("")).toEqual([]);
  });

  it("asks for what each form needs before sending", () => {
    const values = emptyValues();
    expect(formProblem(bulkDef("set-licence"), values)).toMatch(/licence/);
    expect(formProblem(bulkDef("set-branches"), values)).toMatch(/branch/);
    expect(formProblem(bulkDef("set-zones"), values), "empty zones clear them").toBeNull();
    expect(formProblem(bulkDef("suspend"), values)).toBeNull();
    expect(formProblem(bulkDef("deactivate"), values), "a kind nobody holds may stay empty").toBeNull();
    for (const kind of ["defaultTechnician", "primaryTechnician", "officeAssignee", "warehouseManager"]) values.handovers[kind] = "u9";
    expect(formProblem(bulkDef("deactivate"), values)).toBeNull();
  });

  it("builds the action as the engine reads it", () => {
    const values = { ...emptyValues(), licence: "desk", homeBranch: " Denver ", branches: "", zones: "A; B" };
    expect(toAction(bulkDef("set-licence"), values)).toEqual({ kind: "setLicence", licence: "desk" });
    expect(toAction(bulkDef("set-branches"), values)).toEqual({ kind: "setBranches", homeBranch: "Denver", branches: null });
    expect(toAction(bulkDef("set-zones"), values)).toEqual({ kind: "setZones", zones: ["A", "B"] });
    expect(toAction(bulkDef("resend-welcome"), values)).toEqual({ kind: "resendWelcome" });
    values.handovers = { defaultTechnician: "u2", officeAssignee: "" };
    expect(toAction(bulkDef("deactivate"), values)).toEqual({ kind: "deactivate", handovers: [{ kind: "defaultTechnician", userId: "u2" }] });
  });

  it("sends ids for ticked rows and the view's query for 'all matching'", () => {
    const query = toQuery({ ...emptyFilters(), roles: ["viewer"] }, DEFAULT_SORT, 40, 80);
    const ticked = toRequest(bulkDef("suspend"), emptyValues(), toggleSelected(NO_SELECTION, "u1"), query);
    expect(ticked.selection).toEqual({ kind: "ids", ids: ["u1"] });
    const all = toRequest(bulkDef("suspend"), emptyValues(), selectAllMatching(), query);
    expect(all.selection.kind).toBe("view");
    if (all.selection.kind === "view") expect(all.selection.query.roles).toEqual(["viewer"]);
  });
});

describe("progress", () => {
  it("takes the job id from the first event and appends results as they land", () => {
    let run = applyProgress(startRun(), { jobId: "bulk-7", finished: 0, total: 3, result: null });
    expect(run).toMatchObject({ jobId: "bulk-7", total: 3, results: [] });
    run = applyProgress(run, { jobId: "bulk-7", finished: 1, total: 3, result: result("a", "done") });
    run = applyProgress(run, { jobId: "bulk-7", finished: 2, total: 3, result: result("b", "failed", "Conflict") });
    expect(run.finished).toBe(2);
    expect(run.results.map((r) => r.id)).toEqual(["a", "b"]);
    expect(percent(run.finished, run.total)).toBe(67);
    expect(percent(0, 0), "an empty job does not divide by zero").toBe(0);
  });

  it("ends with the summary's results and counts", () => {
    const s = summary({ total: 4, done: 2, failed: 1, notRun: 1, results: [result("a", "done"), result("b", "done"), result("c", "failed"), result("d", "notRun")] });
    const run = finishRun(startRun(), s);
    expect(run.finished, "not-run users were not reached").toBe(3);
    expect(run.summary).toBe(s);
    expect(summaryText(s)).toBe("2 done · 1 failed · 1 not run");
    expect(summaryText(summary({}))).toBe("Nobody to change");
  });

  it("says 'already done' for skips that needed nothing", () => {
    expect(outcomeText({ ...result("a", "skipped"), alreadyDone: true })).toBe("Already done");
    expect(outcomeText(result("a", "skipped"))).toBe("Skipped");
    expect(outcomeText(result("a", "notRun"))).toBe("Not run");
  });
});
