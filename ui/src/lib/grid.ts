// Row arithmetic for a grid of rows drawn a window at a time (VirtualTable): moving the
// active row and ordering a shift-click range. Pure, unit-tested.

/** Rows `from..=to` in order, whichever way they were given. */
export function span(from: number, to: number): [number, number] {
  return from <= to ? [from, to] : [to, from];
}

/** Moves the active row by `delta` (or to an end), within `0..total`. */
export function moveActive(active: number, delta: number, total: number): number {
  if (total <= 0) return -1;
  if (active < 0) return delta < 0 ? total - 1 : 0;
  return Math.max(0, Math.min(total - 1, active + delta));
}
