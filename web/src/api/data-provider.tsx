/**
 * Reads go through TanStack Query (with connect-query's typed keys for the generated services):
 * one cache, request de-duplication, cancellation of reads nobody waits for any more, and
 * paging. The cache holds what the signed-in user may see, so it is emptied when the user
 * changes (sign in, sign out, another account), never on a mere token refresh.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { TransportProvider } from "@connectrpc/connect-query";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { ReactNode } from "react";

import { transport } from "./client";
import { loadSession, onSessionChange } from "./session";

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      // Only an unreachable server is worth asking again; a refusal stays a refusal.
      retry: (failures, error) => failures < 2 && ConnectError.from(error).code === Code.Unavailable,
    },
  },
});

let signedInAs = loadSession()?.userId ?? null;
onSessionChange((session) => {
  const userId = session?.userId ?? null;
  // Shown queries read again as the new user; the rest are dropped.
  if (userId !== signedInAs) void queryClient.resetQueries();
  signedInAs = userId;
});

export function DataProvider({ children }: { children: ReactNode }) {
  return (
    <TransportProvider transport={transport}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </TransportProvider>
  );
}
