import { describe, expect, it } from "vitest";
import { highlight, mergeItems, moveSelection, rankCommands, scoreCommand, searchesUsers, sortOrgs, type PaletteCommand } from "./palette";

const commands: PaletteCommand[] = [
  { id: "users", title: "Go to Users", keywords: ["people", "list"] },
  { id: "invite", title: "Invite user", keywords: ["create", "new", "add"] },
  { id: "audit", title: "Audit log", keywords: ["history", "events"] },
  { id: "connections", title: "Connections", keywords: ["profiles", "servers"] },
  { id: "sync", title: "Sync now", keywords: ["refresh", "update", "offline"] },
  { id: "theme", title: "Toggle theme", keywords: ["dark", "light", "mode"] },
  { id: "signout", title: "Sign out", keywords: ["log out", "logout"] },
  { id: "org", title: "Switch organisation", keywords: ["org", "tenant"] },
];

const ids = (list: PaletteCommand[]) => list.map((c) => c.id);

describe("ranking commands", () => {
  it("keeps the listed order with nothing typed", () => {
    expect(ids(rankCommands(commands, "  "))).toEqual(ids(commands));
  });

  it("prefers title prefixes, then word prefixes, then keywords", () => {
    expect(ids(rankCommands(commands, "sync"))[0]).toBe("sync");
    expect(ids(rankCommands(commands, "s"))).toEqual(["sync", "signout", "org", "connections"]);
    expect(ids(rankCommands(commands, "dark"))).toEqual(["theme"]);
    expect(ids(rankCommands(commands, "new"))).toEqual(["invite"]);
    expect(ids(rankCommands(commands, "switch org"))).toEqual(["org"]);
    expect(ids(rankCommands(commands, "gtu"))).toEqual(["users"]);
  });

  it("does not match people's names loosely", () => {
    expect(rankCommands(commands, "adam")).toEqual([]);
    expect(rankCommands(commands, "jo")).toEqual([]);
    expect(ids(rankCommands(commands, "ad"))).toEqual(["invite"]); // the keyword "add"
    expect(scoreCommand("jane", commands[0])).toBe(-1);
  });

  it("finds substrings of three letters or more", () => {
    expect(ids(rankCommands(commands, "nect"))).toEqual(["connections"]);
  });
});

describe("mixing in users", () => {
  it("puts strong command matches first and users before weak ones", () => {
    const ranked = rankCommands(commands, "log");
    const items = mergeItems(ranked, [{ id: "u1" }], "log");
    expect(items.map((i) => (i.kind === "user" ? "user" : i.command.id))).toEqual(["audit", "user", "signout"]);
    expect(mergeItems([], [{ id: "u1" }], "jane")[0].kind).toBe("user");
  });

  it("searches people from two letters", () => {
    expect(searchesUsers("j")).toBe(false);
    expect(searchesUsers(" ja ")).toBe(true);
  });
});

describe("selection", () => {
  it("wraps round and copes with empty lists", () => {
    expect(moveSelection(0, 1, 3)).toBe(1);
    expect(moveSelection(2, 1, 3)).toBe(0);
    expect(moveSelection(0, -1, 3)).toBe(2);
    expect(moveSelection(-1, 1, 3)).toBe(0);
    expect(moveSelection(-1, -1, 3)).toBe(2);
    expect(moveSelection(0, 1, 0)).toBe(-1);
  });
});

describe("highlighting", () => {
  it("marks word-start matches", () => {
    expect(highlight("Go to Users", "us")).toEqual([
      { text: "Go to ", hit: false },
      { text: "Us", hit: true },
      { text: "ers", hit: false },
    ]);
    expect(highlight("Jane Smith", "")).toEqual([{ text: "Jane Smith", hit: false }]);
    expect(highlight("", "x")).toEqual([]);
    expect(highlight("Thomas", "om")).toEqual([{ text: "Thomas", hit: false }]);
    expect(highlight("Connections", "nect").map((s) => s.hit)).toEqual([false, true, false]);
  });
});

describe("organisations", () => {
  it("lists favourites first, then by name", () => {
    const sorted = sortOrgs([
      { id: "c", name: "charlie", favourite: false },
      { id: "b", name: "Bravo", favourite: true },
      { id: "a", name: "alpha", favourite: false },
    ]);
    expect(sorted.map((o) => o.id)).toEqual(["b", "a", "c"]);
  });
});
