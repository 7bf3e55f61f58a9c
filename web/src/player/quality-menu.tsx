import { Settings } from "lucide-react";

import { RadioMenu, type Choice } from "./radio-menu";

export type Level = Choice;

/** Auto plus one entry per rung. */
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
    <RadioMenu
      title="Quality"
      icon={<Settings size={16} aria-hidden />}
      current={current}
      choices={[{ index: -1, label: "Auto" }, ...levels]}
      selected={selected}
      onSelect={onSelect}
      testId="quality"
    />
  );
}
