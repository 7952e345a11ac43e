// The users table's columns: which exist, which are shown (remembered per machine), their
// widths, and how clicking a header changes the sort. Pure, unit-tested.
import { ago, label } from "../../lib/format";
import type { SortKey } from "../../lib/bindings";
import type { Row } from "./filters";

export type ColumnId =
  | "name"
  | "email"
  | "userName"
  | "phone"
  | "role"
  | "licence"
  | "status"
  | "branch"
  | "securityGroup"
  | "zones"
  | "invitation"
  | "mfa"
  | "lastSignIn"
  | "login";

export type Column = {
  id: ColumnId;
  title: string;
  /** Narrowest the column gets, in pixels. */
  min: number;
  /** Share of the spare width. */
  grow: number;
  /** Sort key sent to `searchUsers`, when the column can be sorted. */
  sortKey: SortKey | null;
  /** Always shown. */
  required?: boolean;
  /** A shop field: shown only where the provider has Muster's shop extension. */
  shop?: boolean;
};

export const COLUMNS: readonly Column[] = [
  { id: "name", title: "Name", min: 160, grow: 1.4, sortKey: "name", required: true },
  { id: "email", title: "Email", min: 170, grow: 1.6, sortKey: "email" },
  { id: "userName", title: "User name", min: 180, grow: 1.3, sortKey: "userName" },
  { id: "phone", title: "Phone", min: 130, grow: 0.6, sortKey: null },
  { id: "role", title: "Role", min: 112, grow: 0.5, sortKey: "role", shop: true },
  { id: "licence", title: "Licence", min: 108, grow: 0.5, sortKey: "licence", shop: true },
  { id: "status", title: "Status", min: 104, grow: 0.5, sortKey: "status" },
  { id: "branch", title: "Branch", min: 124, grow: 0.7, sortKey: "branch", shop: true },
  { id: "securityGroup", title: "Security group", min: 150, grow: 0.8, sortKey: "securityGroup", shop: true },
  { id: "zones", title: "Zones", min: 130, grow: 0.7, sortKey: null, shop: true },
  { id: "invitation", title: "Invitation", min: 150, grow: 0.6, sortKey: "invitation", shop: true },
  { id: "mfa", title: "2FA", min: 64, grow: 0, sortKey: null, shop: true },
  { id: "lastSignIn", title: "Last sign-in", min: 124, grow: 0.6, sortKey: "lastSignIn", shop: true },
  { id: "login", title: "Login", min: 104, grow: 0.4, sortKey: null, shop: true },
];

export const DEFAULT_VISIBLE: readonly ColumnId[] = ["name", "email", "role", "licence", "status", "branch", "lastSignIn", "login"];

export const COLUMNS_KEY = "muster.users.columns";
export const SORT_KEY = "muster.users.sort";

/** Width of the selection checkbox column. */
export const CHECK_WIDTH = 44;

const BY_ID = new Map(COLUMNS.map((c) => [c.id, c]));

export function column(id: ColumnId): Column {
  return BY_ID.get(id) ?? COLUMNS[0];
}

/** The columns this provider has data for: without the shop extension, none of its fields. */
export function available(ids: readonly ColumnId[], shopFields: boolean): ColumnId[] {
  return shopFields ? [...ids] : ids.filter((id) => !column(id).shop);
}

/** Puts ids in table order, drops unknown and repeated ones, and keeps the required ones. */
export function normalise(ids: readonly string[]): ColumnId[] {
  const wanted = new Set(ids);
  return COLUMNS.filter((c) => c.required || wanted.has(c.id)).map((c) => c.id);
}

/** The shown columns from what was saved (JSON list), else the defaults. */
export function parseVisible(saved: string | null | undefined): ColumnId[] {
  if (!saved) return [...DEFAULT_VISIBLE];
  try {
    const parsed: unknown = JSON.parse(saved);
    if (!Array.isArray(parsed)) return [...DEFAULT_VISIBLE];
    const ids = normalise(parsed.filter((x): x is string => typeof x === "string"));
    return ids.length > 1 ? ids : [...DEFAULT_VISIBLE];
  } catch {
    return [...DEFAULT_VISIBLE];
  }
}

type Store = Pick<Storage, "getItem" | "setItem">;

function storage(): Store | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

