import { DeadLettersPanel } from "../console/dead-letters-panel";
import { QueuePanel } from "../console/queue-panel";
import { WorkersPanel } from "../console/workers-panel";

/**
 * The operator console (admins): the transcode queue, the workers and what they run, and the dead
 * letters. Everything here goes through TranscodeAdminService, so `vidmesh queue|workers|dlq` and
 * grpcurl can do the same.
 */
export function ConsolePage() {
  return (
    <section className="space-y-4">
      <h1 className="text-2xl font-semibold">Operator console</h1>
      <div className="grid gap-4 lg:grid-cols-2">
        <QueuePanel />
        <WorkersPanel />
      </div>
      <DeadLettersPanel />
    </section>
  );
}
