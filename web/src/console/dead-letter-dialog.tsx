import { toJsonString } from "@bufbuild/protobuf";
import * as Dialog from "@radix-ui/react-dialog";
import type { ReactNode } from "react";

import { type DeadLetter, TranscodeJobSchema } from "../gen/vidmesh/v1/transcode_pb";
import { Button } from "../components/ui/button";

/** Everything a dead letter holds: why it died, where, and the task exactly as last delivered. */
export function DeadLetterDialog({ letter, trigger }: { letter: DeadLetter; trigger: ReactNode }) {
  const job = letter.job ? toJsonString(TranscodeJobSchema, letter.job, { prettySpaces: 2 }) : "{}";
  return (
    <Dialog.Root>
      <Dialog.Trigger asChild>{trigger}</Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 bg-black/70" />
        <Dialog.Content className="fixed left-1/2 top-1/2 max-h-[90vh] w-[min(48rem,95vw)] -translate-x-1/2 -translate-y-1/2 space-y-4 overflow-y-auto rounded-lg bg-zinc-900 p-6 shadow-xl">
          <Dialog.Title className="text-lg font-semibold">Dead letter {letter.deadLetterId}</Dialog.Title>
          <Dialog.Description className="text-zinc-300" data-testid="dead-letter-message">
            <span className="font-mono text-red-300">{letter.reason}</span> after {letter.deliveries} deliveries on{" "}
            {letter.worker}: {letter.message}
          </Dialog.Description>
          <pre className="max-h-80 overflow-auto rounded bg-zinc-950 p-3 text-xs">{job}</pre>
          <div className="flex justify-end">
            <Dialog.Close asChild>
              <Button variant="secondary">Close</Button>
            </Dialog.Close>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
