/**
 * The video player: hls.js (or the browser's own HLS in Safari) with a quality menu, storyboard
 * previews on the seek bar, playback-token refresh and recovery from network and media errors.
 *
 * A public video plays from bare URLs. For the others, segment and playlist URLs carry a
 * short-lived token. hls.js keeps the URLs it first read, so every request goes through
 * `xhrSetup`, which swaps in the newest token; a refresh is scheduled before expiry, and a 403
 * (expired anyway, e.g. after the laptop slept, or a public video made private) refreshes and
 * reloads.
 */
import Hls, { ErrorTypes, Events } from "hls.js";
import { Maximize, Pause, Play, Volume2, VolumeX } from "lucide-react";
import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from "react";

import { timestampDate } from "@bufbuild/protobuf/wkt";

import type { GetPlaybackInfoResponse } from "../gen/vidmesh/v1/playback_pb";
import { durationSeconds } from "../lib/durations";
import { formatClock } from "../lib/format";
import { parseStoryboard, thumbnailAt, type Thumbnail } from "../lib/storyboard";
import { CaptionsMenu, type CaptionTrackChoice } from "./captions-menu";
import { QualityMenu, type Level } from "./quality-menu";
import { refreshDelay, withToken } from "./tokens";

interface Props {
  info: GetPlaybackInfoResponse;
  refresh: () => Promise<GetPlaybackInfoResponse>;
}

/** A clip's range on its cut playlist's timeline (the playlist holds whole segments). */
function clipRange(info: GetPlaybackInfoResponse): { start: number; end: number } | null {
  return info.clipStart && info.clipEnd
    ? { start: durationSeconds(info.clipStart), end: durationSeconds(info.clipEnd) }
    : null;
}

function expiry(info: GetPlaybackInfoResponse): number {
  return info.tokenExpireTime ? timestampDate(info.tokenExpireTime).getTime() : Date.now() + 300_000;
}

