/** google.protobuf.Duration to and from seconds, the one place the web app converts them. */
import { create } from "@bufbuild/protobuf";
import { type Duration, DurationSchema } from "@bufbuild/protobuf/wkt";

/** Seconds of a Duration; 0 when it is unset. */
export function durationSeconds(value: { seconds: bigint; nanos: number } | undefined): number {
  return value ? Number(value.seconds) + value.nanos / 1e9 : 0;
}

/** A Duration of `seconds` (whole seconds and the nanoseconds left over). */
export function secondsDuration(seconds: number): Duration {
  const whole = Math.floor(seconds);
  return create(DurationSchema, { seconds: BigInt(whole), nanos: Math.round((seconds - whole) * 1e9) });
}
