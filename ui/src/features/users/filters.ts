// The users table's filters without the screen: the chips that set them, the query sent to
// `searchUsers` and the count's words. Pure, unit-tested.
import type { commands, Facets, FacetValue, SearchQuery_Serialize as SearchQuery } from "../../lib/bindings";
import type { Sort as SortOrder } from "./columns";
import { grouped } from "../../lib/format";

/** What a command gives back when it works. */
export type Data<F extends (...args: never[]) => Promise<unknown>> = Extract<Awaited<ReturnType<F>>, { status: "ok" }> extends { data: infer D } ? D : never;

/** One row of the users table, as `searchUsers` sends it. */
export type Row = Data<typeof commands.searchUsers>["rows"][number];

/** The engine's query filters (one type across the boundary), with deactivated users shown
 * or left out (as the shop tool does, they are left out until asked for). */
export type Filters = Omit<SearchQuery, "hideDeactivated" | "sort" | "descending" | "offset" | "limit"> & {
  showDeactivated: boolean;
};

export type ListKey = Exclude<keyof Filters, "text" | "noSignInForDays" | "invitationExpiresWithinHours" | "showDeactivated">;

export function emptyFilters(): Filters {
  return {
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
    showDeactivated: false,
  };
}

/** One group of filter chips: its `data-testid` name, the facet it counts from and the
 * filter list it sets. */
export type FacetGroup = {
  facet: string;
  title: string;
  source: keyof Facets;
  list: ListKey;
  /** Values always offered (with a zero count when nobody holds them). */
  fixed?: readonly string[];
  /** Only these values are offered. */
  only?: readonly string[];
  /** A shop field: offered only where the provider has Muster's shop extension. */
  shop?: boolean;
};

export const FACET_GROUPS: readonly FacetGroup[] = [
  { facet: "status", title: "Status", source: "statuses", list: "statuses", fixed: ["active", "invited", "suspended", "deactivated"] },
  { facet: "role", title: "Role", source: "roles", list: "roles", shop: true },
  { facet: "licence", title: "Licence", source: "licences", list: "licences", shop: true },
  { facet: "invitation", title: "Invitation", source: "invitationStates", list: "invitationStates", fixed: ["pending", "expired"], only: ["pending", "expired"], shop: true },
  { facet: "branch", title: "Branch", source: "branches", list: "branches", shop: true },
  { facet: "zone", title: "Zone", source: "zones", list: "zones", shop: true },
  { facet: "securityGroup", title: "Security group", source: "securityGroups", list: "securityGroups", shop: true },
  { facet: "signInMethod", title: "Last sign-in method", source: "signInMethods", list: "signInMethods", shop: true },
];

/** The statuses SCIM itself can say (`active`), for a provider without the shop extension. */
export const SCIM_STATUSES: readonly string[] = ["active", "deactivated"];

export const DORMANT_DAYS: readonly number[] = [30, 60, 90];

/** The "invitation lapses within" chips, in hours: pending invitations to resend. */
export const EXPIRING_HOURS: readonly number[] = [24, 72];

/** "24 hours", "3 days". */
export function hoursText(hours: number): string {
  return hours % 24 === 0 && hours > 24 ? `${hours / 24} days` : `${hours} hours`;
}

/** The dormant chips: the usual thresholds, and one chosen elsewhere (the review screen)
 * so that it shows, on, and can be cleared. */
export function dormantChoices(filters: Filters): number[] {
  const days = filters.noSignInForDays;
  const choices = [...DORMANT_DAYS];
  if (days !== null && !choices.includes(days)) choices.push(days);
  return choices.sort((a, b) => a - b);
}

/** The chips of one group: the facet's values (plus the fixed ones, and any value still
 * filtered on), fixed values first, then by count. */
export function chipValues(group: FacetGroup, facets: Facets | null, filters: Filters): FacetValue[] {
  const counts = new Map<string, number>();
  for (const v of facets?.[group.source] ?? []) counts.set(v.value, v.count);
  const order: string[] = [];
  const add = (value: string) => {
    if (!order.includes(value) && (!group.only || group.only.includes(value))) order.push(value);
  };
  for (const v of group.fixed ?? []) add(v);
  const rest = [...counts.entries()].filter(([v]) => !order.includes(v));
  if (!group.fixed) rest.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  for (const [v] of rest) add(v);
  for (const v of filters[group.list]) add(v);
  return order.map((value) => ({ value, count: counts.get(value) ?? 0 }));
}

export function isOn(filters: Filters, list: ListKey, value: string): boolean {
  return filters[list].includes(value);
}

/** Turns one chip on or off (a new `Filters`). */
export function toggleValue(filters: Filters, list: ListKey, value: string): Filters {
  const current = filters[list];
  const next = current.includes(value) ? current.filter((v) => v !== value) : [...current, value];
  return { ...filters, [list]: next };
}

/** The dormant chips are one choice: picking the chosen one again clears it. */
export function toggleDormant(filters: Filters, days: number): Filters {
  return { ...filters, noSignInForDays: filters.noSignInForDays === days ? null : days };
}

/** The lapsing-invitation chips are one choice too. */
export function toggleExpiring(filters: Filters, hours: number): Filters {
  return { ...filters, invitationExpiresWithinHours: filters.invitationExpiresWithinHours === hours ? null : hours };
}

export function filterCount(filters: Filters): number {
  let n = filters.noSignInForDays === null ? 0 : 1;
  if (filters.invitationExpiresWithinHours !== null) n += 1;
  for (const group of FACET_GROUPS) n += filters[group.list].length;
  return n;
}

export function isFiltered(filters: Filters): boolean {
  return filters.text.trim() !== "" || filterCount(filters) > 0;
}

export type { SortOrder };

export function toQuery(filters: Filters, order: SortOrder, offset: number, limit: number): SearchQuery {
  return {
    text: filters.text.trim(),
    roles: [...filters.roles],
    licences: [...filters.licences],
    statuses: [...filters.statuses],
    branches: [...filters.branches],
    zones: [...filters.zones],
    securityGroups: [...filters.securityGroups],
    signInMethods: [...filters.signInMethods],
    invitationStates: [...filters.invitationStates],
    noSignInForDays: filters.noSignInForDays,
    invitationExpiresWithinHours: filters.invitationExpiresWithinHours,
    hideDeactivated: !filters.showDeactivated,
    sort: order.sort,
    descending: order.descending,
    offset,
    limit,
  };
}

/** Identifies a query apart from its window: equal keys mean the same rows. */
export function queryKey(filters: Filters, order: SortOrder): string {
  const q = toQuery(filters, order, 0, 1);
  return JSON.stringify([q.text, q.roles, q.licences, q.statuses, q.branches, q.zones, q.securityGroups, q.signInMethods, q.invitationStates, q.noSignInForDays, q.invitationExpiresWithinHours, q.hideDeactivated, q.sort, q.descending]);
}

/** "20,000 users", or "12 of 20,000 users" when filtered. */
export function countText(total: number, all: number | null, filtered: boolean): string {
  const word = (n: number) => `user${n === 1 ? "" : "s"}`;
  if (filtered && all !== null && all >= total) return `${grouped(total)} of ${grouped(all)} ${word(all)}`;
  return `${grouped(total)} ${word(total)}`;
}