export function Player({ info, refresh }: Props) {
  const clip = clipRange(info);
  const clipStart = clip?.start ?? -1;
  const video = useRef<HTMLVideoElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const hlsRef = useRef<Hls | null>(null);
  const token = useRef(info.token);
  const [levels, setLevels] = useState<Level[]>([]);
  const [selected, setSelected] = useState(-1);
  const [captions, setCaptions] = useState<CaptionTrackChoice[]>([]);
  const [caption, setCaption] = useState(-1);
  const [playingLevel, setPlayingLevel] = useState("");
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(durationSeconds(info.duration));
  const [paused, setPaused] = useState(true);
  const [muted, setMuted] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [thumbs, setThumbs] = useState<Thumbnail[]>([]);
  const [preview, setPreview] = useState<{ thumb: Thumbnail; left: number; time: number } | null>(null);

  const [renewals, setRenewals] = useState(0);
  const renew = useCallback(async () => {
    const next = await refresh();
    token.current = next.token;
    setRenewals((count) => count + 1);
    return next;
  }, [refresh]);

  // Keep the token fresh for as long as the player is open.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    let cancelled = false;
    const schedule = (expiresAt: number) => {
      timer = setTimeout(
        async () => {
          try {
            const next = await renew();
            if (!cancelled && next.token) schedule(expiry(next));
          } catch {
            if (!cancelled) schedule(Date.now() + 70_000);
          }
        },
        refreshDelay(expiresAt, Date.now()),
      );
    };
    // Public videos play from bare URLs: there is no token to keep fresh.
    if (info.token) schedule(expiry(info));
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [info, renew]);

  // Attach the stream.
  useEffect(() => {
    const element = video.current;
    if (!element) return;
    token.current = info.token;
    if (!Hls.isSupported()) {
      if (element.canPlayType("application/vnd.apple.mpegurl")) {
        element.src = info.masterPlaylistUrl;
        if (clipStart >= 0)
          element.addEventListener("loadedmetadata", () => (element.currentTime = clipStart), { once: true });
      } else setProblem("This browser cannot play HLS video.");
      return;
    }
    const hls = new Hls({
      xhrSetup: (xhr, url) => xhr.open("GET", withToken(url, token.current), true),
      capLevelToPlayerSize: false,
      startPosition: clipStart,
    });
    hlsRef.current = hls;
    let networkRetries = 0;
    hls.on(Events.MANIFEST_PARSED, (_event, data) => {
      setLevels(
        data.levels
          .map((level, index) => ({ index, label: `${level.height}p`, height: level.height }))
          .sort((a, b) => b.height - a.height)
          .map(({ index, label }) => ({ index, label })),
      );
    });
    hls.on(Events.SUBTITLE_TRACKS_UPDATED, (_event, data) => {
      setCaptions(data.subtitleTracks.map((track, index) => ({ index, label: track.name || track.lang || "" })));
    });
    hls.on(Events.SUBTITLE_TRACK_SWITCH, (_event, data) => setCaption(data.id));
    hls.on(Events.LEVEL_SWITCHED, (_event, data) => {
      const level = hls.levels[data.level];
      if (level) setPlayingLevel(`${level.height}p`);
    });
    hls.on(Events.FRAG_LOADED, () => {
      networkRetries = 0;
      setProblem(null);
    });
    hls.on(Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      if (data.type === ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
        return;
      }
      if (data.type === ErrorTypes.NETWORK_ERROR && networkRetries < 6) {
        networkRetries += 1;
        const status = data.response?.code ?? 0;
        setProblem("Connection trouble; retrying…");
        const again = () => hls.startLoad(element.currentTime || -1);
        if (status === 403)
          void renew().then(again, () => setProblem("You are no longer allowed to watch this video."));
        else setTimeout(again, 1000 * networkRetries);
        return;
      }
      setProblem("Playback failed. Reload the page to try again.");
      hls.destroy();
    });
    hls.loadSource(info.masterPlaylistUrl);
    hls.attachMedia(element);
    return () => {
      hlsRef.current = null;
      hls.destroy();
    };
  }, [info.masterPlaylistUrl, info.token, renew, clipStart]);

  // Storyboard index for seek previews.
  useEffect(() => {
    // A clip's timeline is not the video's: its previews would show the wrong frames.
    if (!info.storyboardVttUrl || info.clipStart) return;
    let cancelled = false;
    fetch(info.storyboardVttUrl)
      .then((response) => (response.ok ? response.text() : ""))
      .then((text) => !cancelled && setThumbs(parseStoryboard(text)))
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [info.storyboardVttUrl, info.clipStart]);

  function choose(index: number) {
    setSelected(index);
    const hls = hlsRef.current;
    if (hls) hls.currentLevel = index;
  }

  function chooseCaption(index: number) {
    setCaption(index);
    const hls = hlsRef.current;
    if (!hls) return;
    hls.subtitleDisplay = index >= 0;
    hls.subtitleTrack = index;
  }

  function toggle() {
    const element = video.current;
    if (!element) return;
    if (element.paused) void element.play().catch(() => undefined);
    else element.pause();
  }

  function seekBy(seconds: number) {
    const element = video.current;
    if (element)
      element.currentTime = Math.max(0, Math.min(element.currentTime + seconds, duration || element.duration));
  }

  function onKey(event: KeyboardEvent<HTMLDivElement>) {
    if ((event.target as HTMLElement).closest("input,button,[role=menuitemradio]")) return;
    const actions: Record<string, () => void> = {
      " ": toggle,
      k: toggle,
      ArrowLeft: () => seekBy(-5),
      ArrowRight: () => seekBy(5),
      m: () => video.current && (video.current.muted = !video.current.muted),
      f: () => void (document.fullscreenElement ? document.exitFullscreen() : frame.current?.requestFullscreen()),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  }

  function onSeekHover(event: PointerEvent<HTMLInputElement>) {
    const rect = event.currentTarget.getBoundingClientRect();
    const ratio = Math.max(0, Math.min((event.clientX - rect.left) / rect.width, 1));
    const at = ratio * duration;
    const thumb = thumbnailAt(thumbs, at);
    setPreview(thumb ? { thumb, left: ratio * rect.width, time: at } : null);
  }

  return (
    <div
      ref={frame}
      tabIndex={0}
      onKeyDown={onKey}
      className="group relative overflow-hidden rounded-lg bg-black"
      data-testid="player"
      data-storyboard={thumbs.length > 0 ? "ready" : "none"}
      data-token-renewals={renewals}
      aria-label="Video player. Space plays or pauses, arrows seek, M mutes, F toggles full screen."
    >
      <video
        ref={video}
        className="aspect-video w-full bg-black"
        poster={info.posterUrl}
        playsInline
        onClick={toggle}
        onTimeUpdate={(e) => {
          const element = e.currentTarget;
          setTime(element.currentTime);
          // A clip stops at its end (the last segment runs past it); play again from its start.
          if (clip && element.currentTime >= clip.end) {
            element.pause();
            element.currentTime = clip.start;
          }
        }}
        onDurationChange={(e) => Number.isFinite(e.currentTarget.duration) && setDuration(e.currentTarget.duration)}
        onPlay={() => setPaused(false)}
        onPause={() => setPaused(true)}
        onVolumeChange={(e) => setMuted(e.currentTarget.muted)}
        data-testid="video"
      />
      {problem && (
        <p role="status" className="absolute left-3 top-3 rounded bg-black/80 px-3 py-1 text-sm text-amber-300">
          {problem}
        </p>
      )}
      <div className="absolute inset-x-0 bottom-0 space-y-1 bg-gradient-to-t from-black/90 to-transparent px-3 pb-2 pt-8">
        <div className="relative">
          {preview && (
            <div
              className="pointer-events-none absolute bottom-6 -translate-x-1/2 rounded border border-zinc-600 bg-black"
              style={{ left: preview.left }}
              data-testid="storyboard-preview"
            >
              <div
                style={{
                  width: preview.thumb.width,
                  height: preview.thumb.height,
                  backgroundImage: `url("${withToken(info.storyboardUrl, token.current)}")`,
                  backgroundPosition: `-${preview.thumb.x}px -${preview.thumb.y}px`,
                }}
              />
              <p className="text-center text-xs">{formatClock(preview.time)}</p>
            </div>
          )}
          <input
            type="range"
            min={0}
            max={duration || 0}
            step={0.1}
            value={Math.min(time, duration || 0)}
            aria-label="Seek"
            aria-valuetext={`${formatClock(time)} of ${formatClock(duration)}`}
            onChange={(e) => video.current && (video.current.currentTime = Number(e.target.value))}
            onPointerMove={onSeekHover}
            onPointerLeave={() => setPreview(null)}
            className="w-full accent-brand"
          />
        </div>
        <div className="flex items-center gap-2 text-sm">
          <button
            type="button"
            className="rounded px-2 py-1 hover:bg-white/10"
            onClick={toggle}
            aria-label={paused ? "Play" : "Pause"}
          >
            {paused ? <Play size={18} aria-hidden /> : <Pause size={18} aria-hidden />}
          </button>
          <button
            type="button"
            className="rounded px-2 py-1 hover:bg-white/10"
            onClick={() => video.current && (video.current.muted = !video.current.muted)}
            aria-label={muted ? "Unmute" : "Mute"}
          >
            {muted ? <VolumeX size={18} aria-hidden /> : <Volume2 size={18} aria-hidden />}
          </button>
          <span className="tabular-nums text-zinc-300" data-testid="clock">
            {formatClock(time)} / {formatClock(duration)}
          </span>
          <span className="ml-auto" />
          <CaptionsMenu tracks={captions} selected={caption} onSelect={chooseCaption} />
          {levels.length > 0 && (
            <QualityMenu levels={levels} selected={selected} playing={playingLevel} onSelect={choose} />
          )}
          <button
            type="button"
            className="rounded px-2 py-1 hover:bg-white/10"
            aria-label="Full screen"
            onClick={() =>
              void (document.fullscreenElement ? document.exitFullscreen() : frame.current?.requestFullscreen())
            }
          >
            <Maximize size={18} aria-hidden />
          </button>
        </div>
      </div>
    </div>
  );
}
