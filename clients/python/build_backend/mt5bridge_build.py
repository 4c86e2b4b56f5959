"""The package's build backend (PEP 517, with PEP 660 editable installs), standard library only.

Why not setuptools: pip builds in an isolated environment and would download setuptools into
it, so `pip install ./clients/python` would need PyPI even though Debian ships setuptools (only
`--no-build-isolation` would use it). This backend needs nothing, so the default command works
with no network at all. It builds what a pure-Python package needs and nothing more: a
`py3-none-any` wheel (PEP 427, binary distribution format; RECORD hashes as PEP 376), an sdist
(PEP 625 name, PKG-INFO), and an editable wheel whose .pth file points at src/.

Metadata (core metadata 2.1) comes from pyproject.toml's [project] table (name, description,
requires-python, readme) and the version from src/mt5bridge/_version.py: one home for each.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(ROOT, "src")
PACKAGE = "mt5bridge"
TAG = "py3-none-any"
# Reproducible archives: a fixed timestamp (1980-01-01, the earliest a zip can hold)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_editable(
        config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def build_wheel(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None,
                metadata_directory: Optional[str] = None) -> str:
    files = [(path, _read(os.path.join(SOURCE, path))) for path in _package_files()]
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None,
                   metadata_directory: Optional[str] = None) -> str:
    # A .pth line is added to sys.path at start-up: the installed package is the source tree
    return _write_wheel(wheel_directory, [(f"_{PACKAGE}_editable.pth", (SOURCE + "\n").encode())])


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    meta = metadata()
    base = f"{_normalized(meta['name'])}-{meta['version']}"
    members = ["pyproject.toml", "README.md", "build_backend/mt5bridge_build.py"]
    members += [f"src/{path}" for path in _package_files()]
    name = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for member, data in [("PKG-INFO", _core_metadata(meta))] + [
                (path, _read(os.path.join(ROOT, path))) for path in members]:
            info = tarfile.TarInfo(f"{base}/{member}")
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return name


def metadata() -> Dict[str, str]:
    """name, version, description, requires-python and readme of pyproject.toml's [project]."""
    project: Dict[str, str] = {}
    inside = False
    for line in _read(os.path.join(ROOT, "pyproject.toml")).decode("utf-8").splitlines():
        if line.startswith("["):
            inside = line.strip() == "[project]"
            continue
        match = re.match(r'^([A-Za-z-]+)\s*=\s*"([^"]*)"\s*$', line)
        if inside and match:
            project[match.group(1)] = match.group(2)
    version = re.search(r'^__version__ = "([^"]+)"$',
                        _read(os.path.join(SOURCE, PACKAGE, "_version.py")).decode("utf-8"),
                        re.MULTILINE)
    missing = [key for key in ("name", "description", "requires-python", "readme")
               if key not in project]
    if version is None or missing:
        raise RuntimeError(f"mt5bridge_build: pyproject.toml [project] lacks {missing} or "
                           "_version.py lacks __version__")
    project["version"] = version.group(1)
    return project


def _write_wheel(directory: str, files: List[Tuple[str, bytes]]) -> str:
    meta = metadata()
    dist_info = f"{_normalized(meta['name'])}-{meta['version']}.dist-info"
    name = f"{_normalized(meta['name'])}-{meta['version']}-{TAG}.whl"
    wheel_file = (f"Wheel-Version: 1.0\nGenerator: mt5bridge_build\nRoot-Is-Purelib: true\n"
                  f"Tag: {TAG}\n").encode()
    files = files + [(f"{dist_info}/METADATA", _core_metadata(meta)),
                     (f"{dist_info}/WHEEL", wheel_file)]
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files]
    record.append(f"{dist_info}/RECORD,,")
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    with zipfile.ZipFile(os.path.join(directory, name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files:
            info = zipfile.ZipInfo(path, ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
    return name


def _core_metadata(meta: Dict[str, str]) -> bytes:
    readme = _read(os.path.join(ROOT, meta["readme"])).decode("utf-8")
    head = (f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
            f"Summary: {meta['description']}\nRequires-Python: {meta['requires-python']}\n"
            f"Description-Content-Type: text/markdown\n\n")
    return (head + readme).encode("utf-8")


def _package_files() -> List[str]:
    """The package's files relative to src/, sorted; no caches."""
    found = []
    for folder, dirs, names in os.walk(os.path.join(SOURCE, PACKAGE)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".py", ".typed")):
                found.append(os.path.relpath(os.path.join(folder, name), SOURCE).replace(os.sep,
                                                                                         "/"))
    return found


def _normalized(name: str) -> str:
    # Wheel and sdist file names use the name with runs of -_. as one underscore
    return re.sub(r"[-_.]+", "_", name).lower()


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()
