import { describe, expect, it } from "vitest";
import type { OrgSettingsView } from "../../lib/bindings";
import { CUSTOM, changesAnything, changesOf, formOf, incomplete, valueOf } from "./form";

const view: OrgSettingsView = {
  policyStyle: "shop",
  policies: [
    { value: "shop", label: "Shop", rules: ["Use at least 12…"] },
    { value: "nist", label: "NIST", rules: ["Use at least 8…"] },
  ],
  lifetimes: [
    { key: "invitationHours", label: "Invitations", help: "", unit: "hours", value: 48, words: "48 hours", min: 1, max: 720, presets: [{ value: "48", label: "48 hours" }, { value: "72", label: "3 days" }] },
    { key: "magicLinkMinutes", label: "Sign-in links", help: "", unit: "minutes", value: 45, words: "45 minutes", min: 5, max: 1440, presets: [{ value: "30", label: "30 minutes" }] },
  ],
  requireAdminMfa: false,
  message: null,
};

describe("the settings form", () => {
  it("shows a preset where the value is one, else the number", () => {
    const form = formOf(view);
    expect(form.lifetimes.invitationHours).toEqual({ choice: "48", custom: null });
    expect(form.lifetimes.magicLinkMinutes).toEqual({ choice: CUSTOM, custom: 45 });
    expect(changesAnything(changesOf(view, form))).toBe(false);
  });

  it("sends only what differs", () => {
    const form = formOf(view);
    form.lifetimes.invitationHours.choice = "72";
    form.policyStyle = "nist";
    expect(changesOf(view, form)).toEqual({ policyStyle: "nist", lifetimes: [{ key: "invitationHours", value: 72 }], requireAdminMfa: null });
    form.requireAdminMfa = true;
    form.lifetimes.magicLinkMinutes.custom = 90;
    const input = changesOf(view, form);
    expect(input.requireAdminMfa).toBe(true);
    expect(input.lifetimes).toContainEqual({ key: "magicLinkMinutes", value: 90 });
  });

  it("holds back a custom value until it is a whole, positive number", () => {
    expect(valueOf({ choice: CUSTOM, custom: null })).toBeNull();
    expect(valueOf({ choice: CUSTOM, custom: 0 })).toBeNull();
    expect(valueOf({ choice: CUSTOM, custom: 2.5 })).toBeNull();
    expect(valueOf({ choice: CUSTOM, custom: 12 })).toBe(12);
    const form = formOf(view);
    form.lifetimes.magicLinkMinutes.custom = null;
    expect(incomplete(view, form)).toEqual(["magicLinkMinutes"]);
  });

  it("leaves out-of-range values for the engine to refuse by name", () => {
    const form = formOf(view);
    form.lifetimes.invitationHours = { choice: CUSTOM, custom: 5000 };
    expect(changesOf(view, form).lifetimes).toEqual([{ key: "invitationHours", value: 5000 }]);
  });
});
