/** Text cut into plain and matching pieces, from the server's code-point ranges. */
export interface Piece {
  text: string;
  match: boolean;
}

interface Range {
  start: number;
  end: number;
}

/**
 * The server counts code points (an emoji is one), JavaScript strings count UTF-16 units (an
 * emoji is two), so the text is split into code points first. Ranges out of order, overlapping
 * or past the end are clipped rather than trusted.
 */
export function highlightPieces(text: string, ranges: readonly Range[]): Piece[] {
  const points = Array.from(text);
  const pieces: Piece[] = [];
  let position = 0;
  for (const range of [...ranges].sort((a, b) => a.start - b.start)) {
    const start = Math.max(range.start, position);
    const end = Math.min(range.end, points.length);
    if (end <= start) continue;
    if (start > position) pieces.push({ text: points.slice(position, start).join(""), match: false });
    pieces.push({ text: points.slice(start, end).join(""), match: true });
    position = end;
  }
  if (position < points.length) pieces.push({ text: points.slice(position).join(""), match: false });
  return pieces;
}
