import * as Menu from "@radix-ui/react-dropdown-menu";
import { Check, Settings } from "lucide-react";

export interface Level {
  index: number;
  label: string;
}

/** Auto plus one entry per rung, as a keyboard-navigable menu. */
export function QualityMenu({
  levels,
  selected,
  playing,
  onSelect,
}: {
  levels: Level[];
  selected: number;
  playing: string;
  onSelect: (index: number) => void;
}) {
  const current =
    selected === -1 ? `Auto${playing ? ` (${playing})` : ""}` : (levels.find((l) => l.index === selected)?.label ?? "");
  return (
    <Menu.Root>
      <Menu.Trigger
        className="inline-flex items-center gap-1 rounded px-2 py-1 text-sm hover:bg-white/10"
        aria-label={`Quality: ${current}`}
        data-testid="quality-button"
      >
        <Settings size={16} aria-hidden /> {current}
      </Menu.Trigger>
      <Menu.Portal>
        <Menu.Content
          side="top"
          align="end"
          className="z-50 min-w-40 rounded-md bg-zinc-900 p-1 shadow-xl ring-1 ring-zinc-700"
        >
          <Menu.Label className="px-2 py-1 text-xs text-zinc-400">Quality</Menu.Label>
          <Menu.RadioGroup value={String(selected)} onValueChange={(value) => onSelect(Number(value))}>
            {[{ index: -1, label: "Auto" }, ...levels].map((level) => (
              <Menu.RadioItem
                key={level.index}
                value={String(level.index)}
                data-testid="quality-option"
                className="relative flex cursor-pointer items-center rounded py-1.5 pl-7 pr-2 text-sm outline-none data-[highlighted]:bg-zinc-800"
              >
                <Menu.ItemIndicator className="absolute left-2">
                  <Check size={14} aria-hidden />
                </Menu.ItemIndicator>
                {level.label}
              </Menu.RadioItem>
            ))}
          </Menu.RadioGroup>
        </Menu.Content>
      </Menu.Portal>
    </Menu.Root>
  );
}
