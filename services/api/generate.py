"""Regenerate the vidmesh.v1 Python code and the Envoy descriptor set from proto/.

buf cannot run the grpc Python plugin offline, so codegen uses grpc_tools' bundled protoc with
mypy-protobuf for typed stubs; buf only lints, formats and checks breaking changes.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = ROOT / "proto"
OUT = ROOT / "services" / "api" / "src"
PACKAGE_DIR = OUT / "vidmesh" / "v1"
DESCRIPTOR_SET = ROOT / "envoy" / "vidmesh.pb"
WELL_KNOWN = Path(grpc_tools.__file__).parent / "_proto"


def run_protoc(args: list[str]) -> None:
    """Run protoc with our include paths and fail loudly."""
    code = protoc.main(["protoc", f"-I{PROTO_ROOT}", f"-I{WELL_KNOWN}", *args])
    if code != 0:
        sys.exit(f"protoc failed with exit code {code}")


def main() -> None:
    sources = sorted(
        str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / "vidmesh").rglob("*.proto")
    )
    shutil.rmtree(PACKAGE_DIR, ignore_errors=True)
    PACKAGE_DIR.mkdir(parents=True)
    run_protoc(
        [
            f"--python_out={OUT}",
            f"--grpc_python_out={OUT}",
            f"--mypy_out={OUT}",
            f"--mypy_grpc_out={OUT}",
            *sources,
        ]
    )
    (PACKAGE_DIR / "__init__.py").write_text('"""Generated code for the vidmesh.v1 contracts."""\n')
    (PACKAGE_DIR / "py.typed").write_text("")
    DESCRIPTOR_SET.parent.mkdir(parents=True, exist_ok=True)
    run_protoc(
        [
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={DESCRIPTOR_SET}",
            *sources,
            "google/rpc/error_details.proto",
            "google/rpc/status.proto",
        ]
    )


if __name__ == "__main__":
    main()
