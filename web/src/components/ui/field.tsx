import { clsx } from "clsx";
import { useId, type InputHTMLAttributes, type SelectHTMLAttributes, type TextareaHTMLAttributes } from "react";

const CONTROL =
  "w-full rounded-md border bg-zinc-900 px-3 py-2 text-zinc-100 placeholder:text-zinc-400 " +
  "focus:outline-none focus:ring-2 focus:ring-brand";

interface Labelled {
  label: string;
  error?: string | null;
  hint?: string;
}

/** A labelled control with its error announced to screen readers (aria-describedby). */
function Frame({ id, label, error, hint, children }: Labelled & { id: string; children: React.ReactNode }) {
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium text-zinc-300">
        {label}
      </label>
      {children}
      {error ? (
        <p id={`${id}-error`} role="alert" className="text-sm text-red-400">
          {error}
        </p>
      ) : hint ? (
        <p id={`${id}-hint`} className="text-sm text-zinc-400">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

function describedBy(id: string, error?: string | null, hint?: string) {
  return error ? `${id}-error` : hint ? `${id}-hint` : undefined;
}

export function TextField({
  label,
  error,
  hint,
  className,
  ...rest
}: Labelled & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <Frame id={id} label={label} error={error} hint={hint}>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, hint)}
        className={clsx(CONTROL, error ? "border-red-500" : "border-zinc-700", className)}
        {...rest}
      />
    </Frame>
  );
}

export function TextArea({ label, error, hint, ...rest }: Labelled & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  return (
    <Frame id={id} label={label} error={error} hint={hint}>
      <textarea
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, hint)}
        className={clsx(CONTROL, "min-h-24", error ? "border-red-500" : "border-zinc-700")}
        {...rest}
      />
    </Frame>
  );
}

export function Select({ label, error, hint, children, ...rest }: Labelled & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  return (
    <Frame id={id} label={label} error={error} hint={hint}>
      <select id={id} className={clsx(CONTROL, "border-zinc-700")} {...rest}>
        {children}
      </select>
    </Frame>
  );
}
