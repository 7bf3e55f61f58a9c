import { Captions } from "lucide-react";

import { RadioMenu, type Choice } from "./radio-menu";

export type CaptionTrackChoice = Choice;

/** Off plus one entry per subtitle rendition of the stream; nothing when there is none. */
export function CaptionsMenu({
  tracks,
  selected,
  onSelect,
}: {
  tracks: CaptionTrackChoice[];
  selected: number;
  onSelect: (index: number) => void;
}) {
  if (tracks.length === 0) return null;
  return (
    <RadioMenu
      title="Captions"
      icon={<Captions size={16} aria-hidden />}
      current={tracks.find((track) => track.index === selected)?.label ?? "Off"}
      choices={[{ index: -1, label: "Off" }, ...tracks]}
      selected={selected}
      onSelect={onSelect}
      testId="captions"
    />
  );
}
