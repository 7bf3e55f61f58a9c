import type { ConnectError } from "@connectrpc/connect";

import { toApiError } from "./errors";

/**
 * The operator console, the timeline and the quota meter read again every few seconds while
 * shown (TanStack Query's `refetchInterval`); a read still in flight when the page goes away is
 * cancelled, and an old answer never overwrites a newer one.
 */
export const POLL = { refetchIntervalInBackground: false } as const;

/** The words a failed read shows, or null. */
export function readError(error: ConnectError | null): string | null {
  return error ? toApiError(error).message : null;
}
