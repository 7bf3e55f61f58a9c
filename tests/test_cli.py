"""The `vidmesh` client commands against real services: login, resumable upload, watch,
timeline, queue, dlq."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from harness import PASSWORD, IngestHarness, TranscoderFactory, TranscoderHarness, run_command
from media import clip

from vidmesh.cli.upload import remember
from vidmesh.v1 import ingest_pb2

VIDMESH = str(Path(sys.executable).parent / "vidmesh")


async def vidmesh(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    done = await run_command(VIDMESH, *args, env=env, timeout=180)
    return done.code, done.out, done.err


@pytest.fixture
async def cli_env(
    ing: IngestHarness,
    transcoder_factory: TranscoderFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    worker: TranscoderHarness = await transcoder_factory()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "VIDMESH_CONFIG_DIR": str(tmp_path / "config"),
        "VIDMESH_GATEWAY": f"127.0.0.1:{ing.gw.port}",
        "VIDMESH_INGEST": f"127.0.0.1:{ing.port}",
        "VIDMESH_TRANSCODER": f"127.0.0.1:{worker.port}",
    }
    monkeypatch.setenv("VIDMESH_CONFIG_DIR", env["VIDMESH_CONFIG_DIR"])
    return env


async def test_login_then_an_interrupted_upload_resumes(
    ing: IngestHarness, cli_env: dict[str, str], media_dir: Path, tmp_path: Path
) -> None:
    owner = await ing.gw.register()
    code, out, err = await vidmesh(cli_env, "login", "--email", owner.email, "--password", PASSWORD)
    assert code == 0, err
    assert owner.email in out
    assert (Path(cli_env["VIDMESH_CONFIG_DIR"]) / "credentials.json").stat().st_mode & 0o077 == 0

    source = tmp_path / "trip.mp4"
    source.write_bytes(clip(media_dir / "landscape.mp4", size="640x360", seconds=9).read_bytes())
    data = source.read_bytes()
    created = await ing.stub.CreateUpload(
        ingest_pb2.CreateUploadRequest(
            metadata=ingest_pb2.UploadMetadata(title="Trip", size_bytes=len(data))
        ),
        metadata=owner.metadata,
    )

    async def first_half() -> AsyncIterator[ingest_pb2.WriteUploadRequest]:
        header = ingest_pb2.WriteUploadHeader(upload_id=created.upload.upload_id)
        yield ingest_pb2.WriteUploadRequest(header=header)
        yield ingest_pb2.WriteUploadRequest(chunk=data[: len(data) // 2])

    await ing.stub.WriteUpload(first_half(), metadata=owner.metadata)
    remember(source, created.upload.upload_id)

    code, out, err = await vidmesh(cli_env, "upload", str(source), "--title", "Trip")
    assert code == 0, err
    assert f"resuming at byte {len(data) // 2} of {len(data)}" in err
    assert f"uploaded {created.upload.video_id} (queued)" in out
    assert out.strip().splitlines()[-1].startswith("ready")
    assert re.search(r"^processing .*chunks \d+/\d+.*playable$", out, re.MULTILINE), out

    code, out, _ = await vidmesh(cli_env, "watch", created.upload.video_id)
    assert code == 0
    assert out.startswith("ready")

    code, out, err = await vidmesh(cli_env, "timeline", created.upload.video_id)
    assert code == 0, err
    names = [line.split()[2] for line in out.splitlines()]
    assert names[:3] == ["upload", "queue", "plan"], out
    assert names[-1] == "ready", out
    assert re.search(r"^g1 .* chunk-0 +\d+\.\d\d s  \S+", out, re.MULTILINE), out


async def test_upload_rejections_and_dlq_access(
    ing: IngestHarness, cli_env: dict[str, str], tmp_path: Path
) -> None:
    user = await ing.gw.register()
    env = {**cli_env, "VIDMESH_ACCESS_TOKEN": user.access_token}
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    code, _, err = await vidmesh(env, "upload", str(text))
    assert code == 1
    assert "UNSUPPORTED_MEDIA" in err
    code, _, err = await vidmesh(env, "dlq", "list")
    assert code == 1
    assert "ADMIN_REQUIRED" in err
    admin = await ing.gw.register("admin@example.com")
    code, out, err = await vidmesh(
        {**env, "VIDMESH_ACCESS_TOKEN": admin.access_token}, "dlq", "list"
    )
    assert code == 0, err
    assert out == "", err
    code, _, err = await vidmesh(
        {**env, "VIDMESH_ACCESS_TOKEN": admin.access_token}, "dlq", "retry", "42"
    )
    assert code == 1
    assert "DEAD_LETTER_NOT_FOUND" in err
    code, out, err = await vidmesh(
        {**env, "VIDMESH_ACCESS_TOKEN": admin.access_token}, "dlq", "retry-all", "--reason", "X"
    )
    assert code == 0, err
    assert "retried 0 videos" in out, err
    code, _, err = await vidmesh(env, "dlq", "retry-all")
    assert code == 1
    assert "ADMIN_REQUIRED" in err
    code, _, err = await vidmesh(env, "workers")
    assert code == 1
    assert "ADMIN_REQUIRED" in err
    code, out, err = await vidmesh({**env, "VIDMESH_ACCESS_TOKEN": admin.access_token}, "workers")
    assert code == 0, err
    code, _, err = await vidmesh(env, "queue")
    assert code == 1
    assert "ADMIN_REQUIRED" in err
    code, out, err = await vidmesh({**env, "VIDMESH_ACCESS_TOKEN": admin.access_token}, "queue")
    assert code == 0, err
    assert out.splitlines()[0].startswith("urgent ")
    assert out.splitlines()[-1] == "dead letters: 0"
    code, out, err = await vidmesh(env, "quota")
    # The junk upload above was refused: it keeps no storage, but it was uploaded today.
    assert code == 0, err
    assert out.startswith("storage  0 bytes of 53687091200 bytes"), err
    code, _, err = await vidmesh(env, "quota", "--user-id", admin.user_id, "--set-daily", "5")
    assert code == 1
    assert "ADMIN_REQUIRED" in err
    admin_env = {**env, "VIDMESH_ACCESS_TOKEN": admin.access_token}
    code, out, err = await vidmesh(
        admin_env, "quota", "--user-id", user.user_id, "--set-daily", "5"
    )
    assert code == 0, err
    assert "24 hours 11 bytes of 5 bytes (set for this user)" in out, err
    code, _, err = await vidmesh(env, "upload", str(text))
    assert code == 1
    assert "QUOTA_EXCEEDED" in err
    code, _, err = await vidmesh(env, "timeline", str(uuid.uuid4()))
    assert code == 1
    assert "VIDEO_NOT_FOUND" in err
    code, _, err = await vidmesh({k: v for k, v in cli_env.items()}, "watch", "x")
    assert code == 1
    assert "not signed in" in err
