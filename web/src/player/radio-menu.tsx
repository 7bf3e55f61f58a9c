import * as Menu from "@radix-ui/react-dropdown-menu";
import { Check } from "lucide-react";
import type { ReactNode } from "react";

export interface Choice {
  index: number;
  label: string;
}

/** A player control that opens a keyboard-navigable menu of choices, one of them checked. */
export function RadioMenu({
  title,
  icon,
  current,
  choices,
  selected,
  onSelect,
  testId,
}: {
  title: string;
  icon: ReactNode;
  current: string;
  choices: Choice[];
  selected: number;
  onSelect: (index: number) => void;
  testId: string;
}) {
  return (
    <Menu.Root>
      <Menu.Trigger
        className="inline-flex items-center gap-1 rounded px-2 py-1 text-sm hover:bg-white/10"
        aria-label={`${title}: ${current}`}
        data-testid={`${testId}-button`}
      >
        {icon} {current}
      </Menu.Trigger>
      <Menu.Portal>
        <Menu.Content
          side="top"
          align="end"
          className="z-50 min-w-40 rounded-md bg-zinc-900 p-1 shadow-xl ring-1 ring-zinc-700"
        >
          <Menu.Label className="px-2 py-1 text-xs text-zinc-400">{title}</Menu.Label>
          <Menu.RadioGroup value={String(selected)} onValueChange={(value) => onSelect(Number(value))}>
            {choices.map((choice) => (
              <Menu.RadioItem
                key={choice.index}
                value={String(choice.index)}
                data-testid={`${testId}-option`}
                className="relative flex cursor-pointer items-center rounded py-1.5 pl-7 pr-2 text-sm outline-none data-[highlighted]:bg-zinc-800"
              >
                <Menu.ItemIndicator className="absolute left-2">
                  <Check size={14} aria-hidden />
                </Menu.ItemIndicator>
                {choice.label}
              </Menu.RadioItem>
            ))}
          </Menu.RadioGroup>
        </Menu.Content>
      </Menu.Portal>
    </Menu.Root>
  );
}
