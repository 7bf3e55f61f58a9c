/**
 * Playback URLs of private and unlisted videos carry the signed token as `?token=`; a refresh
 * swaps it in place. Public videos have bare URLs (an empty token), which stay bare.
 */
export function withToken(url: string, token: string): string {
  const [path, query = ""] = url.split("?", 2) as [string, string?];
  const params = new URLSearchParams(query);
  if (token) params.set("token", token);
  else params.delete("token");
  const rest = params.toString();
  return rest ? `${path}?${rest}` : path;
}

/** When to refresh a token that expires at `expiresAt`: a minute early, never in the past. */
export function refreshDelay(expiresAt: number, now: number): number {
  const span = expiresAt - now;
  return Math.max(span > 120_000 ? span - 60_000 : span / 2, 5_000);
}
