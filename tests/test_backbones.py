import hashlib
import io
import zipfile

import pytest

from absa.src import backbones
from absa.src.backbones import BackboneError, ChecksumError, assemble, resolve_backbone


def split_zip(tmp_path, payload: bytes, n_parts: int = 3):
    """A zip with one top folder holding model.safetensors, split into n parts like the PyPI packages."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fake-model/model.safetensors", payload)
        archive.writestr("fake-model/config.json", "{}")
    data = buffer.getvalue()
    size = -(-len(data) // n_parts)
    parts = []
    for i in range(n_parts):
        part = tmp_path / f"fake.zip.00{i + 1}"
        part.write_bytes(data[i * size : (i + 1) * size])
        parts.append(part)
    return parts


def test_assemble_joins_parts_and_verifies(tmp_path):
    payload = b"weights" * 1000
    parts = split_zip(tmp_path, payload)
    target = assemble(parts, tmp_path / "cache" / "model", hashlib.sha256(payload).hexdigest())
    assert (target / "model.safetensors").read_bytes() == payload
    assert (target / "config.json").exists()


def test_assemble_checksum_mismatch_is_an_error_and_leaves_nothing(tmp_path):
    parts = split_zip(tmp_path, b"weights")
    with pytest.raises(ChecksumError, match="sha256"):
        assemble(parts, tmp_path / "cache" / "model", "0" * 64)
    assert not (tmp_path / "cache" / "model").exists()


def test_mpnet_checksum_failure_through_resolve(tmp_path, monkeypatch):
    """Damaged parts must fail loudly, not fall back to anything."""
    monkeypatch.setenv("ABSA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(backbones, "mpnet_part_files", lambda: split_zip(tmp_path, b"not the real weights"))
    with pytest.raises(ChecksumError):
        resolve_backbone("mpnet")


def test_missing_part_package_says_how_to_install(monkeypatch):
    def not_installed(name):
        raise backbones.importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(backbones.importlib.metadata, "distribution", not_installed)
    with pytest.raises(BackboneError, match="requirements-weights.txt"):
        backbones.mpnet_part_files()


def test_minilm_resolves_to_packaged_folder():
    folder = resolve_backbone("minilm")
    assert (backbones.Path(folder) / "config.json").exists()
    assert (backbones.Path(folder) / "model.safetensors").exists()


def test_local_folder_and_hub_id(tmp_path):
    assert resolve_backbone(str(tmp_path)) == str(tmp_path.resolve())
    assert resolve_backbone("org/some-model") == "org/some-model"
