import type { TextRange } from "../gen/vidmesh/v1/video_pb";
import { highlightPieces } from "../lib/highlight";

/** A title with the search's matches in <mark> (ranges from the server, never HTML). */
export function HighlightedTitle({ title, ranges }: { title: string; ranges: readonly TextRange[] | undefined }) {
  if (!ranges?.length) return <>{title}</>;
  return (
    <>
      {highlightPieces(title, ranges).map((piece, index) =>
        piece.match ? (
          <mark key={index} className="rounded-sm bg-amber-300 px-0.5 text-zinc-950">
            {piece.text}
          </mark>
        ) : (
          <span key={index}>{piece.text}</span>
        ),
      )}
    </>
  );
}
