import { clsx } from "clsx";

export function ProgressBar({
  value,
  label,
  tone = "brand",
}: {
  value: number;
  label: string;
  tone?: "brand" | "green" | "red";
}) {
  const percent = Math.max(0, Math.min(100, value));
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(percent)}
      className="h-2 w-full overflow-hidden rounded-full bg-zinc-800"
    >
      <div
        className={clsx(
          "h-full transition-[width] duration-300",
          tone === "brand" && "bg-brand",
          tone === "green" && "bg-emerald-500",
          tone === "red" && "bg-red-500",
        )}
        style={{ width: `${percent}%` }}
      />
    </div>
  );
}
