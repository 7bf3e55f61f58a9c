import { timestampDate } from "@bufbuild/protobuf/wkt";
import { clsx } from "clsx";
import { useQuery } from "@connectrpc/connect-query";

import { POLL, readError } from "../api/polling";
import { TimelineStep_Kind, VideoService } from "../gen/vidmesh/v1/video_pb";
import { AlertText } from "./ui/alert-text";
import { Th } from "./ui/table";
import { formatStepSeconds, timelineBars } from "../lib/timeline";

const BAR_COLOR: Partial<Record<TimelineStep_Kind, string>> = {
  [TimelineStep_Kind.UPLOAD]: "bg-sky-600",
  [TimelineStep_Kind.QUEUE]: "bg-zinc-500",
  [TimelineStep_Kind.PLAN]: "bg-violet-500",
  [TimelineStep_Kind.CHUNK]: "bg-brand",
  [TimelineStep_Kind.AUDIO]: "bg-teal-500",
  [TimelineStep_Kind.FINALIZE]: "bg-violet-400",
  [TimelineStep_Kind.PLAYABLE]: "bg-emerald-400",
  [TimelineStep_Kind.READY]: "bg-emerald-500",
  [TimelineStep_Kind.FAILED]: "bg-red-500",
};

/**
 * A video's life on one time axis (GetVideoTimeline): upload, queue wait, every task with the
 * worker that ran it, and the playable/ready/failed moments. Refreshed every few seconds, so a
 * video still in the pipeline fills in as it goes.
 */
export function VideoTimeline({ videoId }: { videoId: string }) {
  const read = useQuery(VideoService.method.getVideoTimeline, { videoId }, { ...POLL, refetchInterval: 3000 });
  const steps = read.data?.steps;
  const error = readError(read.error);
  if (error) return <AlertText>{error}</AlertText>;
  if (!steps) return <p className="text-zinc-400">Loading the timeline…</p>;
  const bars = timelineBars(steps);
  return (
    <table className="w-full text-sm" data-testid="timeline">
      <caption className="sr-only">Processing timeline</caption>
      <thead className="text-left text-zinc-400">
        <tr>
          <Th>Step</Th>
          <Th>Started</Th>
          <Th className="text-right">Took</Th>
          <Th>Worker</Th>
          <Th className="w-1/3">
            <span className="sr-only">On the time axis</span>
          </Th>
        </tr>
      </thead>
      <tbody>
        {bars.map(({ step, offset, width, seconds, moment }) => (
          <tr
            key={`${step.generation}-${step.name}`}
            className="border-t border-zinc-800"
            data-testid="timeline-step"
            data-step={step.name}
          >
            <td className="py-1 pr-3">
              {step.name}
              {step.generation > 1 && <span className="ml-1 text-xs text-zinc-400">gen {step.generation}</span>}
              {step.detail && <span className="ml-2 text-xs text-red-300">{step.detail}</span>}
            </td>
            <td className="py-1 pr-3 tabular-nums text-zinc-400">
              {step.startTime ? timestampDate(step.startTime).toLocaleTimeString() : "–"}
            </td>
            <td className="py-1 pr-3 text-right tabular-nums" title={moment ? "since it was queued" : undefined}>
              {moment ? `at ${formatStepSeconds(seconds)}` : formatStepSeconds(seconds)}
            </td>
            <td className="py-1 pr-3 text-zinc-400">
              {step.worker}
              {step.delivery > 1 && <span className="ml-1 text-xs text-amber-300">delivery {step.delivery}</span>}
            </td>
            <td className="py-1" aria-hidden="true">
              <div className="relative h-3 rounded bg-zinc-900">
                <div
                  className={clsx("absolute top-0 h-3 rounded", BAR_COLOR[step.kind] ?? "bg-zinc-400")}
                  style={{
                    left: `${(moment ? Math.min(offset, 0.99) : offset) * 100}%`,
                    width: moment ? "3px" : `max(${width * 100}%, 2px)`,
                  }}
                />
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
