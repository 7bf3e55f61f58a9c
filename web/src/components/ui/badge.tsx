import { clsx } from "clsx";
import type { ReactNode } from "react";

const TONES = {
  neutral: "bg-zinc-800 text-zinc-300",
  busy: "bg-amber-900/60 text-amber-200",
  ok: "bg-emerald-900/60 text-emerald-200",
  bad: "bg-red-900/60 text-red-200",
} as const;

export function Badge({ tone = "neutral", children }: { tone?: keyof typeof TONES; children: ReactNode }) {
  return <span className={clsx("inline-flex rounded px-2 py-0.5 text-xs font-medium", TONES[tone])}>{children}</span>;
}
