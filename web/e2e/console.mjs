// The operator console in a real browser (Debian's Chromium, playwright-core) against a running
// platform whose ffmpeg fails while a fault flag file exists: an admin uploads a clip, its task
// dies into the dead-letter queue, the admin sees the queue, the workers and the dead letter,
// inspects it, retries it from the console and sees the video become READY, then reads its
// timeline.
//
//   VIDMESH_URL=… VIDMESH_CLIP=clip.mp4 VIDMESH_ADMIN_EMAIL=root@example.com \
//   VIDMESH_FAULT_FLAG=/tmp/ffmpeg-fails node e2e/console.mjs
//
// Every wait is bounded and waits for a condition, never for time.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { resolve } from "node:path";

import { chromium } from "playwright-core";

import { assertAccessible, FLAGS, signUp, step } from "./helpers.mjs";

const base = process.env.VIDMESH_URL ?? "http://127.0.0.1:8080";
const clip = process.env.VIDMESH_CLIP;
const adminEmail = process.env.VIDMESH_ADMIN_EMAIL;
const faultFlag = process.env.VIDMESH_FAULT_FLAG;
const shots = resolve(process.env.VIDMESH_SCREENSHOTS ?? "../.vidmesh/screenshots");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
assert.ok(clip, "VIDMESH_CLIP names the video file to upload");
assert.ok(adminEmail, "VIDMESH_ADMIN_EMAIL names an address the platform makes an admin");
assert.ok(faultFlag, "VIDMESH_FAULT_FLAG names the file that makes the platform's ffmpeg fail");
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({ executablePath, args: FLAGS, headless: true });
const errors = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));

  step("an admin signs up and sees the Console tab");
  await signUp(page, base, adminEmail, "Root");
  await page.getByRole("link", { name: "Console" }).waitFor();

  step("a webhook endpoint is registered on the Webhooks page; its secret is shown once");
  const received = [];
  const hookServer = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: JSON.parse(body) });
      response.writeHead(204).end();
    });
  });
  await new Promise((done) => hookServer.listen(0, "127.0.0.1", done));
  const hookUrl = `http://127.0.0.1:${hookServer.address().port}/hooks`;
  await page.getByRole("link", { name: "Webhooks" }).click();
  await page.getByLabel("Endpoint URL").fill(hookUrl);
  await page.getByRole("button", { name: "Add endpoint" }).click();
  assert.match((await page.getByTestId("webhook-secret").textContent()) ?? "", /^whsec_/);
  await page.getByTestId("webhook").getByText(hookUrl).waitFor();
  await page.goto(`${base}/upload`);

  step("with ffmpeg failing, an upload's task ends in the dead-letter queue");
  writeFileSync(faultFlag, "ffmpeg fails while this file exists\n");
  await page.getByTestId("file-input").setInputFiles(clip);
  await page.locator('[data-testid="upload-row"][data-status="done"]').waitFor({ timeout: 60_000 });
  await page.getByRole("link", { name: "See progress" }).click();
  await page.waitForURL(`${base}/me/videos`);
  await page.locator('[data-testid="video-state"]', { hasText: "Failed" }).waitFor({ timeout: 120_000 });
  const videoId = await page.getByTestId("video-row").getAttribute("data-video-id");
  assert.ok(videoId);
  rmSync(faultFlag);

  step("the console shows the queue, the workers and the dead letter");
  await page.getByRole("link", { name: "Console" }).click();
  await page.waitForURL(`${base}/admin`);
  await page.locator('[data-testid="queue-lane"][data-lane="urgent"]').waitFor();
  await page.locator('[data-testid="queue-lane"][data-lane="bulk"]').waitFor();
  await page.getByTestId("worker").first().waitFor({ timeout: 30_000 });
  const letters = page.locator(`[data-testid="dead-letter"][data-video-id="${videoId}"]`);
  await letters.first().waitFor({ timeout: 30_000 });
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="dead-letter-count"]')?.textContent) > 0,
  );
  await page.screenshot({ path: `${shots}/console.png`, fullPage: true });
  await assertAccessible(page, "console");

  step("filtering by the letter's reason keeps it; another reason hides it");
  const reason = (await letters.first().locator("td").nth(3).textContent())?.trim();
  assert.equal(reason, "FFMPEG_FAILED");
  await page.getByLabel("Reason").fill("NO_SUCH_REASON");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByText("No dead letters match.").waitFor();
  await page.getByLabel("Reason").fill(reason);
  await page.getByRole("button", { name: "Filter" }).click();
  await letters.first().waitFor();

  step("inspecting it shows why it died and the task as delivered");
  await letters.first().getByRole("button", { name: "Inspect" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByTestId("dead-letter-message").getByText("FFMPEG_FAILED").waitFor();
  await dialog.getByText(videoId).first().waitFor();
  await page.screenshot({ path: `${shots}/console-dead-letter.png` });
  await dialog.getByRole("button", { name: "Close" }).click();

  step("retrying it from the console makes the video READY");
  await letters.first().getByRole("button", { name: "Retry" }).click();
  await page
    .getByRole("status")
    .getByText(/^Retried /)
    .waitFor();
  await page.goto(`${base}/me/videos`);
  await page.locator('[data-testid="video-state"]', { hasText: "Ready" }).waitFor({ timeout: 180_000 });

  step("letters the retry covered can be purged");
  await page.goto(`${base}/admin`);
  await page.getByTestId("worker").first().waitFor({ timeout: 30_000 });
  while ((await letters.count()) > 0) {
    const before = await letters.count();
    await letters.first().getByRole("button", { name: "Purge" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Purge" }).click();
    await page.waitForFunction(
      ([id, n]) => document.querySelectorAll(`[data-testid="dead-letter"][data-video-id="${id}"]`).length < n,
      [videoId, before],
    );
  }

  step("the timeline shows the failed try, the retry, each task's worker and READY");
  await page.goto(`${base}/videos/${videoId}/timeline`);
  const steps = page.getByTestId("timeline-step");
  await page.locator('[data-testid="timeline-step"][data-step="ready"]').waitFor({ timeout: 30_000 });
  const names = await steps.evaluateAll((rows) => rows.map((row) => row.getAttribute("data-step")));
  assert.equal(names[0], "upload");
  for (const name of ["queue", "plan", "chunk-0", "failed", "finalize", "playable", "ready"]) {
    assert.ok(names.includes(name), `timeline has ${name}: ${names.join(", ")}`);
  }
  const chunk = page.locator('[data-testid="timeline-step"][data-step="chunk-0"]');
  assert.match((await chunk.textContent()) ?? "", /\d+\.\d+ s/);
  await page.screenshot({ path: `${shots}/timeline.png`, fullPage: true });
  await assertAccessible(page, "timeline");

  step("the webhook received the failure and the READY, signed, and the page lists them delivered");
  await page.goto(`${base}/me/webhooks`);
  await page.getByTestId("delivery").filter({ hasText: "video.ready" }).filter({ hasText: "delivered" }).waitFor({
    timeout: 30_000,
  });
  const types = received.map((event) => event.body.type);
  for (const type of ["video.failed", "video.playable", "video.ready"])
    assert.ok(types.includes(type), `${type} in ${types}`);
  assert.ok(
    received.every((event) => /^v1,/.test(event.headers["webhook-signature"] ?? "")),
    "every delivery is signed",
  );
  await page.screenshot({ path: `${shots}/webhooks.png`, fullPage: true });
  await assertAccessible(page, "webhooks");
  hookServer.close();

  assert.deepEqual(errors, [], "no uncaught errors in the page");
  console.log("console suite passed");
} catch (failure) {
  if (errors.length > 0) console.log(`errors in the page:\n${errors.join("\n")}`);
  throw failure;
} finally {
  await browser.close();
}
