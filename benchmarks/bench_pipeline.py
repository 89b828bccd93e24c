"""Benchmarks of the compliant-gallery image pipeline and of whole MkDocs builds, each against a baseline.

Run from the repository root with the project's environment:

    python benchmarks/bench_pipeline.py            # full run, about 9 minutes on 2 cores
    python benchmarks/bench_pipeline.py --quick    # smaller galleries, under 2 minutes
    python benchmarks/bench_pipeline.py --profile  # also print cProfile tops of a cold pair and a rebuild

Every figure is a ratio against a baseline measured in the same run, so machines can be compared by ratio:

(a) cold pipeline: `process_fresh` on before/after pairs of real corpus photos (default `ImageSettings`, an
    empty cache folder each time, one process) against bare Pillow doing the same decode/resize/encode work
    with no checks; seconds per photo.
(b) no-change rebuild of a 500-photo gallery (in-process `load_config` + `build`) against a plain MkDocs
    build of the same pages with the plugin disabled; a detail row also compares it with the plugin disabled
    and the same published image files placed in docs_dir, which MkDocs then copies as it copies ours.
(c) cold build of ~16 pairs with 2 worker processes against 1 (speed-up).
(d) peak RSS of a cold build run in a fresh subprocess, at 500 photos against 50.

The script reports; it never fails because a target is missed. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import math
import os
import platform
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from PIL import Image, ImageOps, features

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
BUILD_DATE = "2026-11-23"
BUILD_WORKERS = 2  # the cold builds of (b) and (d); fixed so that runs compare across machines

# Encoder arguments of `images.pipeline._encode`; the bare-Pillow baseline must use the same ones (keep in sync).
JPEG_OPTIONS: dict[str, Any] = {"optimize": True, "progressive": True}
WEBP_OPTIONS: dict[str, Any] = {"method": 4}
AVIF_OPTIONS: dict[str, Any] = {"speed": 8}
# Resampling of `images.pipeline._encode_all`, mirrored for the same reason.
RESIZE_OPTIONS: dict[str, Any] = {"resample": Image.Resampling.LANCZOS, "reducing_gap": 2.0}
PACKAGE = "mkdocs_compliant_gallery"
SNAPSHOT_ENV = "COMPLIANT_GALLERY_BENCH_SNAPSHOT"


@dataclass(frozen=True)
class Source:
    """A corpus photo the benchmark uses, by a short name."""

    name: str
    relative: str

    def path(self, corpus: Path) -> Path:
        return corpus / self.relative

    @property
    def suffix(self) -> str:
        return Path(self.relative).suffix.lower()


SOURCES = {
    source.name: source
    for source in (
        Source("iphone6", "drewnoakes/jpg/Apple iPhone 6.jpg"),  # 8 MP, 2014
        Source("galaxy-s7", "drewnoakes/jpg/Samsung SM-G935L (Galaxy S7 Edge).jpg"),  # 12 MP, 2017
        Source("leica-t", "drewnoakes/jpg/Leica T (Typ 701).jpg"),  # 16 MP, EXIF-rotated to portrait
        Source("issue-266", "drewnoakes/jpg/Issue 266.jpg"),  # 22 MP, Photoshop in its metadata, ICC profile
        Source("iphone-heic", "drewnoakes/heic/IMG_1034.heic"),  # 12 MP HEIC with an ICC profile, 2018
    )
}


@dataclass(frozen=True)
class PairKind:
    """A before/after pair of corpus photos that the pipeline accepts: same shape, after taken later."""

    before: str
    after: str
    edits: tuple[str, ...] = ()


PAIR_KINDS = (
    PairKind("iphone6", "galaxy-s7"),
    PairKind("leica-t", "leica-t"),
    PairKind("issue-266", "issue-266", ("colour",)),  # edited in Photoshop: must be declared (CG304)
    PairKind("galaxy-s7", "iphone-heic"),
)


@dataclass(frozen=True)
class Scale:
    """How much work a run does."""

    pipeline_rounds: int  # (a): rounds over PAIR_KINDS, ours and baseline interleaved
    worker_pairs: int  # (c): pairs in the cold build timed with 1 and 2 workers
    small_photos: int  # (d): the smaller gallery
    large_photos: int  # (b) and (d): the larger gallery
    cases_per_page: int = 25
    rebuilds: int = 2


FULL = Scale(pipeline_rounds=3, worker_pairs=16, small_photos=50, large_photos=500)
QUICK = Scale(pipeline_rounds=1, worker_pairs=6, small_photos=10, large_photos=60)


# -- environment ----------------------------------------------------------------------------------------


def snapshot_package(work: Path) -> Path:
    """Copy the repository's package into `work` and import it from there, in this process and every child.

    A run takes minutes; a package edited meanwhile would otherwise be half old, half new across imports
    and subprocesses (and a changed cache key would turn the no-change rebuild into a cold one).
    """
    folder = work / "src"
    shutil.copytree(REPO / PACKAGE, folder / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    if PACKAGE in sys.modules:
        raise RuntimeError(f"{PACKAGE} was imported before the snapshot was taken")
    sys.path.insert(0, str(folder))
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    os.environ[SNAPSHOT_ENV] = str(folder)
    check_snapshot()
    return folder


def check_snapshot() -> None:
    """Refuse to measure a package other than the run's snapshot (a child must see the same code)."""
    folder = os.environ.get(SNAPSHOT_ENV)
    if not folder:
        return
    import mkdocs_compliant_gallery

    if not Path(mkdocs_compliant_gallery.__file__).resolve().is_relative_to(Path(folder).resolve()):
        raise RuntimeError(f"{PACKAGE} imported from {mkdocs_compliant_gallery.__file__}, not from the snapshot {folder}")


