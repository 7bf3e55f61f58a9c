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
WEB_OUT = ROOT / "web" / "src" / "gen"
ES_PLUGIN = ROOT / "web" / "node_modules" / ".bin" / "protoc-gen-es"
WELL_KNOWN = Path(grpc_tools.__file__).parent / "_proto"


def run_protoc(args: list[str]) -> None:
    """Run protoc with our include paths and fail loudly."""
    code = protoc.main(["protoc", f"-I{PROTO_ROOT}", f"-I{WELL_KNOWN}", *args])
    if code != 0:
        sys.exit(f"protoc failed with exit code {code}")


def protos(folder: str) -> list[str]:
    """The .proto files under proto/<folder>, as protoc names them."""
    return sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / folder).rglob("*.proto"))


def fresh(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def main() -> None:
    sources = protos("vidmesh")
    fresh(PACKAGE_DIR)
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
    generate_typescript(sources)


def generate_typescript(sources: list[str]) -> None:
    """protobuf-es messages and service descriptors for the web app (and any TypeScript client).

    The google/api and google/rpc files are generated too: the vidmesh files import them, and the
    web app reads `ErrorInfo` and `BadRequest` out of error details.
    """
    if not ES_PLUGIN.exists():
        sys.exit(f"{ES_PLUGIN} is missing: run 'npm ci' in web/ (make web-deps)")
    fresh(WEB_OUT)
    run_protoc(
        [
            f"--plugin=protoc-gen-es={ES_PLUGIN}",
            f"--es_out={WEB_OUT}",
            "--es_opt=target=ts,import_extension=none",
            *sources,
            *protos("google"),
        ]
    )


if __name__ == "__main__":
    main()