export function loadVisible(store: Store | null = storage()): ColumnId[] {
  try {
    return parseVisible(store?.getItem(COLUMNS_KEY));
  } catch {
    return [...DEFAULT_VISIBLE];
  }
}

export function saveVisible(ids: readonly ColumnId[], store: Store | null = storage()): void {
  try {
    store?.setItem(COLUMNS_KEY, JSON.stringify(normalise(ids)));
  } catch {
    // A full or blocked storage only forgets the choice.
  }
}

/** Shows or hides one column (required ones stay). */
export function toggleColumn(visible: readonly ColumnId[], id: ColumnId): ColumnId[] {
  if (column(id).required) return normalise(visible);
  return visible.includes(id) ? normalise(visible.filter((v) => v !== id)) : normalise([...visible, id]);
}

/** `grid-template-columns` for the checkbox column and the shown columns. */
export function gridTemplate(visible: readonly ColumnId[]): string {
  const parts = visible.map((id) => {
    const c = column(id);
    return c.grow > 0 ? `minmax(${c.min}px, ${c.grow}fr)` : `${c.min}px`;
  });
  return [`${CHECK_WIDTH}px`, ...parts].join(" ");
}

/** The narrowest the whole table gets before it scrolls sideways. */
export function minWidth(visible: readonly ColumnId[]): number {
  return visible.reduce((sum, id) => sum + column(id).min, CHECK_WIDTH);
}

export type Sort = { sort: SortKey; descending: boolean };

export const DEFAULT_SORT: Sort = { sort: "name", descending: false };

const SORT_KEYS = new Set<string>(COLUMNS.map((c) => c.sortKey).filter((k): k is SortKey => k !== null));

/** Clicking a header: the same column flips the order; another starts ascending (the last
 * sign-in starts with the most recent). */
export function nextSort(current: Sort, id: ColumnId): Sort {
  const key = column(id).sortKey;
  if (!key) return current;
  if (current.sort === key) return { sort: key, descending: !current.descending };
  return { sort: key, descending: key === "lastSignIn" };
}

export function ariaSort(current: Sort, id: ColumnId): "ascending" | "descending" | "none" {
  const key = column(id).sortKey;
  if (!key || current.sort !== key) return "none";
  return current.descending ? "descending" : "ascending";
}

export function parseSort(saved: string | null | undefined): Sort {
  if (!saved) return { ...DEFAULT_SORT };
  try {
    const parsed = JSON.parse(saved) as Partial<Sort> | null;
    if (parsed && typeof parsed.sort === "string" && SORT_KEYS.has(parsed.sort)) {
      return { sort: parsed.sort, descending: parsed.descending === true };
    }
  } catch {
    // fall through
  }
  return { ...DEFAULT_SORT };
}

export function loadSort(store: Store | null = storage()): Sort {
  try {
    return parseSort(store?.getItem(SORT_KEY));
  } catch {
    return { ...DEFAULT_SORT };
  }
}

export function saveSort(sort: Sort, store: Store | null = storage()): void {
  try {
    store?.setItem(SORT_KEY, JSON.stringify(sort));
  } catch {
    // forgotten
  }
}

/** The plain text of a cell (status and 2FA cells are drawn as badges from the same row). */
export function cellText(row: Row, id: ColumnId, now: Date = new Date()): string {
  switch (id) {
    case "name":
      return row.name;
    case "email":
      return row.email ?? "—";
    case "userName":
      return row.userName;
    case "phone":
      return row.phone ?? "—";
    case "role":
      return label(row.role);
    case "licence":
      return label(row.licence);
    case "status":
      return label(row.status);
    case "branch":
      return row.branch ?? "—";
    case "securityGroup":
      return row.securityGroup ?? "—";
    case "zones":
      return row.zones.length ? row.zones.join(", ") : "—";
    case "invitation": {
      // The state and the engine's words as of now: "Pending · expires in 5 h".
      const state = label(row.invitationState);
      return row.invitationLabel && row.invitationLabel !== row.invitationState ? `${state} · ${row.invitationLabel}` : state;
    }
    case "mfa":
      return row.mfaEnabled == null ? "—" : row.mfaEnabled ? "On" : "Off";
    case "lastSignIn":
      return ago(row.lastSignInAt, now);
    case "login":
      return label(row.lastSignInMethod);
  }
}
