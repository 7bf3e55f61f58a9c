import { useQuery } from "@connectrpc/connect-query";

import { POLL } from "../api/polling";
import { ProgressBar } from "../components/ui/progress";
import { QuotaService } from "../gen/vidmesh/v1/quota_pb";
import { formatBytes } from "../lib/format";

function Usage({ label, used, limit }: { label: string; used: bigint; limit: bigint }) {
  const unlimited = limit < 0n;
  const percent = unlimited || limit === 0n ? 0 : Math.min(100, (Number(used) / Number(limit)) * 100);
  return (
    <div className="space-y-1">
      <p className="flex justify-between gap-4 text-sm">
        <span>{label}</span>
        <span className="tabular-nums text-zinc-400">
          {formatBytes(Number(used))} of {unlimited ? "unlimited" : formatBytes(Number(limit))}
        </span>
      </p>
      {!unlimited && <ProgressBar value={percent} label={label} tone={percent >= 90 ? "red" : "brand"} />}
    </div>
  );
}

/**
 * How much of their allowance the user has used (QuotaService.GetQuota): storage kept and
 * uploads of the last 24 hours. Refreshed every few seconds, so it follows uploads as they start.
 */
export function QuotaMeter() {
  const quota = useQuery(QuotaService.method.getQuota, {}, { ...POLL, refetchInterval: 5000 }).data?.quota;
  if (!quota) return null;
  return (
    <section aria-label="Your quota" className="grid max-w-3xl gap-x-8 gap-y-3 sm:grid-cols-2" data-testid="quota">
      <Usage label="Storage" used={quota.storageUsedBytes} limit={quota.storageLimitBytes} />
      <Usage label="Uploaded, last 24 h" used={quota.dailyUsedBytes} limit={quota.dailyLimitBytes} />
    </section>
  );
}
