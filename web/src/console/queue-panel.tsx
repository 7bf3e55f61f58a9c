import { useQuery } from "@connectrpc/connect-query";
import { Link } from "react-router";

import { POLL, readError } from "../api/polling";
import { AlertText } from "../components/ui/alert-text";
import { TranscodeAdminService } from "../gen/vidmesh/v1/transcode_pb";

function Stat({ label, value }: { label: string; value: bigint }) {
  return (
    <div className="rounded bg-zinc-900 p-2">
      <dt className="text-xs text-zinc-400">{label}</dt>
      <dd className="text-xl tabular-nums">{String(value)}</dd>
    </div>
  );
}

/** Tasks waiting and running per lane, and the videos they belong to (GetQueue, every 2 s). */
export function QueuePanel() {
  const read = useQuery(TranscodeAdminService.method.getQueue, {}, { ...POLL, refetchInterval: 2000 });
  const queue = read.data;
  const error = readError(read.error);
  return (
    <section aria-labelledby="queue-heading" className="space-y-3 rounded-lg border border-zinc-800 p-4">
      <h2 id="queue-heading" className="text-lg font-semibold">
        Queue
      </h2>
      <AlertText>{error}</AlertText>
      {queue && (
        <div className="grid gap-4 sm:grid-cols-2">
          {queue.lanes.map((lane) => (
            <div key={lane.name} className="space-y-2" data-testid="queue-lane" data-lane={lane.name}>
              <h3 className="font-medium capitalize">{lane.name}</h3>
              <dl className="grid grid-cols-3 gap-2 text-center">
                <Stat label="Waiting" value={lane.pending} />
                <Stat label="Running" value={lane.running} />
                <Stat label="Redelivered" value={lane.redelivered} />
              </dl>
              {lane.videos.length > 0 && (
                <ul className="space-y-1 text-sm">
                  {lane.videos.map((video) => (
                    <li key={video.videoId} className="flex justify-between gap-2">
                      <Link to={`/videos/${video.videoId}/timeline`} className="truncate font-mono hover:text-accent">
                        {video.videoId}
                      </Link>
                      <span className="shrink-0 text-zinc-400">{String(video.tasks)} tasks</span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          ))}
        </div>
      )}
      {queue && (
        <p className="text-sm text-zinc-400">
          Dead letters held: <span data-testid="dead-letter-count">{String(queue.deadLetters)}</span>
        </p>
      )}
    </section>
  );
}
