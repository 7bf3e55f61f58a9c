import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Link } from "react-router";

import { useQuery } from "@connectrpc/connect-query";

import { POLL, readError } from "../api/polling";
import { AlertText } from "../components/ui/alert-text";
import { TranscodeAdminService } from "../gen/vidmesh/v1/transcode_pb";
import { formatClock } from "../lib/format";

/** Workers online (seen in the last 30 s) and the tasks each runs (ListWorkers, every 2 s). */
export function WorkersPanel() {
  const read = useQuery(TranscodeAdminService.method.listWorkers, {}, { ...POLL, refetchInterval: 2000 });
  const workers = read.data?.workers;
  const error = readError(read.error);
  // Ages are as of the answer, so a render never reads the clock.
  const now = read.dataUpdatedAt;
  return (
    <section aria-labelledby="workers-heading" className="space-y-3 rounded-lg border border-zinc-800 p-4">
      <h2 id="workers-heading" className="text-lg font-semibold">
        Workers {workers && <span className="text-zinc-400">({workers.length} online)</span>}
      </h2>
      <AlertText>{error}</AlertText>
      {workers && workers.length === 0 && <p className="text-sm text-zinc-400">No worker has announced itself.</p>}
      <ul className="space-y-3">
        {workers?.map((worker) => (
          <li key={worker.name} className="space-y-1" data-testid="worker">
            <div className="flex flex-wrap items-baseline gap-x-3 text-sm">
              <span className="font-medium">{worker.name}</span>
              <span className="text-zinc-400">
                {worker.running.length}/{worker.slots} slots busy
              </span>
              <span className="text-zinc-400">{String(worker.tasksCompleted)} tasks done</span>
              {worker.lastSeenTime && (
                <span className="text-zinc-400">seen {timestampDate(worker.lastSeenTime).toLocaleTimeString()}</span>
              )}
            </div>
            <ul className="space-y-0.5 pl-4 text-sm">
              {worker.running.map((task) => (
                <li key={task.taskId} className="flex gap-2">
                  <Link to={`/videos/${task.videoId}/timeline`} className="truncate font-mono hover:text-accent">
                    {task.taskId}
                  </Link>
                  {task.startTime && (
                    <span className="shrink-0 tabular-nums text-zinc-400">
                      {formatClock((now - timestampDate(task.startTime).getTime()) / 1000)}
                    </span>
                  )}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </section>
  );
}
