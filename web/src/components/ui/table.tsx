import { clsx } from "clsx";
import type { ReactNode } from "react";

/** A column heading of the app's data tables (console, timeline): muted, left-aligned, compact. */
export function Th({ children, className }: { children?: ReactNode; className?: string }) {
  return (
    <th scope="col" className={clsx("py-1 pr-3 font-medium", className)}>
      {children}
    </th>
  );
}
