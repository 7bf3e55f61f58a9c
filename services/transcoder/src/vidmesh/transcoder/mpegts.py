"""Reading and marking MPEG-TS segments in place: no ffmpeg run per segment.

Three facts a chunk needs from its own segments: the RFC 6381 codec of the video (read from its
sequence parameter set, so Constrained Baseline from `ultrafast` is `avc1.42c0xx` and not the
Baseline a profile name suggests), how many bytes open each segment up to the end of its first
keyframe (the byte range an I-frame playlist points at), and a discontinuity mark. Each chunk is
muxed by its own ffmpeg, so its continuity counters restart at zero; the first video packet of a
chunk therefore carries the adaptation field's `discontinuity_indicator`, which tells demuxers
that the counter jump is intended instead of letting them flag the packet corrupt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PACKET = 188
SYNC = 0x47
_VIDEO_STREAM_IDS = range(0xE0, 0xF0)


class NotTransportStream(ValueError):
    """The file is not a sequence of 188-byte TS packets with a video stream."""


@dataclass(frozen=True, slots=True)
class VideoPackets:
    pid: int
    # Offsets of the packets that start a PES packet of the video stream.
    starts: list[int]


def _payload(data: bytes | bytearray, offset: int) -> int:
    """Offset of the payload of the packet at `offset`."""
    control = (data[offset + 3] >> 4) & 0x3
    start = offset + 4
    if control & 0x2:
        start += 1 + data[offset + 4]
    return start


def video_packets(data: bytes | bytearray) -> VideoPackets:
    if len(data) < PACKET or len(data) % PACKET or data[0] != SYNC:
        raise NotTransportStream("not an MPEG-TS file")
    pid_of_video = -1
    starts = []
    for offset in range(0, len(data), PACKET):
        if data[offset] != SYNC:
            raise NotTransportStream(f"lost sync at byte {offset}")
        unit_start = data[offset + 1] & 0x40
        pid = ((data[offset + 1] & 0x1F) << 8) | data[offset + 2]
        if not unit_start or (pid_of_video >= 0 and pid != pid_of_video):
            continue
        payload = _payload(data, offset)
        is_video = (
            data[payload : payload + 3] == b"\x00\x00\x01"
            and data[payload + 3] in _VIDEO_STREAM_IDS
        )
        if is_video:
            pid_of_video = pid
            starts.append(offset)
    if pid_of_video < 0:
        raise NotTransportStream("no video stream")
    return VideoPackets(pid_of_video, starts)


def keyframe_span(path: Path) -> int:
    """Bytes from the start of a segment to the end of its first (key) frame."""
    data = path.read_bytes()
    starts = video_packets(data).starts
    return starts[1] if len(starts) > 1 else len(data)


def mark_discontinuity(path: Path) -> bool:
    """Set the discontinuity indicator on the segment's first video packet; False when that
    packet has no adaptation field to carry it (ffmpeg always writes one there, with the PCR)."""
    data = bytearray(path.read_bytes())
    first = video_packets(data).starts[0]
    if not (data[first + 3] >> 4) & 0x2 or data[first + 4] == 0:
        return False
    data[first + 5] |= 0x80
    path.write_bytes(bytes(data))
    return True


def avc_codec(path: Path) -> str:
    """`avc1.PPCCLL` from the first sequence parameter set of the segment's video."""
    data = path.read_bytes()
    packets = video_packets(data)
    first = packets.starts[0]
    end = packets.starts[1] if len(packets.starts) > 1 else len(data)
    stream = bytearray()
    for offset in range(first, end, PACKET):
        pid = ((data[offset + 1] & 0x1F) << 8) | data[offset + 2]
        if pid == packets.pid:
            stream += data[_payload(data, offset) : offset + PACKET]
    index = 0
    while (index := stream.find(b"\x00\x00\x01", index)) >= 0:
        header = stream[index + 3 : index + 7]
        if len(header) == 4 and header[0] & 0x1F == 7:
            return f"avc1.{header[1]:02x}{header[2]:02x}{header[3]:02x}"
        index += 3
    raise NotTransportStream("no sequence parameter set in the first frame")
