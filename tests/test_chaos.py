"""The fault campaign (tests/chaos.py): nothing lost, nothing duplicated, nothing stuck.

`make check` runs one short seeded campaign; `make chaos` runs longer ones over several seeds
(`VIDMESH_CHAOS_SEEDS`, `VIDMESH_CHAOS_UPLOADS`, `VIDMESH_CHAOS_FAULTS`) and prints each
campaign's figures.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from chaos import STACK_ENV, Campaign
from media import clip
from stack_runner import running_stack

SEEDS = [int(seed) for seed in os.environ.get("VIDMESH_CHAOS_SEEDS", "7").split(",")]
UPLOADS = int(os.environ.get("VIDMESH_CHAOS_UPLOADS", "5"))
FAULTS = int(os.environ.get("VIDMESH_CHAOS_FAULTS", "5"))


@pytest.mark.timeout(600 + 30 * (UPLOADS + FAULTS))
@pytest.mark.parametrize("seed", SEEDS)
async def test_faults_lose_nothing(seed: int, vidmesh_workdir: Path, media_dir: Path) -> None:
    media = [
        clip(media_dir / "chaos-a.mp4", size="640x360", seconds=6),
        clip(media_dir / "chaos-b.mp4", size="480x270", seconds=4),
    ]
    bad = media_dir / "chaos-not-a-video.mp4"
    bad.write_text("this is not a video\n" * 200)
    async with running_stack(vidmesh_workdir / f"chaos-{seed}", env=STACK_ENV) as stack:
        campaign = Campaign(stack.url, stack.process.pid, media, bad, seed, FAULTS)
        report = await campaign.run(UPLOADS)
        assert stack.process.returncode is None, "the stack survived the campaign"
    print(report.summary())
    assert report.acknowledged >= 1, report.summary()
    assert not report.lost, f"{report.summary()}\nlost: {report.lost}"
    assert not report.duplicated, f"{report.summary()}\nduplicated: {report.duplicated}"
    assert not report.stuck, f"{report.summary()}\nstuck: {report.stuck}"
    assert not report.unplayable, f"{report.summary()}\nunplayable: {report.unplayable}"
