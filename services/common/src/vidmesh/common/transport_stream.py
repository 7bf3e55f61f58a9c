"""The one MPEG-TS fact playback needs: the presentation time of a segment's first video
frame, which WebVTT segments map their cue times to (`X-TIMESTAMP-MAP`)."""

from __future__ import annotations

PACKET = 188
SYNC = 0x47


def first_video_pts(data: bytes) -> int | None:
    """The 90 kHz PTS of the first video PES packet in `data` (the head of a segment), or None
    when there is none in it."""
    for offset in range(0, len(data) - PACKET + 1, PACKET):
        if data[offset] != SYNC:
            return None
        if not data[offset + 1] & 0x40:  # no payload_unit_start: not a PES header
            continue
        start = offset + 4
        if (data[offset + 3] >> 4) & 0x2:  # adaptation field first
            start += 1 + data[offset + 4]
        header = data[start : start + 14]
        if len(header) < 14 or header[:3] != b"\x00\x00\x01" or not 0xE0 <= header[3] <= 0xEF:
            continue
        if not header[7] & 0x80:  # no PTS
            continue
        p = header[9:14]
        return ((p[0] >> 1) & 0x07) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1
    return None
