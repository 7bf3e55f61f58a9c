// The web app in a real browser (Debian's Chromium driven by playwright-core) against a running
// platform: sign up, upload, live progress, playback with quality switching, privacy.
//
//   VIDMESH_URL=http://127.0.0.1:8080 VIDMESH_CLIP=clip.mp4 node e2e/browser.mjs
//
// Exits non-zero on the first failed step; screenshots go to VIDMESH_SCREENSHOTS (default
// ../.vidmesh/screenshots). Every wait is bounded and waits for a condition, never for time.
import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import { resolve } from "node:path";

import { chromium } from "playwright-core";

import { assertAccessible, FLAGS, signUp, step } from "./helpers.mjs";

const base = process.env.VIDMESH_URL ?? "http://127.0.0.1:8080";
const clip = process.env.VIDMESH_CLIP;
const bigClip = process.env.VIDMESH_BIG_CLIP;
const shots = resolve(process.env.VIDMESH_SCREENSHOTS ?? "../.vidmesh/screenshots");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
assert.ok(clip, "VIDMESH_CLIP names the video file to upload");
assert.ok(bigClip, "VIDMESH_BIG_CLIP names a video larger than one 16 MiB upload chunk");
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({ executablePath, args: FLAGS, headless: true });
const errors = [];
try {
  const owner = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  const page = await owner.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) errors.push(message.text());
  });
  const stamp = Date.now();

  step("the app is served with a content security policy");
  const first = await page.goto(`${base}/signup`);
  assert.match((await first.allHeaders())["content-security-policy"] ?? "", /default-src 'self'/);

  step("sign-up errors come from the API's reason codes, on the right field");
  await page.getByLabel("Email").fill(`ada-${stamp}@example.com`);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByText("Use at least 10 characters for your password.").waitFor();
  assert.equal(await page.getByLabel("Password").getAttribute("aria-invalid"), "true");
  await assertAccessible(page, "sign-up");

  step("sign up");
  await signUp(page, base, `ada-${stamp}@example.com`, "Ada");

  step("upload a clip with tus");
  await page.getByLabel("Visibility of new uploads").selectOption("unlisted");
  await page.getByTestId("file-input").setInputFiles(clip);
  const row = page.getByTestId("upload-row");
  await row.waitFor();
  await page.locator('[data-testid="upload-row"][data-status="done"]').waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => {
    const bar = document.querySelector('[data-testid="upload-row"] [role="progressbar"]');
    const fill = bar?.firstElementChild;
    return bar && fill && bar.getBoundingClientRect().width - fill.getBoundingClientRect().width < 1;
  });
  step("the upload page shows the quota the upload uses");
  await page.waitForFunction(() =>
    /Storage[\d.]+ MB of [\d.]+ GB/.test(document.querySelector('[data-testid="quota"]')?.textContent ?? ""),
  );
  await page.screenshot({ path: `${shots}/upload.png` });
  await assertAccessible(page, "upload");

  step("progress is visible live, and the video is playable before it is READY");
  await page.getByRole("link", { name: "See progress" }).click();
  await page.waitForURL(`${base}/me/videos`);
  const state = page.getByTestId("video-state");
  await page.getByTestId("transcode-progress").waitFor({ timeout: 30_000 });
  const seen = await state.textContent();
  assert.ok(["Uploading", "Queued", "Processing"].includes(seen ?? ""), `in progress, saw ${seen}`);
  await page.getByTestId("video-playable").waitFor({ timeout: 120_000 });
  const videoId = await page.getByTestId("video-row").getAttribute("data-video-id");
  assert.ok(videoId);
  assert.match((await page.getByTestId("transcode-progress").textContent()) ?? "", /Playable · \d+ of \d+ chunks/);
  await page.screenshot({ path: `${shots}/my-videos-playable.png` });

  step("it plays while the rest is transcoded, and keeps playing once READY");
  await page.getByTestId("video-row").getByRole("link").first().click();
  await page.waitForURL(`${base}/watch/${videoId}`);
  await page.getByTestId("player").waitFor();
  await page.getByRole("button", { name: "Play" }).click();
  await page.waitForFunction(() => document.querySelector("video")?.currentTime > 1, null, { timeout: 60_000 });
  assert.equal(await page.getByTestId("still-processing").count(), 1, "playing before READY");
  await page.screenshot({ path: `${shots}/watch-while-processing.png` });
  await page.getByTestId("still-processing").waitFor({ state: "detached", timeout: 180_000 });
  const atReady = await page.evaluate(() => document.querySelector("video").currentTime);
  await page.waitForFunction((t) => document.querySelector("video").currentTime > t + 1, atReady, {
    timeout: 30_000,
  });

  step("My videos shows it READY");
  await page.goto(`${base}/me/videos`);
  await page.locator('[data-testid="video-state"]', { hasText: "Ready" }).waitFor({ timeout: 60_000 });
  await page.screenshot({ path: `${shots}/my-videos.png` });
  await assertAccessible(page, "my videos");

  step("the video plays, and its link can be copied to share it");
  await page.getByTestId("video-row").getByRole("link").first().click();
  await page.waitForURL(`${base}/watch/${videoId}`);
  await page.getByRole("button", { name: "Copy link" }).click();
  await page.getByRole("button", { name: "Link copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${base}/watch/${videoId}`);
  await page.getByTestId("player").waitFor();
  await page.getByRole("button", { name: "Play" }).click();
  await page.waitForFunction(() => document.querySelector("video")?.currentTime > 1, null, { timeout: 60_000 });

  step("at least two quality levels, and switching works");
  await page.getByTestId("quality-button").click();
  const options = page.getByTestId("quality-option");
  await options.first().waitFor();
  const labels = await options.allTextContents();
  assert.ok(labels.length >= 3, `Auto and two or more levels, got ${labels.join(", ")}`);
  const lowest = labels[labels.length - 1].replace("✓", "").trim();
  const height = Number.parseInt(lowest, 10);
  await options.last().click();
  await page.waitForFunction((h) => document.querySelector("video")?.videoHeight === h, height, { timeout: 60_000 });
  const before = await page.evaluate(() => document.querySelector("video").currentTime);
  await page.waitForFunction((t) => document.querySelector("video").currentTime > t + 0.5, before, { timeout: 30_000 });

  step("storyboard thumbnails while seeking");
  await page.locator('[data-testid="player"][data-storyboard="ready"]').waitFor();
  const seek = page.getByRole("slider", { name: "Seek" });
  const box = await seek.boundingBox();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2);
  await page.getByTestId("storyboard-preview").waitFor();
  await page.getByTestId("quality-button").click();
  await page.getByTestId("quality-option").first().waitFor();
  await page.screenshot({ path: `${shots}/player.png` });
  await page.keyboard.press("Escape");
  await assertAccessible(page, "watch");

  step("playback tokens are renewed: after the first one expired, new segments still load");
  await page.evaluate(() => document.querySelector("video").pause());
  const firstToken = new URL(await page.locator("video").getAttribute("poster"), base).searchParams.get("token");
  const claims = JSON.parse(Buffer.from(firstToken.split(".")[1], "base64url").toString());
  // Waiting for the clock is the point here: the first token must really be expired.
  await page.waitForFunction((expiry) => Date.now() > expiry + 6_000, claims.exp * 1000, {
    timeout: 120_000,
    polling: 1_000,
  });
  const renewals = Number(await page.getByTestId("player").getAttribute("data-token-renewals"));
  assert.ok(renewals >= 1, `the player renewed its token (${renewals} times)`);
  const refused = [];
  const segmentTokens = [];
  page.on("response", (response) => {
    if (response.url().includes("/hls/") && response.status() >= 400) refused.push(response.url());
  });
  page.on("request", (request) => {
    if (request.url().includes("/hls/") && request.url().includes(".ts?")) {
      segmentTokens.push(new URL(request.url()).searchParams.get("token"));
    }
  });
  await page.getByTestId("quality-button").click();
  await options.nth(1).click();
  const highest = Number.parseInt(labels[1], 10);
  await page.evaluate(() => {
    const video = document.querySelector("video");
    video.currentTime = 0;
    return video.play();
  });
  await page.waitForFunction((h) => document.querySelector("video")?.videoHeight === h, highest, { timeout: 60_000 });
  assert.deepEqual(refused, [], "no HLS request was refused");
  assert.ok(segmentTokens.length > 0 && !segmentTokens.includes(firstToken), "segments use the renewed token");

  step("made public, it appears in Explore with its poster");
  await page.goto(`${base}/me/videos`);
  await page.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Visibility", { exact: true }).selectOption({ label: "Public: listed in Explore" });
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByTestId("video-row").getByText("Public", { exact: true }).waitFor();
  const playbackCalls = [];
  const countPlaybackCalls = (request) => {
    if (/\/playback$|PlaybackService/.test(new URL(request.url()).pathname)) playbackCalls.push(request.url());
  };
  page.on("request", countPlaybackCalls);
  await page.getByRole("link", { name: "Explore" }).click();
  const card = page.locator(`a[href="/watch/${videoId}"]`);
  await card.waitFor();
  await card.locator("img").waitFor();
  assert.equal(await card.locator("img").getAttribute("src"), `/hls/${videoId}/poster.jpg`, "a bare, cacheable poster");
  await page.waitForFunction((id) => {
    const img = document.querySelector(`a[href="/watch/${id}"] img`);
    return img?.complete && img.naturalWidth > 0;
  }, videoId);
  page.off("request", countPlaybackCalls);
  assert.deepEqual(playbackCalls, [], "the feed loads posters without asking playback");

  step("searching Explore finds it as you type, with the match highlighted");
  const search = page.getByLabel("Search videos");
  await search.fill("cli");
  await card.locator("mark", { hasText: "clip" }).waitFor();
  await page.waitForURL(/\?q=cli$/);
  await page.screenshot({ path: `${shots}/search.png` });
  await search.fill("zebra crossing");
  await page.getByTestId("no-results").waitFor();
  await card.waitFor({ state: "detached" });
  await search.fill("");
  await card.waitFor();
  await assertAccessible(page, "explore");

  step("with downloads enabled, the player offers an MP4 that saves under the video's name");
  await page.goto(`${base}/me/videos`);
  await page.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Viewers may download MP4 files of every quality").check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("dialog").waitFor({ state: "detached" });
  await page.goto(`${base}/watch/${videoId}`);
  await page.getByRole("button", { name: "Download" }).click();
  const saving = page.waitForEvent("download", { timeout: 60_000 });
  await page.getByRole("menuitem", { name: "360p (MP4)" }).click();
  const saved = await saving;
  assert.equal(saved.suggestedFilename(), "clip (360p).mp4");
  const savedPath = await saved.path();
  assert.ok(savedPath && statSync(savedPath).size > 10_000, "the MP4 arrived");

  step("a named clip of 4 s plays on its own page and stops at its end");
  await page.getByLabel("Clip name").fill("Best bit");
  await page.getByLabel("From (seconds)").fill("5");
  await page.getByLabel("To (seconds)").fill("9");
  await page.getByRole("button", { name: "Make clip" }).click();
  await page.getByTestId("clip").getByRole("link", { name: "Best bit" }).click();
  await page.waitForURL(/\/clips\/[0-9a-f-]{36}$/);
  await page.getByRole("heading", { name: "Best bit" }).waitFor();
  await page.getByTestId("player").waitFor();
  await page.getByRole("button", { name: "Play" }).click();
  await page.waitForFunction(() => document.querySelector("video")?.paused === false, null, { timeout: 30_000 });
  const clipFrom = await page.evaluate(() => document.querySelector("video").currentTime);
  await page.waitForFunction((t) => document.querySelector("video").currentTime > t + 1, clipFrom, {
    timeout: 30_000,
  });
  // It pauses by itself at the clip's end and rewinds to the clip's start.
  await page.waitForFunction(() => document.querySelector("video").paused, null, { timeout: 30_000 });
  const clipDuration = await page.evaluate(() => document.querySelector("video").duration);
  assert.ok(clipDuration < 15, `the clip's playlist holds only its segments (${clipDuration} s)`);
  await page.screenshot({ path: `${shots}/clip.png` });
  await page.goto(`${base}/watch/${videoId}`);

  step("English and French captions play as subtitle tracks and can be switched");
  const cueTimes = Array.from({ length: 8 }, (_, i) => i * 2);
  const clock = (t) => `00:00:${String(t).padStart(2, "0")}`;
  const english = `WEBVTT\n\n${cueTimes.map((t) => `${clock(t)}.000 --> ${clock(t + 2)}.000\nEnglish ${t}`).join("\n\n")}\n`;
  const french = cueTimes
    .map((t, i) => `${i + 1}\n${clock(t)},000 --> ${clock(t + 2)},000\nFrançais ${t}`)
    .join("\n\n");
  for (const [name, content, language, label] of [
    ["en.vtt", english, "en", "English"],
    ["fr.srt", french, "fr", "Français"],
  ]) {
    await page
      .getByLabel("Caption file (WebVTT or SRT)")
      .setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from(content) });
    await page.getByLabel("Language (e.g. en, fr-CA)").fill(language);
    await page.getByLabel("Label", { exact: true }).fill(label);
    if (language === "en") await page.getByLabel("Show by default").check();
    await page.getByRole("button", { name: "Add captions" }).click();
    await page.getByTestId("captions").filter({ hasText: label }).waitFor();
  }
  await page.getByTestId("captions-button").waitFor({ timeout: 30_000 });
  await page.getByRole("button", { name: "Play" }).click();
  await page.getByTestId("captions-button").click();
  await page.getByRole("menuitemradio", { name: "Français" }).click();
  await page.waitForFunction(
    () =>
      [...document.querySelector("video").textTracks].some(
        (track) => track.mode === "showing" && [...(track.cues ?? [])].some((cue) => cue.text.startsWith("Français")),
      ),
    null,
    { timeout: 30_000 },
  );
  await page.screenshot({ path: `${shots}/captions.png` });

  step("the owner picks a frame as the poster, and Explore shows it");
  await page.getByLabel("Frame at (seconds)").fill("3");
  await page.getByRole("button", { name: "Use frame" }).click();
  await page.waitForFunction(() =>
    /\/poster-[0-9a-f]{16}\.jpg/.test(document.querySelector('[data-testid="poster"]')?.src ?? ""),
  );
  await page.goto(`${base}/`);
  await page.waitForFunction((id) => {
    const img = document.querySelector(`a[href="/watch/${id}"] img`);
    return /\/poster-[0-9a-f]{16}\.jpg$/.test(img?.src ?? "") && img.complete && img.naturalWidth > 0;
  }, videoId);

  step("make it private");
  await page.goto(`${base}/me/videos`);
  await page.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Visibility", { exact: true }).selectOption({ label: "Private: only you" });
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByTestId("video-row").getByText("Private", { exact: true }).waitFor();

  step("a second user cannot open it, nor can a visitor");
  const other = await browser.newContext();
  const stranger = await other.newPage();
  await signUp(stranger, base, `bob-${stamp}@example.com`, "Bob");
  await stranger.goto(`${base}/watch/${videoId}`);
  await stranger.getByTestId("watch-error").waitFor();
  assert.equal(await stranger.locator("video").count(), 0);
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(`${base}/watch/${videoId}`);
  await visitor.getByTestId("watch-error").waitFor();

  step("the owner still plays it");
  await page.goto(`${base}/watch/${videoId}`);
  await page.getByTestId("player").waitFor();

  step("private videos leave Explore; delete asks first");
  await page.goto(`${base}/`);
  await page.getByRole("heading", { name: "Explore" }).waitFor();
  await page.getByText("No public videos yet.").waitFor();
  await page.goto(`${base}/me/videos`);
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("alertdialog").or(page.getByRole("dialog")).getByText("cannot be undone").waitFor();
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.getByTestId("video-row").waitFor();
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText("You have not uploaded anything yet.").waitFor();
  const gone = await page.request.get(`${base}/v1/videos/${videoId}`, {
    headers: {
      authorization: `Bearer ${await page.evaluate(() => JSON.parse(localStorage.getItem("vidmesh.session")).accessToken)}`,
    },
  });
  assert.equal(gone.status(), 404);

  step("a file that is not a video is refused with a clear reason");
  await page.goto(`${base}/upload`);
  await page.getByTestId("file-input").setInputFiles({
    name: "notes.mp4",
    mimeType: "video/mp4",
    buffer: Buffer.from("these are my notes, not a video\n".repeat(200)),
  });
  await page
    .locator('[data-testid="upload-row"][data-status="failed"]')
    .getByText("This file is not a video we can read.")
    .waitFor({ timeout: 60_000 });

  const isPatch = (request) => request.method() === "PATCH" && request.url().includes("/v1/tus/");
  /** Let the first tus chunk through and hold every later one until the page drops it. */
  async function holdAfterFirstChunk() {
    let patches = 0;
    await page.route("**/v1/tus/**", (route) => {
      if (!isPatch(route.request())) return route.continue();
      patches += 1;
      return patches === 1 ? route.continue() : new Promise(() => {});
    });
    // Wrapped, so awaiting this function does not also wait for the chunk.
    return { passed: page.waitForResponse((response) => isPatch(response.request()) && response.status() === 204) };
  }

  step("an upload can be paused and resumed");
  await page.goto(`${base}/upload`);
  let firstChunk = await holdAfterFirstChunk();
  await page.getByTestId("file-input").setInputFiles(bigClip);
  await firstChunk.passed;
  await page.getByRole("button", { name: "Pause" }).click();
  await page
    .locator('[data-testid="upload-row"][data-status="paused"]')
    .getByText(/Paused at \d/)
    .waitFor();
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.getByRole("button", { name: "Resume" }).click();
  await page.locator('[data-testid="upload-row"][data-status="done"]').waitFor({ timeout: 120_000 });

  step("an upload cut by a page reload resumes from the server's offset");
  await page.goto(`${base}/upload`);
  firstChunk = await holdAfterFirstChunk();
  await page.getByTestId("file-input").setInputFiles(bigClip);
  await firstChunk.passed;
  await page.reload();
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.getByText("Unfinished uploads from before:").waitFor();
  const probe = page.waitForRequest((request) => request.method() === "HEAD" && request.url().includes("/v1/tus/"));
  await page.getByTestId("file-input").setInputFiles(bigClip);
  await probe;
  const resumed = page.locator('[data-testid="upload-row"][data-status="done"]');
  await resumed.waitFor({ timeout: 120_000 });
  await resumed.getByText("resumed").waitFor();
  await page.getByText("Unfinished uploads from before:").waitFor({ state: "detached" });

  assert.deepEqual(errors, [], "no uncaught errors in the page");
  console.log("browser suite passed");
} catch (failure) {
  // What the page itself threw explains most failed steps: show it with the step's error.
  if (errors.length > 0) console.log(`errors in the page:\n${errors.join("\n")}`);
  throw failure;
} finally {
  await browser.close();
}
