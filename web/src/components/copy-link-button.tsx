import { Check, Link2 } from "lucide-react";
import { useEffect, useState } from "react";

import { Button } from "./ui/button";

/** Copies the video's page URL, the way an unlisted video is shared. */
export function CopyLinkButton({ videoId }: { videoId: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");

  useEffect(() => {
    if (state === "idle") return;
    const timer = setTimeout(() => setState("idle"), 2500);
    return () => clearTimeout(timer);
  }, [state]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(`${window.location.origin}/watch/${videoId}`);
      setState("copied");
    } catch {
      setState("failed");
    }
  }

  return (
    <Button size="sm" variant="secondary" onClick={() => void copy()} aria-live="polite">
      {state === "copied" ? <Check size={14} aria-hidden /> : <Link2 size={14} aria-hidden />}
      {state === "copied" ? "Link copied" : state === "failed" ? "Copy failed" : "Copy link"}
    </Button>
  );
}
