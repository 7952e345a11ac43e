// The review screen's logic without the screen: the users table's filters for a count, the
// dormancy input and bar lengths. Pure,
// unit-tested in review.test.ts.
import type { SearchQuery_Serialize as SearchQuery } from "../../lib/bindings";
import type { Filters } from "../users/filters";

/** Dormancy threshold when the screen opens. */
export const DEFAULT_DAYS = 90;
/** The longest threshold the engine accepts (a century). */
export const MAX_DAYS = 36_500;

/** The users table's filters that list exactly the users a count stands for. The sort
 * and the window are the table's own. */
export function filtersFromQuery(query: SearchQuery): Filters {
  return {
    text: query.text,
    roles: [...query.roles],
    licences: [...query.licences],
    statuses: [...query.statuses],
    branches: [...query.branches],
    zones: [...query.zones],
    securityGroups: [...query.securityGroups],
    signInMethods: [...query.signInMethods],
    invitationStates: [...query.invitationStates],
    noSignInForDays: query.noSignInForDays,
    invitationExpiresWithinHours: query.invitationExpiresWithinHours,
    // A count's users are exactly the table's rows, deactivated ones included.
    showDeactivated: !query.hideDeactivated,
  };
}

/** The typed threshold as whole days, or the reason it is not one. */
export function parseDays(text: string): { days: number } | { error: string } {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return { error: "Enter a whole number of days." };
  const days = Number(trimmed);
  if (days < 1 || days > MAX_DAYS) return { error: `Choose between 1 and ${MAX_DAYS.toLocaleString("en-US")} days.` };
  return { days };
}

/** A bar's length in percent of the longest: 0 for nobody, at least 1 for anybody. */
export function barPercent(count: number, max: number): number {
  if (count <= 0 || max <= 0) return 0;
  return Math.max(1, Math.min(100, (100 * count) / max));
}

/** `count` as a whole percentage of `base` (0 when there is no base). */
export function share(count: number, base: number): number {
  return base > 0 ? Math.round((100 * count) / base) : 0;
}

/** Why a count has no link to the users table. */
export const NO_LINK = "The users table cannot filter on this yet.";
