import { Video_State, Visibility, type Video } from "../gen/vidmesh/v1/video_pb";
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
