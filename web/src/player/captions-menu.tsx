import * as Menu from "@radix-ui/react-dropdown-menu";
import { Check, Captions } from "lucide-react";

export interface CaptionTrackChoice {
  index: number;
  label: string;
}

/** Off plus one entry per subtitle rendition of the stream, as a keyboard-navigable menu. */
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
  const current = tracks.find((track) => track.index === selected)?.label ?? "Off";
  return (
    <Menu.Root>
      <Menu.Trigger
        className="inline-flex items-center gap-1 rounded px-2 py-1 text-sm hover:bg-white/10"
        aria-label={`Captions: ${current}`}
        data-testid="captions-button"
      >
        <Captions size={16} aria-hidden /> {current}
      </Menu.Trigger>
      <Menu.Portal>
        <Menu.Content
          side="top"
          align="end"
          className="z-50 min-w-40 rounded-md bg-zinc-900 p-1 shadow-xl ring-1 ring-zinc-700"
        >
          <Menu.Label className="px-2 py-1 text-xs text-zinc-400">Captions</Menu.Label>
          <Menu.RadioGroup value={String(selected)} onValueChange={(value) => onSelect(Number(value))}>
            {[{ index: -1, label: "Off" }, ...tracks].map((track) => (
              <Menu.RadioItem
                key={track.index}
                value={String(track.index)}
                className="relative flex cursor-pointer items-center rounded py-1.5 pl-7 pr-2 text-sm outline-none data-[highlighted]:bg-zinc-800"
              >
                <Menu.ItemIndicator className="absolute left-2">
                  <Check size={14} aria-hidden />
                </Menu.ItemIndicator>
                {track.label}
              </Menu.RadioItem>
            ))}
          </Menu.RadioGroup>
        </Menu.Content>
      </Menu.Portal>
    </Menu.Root>
  );
}
