import { Video_State, Visibility, type Video } from "../gen/vidmesh/v1/video_pb";
import { durationSeconds } from "../lib/durations";
import { formatClock } from "../lib/format";
import { describeReason } from "./errors";

export const STATE_LABEL: Record<Video_State, string> = {
  [Video_State.UNSPECIFIED]: "Unknown",
  [Video_State.UPLOADING]: "Uploading",
  [Video_State.QUEUED]: "Queued",
  [Video_State.PROCESSING]: "Processing",
  [Video_State.READY]: "Ready",
  [Video_State.FAILED]: "Failed",
};

export const VISIBILITY_LABEL: Record<Visibility, string> = {
  [Visibility.UNSPECIFIED]: "Private",
  [Visibility.PUBLIC]: "Public",
  [Visibility.UNLISTED]: "Unlisted",
  [Visibility.PRIVATE]: "Private",
};

/** Whether there is something to play: READY, or early while the rest is transcoded. */
export function canPlay(video: Video): boolean {
  return video.playable || video.state === Video_State.READY;
}

/** "Queued · 2nd in line", "Processing · 3 of 20 chunks · about 1:05 left". */
export function transcodeText(video: Video): string {
  const parts = [video.playable && video.state !== Video_State.READY ? "Playable" : STATE_LABEL[video.state]];
  const transcode = video.transcode;
  if (video.state === Video_State.QUEUED && transcode && transcode.queuePosition > 0) {
    parts.push(transcode.queuePosition === 1 ? "next in line" : `${transcode.queuePosition - 1} ahead in the queue`);
  }
  if (video.state === Video_State.PROCESSING && transcode && transcode.chunksTotal > 0) {
    parts.push(`${transcode.chunksDone} of ${transcode.chunksTotal} chunks`);
    const left = transcode.estimatedTimeRemaining;
    if (left) parts.push(`about ${formatClock(durationSeconds(left))} left`);
  } else if (video.state === Video_State.PROCESSING) {
    parts.push(`${video.progressPercent.toFixed(0)}%`);
  }
  return parts.join(" · ");
}

export function isTerminal(state: Video_State): boolean {
  return state === Video_State.READY || state === Video_State.FAILED;
}

export function failureText(video: Video): string {
  return video.failure ? describeReason(video.failure.reason, video.failure.message) : "";
}

/** Failures after a good upload can be transcoded again from the kept original. */
const SOURCE_REASONS = new Set([
  "EMPTY_FILE",
  "UNSUPPORTED_MEDIA",
  "NO_VIDEO_STREAM",
  "TRUNCATED",
  "RESOLUTION_TOO_HIGH",
  "TOO_LONG",
  "TOO_LARGE",
  "SIZE_MISMATCH",
  "CHECKSUM_MISMATCH",
  "UPLOAD_ABORTED",
  "UPLOAD_CANCELLED",
  "UPLOAD_EXPIRED",
]);

export function canRetry(video: Video): boolean {
  return video.state === Video_State.FAILED && !SOURCE_REASONS.has(video.failure?.reason ?? "");
}
