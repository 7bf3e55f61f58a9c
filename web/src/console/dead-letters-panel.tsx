import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQuery } from "@connectrpc/connect-query";
import { useState } from "react";
import { Link } from "react-router";

import { transcodes } from "../api/client";
import { toApiError } from "../api/errors";
import { POLL, readError } from "../api/polling";
import { AlertText } from "../components/ui/alert-text";
import { Button } from "../components/ui/button";
import { ConfirmDialog } from "../components/ui/confirm-dialog";
import { Th } from "../components/ui/table";
import { TranscodeAdminService } from "../gen/vidmesh/v1/transcode_pb";
import { DeadLetterDialog } from "./dead-letter-dialog";

const PAGE_SIZE = 100;

interface Filter {
  reason: string;
  videoId: string;
}

/**
 * Tasks that failed for good: filter by reason and video, inspect one, retry it, purge it, or
 * retry every letter matching the filter (once per video, as RetryDeadLetters does).
 */
export function DeadLettersPanel() {
  const [draft, setDraft] = useState<Filter>({ reason: "", videoId: "" });
  const [filter, setFilter] = useState<Filter>(draft);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const read = useQuery(
    TranscodeAdminService.method.listDeadLetters,
    { pageSize: PAGE_SIZE, reason: filter.reason, videoId: filter.videoId },
    { ...POLL, refetchInterval: 5000 },
  );
  const page = read.data;
  const error = readError(read.error);

  async function act(what: () => Promise<string>) {
    setNotice(null);
    setFailure(null);
    try {
      setNotice(await what());
    } catch (caught) {
      setFailure(toApiError(caught).message);
    }
    await read.refetch();
  }

  const retryOne = (id: string) =>
    act(async () => {
      const answer = await transcodes.retryDeadLetter({ deadLetterId: id });
      return `Retried ${answer.job?.task?.taskId ?? id}; the video is queued again.`;
    });
  const purgeOne = (id: string) =>
    act(async () => {
      await transcodes.purgeDeadLetter({ deadLetterId: id });
      return `Purged dead letter ${id}.`;
    });
  const retryAll = () =>
    act(async () => {
      const answer = await transcodes.retryDeadLetters({ reason: filter.reason, videoId: filter.videoId });
      const skipped = answer.skipped.map((item) => `${item.deadLetterId} (${item.reason})`).join(", ");
      return (
        `Retried ${answer.retried.length} video(s), ${answer.coveredDeadLetterIds.length} letter(s) covered` +
        (skipped ? `; skipped ${skipped}.` : ".")
      );
    });

  const letters = page?.deadLetters ?? [];
  const filtered = filter.reason !== "" || filter.videoId !== "";
  return (
    <section aria-labelledby="dlq-heading" className="space-y-3 rounded-lg border border-zinc-800 p-4">
      <h2 id="dlq-heading" className="text-lg font-semibold">
        Dead letters
      </h2>
      <form
        className="flex flex-wrap items-end gap-2"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter({ reason: draft.reason.trim(), videoId: draft.videoId.trim() });
        }}
      >
        <label className="flex flex-col text-sm">
          <span className="text-zinc-400">Reason</span>
          <input
            className="h-8 rounded-md bg-zinc-900 px-2"
            placeholder="e.g. FFMPEG_FAILED"
            value={draft.reason}
            onChange={(event) => setDraft({ ...draft, reason: event.target.value })}
          />
        </label>
        <label className="flex flex-col text-sm">
          <span className="text-zinc-400">Video id</span>
          <input
            className="h-8 w-80 rounded-md bg-zinc-900 px-2 font-mono"
            value={draft.videoId}
            onChange={(event) => setDraft({ ...draft, videoId: event.target.value })}
          />
        </label>
        <Button size="sm" variant="secondary" type="submit">
          Filter
        </Button>
        <ConfirmDialog
          title={filtered ? "Retry every matching dead letter?" : "Retry every dead letter?"}
          body="Each video's failed generation resumes once; its other letters are removed with it."
          confirmLabel="Retry all"
          onConfirm={() => void retryAll()}
          trigger={
            <Button size="sm" disabled={letters.length === 0}>
              {filtered ? "Retry all matching" : "Retry all"}
            </Button>
          }
        />
      </form>
      {notice && (
        <p role="status" className="text-sm text-emerald-300">
          {notice}
        </p>
      )}
      <AlertText>{failure ?? error}</AlertText>
      {page && letters.length === 0 && (
        <p className="text-sm text-zinc-400">No dead letters{filtered ? " match" : ""}.</p>
      )}
      {letters.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-sm">
            <caption className="sr-only">Dead letters, newest first</caption>
            <thead className="text-left text-zinc-400">
              <tr>
                <Th>Id</Th>
                <Th>When</Th>
                <Th>Task</Th>
                <Th>Reason</Th>
                <Th>Deliveries</Th>
                <Th>
                  <span className="sr-only">Actions</span>
                </Th>
              </tr>
            </thead>
            <tbody>
              {letters.map((letter) => (
                <tr
                  key={letter.deadLetterId}
                  className="border-t border-zinc-800"
                  data-testid="dead-letter"
                  data-video-id={letter.job?.videoId}
                >
                  <td className="py-1 pr-3 tabular-nums">{letter.deadLetterId}</td>
                  <td className="py-1 pr-3 text-zinc-400">
                    {letter.time ? timestampDate(letter.time).toLocaleString() : "–"}
                  </td>
                  <td className="py-1 pr-3 font-mono">
                    <Link to={`/videos/${letter.job?.videoId ?? ""}/timeline`} className="hover:text-accent">
                      {letter.job?.task?.taskId || letter.job?.jobId}
                    </Link>
                  </td>
                  <td className="py-1 pr-3">
                    <button
                      type="button"
                      className="font-mono text-red-300 hover:underline"
                      onClick={() => {
                        setDraft({ ...draft, reason: letter.reason });
                        setFilter({ ...filter, reason: letter.reason });
                      }}
                      title="Show only this reason"
                    >
                      {letter.reason}
                    </button>
                  </td>
                  <td className="py-1 pr-3 tabular-nums">{letter.deliveries}</td>
                  <td className="flex justify-end gap-1 py-1">
                    <DeadLetterDialog
                      letter={letter}
                      trigger={
                        <Button size="sm" variant="ghost">
                          Inspect
                        </Button>
                      }
                    />
                    <Button size="sm" variant="secondary" onClick={() => void retryOne(letter.deadLetterId)}>
                      Retry
                    </Button>
                    <ConfirmDialog
                      title={`Purge dead letter ${letter.deadLetterId}?`}
                      body="The task is dropped without a retry; its video stays failed."
                      confirmLabel="Purge"
                      onConfirm={() => void purgeOne(letter.deadLetterId)}
                      trigger={
                        <Button size="sm" variant="ghost">
                          Purge
                        </Button>
                      }
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {page?.nextPageToken && (
            <p className="pt-2 text-sm text-zinc-400">
              Showing the newest {PAGE_SIZE}; filter by reason or video to see others.
            </p>
          )}
        </div>
      )}
    </section>
  );
}
