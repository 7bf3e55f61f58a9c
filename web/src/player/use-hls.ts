/**
 * hls.js (or the browser's own HLS in Safari) attached to a <video>: the quality levels and
 * caption tracks it found, the level playing, and recovery from network and media errors (a 403
 * renews the playback token and loads again; other network errors back off).
 */
import Hls, { ErrorTypes, Events } from "hls.js";
import { useEffect, useRef, useState, type RefObject } from "react";

import type { CaptionTrackChoice } from "./captions-menu";
import type { Level } from "./quality-menu";
import { withToken } from "./tokens";

interface Source {
  url: string;
  /** Where to start (a clip's start on its cut playlist), -1 for the default. */
  startPosition: number;
  token: RefObject<string>;
  renew: () => Promise<unknown>;
}

// Browsers without Media Source Extensions may still play HLS themselves (Safari on iOS).
const NATIVE_HLS =
  typeof document !== "undefined" &&
  document.createElement("video").canPlayType("application/vnd.apple.mpegurl") !== "";

export function useHls(videoRef: RefObject<HTMLVideoElement | null>, { url, startPosition, token, renew }: Source) {
  const hlsRef = useRef<Hls | null>(null);
  const [levels, setLevels] = useState<Level[]>([]);
  const [selected, setSelected] = useState(-1);
  const [captions, setCaptions] = useState<CaptionTrackChoice[]>([]);
  const [caption, setCaption] = useState(-1);
  const [playingLevel, setPlayingLevel] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  // Renewing must not re-attach the stream: the effect reads the latest function from a ref.
  const renewRef = useRef(renew);
  useEffect(() => {
    renewRef.current = renew;
  }, [renew]);

  useEffect(() => {
    const element = videoRef.current;
    if (!element) return;
    if (!Hls.isSupported()) {
      if (NATIVE_HLS) {
        element.src = url;
        if (startPosition >= 0)
          element.addEventListener("loadedmetadata", () => (element.currentTime = startPosition), { once: true });
      }
      return;
    }
    const hls = new Hls({
      xhrSetup: (xhr, requested) => xhr.open("GET", withToken(requested, token.current), true),
      capLevelToPlayerSize: false,
      startPosition,
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
          void renewRef.current().then(again, () => setProblem("You are no longer allowed to watch this video."));
        else setTimeout(again, 1000 * networkRetries);
        return;
      }
      setProblem("Playback failed. Reload the page to try again.");
      hls.destroy();
    });
    hls.loadSource(url);
    hls.attachMedia(element);
    return () => {
      hlsRef.current = null;
      hls.destroy();
    };
  }, [videoRef, url, startPosition, token]);

  function chooseLevel(index: number) {
    setSelected(index);
    if (hlsRef.current) hlsRef.current.currentLevel = index;
  }

  function chooseCaption(index: number) {
    setCaption(index);
    const hls = hlsRef.current;
    if (!hls) return;
    hls.subtitleDisplay = index >= 0;
    hls.subtitleTrack = index;
  }

  const playable = Hls.isSupported() || NATIVE_HLS;
  return {
    levels,
    selected,
    chooseLevel,
    captions,
    caption,
    chooseCaption,
    playingLevel,
    problem: playable ? problem : "This browser cannot play HLS video.",
  };
}
