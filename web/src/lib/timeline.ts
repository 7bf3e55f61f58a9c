/** A video's timeline as the UI draws it: each step's place on one time axis, and its label. */
import { timestampDate } from "@bufbuild/protobuf/wkt";

import { TimelineStep_Kind, type TimelineStep } from "../gen/vidmesh/v1/video_pb";
import { durationSeconds } from "./durations";

export interface TimelineBar {
  step: TimelineStep;
  /** Start and width on the axis, as fractions of the whole timeline (0..1). */
  offset: number;
  width: number;
  /** Seconds the step took (a moment: since its generation was queued); null while running. */
  seconds: number | null;
  /** A point in time rather than a stretch (playable, ready, failed). */
  moment: boolean;
}

const MOMENTS = new Set([TimelineStep_Kind.PLAYABLE, TimelineStep_Kind.READY, TimelineStep_Kind.FAILED]);

export function stepSeconds(step: TimelineStep): number | null {
  if (!step.duration) return null;
  return durationSeconds(step.duration);
}

/** The steps on one axis from the first start to the last end (or `now` for running steps). */
export function timelineBars(steps: TimelineStep[], now: number = Date.now()): TimelineBar[] {
  const starts = steps.map((step) => (step.startTime ? timestampDate(step.startTime).getTime() : now));
  const ends = steps.map((step, index) =>
    step.endTime ? timestampDate(step.endTime).getTime() : Math.max(now, starts[index]!),
  );
  const first = Math.min(...starts);
  const span = Math.max(Math.max(...ends) - first, 1);
  return steps.map((step, index) => ({
    step,
    offset: (starts[index]! - first) / span,
    width: (ends[index]! - starts[index]!) / span,
    seconds: stepSeconds(step),
    moment: MOMENTS.has(step.kind),
  }));
}

/** "0.84 s", "12.3 s", "2:05" — precise for short steps, a clock for long ones. */
export function formatStepSeconds(seconds: number | null): string {
  if (seconds === null) return "running…";
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;
}
