"""Save and load trained models as ``models/<name>-<version>/`` with a ``meta.json``.

The model file is a joblib pickle, so loading runs code from it: only load models this project
wrote. ``meta.json`` records the model file's SHA-256, which is checked before unpickling, and
the versions of the data and libraries it was trained with.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib

from detector.errors import ModelError, ModelNotFound, SourceNotFound
from detector.paths import project_path

__all__ = ["SavedModel", "default_models_dir", "latest_model_dir", "load_model", "save_model"]

_MODEL_FILE = "model.joblib"
_META_FILE = "meta.json"
_VERSION_RE = re.compile(r"^(?P<name>.+)-(?P<version>\d+(?:\.\d+)*)$")


@dataclass(frozen=True)
class SavedModel:
    """A loaded model with its metadata."""

    model: Any
    meta: dict[str, Any]
    path: Path


def default_models_dir() -> Path:
    """The ``models/`` folder of the checkout the package runs from (or of the working dir)."""
    try:
        return project_path("models")
    except SourceNotFound:  # `outage-radar train` creates it
        return Path.cwd() / "models"


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a pickled model depends on."""
    versions = {"python": platform.python_version()}
    for package in ("outage-radar", "scikit-learn", "numpy", "scipy", "joblib"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def save_model(model: Any, *, folder: Path, meta: dict[str, Any]) -> Path:
    """Write ``model`` and ``meta`` (plus the file's hash and library versions) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _MODEL_FILE
    joblib.dump(model, target, compress=3)
    full = {
        **meta,
        "model_file": _MODEL_FILE,
        "sha256": _sha256(target),
        "libraries": library_versions(),
    }
    (folder / _META_FILE).write_text(json.dumps(full, indent=2, sort_keys=True) + "\n")
    return folder


def latest_model_dir(name: str, models_dir: Path | None = None) -> Path:
    """Return ``<models_dir>/<name>-<highest version>``.

    Raises
    ------
    ModelNotFound
        When no version of ``name`` is there.
    """
    root = models_dir or default_models_dir()
    versions = []
    for candidate in root.glob(f"{name}-*"):
        match = _VERSION_RE.match(candidate.name)
        if match and match["name"] == name and (candidate / _META_FILE).is_file():
            versions.append((tuple(int(p) for p in match["version"].split(".")), candidate))
    if not versions:
        raise ModelNotFound(root / f"{name}-<version>")
    return max(versions)[1]


def load_model(folder: Path) -> SavedModel:
    """Load the model in ``folder`` after checking it is the file its ``meta.json`` describes.

    Raises
    ------
    ModelNotFound
        When the folder has no model or no ``meta.json``.
    ModelError
        When the file's hash does not match, or it cannot be unpickled.
    """
    meta_path, model_path = folder / _META_FILE, folder / _MODEL_FILE
    if not meta_path.is_file() or not model_path.is_file():
        raise ModelNotFound(folder)
    try:
        meta = json.loads(meta_path.read_text())
    except ValueError as exc:
        raise ModelError(meta_path, f"unreadable meta.json: {exc}") from None
    if meta.get("sha256") != _sha256(model_path):
        raise ModelError(model_path, "file does not match the sha256 in meta.json")
    try:
        model = joblib.load(model_path)
    except Exception as exc:  # unpickling can fail in any way a damaged file allows
        raise ModelError(model_path, f"cannot load: {exc}") from exc
    return SavedModel(model=model, meta=meta, path=folder)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
