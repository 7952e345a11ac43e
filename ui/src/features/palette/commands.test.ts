import { afterEach, describe, expect, it } from "vitest";
import type { StatusView, UserDetail } from "../../lib/bindings";
import { app } from "../../lib/state.svelte";
import { paletteCommands, type PaletteUi } from "./commands";

const ui: PaletteUi = { close: () => {}, go: () => () => {}, openOrgs: async () => {}, signOut: async () => {} };

function status(systemAdmin: boolean): StatusView {
  return {
    phase: "ready",
    online: true,
    readOnly: false,
    readOnlyReason: null,
    features: [],
    org: "acme",
    account: { id: "me", displayName: "Me", role: "admin", systemAdmin },
  } as unknown as StatusView;
}

const ids = (shown: UserDetail | null = null) => paletteCommands(shown, ui).map((c) => c.id);

afterEach(() => {
  app.status = null;
});

describe("palette commands", () => {
  it("offers only the theme before sign-in", () => {
    expect(ids()).toEqual(["theme"]);
  });

  it("offers switching organisation to system admins only", () => {
    app.status = status(false);
    expect(ids()).not.toContain("switch-org");
    app.status = status(true);
    expect(ids()).toContain("switch-org");
  });

  it("offers the actions of the user on screen, with the engine's reasons", () => {
    app.status = status(false);
    const shown = {
      id: "u1",
      displayName: "Ada Lovelace",
      actions: [
        { action: "edit", available: true, reason: null },
        { action: "suspend", available: false, reason: "You cannot suspend yourself." },
      ],
    } as unknown as UserDetail;
    const acts = paletteCommands(shown, ui).filter((c) => c.id.startsWith("act-"));
    expect(acts.map((c) => [c.id, c.title, c.disabledReason])).toEqual([
      ["act-edit", "Edit Ada Lovelace", null],
      ["act-suspend", "Suspend: Ada Lovelace", "You cannot suspend yourself."],
    ]);
  });
});
