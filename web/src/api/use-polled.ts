import { useCallback, useEffect, useRef, useState } from "react";

import { toApiError } from "./errors";

/**
 * Something read now and again every `intervalMs` while the page is open (the operator console's
 * queue, workers and dead letters). Each read gets an AbortSignal: a read still in flight when the
 * next one starts, or when the page goes away, is cancelled, so an old answer never overwrites a
 * newer one. `reload()` reads at once (after an action changed what is shown).
 */
export function usePolled<T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const inFlight = useRef<AbortController | null>(null);

  const reload = useCallback(async () => {
    inFlight.current?.abort();
    const controller = new AbortController();
    inFlight.current = controller;
    try {
      const value = await load(controller.signal);
      if (controller.signal.aborted) return;
      setData(value);
      setError(null);
    } catch (failure) {
      if (controller.signal.aborted) return;
      setError(toApiError(failure).message);
    }
  }, [load]);

  useEffect(() => {
    void reload();
    const timer = window.setInterval(() => void reload(), intervalMs);
    return () => {
      window.clearInterval(timer);
      inFlight.current?.abort();
    };
  }, [reload, intervalMs]);

  return { data, error, reload };
}
