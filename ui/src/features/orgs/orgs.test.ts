import { describe, expect, it } from "vitest";
import type { OrgRow } from "../../lib/bindings";
import { ACTION_LABELS, deleteConfirmed, offers, withRow, withoutRow } from "./orgs";

function row(id: string, overrides: Partial<OrgRow> = {}): OrgRow {
  return {
    id,
    name: id.toUpperCase(),
    users: 3,
    plan: "free",
    planName: "Free",
    status: "active",
    statusLabel: "Active",
    created: "2030-01-01T09:00:00Z",
    offers: ["set-plan", "suspend", "delete"],
    ...overrides,
  };
}

describe("deleteConfirmed", () => {
  it("waits for the id itself", () => {
    expect(deleteConfirmed("", "acme")).toBe(false);
    expect(deleteConfirmed("acm", "acme")).toBe(false);
    expect(deleteConfirmed("ACME", "acme")).toBe(false);
    expect(deleteConfirmed("acme2", "acme")).toBe(false);
    expect(deleteConfirmed("acme", "acme")).toBe(true);
    expect(deleteConfirmed(" acme ", "acme")).toBe(true);
  });

  it("never confirms an empty id", () => {
    expect(deleteConfirmed("", "")).toBe(false);
  });
});

describe("offers", () => {
  it("follows the engine's list", () => {
    expect(offers(row("acme"), "suspend")).toBe(true);
    expect(offers(row("acme"), "reactivate")).toBe(false);
    const suspended = row("acme", { status: "suspended", offers: ["set-plan", "reactivate", "delete"] });
    expect(offers(suspended, "reactivate")).toBe(true);
    expect(offers(suspended, "suspend")).toBe(false);
  });

  it("has words for every action", () => {
    for (const action of ["set-plan", "suspend", "reactivate", "delete"] as const) {
      expect(ACTION_LABELS[action]).toMatch(/\w/);
    }
  });
});

describe("withRow and withoutRow", () => {
  it("replaces the saved row and keeps the order by id", () => {
    const rows = [row("acme"), row("beta")];
    const saved = row("acme", { plan: "standard", planName: "Standard" });
    expect(withRow(rows, saved).map((r) => [r.id, r.plan])).toEqual([
      ["acme", "standard"],
      ["beta", "free"],
    ]);
  });

  it("adds a new row in its place", () => {
    const rows = [row("acme"), row("gamma")];
    expect(withRow(rows, row("beta")).map((r) => r.id)).toEqual(["acme", "beta", "gamma"]);
  });

  it("drops a deleted row", () => {
    expect(withoutRow([row("acme"), row("beta")], "acme").map((r) => r.id)).toEqual(["beta"]);
  });
});
