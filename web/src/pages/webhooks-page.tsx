import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQuery } from "@connectrpc/connect-query";
import { useState, type FormEvent } from "react";

import { webhooks } from "../api/client";
import { toApiError } from "../api/errors";
import { POLL, readError } from "../api/polling";
import { AlertText } from "../components/ui/alert-text";
import { Button } from "../components/ui/button";
import { TextField } from "../components/ui/field";
import { Th } from "../components/ui/table";
import { type Webhook, WebhookDelivery_Status, WebhookService } from "../gen/vidmesh/v1/webhook_pb";
import { durationSeconds } from "../lib/durations";
import { formText } from "../lib/forms";

const EVENTS = ["video.playable", "video.ready", "video.failed", "video.deleted"];
const STATUS: Record<WebhookDelivery_Status, string> = {
  [WebhookDelivery_Status.UNSPECIFIED]: "",
  [WebhookDelivery_Status.PENDING]: "retrying",
  [WebhookDelivery_Status.DELIVERED]: "delivered",
  [WebhookDelivery_Status.FAILED]: "failed",
};

function Deliveries({ webhook }: { webhook: Webhook }) {
  const read = useQuery(
    WebhookService.method.listWebhookDeliveries,
    { webhookId: webhook.webhookId },
    { ...POLL, refetchInterval: 5000 },
  );
  const items = read.data?.deliveries ?? [];
  const [actionError, setError] = useState<string | null>(null);
  const error = actionError ?? readError(read.error);
  const load = () => read.refetch();

  async function replay(deliveryId: string) {
    try {
      await webhooks.retryWebhookDelivery({ webhookId: webhook.webhookId, deliveryId });
      await load();
    } catch (failure) {
      setError(toApiError(failure).message);
    }
  }

  if (items.length === 0) return <p className="text-sm text-zinc-400">No deliveries yet.</p>;
  return (
    <>
      <table className="w-full text-sm">
        <caption className="sr-only">Deliveries to {webhook.url}, newest first</caption>
        <thead className="text-left text-zinc-400">
          <tr>
            <Th>Event</Th>
            <Th>When</Th>
            <Th>Status</Th>
            <Th>Attempts</Th>
            <Th>Last answer</Th>
            <Th>
              <span className="sr-only">Actions</span>
            </Th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.deliveryId} className="border-t border-zinc-800" data-testid="delivery">
              <td className="py-1 pr-3 font-mono">{item.eventType}</td>
              <td className="py-1 pr-3 text-zinc-400">
                {item.createTime ? timestampDate(item.createTime).toLocaleString() : ""}
              </td>
              <td className="py-1 pr-3">{STATUS[item.status]}</td>
              <td className="py-1 pr-3 tabular-nums">{item.attempts}</td>
              <td className="py-1 pr-3 text-zinc-400">
                {item.lastStatusCode ? `HTTP ${item.lastStatusCode}` : item.lastError || "–"}
                {item.attempts > 0 ? ` · ${Math.round(durationSeconds(item.lastLatency) * 1000)} ms` : ""}
              </td>
              <td className="py-1 text-right">
                <Button size="sm" variant="ghost" onClick={() => void replay(item.deliveryId)}>
                  Send again
                </Button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AlertText>{error}</AlertText>
    </>
  );
}

/** The user's webhook endpoints: register one (its secret is shown once), see and replay. */
export function WebhooksPage() {
  const read = useQuery(WebhookService.method.listWebhooks, {});
  const items = read.data?.webhooks ?? [];
  const [secret, setSecret] = useState<string | null>(null);
  const [actionError, setError] = useState<string | null>(null);
  const error = actionError ?? readError(read.error);
  const load = () => read.refetch();

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const events = EVENTS.filter((name) => form.get(name) === "on");
    setError(null);
    try {
      const made = await webhooks.createWebhook({ webhook: { url: formText(form, "url"), events } });
      setSecret(made.secret);
      await load();
    } catch (failure) {
      setError(toApiError(failure).message);
    }
  }

  async function remove(webhookId: string) {
    try {
      await webhooks.deleteWebhook({ webhookId });
      await load();
    } catch (failure) {
      setError(toApiError(failure).message);
    }
  }

  return (
    <section className="space-y-4">
      <h1 className="text-2xl font-semibold">Webhooks</h1>
      <p className="max-w-3xl text-sm text-zinc-400">
        Vidmesh POSTs signed events (Standard Webhooks: verify the <code>webhook-signature</code> header with your
        secret) when your videos become playable, ready, fail or are deleted, and retries for 24 hours.
      </p>
      <form onSubmit={(event) => void create(event)} className="flex flex-wrap items-end gap-3">
        <TextField label="Endpoint URL" name="url" type="url" required className="w-96" />
        <fieldset className="flex flex-wrap gap-3 pb-2 text-sm">
          <legend className="sr-only">Events (none: all)</legend>
          {EVENTS.map((name) => (
            <label key={name} className="flex items-center gap-1">
              <input type="checkbox" name={name} /> {name}
            </label>
          ))}
        </fieldset>
        <Button type="submit">Add endpoint</Button>
      </form>
      {secret && (
        <p role="status" className="rounded bg-zinc-900 p-3 text-sm">
          Signing secret (shown once): <code data-testid="webhook-secret">{secret}</code>
        </p>
      )}
      <AlertText>{error}</AlertText>
      {items.map((item) => (
        <section key={item.webhookId} className="space-y-2 rounded-lg border border-zinc-800 p-4" data-testid="webhook">
          <div className="flex flex-wrap items-center gap-3">
            <span className="font-mono text-sm">{item.url}</span>
            <span className="text-sm text-zinc-400">{item.events.length ? item.events.join(", ") : "all events"}</span>
            <Button size="sm" variant="ghost" onClick={() => void remove(item.webhookId)}>
              Delete
            </Button>
          </div>
          <Deliveries webhook={item} />
        </section>
      ))}
    </section>
  );
}
