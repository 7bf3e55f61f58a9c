import { create } from "@bufbuild/protobuf";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { CredentialsSchema } from "../gen/vidmesh/v1/auth_pb";

import {
  accessToken,
  loadSession,
  needsRefresh,
  refreshNow,
  saveSession,
  setRefresher,
  type StoredSession,
} from "./session";

// Node has no localStorage; a Map-backed stand-in is all the module uses.
const store = new Map<string, string>();
vi.stubGlobal("localStorage", {
  getItem: (key: string) => store.get(key) ?? null,
  setItem: (key: string, value: string) => store.set(key, value),
  removeItem: (key: string) => store.delete(key),
});

function session(accessExpiresAt: number): StoredSession {
  return {
    accessToken: "old-access",
    accessExpiresAt,
    refreshToken: "refresh-1",
    refreshExpiresAt: Date.now() + 86_400_000,
    userId: "u1",
    email: "ada@example.com",
    displayName: "Ada",
    isAdmin: false,
  };
}

const credentials = (n: number) =>
  create(CredentialsSchema, { accessToken: `access-${n}`, refreshToken: `refresh-${n + 1}` });

describe("session tokens", () => {
  beforeEach(() => store.clear());

  it("uses a token that is not close to expiry as it is", async () => {
    const refresher = vi.fn();
    setRefresher(refresher);
    saveSession(session(Date.now() + 600_000));
    expect(await accessToken()).toBe("old-access");
    expect(refresher).not.toHaveBeenCalled();
  });

  it("refreshes once for concurrent callers, because refresh tokens rotate", async () => {
    let calls = 0;
    setRefresher((refreshToken) => {
      calls += 1;
      expect(refreshToken).toBe("refresh-1");
      return Promise.resolve(credentials(2));
    });
    saveSession(session(Date.now() + 10_000));
    const tokens = await Promise.all([accessToken(), accessToken(), accessToken()]);
    expect(tokens).toEqual(["access-2", "access-2", "access-2"]);
    expect(calls).toBe(1);
    expect(loadSession()?.refreshToken).toBe("refresh-3");
    expect(loadSession()?.email).toBe("ada@example.com");
  });

  it("signs out when the refresh is refused", async () => {
    setRefresher(() => Promise.reject(new Error("REFRESH_TOKEN_REUSED")));
    saveSession(session(Date.now() - 1));
    expect(await refreshNow()).toBeNull();
    expect(loadSession()).toBeNull();
    expect(await accessToken()).toBeNull();
  });

  it("counts a token inside the last minute as due", () => {
    expect(needsRefresh(session(1_000_000), 1_000_000 - 59_000)).toBe(true);
    expect(needsRefresh(session(1_000_000), 1_000_000 - 61_000)).toBe(false);
  });

  it("uses a third of the lifetime as the margin for short-lived tokens", () => {
    const short = { ...session(30_000), accessObtainedAt: 0 };
    expect(needsRefresh(short, 15_000)).toBe(false);
    expect(needsRefresh(short, 21_000)).toBe(true);
  });
});
