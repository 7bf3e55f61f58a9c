/** An error sentence announced to screen readers (role="alert"); nothing when there is none. */
export function AlertText({ children }: { children: string | null | undefined }) {
  if (!children) return null;
  return (
    <p role="alert" className="text-sm text-red-400">
      {children}
    </p>
  );
}