def package_state() -> str:
    """Version, commit and whether the package had uncommitted changes when the snapshot was taken."""
    import mkdocs_compliant_gallery

    state = f"{mkdocs_compliant_gallery.__version__}"
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", PACKAGE], capture_output=True, text=True, check=True
        ).stdout
        state += f", commit {commit.strip()}" + (", with uncommitted changes" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    return state


def environment() -> dict[str, str]:
    """What the figures depend on: CPUs, Python, and the codec libraries."""
    import mkdocs
    from PIL import __version__ as pillow_version

    avif_codecs = ""
    try:
        from PIL import _avif

        avif_codecs = str(_avif.codec_versions())
    except (ImportError, AttributeError):
        pass
    try:
        import pillow_heif

        heif = f"pillow-heif {pillow_heif.__version__}, libheif {pillow_heif.libheif_version()}"
    except ImportError:
        heif = "not installed"
    from PIL import AvifImagePlugin

    threads = getattr(AvifImagePlugin, "_get_default_max_threads", lambda: "?")()
    return {
        "package": package_state(),
        "cpus": str(os.cpu_count()),
        "usable cpus": str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else "?",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "pillow": pillow_version,
        "libavif": f"{features.version('avif')} ({avif_codecs}; Pillow's default encoder threads: {threads})",
        "libwebp": str(features.version("webp")),
        "libjpeg": f"{features.version('jpg')} (turbo {features.version('libjpeg_turbo')})",
        "heif": heif,
        "mkdocs": mkdocs.__version__,
        "load average": load_average(),
    }


# -- (a) the pipeline against bare Pillow -----------------------------------------------------------------


def bare_pillow(path: Path, widths: Sequence[int], qualities: dict[str, int], formats: Sequence[str]) -> int:
    """The baseline: open, DCT-draft a JPEG, upright, RGB, resize to each width, encode; no checks. Returns bytes made."""
    image = Image.open(path)
    if image.format in ("JPEG", "MPO"):
        stored_width, stored_height = image.size
        rotated = image.getexif().get(0x0112) in (5, 6, 7, 8)
        upright_width = stored_height if rotated else stored_width
        scale = max(widths) / upright_width
        if scale < 0.5:  # as the pipeline: the smallest DCT scale still giving the largest width
            image.draft("RGB", (math.ceil(stored_width * scale), math.ceil(stored_height * scale)))
    upright = ImageOps.exif_transpose(image).convert("RGB")
    made = 0
    for width in sorted(w for w in widths if w <= upright.width) or [upright.width]:
        height = max(1, round(width * upright.height / upright.width))
        resized = upright.resize((width, height), **RESIZE_OPTIONS)
        for fmt in formats:
            buffer = io.BytesIO()
            if fmt == "jpeg":
                resized.save(buffer, "JPEG", quality=qualities["jpeg"], **JPEG_OPTIONS)
            elif fmt == "webp":
                resized.save(buffer, "WEBP", quality=qualities["webp"], **WEBP_OPTIONS)
            else:
                resized.save(buffer, "AVIF", quality=qualities["avif"], **AVIF_OPTIONS)
            made += buffer.tell()
    return made


@dataclass
class PipelineFigures:
    """Seconds per photo, ours and baseline, for each round: wall clock, and CPU time of the process."""

    photos_per_round: int
    ours: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    ours_cpu: list[float] = field(default_factory=list)
    baseline_cpu: list[float] = field(default_factory=list)
    per_kind_ours: dict[str, float] = field(default_factory=dict)
    per_kind_baseline: dict[str, float] = field(default_factory=dict)


def _pair_jobs(corpus: Path, cache_root: Path) -> list[tuple[str, Any]]:
    from mkdocs_compliant_gallery.images.pipeline import PairJob
    from mkdocs_compliant_gallery.records.manifest import Edit, ImageRef
    from mkdocs_compliant_gallery.settings import ImageSettings

    jobs = []
    for number, kind in enumerate(PAIR_KINDS):
        refs = [
            ImageRef(SOURCES[name].relative, SOURCES[name].path(corpus), f"{name} photo", None, (), 1) for name in (kind.before, kind.after)
        ]
        job = PairJob(
            f"bench-{number}",
            "front",
            "manifest.yml",
            refs[0],
            refs[1],
            tuple(Edit(e) for e in kind.edits),
            ImageSettings(),
            str(cache_root),
        )
        jobs.append((f"{kind.before}/{kind.after}", job))
    return jobs


Timing = tuple[float, float]  # wall seconds, CPU seconds of this process (all its threads)


def _run_ours(job: Any, key: str, work: Path) -> Timing:
    """One cold `process_fresh` into an empty cache folder."""
    from dataclasses import replace

    from mkdocs_compliant_gallery.images.cache import process_fresh

    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    job = replace(job, cache_dir=str(cache))
    started, cpu = time.perf_counter(), time.process_time()
    result = process_fresh(job, key)
    timing = (time.perf_counter() - started, time.process_time() - cpu)
    shutil.rmtree(cache)
    if result.before is None or result.violations:
        raise RuntimeError(f"the pipeline refused benchmark pair {job.case_id}: {[v.message for v in result.violations]}")
    return timing


def _run_baseline(job: Any) -> Timing:
    """Both photos of the pair through `bare_pillow`."""
    settings = job.settings
    qualities = {"jpeg": settings.jpeg_quality, "webp": settings.webp_quality, "avif": settings.avif_quality}
    started, cpu = time.perf_counter(), time.process_time()
    for ref in (job.before, job.after):
        bare_pillow(ref.path, settings.widths, qualities, settings.formats)
    return time.perf_counter() - started, time.process_time() - cpu


def measure_pipeline(corpus: Path, work: Path, rounds: int) -> PipelineFigures:
    """(a): every pair kind through `process_fresh` and through bare Pillow, interleaved, `rounds` times."""
    from mkdocs_compliant_gallery.images.cache import sha256_file

    jobs = _pair_jobs(corpus, work)
    keys = {label: job.cache_key(sha256_file(job.before.path), sha256_file(job.after.path)) for label, job in jobs}
    figures = PipelineFigures(photos_per_round=2 * len(jobs))
    # Warm-up (untimed): imports, codec initialisation, the page cache.
    label, job = jobs[0]
    _run_ours(job, keys[label], work)
    _run_baseline(job)
    per_ours: dict[str, list[float]] = {label: [] for label, _ in jobs}
    per_base: dict[str, list[float]] = {label: [] for label, _ in jobs}
    for number in range(rounds):
        ours_total, base_total = [0.0, 0.0], [0.0, 0.0]
        # Pair by pair, the two back to back in alternating order, so load from elsewhere hits both alike.
        for index, (label, job) in enumerate(jobs):
            if (number + index) % 2 == 0:
                ours, base = _run_ours(job, keys[label], work), _run_baseline(job)
            else:
                base, ours = _run_baseline(job), _run_ours(job, keys[label], work)
            per_ours[label].append(ours[0])
            per_base[label].append(base[0])
            for total, timing in ((ours_total, ours), (base_total, base)):
                total[0] += timing[0]
                total[1] += timing[1]
        photos = figures.photos_per_round
        figures.ours.append(ours_total[0] / photos)
        figures.baseline.append(base_total[0] / photos)
        figures.ours_cpu.append(ours_total[1] / photos)
        figures.baseline_cpu.append(base_total[1] / photos)
        progress(
            f"  round {number + 1}/{rounds}: ours {figures.ours[-1]:.3f} s/photo (CPU {figures.ours_cpu[-1]:.3f} s), "
            f"bare Pillow {figures.baseline[-1]:.3f} s/photo (CPU {figures.baseline_cpu[-1]:.3f} s)"
        )
    figures.per_kind_ours = {label: min(values) / 2 for label, values in per_ours.items()}
    figures.per_kind_baseline = {label: min(values) / 2 for label, values in per_base.items()}
    return figures


# -- test projects ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectFiles:
    """A written clinic project: the plugin's config, the plugin-disabled config, and its size."""

    root: Path
    config: Path
    plain_config: Path
    cases: int

    @property
    def photos(self) -> int:
        return 2 * self.cases

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def plain_site(self) -> Path:
        return self.root / "site-plain"

    @property
    def cache(self) -> Path:
        return self.root / ".cache"


def _case(number: int, kind: PairKind, treatment: str) -> dict[str, Any]:
    case_id = f"case-{number:04d}"
    # A small redaction box in its own place on every photo: distinct pixels, so every pair has its own cache
    # key and every photo its own published files, while every copy of a corpus photo keeps its original bytes.
    # (The boxes sit inside the smallest upright photo used, 3264x2448.)
    column, row = number % 40, number // 40
    before_box = [16 + column * 64, 16 + row * 64, 64, 64]
    after_box = [16 + column * 64, 1216 + row * 64, 64, 64]
    pair: dict[str, Any] = {
        "view": "front",
        "before": {
            "src": f"photos/{case_id}-before{SOURCES[kind.before].suffix}",
            "alt": f"Case {number}, before treatment, front view",
            "redact": [before_box],
        },
        "after": {
            "src": f"photos/{case_id}-after{SOURCES[kind.after].suffix}",
            "alt": f"Case {number}, after treatment, front view",
            "redact": [after_box],
        },
    }
    if kind.edits:
        pair["edits"] = list(kind.edits)
    return {
        "id": case_id,
        "consent": f"C-{number:05d}",
        "treatment": treatment,
        "procedures": ["hyaluronic acid filler"],
        "sessions": 1 + number % 3,
        "time_after": "2 weeks",
        "shows": {"face": False, "name": False, "distinctive_marks": False},
        "caption": f"Result of case {number}, photographed under the same light.",
        "photos": [pair],
    }


def _consent(number: int) -> dict[str, Any]:
    return {
        "id": f"C-{number:05d}",
        "patient_ref": f"P-{90000 + number}",
        "signed_on": "2026-03-02",
        "signer": "patient",
        "expires_on": "2028-03-02",
        "channels": {"permit": ["website", "social"], "deny": ["paid_ads"]},
        "purposes": ["marketing"],
        "scope": {"cases": [f"case-{number:04d}"]},
        "allows": {"face": False, "name": False, "distinctive_marks": False, "testimonial": False},
        "material_connection": "none",
        "third_party_remuneration": False,
        "statements": {"revocation": True, "conditioning": True, "redisclosure": True},
        "irrevocable": False,
        "revoked_on": None,
        "superseded_by": None,
        "form": {"version": "marketing-release-v3"},
    }


def write_project(root: Path, corpus: Path, cases: int, cases_per_page: int, workers: int) -> ProjectFiles:
    """A clinic site of `cases` one-pair cases, one page per `cases_per_page` cases, photos copied from the corpus."""
    pages = max(1, math.ceil(cases / cases_per_page))
    treatments = {
        f"treatment-{page:02d}": {
            "title": f"Treatment {page}",
            "typical_results": f"Most patients see results of treatment {page} for 6 to 12 months.",
        }
        for page in range(pages)
    }
    photos = root / "gallery" / "photos"
    photos.mkdir(parents=True)
    manifest_cases = []
    for number in range(cases):
        kind = PAIR_KINDS[number % len(PAIR_KINDS)]
        manifest_cases.append(_case(number, kind, f"treatment-{number // cases_per_page:02d}"))
        for role, name in (("before", kind.before), ("after", kind.after)):
            shutil.copyfile(SOURCES[name].path(corpus), photos / f"case-{number:04d}-{role}{SOURCES[name].suffix}")
    (root / "gallery" / "manifest.yml").write_text(yaml.safe_dump({"treatments": treatments, "cases": manifest_cases}, sort_keys=False))
    (root / "gallery" / "consents.yml").write_text(yaml.safe_dump({"consents": [_consent(n) for n in range(cases)]}, sort_keys=False))
    docs = root / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Northside clinic\n\nWelcome. Our results are on the pages below.\n")
    nav: list[Any] = [{"Home": "index.md"}]
    for page in range(pages):
        name = f"results-{page:02d}.md"
        (docs / name).write_text(
            f"# Results of treatment {page}\n\nEvery photo is published under the patient's written release.\n\n"
            f"<!-- compliant-gallery treatment=treatment-{page:02d} -->\n\nAsk us about treatment {page}.\n"
        )
        nav.append({f"Treatment {page}": name})

    def config(enabled: bool) -> dict[str, Any]:
        options: dict[str, Any] = {
            "manifest": "gallery/manifest.yml",
            "consents": "gallery/consents.yml",
            "build_date": BUILD_DATE,
            "jurisdictions": ["US"],
            "workers": workers,
            "cache_dir": ".cache",
        }
        if not enabled:
            options = {"enabled": False, **options}
        return {
            "site_name": "Benchmark clinic",
            "site_url": "https://clinic.example/",
            "theme": {"name": "mkdocs"},
            "nav": nav,
            "plugins": ["search", {"compliant-gallery": options}],
            # The tripwire fails a build that meets a directive while the plugin is off, so only the plugin's config has it.
            "markdown_extensions": ["mkdocs_compliant_gallery.tripwire"] if enabled else [],
        }

    config_file = root / "mkdocs.yml"
    config_file.write_text(yaml.safe_dump(config(True), sort_keys=False))
    plain_file = root / "mkdocs-plain.yml"
    plain_file.write_text(yaml.safe_dump(config(False), sort_keys=False))
    # Approved as written, as a clinic does before its first build (`approval: required` is the default).
    approve = ["approve", "--all-pending", "--by", "Benchmark reviewer", "--yes", "-f", str(config_file)]
    subprocess.run([sys.executable, "-m", "mkdocs_compliant_gallery", *approve], check=True, capture_output=True)
    return ProjectFiles(root, config_file, plain_file, cases)


# -- builds ------------------------------------------------------------------------------------------------


@dataclass
class BuildRun:
    """One build: wall seconds (load_config + build), the plugin's summary line, and peak RSS where measured."""

    seconds: float
    summary: str = ""
    main_rss_kib: int = 0  # the build's own process
    workers_rss_kib: int = 0  # its worker processes (0: none ran, or not measured)
    any_rss_kib: int = 0  # RUSAGE_CHILDREN of a fresh parent: the largest of all of them
    cpu_seconds: float = 0.0  # user + system time of the build process and its workers


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


def build_in_process(config_file: Path, site_dir: Path) -> BuildRun:
    """`load_config` + `build`, as `mkdocs build` does; raises with the log if the build fails."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    handler = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    previous, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False  # keep MkDocs' INFO lines off the terminal
    try:
        started = time.perf_counter()
        try:
            config = load_config(config_file=str(config_file), site_dir=str(site_dir))
            config.plugins.on_startup(command="build", dirty=False)
            try:
                build(config, dirty=False)
            finally:
                config.plugins.on_shutdown()
        except Exception as error:
            raise RuntimeError(f"build of {config_file} failed: {error}\n" + "\n".join(handler.lines[-20:])) from error
        seconds = time.perf_counter() - started
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        logger.propagate = propagate
    summary = next((line.split(": ", 1)[1] for line in reversed(handler.lines) if "photo pairs processed" in line), "")
    return BuildRun(seconds, summary)


def _stop_forkserver() -> None:
    """Stop (and so wait for) the forkserver, whose children are the workers: their peak RSS then reaches us."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if callable(stop):
        stop()


def child_build(config_file: Path, site_dir: Path) -> None:
    """Entry of the build subprocess: build, stop the forkserver, print the run as JSON."""
    check_snapshot()
    run = build_in_process(config_file, site_dir)
    _stop_forkserver()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    run.main_rss_kib, run.workers_rss_kib = own.ru_maxrss, children.ru_maxrss
    run.cpu_seconds = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    print(json.dumps(asdict(run)))


def child_measure(config_file: Path, site_dir: Path) -> None:
    """Entry of the fresh parent: run the build in a child, then add RUSAGE_CHILDREN (nothing else ran here)."""
    output = subprocess.run(
        [sys.executable, __file__, "--child-build", str(config_file), str(site_dir)], check=True, capture_output=True, text=True
    ).stdout
    run = BuildRun(**json.loads(output.strip().splitlines()[-1]))
    run.any_rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(asdict(run)))


