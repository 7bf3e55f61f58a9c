"""The web app in Debian's Chromium (playwright-core) against `vidmesh up`, through Envoy only.

The steps live in `web/e2e/browser.mjs` (Playwright's API is JavaScript-first and the web app's
developers run it on its own against `make up`); this test gives it a fresh platform on free
ports and a generated clip, and fails with the script's output when a step fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from harness import run_command
from media import clip
from stack_runner import RunningStack, running_stack

from vidmesh.devstack.envoy import repo_root

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser_tools() -> None:
    """Debian's Chromium, driven by playwright-core on Node.js."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    assert shutil.which("node"), "Node.js is needed for playwright-core"


@pytest.mark.timeout(600)
@pytest.mark.usefixtures("browser_tools")
async def test_sign_up_upload_play_early_switch_quality_and_keep_it_private(
    vidmesh_workdir: Path, media_dir: Path
) -> None:
    source = clip(media_dir / "clip.mp4", size="854x480", seconds=16)
    # Noise, losslessly: a real video of ~45 MB, so its upload takes several tus chunks.
    big = clip(
        media_dir / "noise.mp4",
        size="854x480",
        seconds=3,
        audio=False,
        extra=("-vf", "noise=alls=100:allf=t", "-qp", "0"),
    )
    assert big.stat().st_size > 32 * 1024 * 1024
    data_dir = vidmesh_workdir / "stack"
    # Short-lived tokens, so the run exercises silent access-token refreshes and the player's
    # playback-token renewal (the shortest lifetimes the services accept).
    short_tokens = {
        "VIDMESH_JWT_ACCESS_TTL_SECONDS": "30",
        "VIDMESH_PLAYBACK_TOKEN_TTL_SECONDS": "30",
    }
    # Short chunks encoded one at a time with a slow preset: the clip stays in PROCESSING long
    # enough for the suite to start playing it before it is READY.
    slow_transcode = {
        "VIDMESH_TRANSCODER_CHUNK_SECONDS": "4",
        "VIDMESH_TRANSCODER_SLOTS": "1",
        "VIDMESH_TRANSCODER_PRESET": "slower",
    }
    async with running_stack(data_dir, env={**short_tokens, **slow_transcode}) as stack:
        script = {"VIDMESH_CLIP": str(source), "VIDMESH_BIG_CLIP": str(big)}
        log = await _run_script("e2e/browser.mjs", stack, script, timeout=480)
        assert "browser suite passed" in log


def _failing_ffmpeg(folder: Path, flag: Path) -> Path:
    """Fault injection: a folder whose `ffmpeg` fails like a broken encode while `flag` exists
    and is the real one otherwise (put first on the platform's PATH)."""
    real = shutil.which("ffmpeg")
    assert real, "ffmpeg is needed"
    folder.mkdir(parents=True, exist_ok=True)
    wrapper = folder / "ffmpeg"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'if [ -e "{flag}" ]; then echo "injected fault: ffmpeg is broken" >&2; exit 1; fi\n'
        f'exec "{real}" "$@"\n'
    )
    wrapper.chmod(0o755)
    return folder


@pytest.mark.timeout(420)
@pytest.mark.usefixtures("browser_tools")
async def test_an_admin_sees_a_dead_letter_in_the_console_and_retries_it_to_ready(
    vidmesh_workdir: Path, media_dir: Path
) -> None:
    source = clip(media_dir / "console.mp4", size="640x360", seconds=6)
    data_dir = vidmesh_workdir / "console-stack"
    flag = vidmesh_workdir / "ffmpeg-fails"
    faulty = _failing_ffmpeg(vidmesh_workdir / "faulty-bin", flag)
    env = {
        "PATH": f"{faulty}{os.pathsep}{os.environ['PATH']}",
        "VIDMESH_GATEWAY_ADMIN_EMAILS": "root@example.com",
        "VIDMESH_TRANSCODER_ATTEMPTS": "1",
        # The suite's webhook receiver listens on loopback.
        "VIDMESH_GATEWAY_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    async with running_stack(data_dir, env=env) as stack:
        script = {
            "VIDMESH_CLIP": str(source),
            "VIDMESH_ADMIN_EMAIL": "root@example.com",
            "VIDMESH_FAULT_FLAG": str(flag),
        }
        log = await _run_script("e2e/console.mjs", stack, script, timeout=360)
        assert "console suite passed" in log


async def _run_script(
    script: str,
    stack: RunningStack,
    env: dict[str, str],
    *,
    timeout: float,  # noqa: ASYNC109 - passed to run_command, which kills the browser
) -> str:
    """Run one of web/e2e's scripts against `stack`; fail with its output and the services'
    last log lines when a step fails."""
    browser = await run_command(
        "node",
        script,
        cwd=repo_root() / "web",
        env={
            **os.environ,
            **env,
            "VIDMESH_URL": stack.url,
            "CHROMIUM": CHROMIUM,
            "VIDMESH_SCREENSHOTS": str(repo_root() / ".vidmesh" / "screenshots"),
        },
        timeout=timeout,
    )
    assert browser.code == 0, browser.output + _logs(stack.data_dir / "logs")
    return browser.output


def _logs(folder: Path) -> str:
    """The services' last log lines, to tell a UI failure from a platform failure."""
    tails = []
    for path in sorted(folder.glob("*.log")):
        lines = path.read_text(errors="replace").splitlines()[-15:]
        tails.append(f"\n--- {path.name}\n" + "\n".join(lines))
    return "".join(tails)
