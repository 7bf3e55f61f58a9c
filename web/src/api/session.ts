/**
 * The signed-in user's tokens, kept in localStorage so a reload (or another tab) stays signed in.
 *
 * Access tokens live minutes; `accessToken()` refreshes one that is about to expire before any
 * call goes out, and concurrent callers share one refresh, because the server rotates refresh
 * tokens and treats a reused one as theft (it revokes the whole family).
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";

import { type Credentials, type User, User_Role } from "../gen/vidmesh/v1/auth_pb";

const KEY = "vidmesh.session";
/**
 * Refresh this long before expiry, so a call never arrives with a token that just died: a minute,
 * or a third of the token's life when tokens are configured to live only a few minutes.
 */
const MARGIN_MS = 60_000;

export interface StoredSession {
  accessToken: string;
  accessExpiresAt: number;
  accessObtainedAt?: number;
  refreshToken: string;
  refreshExpiresAt: number;
  userId: string;
  email: string;
  displayName: string;
  isAdmin: boolean;
}

type Listener = (session: StoredSession | null) => void;
const listeners = new Set<Listener>();
let pending: Promise<StoredSession | null> | null = null;
let refresher: ((refreshToken: string) => Promise<Credentials>) | null = null;

export function loadSession(): StoredSession | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as StoredSession) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: StoredSession | null): void {
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
  for (const listener of listeners) listener(session);
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function sessionFrom(credentials: Credentials, user: User | undefined, previous?: StoredSession): StoredSession {
  return {
    accessToken: credentials.accessToken,
    accessExpiresAt: credentials.accessTokenExpireTime
      ? timestampDate(credentials.accessTokenExpireTime).getTime()
      : Date.now() + 5 * 60_000,
    accessObtainedAt: Date.now(),
    refreshToken: credentials.refreshToken,
    refreshExpiresAt: credentials.refreshTokenExpireTime
      ? timestampDate(credentials.refreshTokenExpireTime).getTime()
      : Date.now() + 24 * 3600_000,
    userId: user?.userId ?? previous?.userId ?? "",
    email: user?.email ?? previous?.email ?? "",
    displayName: user?.displayName ?? previous?.displayName ?? "",
    isAdmin: user ? user.role === User_Role.ADMIN : (previous?.isAdmin ?? false),
  };
}

/** Wire the RefreshToken call in (the client module owns the transport). */
export function setRefresher(fn: (refreshToken: string) => Promise<Credentials>): void {
  refresher = fn;
}

export function needsRefresh(session: StoredSession, now = Date.now()): boolean {
  const lifetime = session.accessExpiresAt - (session.accessObtainedAt ?? 0);
  return session.accessExpiresAt - now < Math.min(MARGIN_MS, lifetime / 3);
}

/** A valid access token, refreshed first when close to expiry; null when signed out. */
export async function accessToken(): Promise<string | null> {
  const session = loadSession();
  if (!session) return null;
  if (!needsRefresh(session)) return session.accessToken;
  return (await refreshNow())?.accessToken ?? null;
}

/** Refresh once for every concurrent caller; a refused refresh signs the user out. */
export function refreshNow(): Promise<StoredSession | null> {
  if (pending) return pending;
  const session = loadSession();
  if (!session || !refresher) return Promise.resolve(null);
  const run = refresher;
  pending = (async () => {
    try {
      const latest = loadSession();
      // Another tab may have rotated the token already.
      if (latest && latest.refreshToken !== session.refreshToken && !needsRefresh(latest)) {
        return latest;
      }
      const credentials = await run(session.refreshToken);
      const next = sessionFrom(credentials, undefined, session);
      saveSession(next);
      return next;
    } catch {
      saveSession(null);
      return null;
    } finally {
      pending = null;
    }
  })();
  return pending;
}
