import { describe, expect, it } from "vitest";
import type { Facets } from "../../lib/bindings";
import {
  chipValues,
  countText,
  dormantChoices,
  emptyFilters,
  FACET_GROUPS,
  filterCount,
  isFiltered,
  queryKey,
  toggleDormant,
  toggleExpiring,
  hoursText,
  toggleValue,
  toQuery,
  type SortOrder,
} from "./filters";

const facets: Facets = {
  roles: [
    { value: "admin", count: 3 },
    { value: "technician", count: 300 },
    { value: "viewer", count: 40 },
  ],
  licences: [],
  statuses: [
    { value: "active", count: 330 },
    { value: "deleted", count: 2 },
    { value: "deactivated", count: 13 },
  ],
  branches: [],
  zones: [],
  securityGroups: [],
  serviceGroups: [],
  signInMethods: [],
  invitationStates: [
    { value: "accepted", count: 300 },
    { value: "pending", count: 4 },
  ],
};

const group = (facet: string) => FACET_GROUPS.find((g) => g.facet === facet)!;

describe("filters", () => {
  it("offers facet values by count, fixed ones first with zero counts", () => {
    const f = emptyFilters();
    expect(chipValues(group("role"), facets, f).map((v) => v.value)).toEqual(["technician", "viewer", "admin"]);
    expect(chipValues(group("status"), facets, f)).toEqual([
      { value: "active", count: 330 },
      { value: "invited", count: 0 },
      { value: "suspended", count: 0 },
      { value: "deactivated", count: 13 },
      { value: "deleted", count: 2 },
    ]);
    expect(chipValues(group("invitation"), facets, f)).toEqual([
      { value: "pending", count: 4 },
      { value: "expired", count: 0 },
    ]);
    expect(chipValues(group("role"), null, f)).toEqual([]);
  });

  it("keeps a chosen value on offer after it disappears from the facets", () => {
    const f = toggleValue(emptyFilters(), "branches", "Pueblo");
    expect(chipValues(group("branch"), facets, f)).toEqual([{ value: "Pueblo", count: 0 }]);
  });

  it("toggles values and the dormant choice", () => {
    let f = toggleValue(emptyFilters(), "roles", "technician");
    f = toggleValue(f, "roles", "viewer");
    expect(f.roles).toEqual(["technician", "viewer"]);
    f = toggleValue(f, "roles", "technician");
    expect(f.roles).toEqual(["viewer"]);
    f = toggleDormant(f, 30);
    expect(f.noSignInForDays).toBe(30);
    f = toggleDormant(f, 90);
    expect(f.noSignInForDays).toBe(90);
    expect(filterCount(f)).toBe(2);
    f = toggleDormant(f, 90);
    expect(f.noSignInForDays).toBeNull();
  });

  it("toggles the lapsing-invitation choice and sends it", () => {
    let f = toggleExpiring(emptyFilters(), 24);
    expect(f.invitationExpiresWithinHours).toBe(24);
    expect(filterCount(f)).toBe(1);
    f = toggleExpiring(f, 72);
    expect(toQuery(f, { sort: "name", descending: false }, 0, 10).invitationExpiresWithinHours).toBe(72);
    expect(toggleExpiring(f, 72).invitationExpiresWithinHours).toBeNull();
    expect(hoursText(24)).toBe("24 hours");
    expect(hoursText(72)).toBe("3 days");
  });

  it("knows when anything filters", () => {
    expect(isFiltered(emptyFilters())).toBe(false);
    expect(isFiltered({ ...emptyFilters(), text: "  " })).toBe(false);
    expect(isFiltered({ ...emptyFilters(), text: "jo" })).toBe(true);
    expect(isFiltered(toggleDormant(emptyFilters(), 60))).toBe(true);
  });

  it("builds the query with the window and a capped limit", () => {
    const f = { ...toggleValue(emptyFilters(), "statuses", "suspended"), text: " jane " };
    const q = toQuery(f, { sort: "email", descending: true }, 400, 9999);
    expect(q).toMatchObject({ text: "jane", statuses: ["suspended"], sort: "email", descending: true, offset: 400, limit: 9999, noSignInForDays: null });
  });

  it("keys queries apart from their window", () => {
    const order: SortOrder = { sort: "name", descending: false };
    const a = queryKey(emptyFilters(), order);
    expect(queryKey({ ...emptyFilters(), text: "  " }, order)).toBe(a);
    expect(queryKey({ ...emptyFilters(), text: "x" }, order)).not.toBe(a);
    expect(queryKey(emptyFilters(), { sort: "name", descending: true })).not.toBe(a);
  });

  it("says how many", () => {
    expect(countText(20000, 20000, false)).toBe("20,000 users");
    expect(countText(12, 20000, true)).toBe("12 of 20,000 users");
    expect(countText(1, 1, false)).toBe("1 user");
    expect(countText(12, null, true)).toBe("12 users");
  });
});

describe("dormantChoices", () => {
  it("offers the usual thresholds, and shows one chosen elsewhere among them", () => {
    expect(dormantChoices(emptyFilters())).toEqual([30, 60, 90]);
    expect(dormantChoices({ ...emptyFilters(), noSignInForDays: 60 })).toEqual([30, 60, 90]);
    expect(dormantChoices({ ...emptyFilters(), noSignInForDays: 45 })).toEqual([30, 45, 60, 90]);
    expect(dormantChoices({ ...emptyFilters(), noSignInForDays: 365 })).toEqual([30, 60, 90, 365]);
  });
});
