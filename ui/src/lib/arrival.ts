// When the console should fetch the offline copy by itself: every arrival in a signed-in
// state with no copy yet (a first sign-in, a sign-in after a refused or ended session, a
// token sign-in, another organisation). Pure, unit-tested in arrival.test.ts; App.svelte
// starts one sync per arrival, so a failed sync is not retried in a loop.
import type { Phase } from "./bindings";

/** The parts of the console's status this needs. */
type Status = {
  phase: Phase;
  online: boolean;
  syncedAt?: string | null;
  profile?: { name: string } | null;
  org?: string | null;
  account?: { id: string } | null;
  mustChangePassword?: boolean;
  mfaEnrollmentRequired?: boolean;
  noAccessReason?: string | null;
};

/**
 * A key naming this arrival (profile, organisation, account) when a first sync should
 * start now, or null when none should: not signed in, offline, a copy exists, the
 * account must choose a new password or set up two-factor first (the server refuses
 * everything else), or it may see no users at all (technicians).
 */
export function firstSyncArrival(status: Status | null | undefined): string | null {
  if (status?.phase !== "ready" || !status.online || status.syncedAt || status.mustChangePassword || status.mfaEnrollmentRequired || status.noAccessReason) return null;
  return `${status.profile?.name ?? ""}/${status.org ?? ""}/${status.account?.id ?? ""}`;
}
