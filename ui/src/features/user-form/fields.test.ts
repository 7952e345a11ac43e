import { describe, expect, it } from "vitest";
import type { UserDetail } from "../../lib/bindings";
import {
  addTo,
  choices,
  cleanList,
  diffForms,
  formFieldOf,
  formFromDetail,
  inputFromForm,
  isDirty,
  looksLikeEmail,
  mapFieldErrors,
  sameEmail,
  toggleIn,
} from "./fields";

function detail(overrides: Partial<UserDetail> = {}): UserDetail {
  return {
    id: "u1",
    version: 'W/"3"',
    userName: "jane@acme.test",
    givenName: "Jane",
    familyName: "Smith",
    displayName: "Jane Smith",
    initials: "JS",
    hasPhoto: false,
    email: "jane@acme.test",
    phone: null,
    jobRole: "Plumber",
    licence: "field",
    role: "technician",
    securityGroup: "Field staff",
    serviceGroups: ["Plumbing"],
    zones: ["North"],
    homeBranch: "Leeds",
    branches: ["Leeds", "York"],
    permissions: ["viewPricing"],
    status: "active",
    invitation: null,
    lastSignInAt: null,
    lastSignInMethod: null,
    mfaEnabled: null,
    activeSessions: null,
    groups: [],
    created: null,
    lastModified: null,
    isSelf: false,
    fromCache: false,
    actions: [],
    actionsNote: null,
    lockedFields: [],
    outcome: null,
    unread: [],
    ...overrides,
  };
}

describe("user form values", () => {
  it("round-trips a user and builds a trimmed input with blanks as null", () => {
    const values = formFromDetail(detail());
    expect(values.phone).toBe("");
    values.givenName = "  Jane ";
    values.serviceGroups = ["Plumbing", " plumbing", "", "Gas "];
    const input = inputFromForm(values);
    expect(input.givenName).toBe("Jane");
    expect(input.phone).toBeNull();
    expect(input.jobRole).toBe("Plumber");
    expect(input.serviceGroups).toEqual(["Plumbing", "Gas"]);
    expect(input.branches).toEqual(["Leeds", "York"]);
    // Permissions the form does not offer are kept.
    expect(input.permissions).toEqual(["viewPricing"]);
  });

  it("toggles a permission and sees it as a change", () => {
    const loaded = formFromDetail(detail());
    const values = formFromDetail(detail());
    values.permissions = toggleIn(values.permissions, "mobileAppAccess");
    expect(inputFromForm(values).permissions).toEqual(["viewPricing", "mobileAppAccess"]);
    expect(diffForms(values, loaded).map((d) => d.field)).toEqual(["permissions"]);
    values.permissions = toggleIn(values.permissions, "viewPricing");
    expect(inputFromForm(values).permissions).toEqual(["mobileAppAccess"]);
  });

  it("does not share lists with the detail it came from", () => {
    const d = detail();
    const values = formFromDetail(d);
    values.zones.push("South");
    expect(d.zones).toEqual(["North"]);
  });

  it("cleans lists", () => {
    expect(cleanList([" a", "A", "", "b "])).toEqual(["a", "b"]);
  });
});

describe("validation", () => {
  it("checks emails like the engine does", () => {
    expect(looksLikeEmail("jane@acme.test")).toBe(true);
    expect(looksLikeEmail("jane+contractor@acme.co.uk")).toBe(true);
    expect(looksLikeEmail("jane@acme")).toBe(false);
    expect(looksLikeEmail("@acme.test")).toBe(false);
    expect(looksLikeEmail("jane@.acme")).toBe(false);
    expect(looksLikeEmail("jane@acme.")).toBe(false);
    expect(looksLikeEmail("ja ne@acme.test")).toBe(false);
    expect(sameEmail(" Jane@Acme.test", "jane@acme.test")).toBe(true);
  });

});

describe("server field errors", () => {
  it("maps paths to form fields", () => {
    expect(formFieldOf("givenName")).toBe("givenName");
    expect(formFieldOf("name.familyName")).toBe("familyName");
    expect(formFieldOf('emails[type eq "work"].value')).toBe("email");
    expect(formFieldOf("urn:muster:params:scim:schemas:extension:shop:2.0:User:role")).toBe("role");
    expect(formFieldOf("phoneNumbers")).toBe("phone");
    expect(formFieldOf("operations")).toBeNull();
  });

  it("keeps unknown ones for the general box", () => {
    const { byField, other } = mapFieldErrors([
      { field: "email", message: "Bad address." },
      { field: "emails", message: "Second." },
      { field: "operations", message: "Cannot be sent." },
    ]);
    expect(byField).toEqual({ email: "Bad address." });
    expect(other).toEqual(["Cannot be sent."]);
  });
});

describe("stale edits", () => {
  it("lists the fields that differ, in form order, ignoring list order and case", () => {
    const mine = formFromDetail(detail());
    const theirs = formFromDetail(detail({ role: "admin", branches: ["York", "Leeds"], phone: "0113" }));
    mine.jobRole = "Gas engineer";
    const diffs = diffForms(mine, theirs);
    expect(diffs.map((d) => d.field)).toEqual(["phone", "jobRole", "role"]);
    expect(diffs[0]).toEqual({ field: "phone", label: "Phone", mine: "—", theirs: "0113" });
    expect(isDirty(mine, mine)).toBe(false);
  });
});

describe("multi-value helpers", () => {
  it("adds, toggles and lists choices", () => {
    expect(addTo(["Gas"], " gas ")).toEqual(["Gas"]);
    expect(addTo(["Gas"], "Water")).toEqual(["Gas", "Water"]);
    expect(toggleIn(["a", "b"], "a")).toEqual(["b"]);
    expect(toggleIn(["b"], "a")).toEqual(["b", "a"]);
    expect(choices([{ value: "Gas" }, { value: "" }], ["gas", "Solar"])).toEqual(["Gas", "Solar"]);
    expect(choices(undefined, ["x"])).toEqual(["x"]);
  });
});
