/**
 * The playback token of a non-public video, kept fresh for as long as the player is open.
 *
 * hls.js keeps the URLs it first read, so its requests read the token from `latest` (a ref,
 * updated the moment a renewal lands); what renders (the storyboard sprite's URL) reads `token`.
 * A renewal is scheduled before expiry; `renew()` also runs on demand (a 403: the laptop slept,
 * or the video was made private).
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useCallback, useEffect, useRef, useState } from "react";

import type { GetPlaybackInfoResponse } from "../gen/vidmesh/v1/playback_pb";
import { refreshDelay } from "./tokens";

function expiry(info: GetPlaybackInfoResponse): number {
  return info.tokenExpireTime ? timestampDate(info.tokenExpireTime).getTime() : Date.now() + 300_000;
}

export function usePlaybackToken(info: GetPlaybackInfoResponse, refresh: () => Promise<GetPlaybackInfoResponse>) {
  const latest = useRef(info.token);
  // The latest renewal of the token `info` came with (a new `info` starts afresh).
  const [renewed, setRenewed] = useState<{ of: string; token: string } | null>(null);
  const [renewals, setRenewals] = useState(0);
  const token = renewed?.of === info.token ? renewed.token : info.token;

  const renew = useCallback(async () => {
    const next = await refresh();
    latest.current = next.token;
    setRenewed({ of: info.token, token: next.token });
    setRenewals((count) => count + 1);
    return next;
  }, [refresh, info.token]);

  useEffect(() => {
    latest.current = info.token;
    // Public videos play from bare URLs: there is no token to keep fresh.
    if (!info.token) return;
    let timer: ReturnType<typeof setTimeout>;
    let cancelled = false;
    const renewThenSchedule = async () => {
      try {
        const next = await renew();
        if (!cancelled && next.token) schedule(expiry(next));
      } catch {
        if (!cancelled) schedule(Date.now() + 70_000);
      }
    };
    const schedule = (expiresAt: number) => {
      timer = setTimeout(() => void renewThenSchedule(), refreshDelay(expiresAt, Date.now()));
    };
    schedule(expiry(info));
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [info, renew]);

  return { latest, token, renew, renewals };
}
