/**
 * Errors as the UI shows them: the server's machine reason (google.rpc.ErrorInfo), the field it
 * is about (BadRequest field violations or ErrorInfo metadata) and a sentence for people.
 */
import { Code, ConnectError } from "@connectrpc/connect";

import { BadRequestSchema, ErrorInfoSchema } from "../gen/google/rpc/error_details_pb";

export interface ApiError {
  code: Code;
  reason: string;
  message: string;
  field: string | null;
  metadata: Record<string, string>;
}

/**
 * Words for the reasons a person can act on, where the server's own message (the fallback)
 * is too technical. Every
 * key is a reason the protos document (`errors.test.ts` checks), so none can drift from what the
 * server sends.
 */
export const WORDS: Record<string, string> = {
  INVALID_EMAIL: "That does not look like an email address.",
  WEAK_PASSWORD: "Use at least 10 characters for your password.",
  EMAIL_TAKEN: "An account with this email already exists. Sign in instead?",
  INVALID_CREDENTIALS: "Wrong email or password.",
  RATE_LIMITED: "Too many attempts. Wait a minute and try again.",
  FIELD_REQUIRED: "This field is required.",
  FIELD_TOO_LONG: "This is too long.",
  UNSUPPORTED_MEDIA: "This file is not a video we can read.",
  NO_VIDEO_STREAM: "This file has no video in it (audio only?).",
  EMPTY_FILE: "The file is empty.",
  TRUNCATED: "The file is cut short; upload the complete file.",
  RESOLUTION_TOO_HIGH: "The picture is larger than we accept.",
  TOO_LONG: "The video is longer than we accept.",
  TOO_LARGE: "The file is larger than we accept.",
  SIZE_MISMATCH: "The upload did not match the file's size; try again.",
  CHECKSUM_MISMATCH: "The upload was corrupted on the way; try again.",
  UPLOAD_ABORTED: "The upload was interrupted.",
  UPLOAD_CANCELLED: "The upload was cancelled.",
  UPLOAD_EXPIRED: "The upload was abandoned for too long and expired.",
  FFMPEG_FAILED: "Transcoding failed.",
  STALLED: "Transcoding stopped making progress.",
  SOURCE_MISSING: "The original was rejected, so there is nothing to retry; upload it again.",
  MAX_DELIVERIES: "Transcoding failed on every attempt.",
  VIDEO_NOT_FOUND: "This video does not exist or is not shared with you.",
  TOKEN_EXPIRED: "Your session expired; sign in again.",
  MISSING_TOKEN: "Sign in first.",
};

const FIELD_OF: Record<string, string> = {
  INVALID_EMAIL: "email",
  EMAIL_TAKEN: "email",
  WEAK_PASSWORD: "password",
  INVALID_CREDENTIALS: "password",
};

export function describeReason(reason: string, fallback = ""): string {
  return WORDS[reason] ?? (fallback || reason.toLowerCase().replaceAll("_", " "));
}

export function toApiError(error: unknown): ApiError {
  const failure = ConnectError.from(error);
  const info = failure.findDetails(ErrorInfoSchema)[0];
  const violation = failure.findDetails(BadRequestSchema)[0]?.fieldViolations[0];
  const reason = info?.reason ?? "";
  const metadata = info?.metadata ?? {};
  const field = violation?.field || metadata.field || FIELD_OF[reason] || null;
  const message =
    failure.code === Code.Unavailable && !reason
      ? "The server cannot be reached. Check your connection; we will keep trying."
      : describeReason(reason, failure.rawMessage);
  return { code: failure.code, reason, message, field, metadata };
}
