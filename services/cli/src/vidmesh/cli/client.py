"""The client commands: login, upload, watch, timeline, quota, queue, workers, dlq."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

import grpc
from google.protobuf import json_format

from vidmesh.cli.session import CliError, Endpoints, auth_metadata, login
from vidmesh.cli.upload import VISIBILITIES, upload_file
from vidmesh.common.channels import error_reason
from vidmesh.v1 import (
    ingest_pb2_grpc,
    quota_pb2,
    quota_pb2_grpc,
    transcode_pb2,
    transcode_pb2_grpc,
    video_pb2,
    video_pb2_grpc,
)

TERMINAL = (video_pb2.Video.STATE_READY, video_pb2.Video.STATE_FAILED)


def add_client_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sign_in = commands.add_parser("login", help="sign in and remember it")
    sign_in.add_argument("--email", required=True)
    sign_in.add_argument(
        "--password", default=os.environ.get("VIDMESH_PASSWORD"), help="else asked for"
    )
    up = commands.add_parser("upload", help="upload a video (resumes after interruption)")
    up.add_argument("file", type=Path)
    up.add_argument("--title")
    up.add_argument("--visibility", choices=sorted(VISIBILITIES), default="private")
    up.add_argument("--no-watch", action="store_true", help="return once the upload is queued")
    watch = commands.add_parser("watch", help="follow a video's processing until it ends")
    watch.add_argument("video_id")
    timeline = commands.add_parser(
        "timeline", help="a video's steps: upload, queue, every task with its worker and time"
    )
    timeline.add_argument("video_id")
    quota = commands.add_parser("quota", help="your storage and 24-hour upload quota")
    quota.add_argument("--user-id", default="", help="someone else's (admins)")
    quota.add_argument(
        "--set-storage", type=int, help="admins: new storage limit in bytes (-1: none)"
    )
    quota.add_argument(
        "--set-daily", type=int, help="admins: new 24-hour limit in bytes (-1: none)"
    )
    quota.add_argument(
        "--use-defaults", action="store_true", help="admins: drop the user's own limits"
    )
    commands.add_parser("queue", help="the transcode queue per lane and per video (admins)")
    commands.add_parser("workers", help="transcoder workers and what each is running (admins)")
    dlq = commands.add_parser("dlq", help="dead-lettered transcode jobs (admins)")
    actions = dlq.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list")
    listing.add_argument("--video-id", default="")
    listing.add_argument("--reason", default="")
    for name in ("show", "retry", "purge"):
        actions.add_parser(name).add_argument("dead_letter_id")
    everything = actions.add_parser(
        "retry-all", help="retry every dead letter matching the filters, once per video"
    )
    everything.add_argument("--video-id", default="")
    everything.add_argument("--reason", default="")
    everything.add_argument("--max-count", type=int, default=0)


def _state_name(state: int) -> str:
    return video_pb2.Video.State.Name(state).removeprefix("STATE_").lower()  # type: ignore[arg-type]


def _transcode_line(video: video_pb2.Video) -> str:
    """Queue position, chunks done, ETA and whether it can already be played."""
    parts = []
    transcode = video.transcode
    if video.state == video_pb2.Video.STATE_QUEUED and transcode.queue_position:
        parts.append(f"queue position {transcode.queue_position}")
    if video.state == video_pb2.Video.STATE_PROCESSING and transcode.chunks_total:
        parts.append(f"chunks {transcode.chunks_done}/{transcode.chunks_total}")
        if transcode.HasField("estimated_time_remaining"):
            left = transcode.estimated_time_remaining.ToTimedelta().total_seconds()
            parts.append(f"about {left:.0f} s left")
    if video.playable and video.state != video_pb2.Video.STATE_READY:
        parts.append("playable")
    return "  " + ", ".join(parts) if parts else ""


async def _watch(
    channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...], video_id: str
) -> int:
    stream = video_pb2_grpc.VideoServiceStub(channel).WatchVideo(
        video_pb2.WatchVideoRequest(video_id=video_id), metadata=metadata
    )
    last: video_pb2.Video | None = None
    printed = ""
    async for message in stream:
        last = message.video
        line = f"{_state_name(last.state):<10} {last.progress_percent:5.1f}%{_transcode_line(last)}"
        if last.state == video_pb2.Video.STATE_FAILED:
            line += f"  {last.failure.reason}: {last.failure.message}"
        if last.state == video_pb2.Video.STATE_READY:
            line += "  " + " ".join(r.name for r in last.renditions)
        if line != printed:  # audio progress and the like change nothing shown here
            print(line, flush=True)
            printed = line
    return 0 if last is not None and last.state == video_pb2.Video.STATE_READY else 1


async def run_client(args: argparse.Namespace) -> int:
    endpoints = Endpoints.from_env()
    try:
        if args.command == "login":
            password = args.password or getpass.getpass("password: ")
            user = await login(endpoints, args.email, password)
            print(f"signed in as {user.email}")
            return 0
        metadata = await auth_metadata(endpoints)
        if args.command == "upload":
            async with grpc.aio.insecure_channel(endpoints.ingest) as channel:
                video = await upload_file(
                    ingest_pb2_grpc.IngestServiceStub(channel),
                    metadata,
                    args.file,
                    title=args.title or args.file.stem,
                    visibility=args.visibility,
                )
            print(f"uploaded {video.video_id} ({_state_name(video.state)})", flush=True)
            if args.no_watch:
                return 0
            async with grpc.aio.insecure_channel(endpoints.gateway) as channel:
                return await _watch(channel, metadata, video.video_id)
        if args.command == "watch":
            async with grpc.aio.insecure_channel(endpoints.gateway) as channel:
                return await _watch(channel, metadata, args.video_id)
        if args.command == "quota":
            async with grpc.aio.insecure_channel(endpoints.gateway) as channel:
                return await _quota(channel, metadata, args)
        if args.command == "timeline":
            async with grpc.aio.insecure_channel(endpoints.gateway) as channel:
                return await _timeline(channel, metadata, args.video_id)
        async with grpc.aio.insecure_channel(endpoints.transcoder) as channel:
            admin = transcode_pb2_grpc.TranscodeAdminServiceStub(channel)
            if args.command == "workers":
                return await _workers(admin, metadata)
            if args.command == "queue":
                return await _queue(admin, metadata)
            return await _dlq(admin, metadata, args)
    except grpc.aio.AioRpcError as error:
        reason, _ = error_reason(error)
        print(f"error: {error.code().name} {reason}: {error.details()}", file=sys.stderr)
        return 1
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


async def _timeline(
    channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...], video_id: str
) -> int:
    answer = await video_pb2_grpc.VideoServiceStub(channel).GetVideoTimeline(
        video_pb2.GetVideoTimelineRequest(video_id=video_id), metadata=metadata
    )
    for step in answer.steps:
        took = (
            f"{step.duration.ToTimedelta().total_seconds():8.2f} s"
            if step.HasField("duration")
            else "   going"
        )
        extra = "  ".join(
            part
            for part in (
                step.worker,
                f"delivery {step.delivery}" if step.delivery > 1 else "",
                step.detail,
            )
            if part
        )
        print(
            f"g{step.generation}  {step.start_time.ToDatetime():%H:%M:%S.%f}"[:-3]
            + f"  {step.name:<10} {took}  {extra}".rstrip()
        )
    return 0


async def _quota(
    channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...], args: argparse.Namespace
) -> int:
    stub = quota_pb2_grpc.QuotaServiceStub(channel)
    changing = args.set_storage is not None or args.set_daily is not None or args.use_defaults
    if changing:
        if not args.user_id:
            raise CliError("--user-id names whose quota to change")
        request = quota_pb2.UpdateQuotaRequest(user_id=args.user_id, use_defaults=args.use_defaults)
        if args.set_storage is not None:
            request.storage_limit_bytes = args.set_storage
        if args.set_daily is not None:
            request.daily_limit_bytes = args.set_daily
        quota = (await stub.UpdateQuota(request, metadata=metadata)).quota
    else:
        got = await stub.GetQuota(
            quota_pb2.GetQuotaRequest(user_id=args.user_id), metadata=metadata
        )
        quota = got.quota

    def limit(value: int, own: bool) -> str:
        text = "unlimited" if value < 0 else f"{value} bytes"
        return text + (" (set for this user)" if own else "")

    print(
        f"storage  {quota.storage_used_bytes} bytes of "
        f"{limit(quota.storage_limit_bytes, quota.storage_limit_overridden)}"
    )
    print(
        f"24 hours {quota.daily_used_bytes} bytes of "
        f"{limit(quota.daily_limit_bytes, quota.daily_limit_overridden)}"
    )
    return 0


async def _queue(
    stub: transcode_pb2_grpc.TranscodeAdminServiceAsyncStub,
    metadata: tuple[tuple[str, str], ...],
) -> int:
    answer = await stub.GetQueue(transcode_pb2.GetQueueRequest(), metadata=metadata)
    for lane in answer.lanes:
        print(
            f"{lane.name:<7} {lane.pending} waiting  {lane.running} running  "
            f"{lane.redelivered} redelivered"
        )
        for video in lane.videos:
            print(f"  {video.video_id}  {video.tasks} tasks")
    print(f"dead letters: {answer.dead_letters}")
    return 0


async def _workers(
    stub: transcode_pb2_grpc.TranscodeAdminServiceAsyncStub,
    metadata: tuple[tuple[str, str], ...],
) -> int:
    answer = await stub.ListWorkers(transcode_pb2.ListWorkersRequest(), metadata=metadata)
    for worker in answer.workers:
        running = ", ".join(task.task_id for task in worker.running) or "idle"
        print(
            f"{worker.name}  {len(worker.running)}/{worker.slots} slots  "
            f"{worker.tasks_completed} done  seen {worker.last_seen_time.ToDatetime():%H:%M:%S}"
            f"  {running}"
        )
    return 0


async def _dlq(
    stub: transcode_pb2_grpc.TranscodeAdminServiceAsyncStub,
    metadata: tuple[tuple[str, str], ...],
    args: argparse.Namespace,
) -> int:
    if args.action == "list":
        token = ""
        while True:
            page = await stub.ListDeadLetters(
                transcode_pb2.ListDeadLettersRequest(
                    video_id=args.video_id, reason=args.reason, page_token=token
                ),
                metadata=metadata,
            )
            for letter in page.dead_letters:
                print(
                    f"{letter.dead_letter_id:>6}  {letter.time.ToDatetime():%Y-%m-%d %H:%M:%S}  "
                    f"{letter.job.video_id}  {letter.job.task.task_id or letter.job.job_id}  "
                    f"{letter.reason}  deliveries={letter.deliveries}"
                )
            token = page.next_page_token
            if not token:
                return 0
    if args.action == "show":
        found = await stub.GetDeadLetter(
            transcode_pb2.GetDeadLetterRequest(dead_letter_id=args.dead_letter_id),
            metadata=metadata,
        )
        print(json_format.MessageToJson(found.dead_letter))
        return 0
    if args.action == "retry-all":
        answer = await stub.RetryDeadLetters(
            transcode_pb2.RetryDeadLettersRequest(
                video_id=args.video_id, reason=args.reason, max_count=args.max_count
            ),
            metadata=metadata,
        )
        for entry in answer.retried:
            print(
                f"{entry.dead_letter_id:>6}  {entry.job.video_id}  requeued as {entry.job.job_id}"
            )
        for skipped in answer.skipped:
            print(f"{skipped.dead_letter_id:>6}  skipped: {skipped.reason} {skipped.message}")
        covered = len(answer.covered_dead_letter_ids)
        print(f"retried {len(answer.retried)} videos; {covered} more dead letters covered")
        return 1 if answer.skipped else 0
    if args.action == "retry":
        retried = await stub.RetryDeadLetter(
            transcode_pb2.RetryDeadLetterRequest(dead_letter_id=args.dead_letter_id),
            metadata=metadata,
        )
        print(f"requeued as {retried.job.job_id}")
        return 0
    await stub.PurgeDeadLetter(
        transcode_pb2.PurgeDeadLetterRequest(dead_letter_id=args.dead_letter_id),
        metadata=metadata,
    )
    print(f"purged {args.dead_letter_id}")
    return 0
