import { useEffect, useState } from "react";
import { useSearchParams } from "react-router";

const DEBOUNCE_MS = 250;

/**
 * The search field of a listing. What is typed is kept in the page's `?q=` (so a search can be
 * shared and survives a reload) and handed to `onQuery` once typing pauses.
 */
export function useSearchQuery(): [string, string, (value: string) => void] {
  const [params, setParams] = useSearchParams();
  const [typed, setTyped] = useState(params.get("q") ?? "");
  const [query, setQuery] = useState(typed);
  useEffect(() => {
    const timer = window.setTimeout(() => {
      setQuery(typed);
      setParams(typed ? { q: typed } : {}, { replace: true });
    }, DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [typed, setParams]);
  return [typed, query, setTyped];
}

export function SearchBox({
  value,
  onChange,
  label,
}: {
  value: string;
  onChange: (value: string) => void;
  label: string;
}) {
  return (
    <input
      type="search"
      aria-label={label}
      placeholder={label}
      value={value}
      maxLength={200}
      onChange={(event) => onChange(event.target.value)}
      className="h-10 w-full max-w-sm rounded-md bg-zinc-900 px-3 text-zinc-100 placeholder:text-zinc-400"
    />
  );
}
