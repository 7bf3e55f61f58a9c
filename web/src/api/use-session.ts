import { useEffect, useState } from "react";

import { loadSession, onSessionChange, saveSession, type StoredSession } from "./session";

/** The current session, kept in step with sign-in, sign-out, refreshes and other tabs. */
export function useSession(): StoredSession | null {
  const [session, setSession] = useState(loadSession);
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === null || event.key === "vidmesh.session") setSession(loadSession());
    };
    window.addEventListener("storage", onStorage);
    const off = onSessionChange(setSession);
    return () => {
      window.removeEventListener("storage", onStorage);
      off();
    };
  }, []);
  return session;
}

export function signOut(): void {
  saveSession(null);
}
