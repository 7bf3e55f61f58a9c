/**
 * The video player: the stream (`useHls`), the playback token kept fresh (`usePlaybackToken`),
 * storyboard previews on the seek bar (`useStoryboard`, `SeekBar`), and the controls: play,
 * mute, time, captions, quality and full screen, with keyboard shortcuts.
 *
 * A public video plays from bare URLs. For the others, segment and playlist URLs carry a
 * short-lived token, renewed before it expires and after a 403.
 */
import { Maximize, Pause, Play, Volume2, VolumeX } from "lucide-react";
import { useRef, useState, type KeyboardEvent } from "react";

import type { GetPlaybackInfoResponse } from "../gen/vidmesh/v1/playback_pb";
import { durationSeconds } from "../lib/durations";
import { formatClock } from "../lib/format";
import { CaptionsMenu } from "./captions-menu";
import { QualityMenu } from "./quality-menu";
import { SeekBar } from "./seek-bar";
import { withToken } from "./tokens";
import { useHls } from "./use-hls";
import { usePlaybackToken } from "./use-playback-token";
import { useStoryboard } from "./use-storyboard";

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

export function Player({ info, refresh }: Props) {
  const clip = clipRange(info);
  const clipStart = clip?.start ?? -1;
  const video = useRef<HTMLVideoElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const token = usePlaybackToken(info, refresh);
  const stream = useHls(video, {
    url: info.masterPlaylistUrl,
    startPosition: clipStart,
    token: token.latest,
    renew: token.renew,
  });
  const thumbs = useStoryboard(info.clipStart ? "" : info.storyboardVttUrl);
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(durationSeconds(info.duration));
  const [paused, setPaused] = useState(true);
  const [muted, setMuted] = useState(false);

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

  return (
    <div
      ref={frame}
      tabIndex={0}
      onKeyDown={onKey}
      className="group relative overflow-hidden rounded-lg bg-black"
      data-testid="player"
      data-storyboard={thumbs.length > 0 ? "ready" : "none"}
      data-token-renewals={token.renewals}
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
      {stream.problem && (
        <p role="status" className="absolute left-3 top-3 rounded bg-black/80 px-3 py-1 text-sm text-amber-300">
          {stream.problem}
        </p>
      )}
      <div className="absolute inset-x-0 bottom-0 space-y-1 bg-gradient-to-t from-black/90 to-transparent px-3 pb-2 pt-8">
        <SeekBar
          time={time}
          duration={duration}
          thumbs={thumbs}
          spriteUrl={withToken(info.storyboardUrl, token.token)}
          onSeek={(seconds) => video.current && (video.current.currentTime = seconds)}
        />
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
          <CaptionsMenu tracks={stream.captions} selected={stream.caption} onSelect={stream.chooseCaption} />
          {stream.levels.length > 0 && (
            <QualityMenu
              levels={stream.levels}
              selected={stream.selected}
              playing={stream.playingLevel}
              onSelect={stream.chooseLevel}
            />
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