def build_in_subprocess(project: ProjectFiles) -> BuildRun:
    """A cold build in a fresh process tree, as a user's `mkdocs build` would run, with its peak memory."""
    completed = subprocess.run(
        [sys.executable, __file__, "--child-measure", str(project.config), str(project.site)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"build subprocess failed ({completed.returncode}):\n{completed.stderr[-4000:]}")
    return BuildRun(**json.loads(completed.stdout.strip().splitlines()[-1]))


def set_workers(project: ProjectFiles, workers: int) -> None:
    """Change the plugin's `workers` option in the project's mkdocs.yml."""
    config = yaml.safe_load(project.config.read_text())
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "compliant-gallery" in plugin:
            plugin["compliant-gallery"]["workers"] = workers
    project.config.write_text(yaml.safe_dump(config, sort_keys=False))


def make_cold(project: ProjectFiles) -> None:
    """Remove everything a previous build left: cache, site, publication log."""
    for path in (project.cache, project.site, project.root / ".compliance"):
        shutil.rmtree(path, ignore_errors=True)


def expect(run: BuildRun, processed: int, from_cache: int, what: str) -> None:
    """Fail loudly when a build did not do the work the benchmark means to time (that is not a missed target)."""
    wanted = f"{processed} photo pairs processed, {from_cache} from cache"
    if wanted not in run.summary:
        raise RuntimeError(f"{what}: expected '{wanted}', the plugin said '{run.summary}'")


# -- (b), (c), (d) ---------------------------------------------------------------------------------------


@dataclass
class RebuildFigures:
    """(b), plus the cold build of the same gallery."""

    photos: int
    cold: BuildRun
    rebuilds: list[float] = field(default_factory=list)
    plain: list[float] = field(default_factory=list)
    # The plugin disabled, with the published image files placed in docs_dir: MkDocs copies them as it copies ours.
    plain_with_images: list[float] = field(default_factory=list)
    site_files: int = 0
    site_mib: float = 0.0


def measure_rebuild(project: ProjectFiles, rebuilds: int) -> RebuildFigures:
    """Cold build in a fresh process (its time and peak RSS are kept), then no-change rebuilds against plain builds."""
    make_cold(project)
    progress(f"  cold build of {project.photos} photos ({BUILD_WORKERS} workers, fresh process)...")
    cold = build_in_subprocess(project)
    expect(cold, project.cases, 0, "cold build")
    progress(f"  cold: {cold.seconds:.1f} s ({cold.summary})")
    figures = RebuildFigures(project.photos, cold)
    files = [p for p in project.site.rglob("*") if p.is_file()]
    figures.site_files, figures.site_mib = len(files), sum(p.stat().st_size for p in files) / 2**20
    with_images = _plain_with_images(project)
    build_in_process(project.plain_config, project.plain_site)  # warm-up: MkDocs, theme, Markdown imports
    for number in range(rebuilds):
        run = build_in_process(project.config, project.site)
        expect(run, 0, project.cases, "no-change rebuild")
        figures.rebuilds.append(run.seconds)
        figures.plain.append(build_in_process(project.plain_config, project.plain_site).seconds)
        figures.plain_with_images.append(build_in_process(with_images, project.root / "site-plain-images").seconds)
        progress(
            f"  rebuild {number + 1}: {figures.rebuilds[-1]:.2f} s; plain build {figures.plain[-1]:.2f} s, "
            f"with the image files {figures.plain_with_images[-1]:.2f} s"
        )
    return figures


def _plain_with_images(project: ProjectFiles) -> Path:
    """The plugin-disabled config over a copy of docs/ that also holds the published image files."""
    docs = project.root / "docs-with-images"
    shutil.copytree(project.root / "docs", docs)
    shutil.copytree(project.site / "assets" / "compliant-gallery" / "img", docs / "assets" / "compliant-gallery" / "img")
    config = yaml.safe_load(project.plain_config.read_text())
    config["docs_dir"] = docs.name
    path = project.root / "mkdocs-plain-images.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@dataclass
class WorkerFigures:
    """(c): one cold build per worker count."""

    pairs: int
    runs: dict[int, BuildRun] = field(default_factory=dict)


def measure_workers(project: ProjectFiles) -> WorkerFigures:
    """Cold builds of the same project with 1 and with 2 workers, each in a fresh process."""
    figures = WorkerFigures(project.cases)
    for workers in (1, 2):
        make_cold(project)
        set_workers(project, workers)
        run = build_in_subprocess(project)
        expect(run, project.cases, 0, f"cold build with {workers} workers")
        figures.runs[workers] = run
        progress(f"  {workers} worker(s): {run.seconds:.1f} s (CPU {run.cpu_seconds:.1f} s)")
    return figures


# -- profiles --------------------------------------------------------------------------------------------


def _top(profile: cProfile.Profile, title: str, limit: int = 15) -> str:
    buffer = io.StringIO()
    stats = pstats.Stats(profile, stream=buffer)
    stats.strip_dirs()
    buffer.write(f"\n=== {title}: by own time ===\n")
    stats.sort_stats("tottime").print_stats(limit)
    buffer.write(f"\n=== {title}: by cumulative time ===\n")
    stats.sort_stats("cumulative").print_stats(limit)
    return "\n".join(line for line in buffer.getvalue().splitlines() if line.strip())


def profile_cold_pair(corpus: Path, work: Path) -> str:
    """cProfile of `process_fresh` on each pair kind, one after the other, into empty caches."""
    from mkdocs_compliant_gallery.images.cache import sha256_file

    profile = cProfile.Profile()
    for _label, job in _pair_jobs(corpus, work):
        key = job.cache_key(sha256_file(job.before.path), sha256_file(job.after.path))
        profile.enable()
        _run_ours(job, key, work)
        profile.disable()
    return _top(profile, f"cold process_fresh, {len(PAIR_KINDS)} pairs")


def profile_rebuild(project: ProjectFiles) -> str:
    """cProfile of one more no-change rebuild of the large gallery."""
    profile = cProfile.Profile()
    profile.enable()
    build_in_process(project.config, project.site)
    profile.disable()
    return _top(profile, f"no-change rebuild, {project.photos} photos", limit=25)


# -- report ----------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the final table."""

    measure: str
    value: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None

    def cells(self) -> list[str]:
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        met = "" if self.met is None else ("yes" if self.met else "NO")
        return [self.measure, self.value, self.baseline, ratio, self.target, met]


def table(rows: Sequence[Row]) -> str:
    """A Markdown table, padded so it also reads as plain text."""
    header = ["measure", "value", "baseline", "ratio", "target", "met"]
    lines = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def render(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    return "\n".join([render(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(render(line) for line in lines[1:])])


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def load_average() -> str:
    """The 1-minute load average: other work on the machine skews every figure (compare it with the CPU count)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def progress(message: str) -> None:
    print(message, flush=True)


LOADS: dict[str, str] = {}  # load average at the start of each stage, for the table's footnote


@contextmanager
def stage(title: str) -> Iterator[None]:
    """Print a stage's title with the machine's load, and its duration at the end."""
    LOADS[title[:3] if title.startswith("(") else title] = load_average()
    progress(f"\n{title}  [load average {LOADS.get(title[:3], load_average())}]")
    started = time.perf_counter()
    yield
    progress(f"  ({time.perf_counter() - started:.0f} s)")


def report_rows(scale: Scale, pipeline: PipelineFigures, rebuild: RebuildFigures, workers: WorkerFigures, small: BuildRun) -> list[Row]:
    """The final table: (a) to (d), each against its baseline, with details under the headline rows."""
    rows = []
    ours, base = min(pipeline.ours), min(pipeline.baseline)
    rows.append(
        Row(
            "(a) cold pipeline, s/photo (process_fresh vs bare Pillow)",
            f"{ours:.3f} s",
            f"{base:.3f} s",
            ours / base,
            "<= 1.15x",
            ours / base <= 1.15,
        )
    )
    ours_cpu, base_cpu = min(pipeline.ours_cpu), min(pipeline.baseline_cpu)
    rows.append(Row("    CPU time (all threads), s/photo", f"{ours_cpu:.3f} s", f"{base_cpu:.3f} s", ours_cpu / base_cpu, "", None))
    for label, kind_ours in pipeline.per_kind_ours.items():
        kind_base = pipeline.per_kind_baseline[label]
        rows.append(Row(f"    pair {label}", f"{kind_ours:.3f} s", f"{kind_base:.3f} s", kind_ours / kind_base, "", None))

    best, plain = min(rebuild.rebuilds), min(rebuild.plain)
    rows.append(
        Row(
            f"(b) no-change rebuild, {rebuild.photos} photos (vs plugin disabled)",
            f"{best:.2f} s",
            f"{plain:.2f} s",
            best / plain,
            "<= 1.5x",
            best / plain <= 1.5,
        )
    )
    with_images = min(rebuild.plain_with_images)
    rows.append(
        Row("    vs plugin disabled, same image files in docs_dir", f"{best:.2f} s", f"{with_images:.2f} s", best / with_images, "", None)
    )

    one, two = workers.runs[1].seconds, workers.runs[2].seconds
    rows.append(
        Row(
            f"(c) cold build, {workers.pairs} pairs: 2 workers vs 1 (speed-up)",
            f"{two:.1f} s",
            f"{one:.1f} s",
            one / two,
            ">= 1.8x",
            one / two >= 1.8,
        )
    )
    one_cpu, two_cpu = workers.runs[1].cpu_seconds, workers.runs[2].cpu_seconds
    rows.append(Row("    CPU time of the build, all processes", f"{two_cpu:.1f} s", f"{one_cpu:.1f} s", two_cpu / one_cpu, "", None))
    rows.append(Row("    cores kept busy (CPU time / wall time)", f"{two_cpu / two:.2f}", f"{one_cpu / one:.2f}", None, "", None))

    large = rebuild.cold
    sizes = f"{scale.large_photos} vs {scale.small_photos} photos"
    growth = large.any_rss_kib / small.any_rss_kib
    rows.append(
        Row(
            f"(d) peak RSS, cold build, {sizes} (any process)",
            mib(large.any_rss_kib),
            mib(small.any_rss_kib),
            growth,
            "<= 1.10x (flat)",
            growth <= 1.10,
        )
    )
    for label, value, baseline in (
        ("main build process", large.main_rss_kib, small.main_rss_kib),
        ("largest worker process", large.workers_rss_kib, small.workers_rss_kib),
    ):
        rows.append(Row(f"    {label}", mib(value), mib(baseline), value / max(1, baseline), "", None))
    large_rate, small_rate = large.seconds / rebuild.photos, small.seconds / scale.small_photos
    rows.append(
        Row(
            f"    cold build time per photo ({BUILD_WORKERS} workers)",
            f"{large_rate:.3f} s",
            f"{small_rate:.3f} s",
            large_rate / small_rate,
            "",
            None,
        )
    )
    return rows


def run(scale: Scale, corpus: Path, work: Path, profile: bool, json_path: Path | None) -> list[Row]:
    """Every measurement, in an order that keeps the slow cold builds few; returns the table rows."""
    missing = [s.relative for s in SOURCES.values() if not s.path(corpus).is_file()]
    if missing:
        raise SystemExit(f"corpus photos not found under {corpus}: {missing} (use --corpus)")
    started = time.perf_counter()
    env = environment()
    progress("environment")
    for key, value in env.items():
        progress(f"  {key:12} {value}")
    results: dict[str, Any] = {"environment": env, "scale": asdict(scale)}

    with stage(f"(a) cold pipeline vs bare Pillow, {len(PAIR_KINDS)} pairs x {scale.pipeline_rounds} rounds"):
        (work / "pipeline").mkdir()
        pipeline = measure_pipeline(corpus, work / "pipeline", scale.pipeline_rounds)
    results["pipeline"] = asdict(pipeline)

    with stage(f"(c) cold build of {scale.worker_pairs} pairs, 1 vs 2 workers"):
        workers_project = write_project(work / "workers", corpus, scale.worker_pairs, scale.cases_per_page, 1)
        workers = measure_workers(workers_project)
    results["workers"] = asdict(workers)

    with stage(f"(d) cold build of {scale.small_photos} photos in a fresh process"):
        small_project = write_project(work / "small", corpus, scale.small_photos // 2, scale.cases_per_page, BUILD_WORKERS)
        make_cold(small_project)
        small = build_in_subprocess(small_project)
        expect(small, small_project.cases, 0, "cold build (small)")
        progress(f"  {small.seconds:.1f} s, peak RSS {mib(small.any_rss_kib)} (main process {mib(small.main_rss_kib)})")
    results["small_cold"] = asdict(small)

    with stage(f"(b) no-change rebuild of {scale.large_photos} photos vs plugin disabled; (d) its cold build"):
        large_project = write_project(work / "large", corpus, scale.large_photos // 2, scale.cases_per_page, BUILD_WORKERS)
        rebuild = measure_rebuild(large_project, scale.rebuilds)
        progress(f"  site: {rebuild.site_files} files, {rebuild.site_mib:.0f} MiB")
    results["rebuild"] = asdict(rebuild)

    results["measurements_seconds"] = time.perf_counter() - started
    progress(f"\nmeasurements took {results['measurements_seconds']:.0f} s; load average now {load_average()}")
    if profile:
        with stage("profiles"):
            progress(profile_cold_pair(corpus, work / "pipeline"))
            progress(profile_rebuild(large_project))

    rows = report_rows(scale, pipeline, rebuild, workers, small)
    results["rows"] = [asdict(row) for row in rows]
    if json_path is not None:
        json_path.write_text(json.dumps(results, indent=1, default=str))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run, print the table. Exit 0 whether or not targets are met."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller galleries and one round: under about 2 minutes")
    parser.add_argument("--profile", action="store_true", help="also print cProfile tops of cold pairs and of a no-change rebuild")
    parser.add_argument(
        "--corpus", type=Path, default=Path(os.environ.get("COMPLIANT_GALLERY_CORPUS", DEFAULT_CORPUS)), help="the photo corpus folder"
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary projects (their folder is printed)")
    parser.add_argument("--child-build", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-measure", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_build:
        child_build(*args.child_build)
        return 0
    if args.child_measure:
        child_measure(*args.child_measure)
        return 0
    scale = QUICK if args.quick else FULL
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="cg-bench-"))
    try:
        snapshot_package(work)
        rows = run(scale, args.corpus.resolve(), work, args.profile, args.json)
    finally:
        if args.keep:
            progress(f"\nprojects kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    progress(
        f"\nresults ({'quick' if args.quick else 'full'} run, {time.perf_counter() - started:.0f} s; ratios are value / baseline, (c) baseline / value)\n"
    )
    progress(table(rows))
    progress(
        "\nload average (1 min) at the start of each stage: "
        + ", ".join(f"{name} {value}" for name, value in LOADS.items())
        + f"; {os.cpu_count()} CPUs. Above about 0.5 from other work, wall-clock figures (above all (c)) are skewed."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
