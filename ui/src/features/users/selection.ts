// The users table's selection without the screen: some rows by id, or everything matching
// the query, and the header checkbox's state. Pure, unit-tested.

/** Some rows by id, or (`all`) everything matching the query except `ids`. */
export type Selection = { all: boolean; ids: ReadonlySet<string> };

export const NO_SELECTION: Selection = { all: false, ids: new Set() };

export function isSelected(selection: Selection, id: string): boolean {
  return selection.all ? !selection.ids.has(id) : selection.ids.has(id);
}

export function selectedCount(selection: Selection, total: number): number {
  return selection.all ? Math.max(0, total - selection.ids.size) : selection.ids.size;
}

export function setSelected(selection: Selection, ids: readonly string[], on: boolean): Selection {
  const next = new Set(selection.ids);
  // In `all` mode the set holds the exceptions, so "on" removes from it.
  const add = selection.all ? !on : on;
  for (const id of ids) {
    if (add) next.add(id);
    else next.delete(id);
  }
  return { all: selection.all, ids: next };
}

export function toggleSelected(selection: Selection, id: string): Selection {
  return setSelected(selection, [id], !isSelected(selection, id));
}

export function selectAllMatching(): Selection {
  return { all: true, ids: new Set() };
}

/** The header checkbox's state. */
export function headerState(selection: Selection, total: number): "none" | "some" | "all" {
  const count = selectedCount(selection, total);
  if (count === 0 || total === 0) return "none";
  return count >= total && (selection.all || selection.ids.size >= total) ? "all" : "some";
}
