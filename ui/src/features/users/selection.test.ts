import { describe, expect, it } from "vitest";
import { headerState, isSelected, NO_SELECTION, selectAllMatching, selectedCount, setSelected, toggleSelected } from "./selection";

describe("selection", () => {
  it("selects some rows", () => {
    let s = toggleSelected(NO_SELECTION, "a");
    s = toggleSelected(s, "b");
    expect(isSelected(s, "a")).toBe(true);
    expect(selectedCount(s, 100)).toBe(2);
    s = toggleSelected(s, "a");
    expect(isSelected(s, "a")).toBe(false);
    s = setSelected(s, ["c", "d", "b"], true);
    expect(selectedCount(s, 100)).toBe(3);
    expect(headerState(s, 100)).toBe("some");
    expect(headerState(NO_SELECTION, 100)).toBe("none");
  });

  it("selects everything matching, with exceptions", () => {
    let s = selectAllMatching();
    expect(isSelected(s, "zzz")).toBe(true);
    expect(selectedCount(s, 20000)).toBe(20000);
    expect(headerState(s, 20000)).toBe("all");
    s = toggleSelected(s, "a");
    expect(isSelected(s, "a")).toBe(false);
    expect(selectedCount(s, 20000)).toBe(19999);
    expect(headerState(s, 20000)).toBe("some");
    s = setSelected(s, ["a", "b"], true);
    expect(selectedCount(s, 20000)).toBe(20000);
  });
});
