import { describe, expect, it } from "vitest";
import type { SearchQuery_Serialize as SearchQuery } from "../../lib/bindings";
import { barPercent, filtersFromQuery, MAX_DAYS, parseDays, share } from "./review";
import { emptyFilters, queryKey, toQuery } from "../users/filters";

const base: SearchQuery = {
  text: "",
  roles: [],
  licences: [],
  statuses: [],
  branches: [],
  zones: [],
  securityGroups: [],
  signInMethods: [],
  invitationStates: [],
  noSignInForDays: null,
  invitationExpiresWithinHours: null,
  hideDeactivated: false,
  sort: "name",
  descending: false,
  offset: 0,
  limit: 0,
};

describe("filtersFromQuery", () => {
  it("gives the users table exactly the count's filters", () => {
    const query: SearchQuery = {
      ...base,
      statuses: ["active"],
      signInMethods: ["magic_link", "password"],
      noSignInForDays: 45,
    };
    const filters = filtersFromQuery(query);
    // A count holds deactivated people too (the table hides them until asked).
    expect(filters).toEqual({ ...emptyFilters(), statuses: ["active"], signInMethods: ["magic_link", "password"], noSignInForDays: 45, showDeactivated: true });
    // What the table then sends is the same filter, with its own sort and window.
    const sent = toQuery(filters, { sort: "name", descending: false }, 0, 200);
    expect({ ...sent, sort: "name", offset: 0, limit: 0 }).toEqual(query);
  });

  it("copies the lists, so the table's edits do not reach the review", () => {
    const query: SearchQuery = { ...base, licences: ["field"] };
    const filters = filtersFromQuery(query);
    filters.licences.push("desk");
    expect(query.licences).toEqual(["field"]);
  });

  it("an unfiltered count opens the unfiltered table", () => {
    expect(queryKey(filtersFromQuery(base), { sort: "name", descending: false })).toBe(queryKey({ ...emptyFilters(), showDeactivated: true }, { sort: "name", descending: false }));
  });
});

describe("parseDays", () => {
  it("takes whole days in range", () => {
    expect(parseDays("90")).toEqual({ days: 90 });
    expect(parseDays(" 1 ")).toEqual({ days: 1 });
    expect(parseDays(String(MAX_DAYS))).toEqual({ days: MAX_DAYS });
  });

  it("refuses the rest with a reason", () => {
    for (const text of ["", "0", "-3", "1.5", "abc", "1e3", String(MAX_DAYS + 1)]) {
      const parsed = parseDays(text);
      expect("error" in parsed, text).toBe(true);
    }
  });
});

describe("bars", () => {
  it("are scaled to the longest, and anybody shows", () => {
    expect(barPercent(50, 100)).toBe(50);
    expect(barPercent(100, 100)).toBe(100);
    expect(barPercent(0, 100)).toBe(0);
    expect(barPercent(1, 100_000)).toBe(1);
    expect(barPercent(3, 0)).toBe(0);
  });

  it("share nothing of an empty base", () => {
    expect(share(92, 142)).toBe(65);
    expect(share(5, 0)).toBe(0);
  });
});
