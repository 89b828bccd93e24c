"""How fast `mkdocs serve` shows a gallery edit: the live-preview loop of a 50-case gallery.

Starts a real `mkdocs serve` on a generated project, then times, from the moment a file is written to the
moment the served page shows the change: an edit of a plain docs page (the baseline: MkDocs' own watch,
rebuild and serve loop), a withdrawal in the consent register, its undo, an out-of-scope channel (a problem
panel appears) and a caption edit in the manifest. Photos are processed once, in the first build; every
timed rebuild must take them from the cache, and the script fails if one does not.

    python benchmarks/bench_preview.py [--cases 50] [--rounds 3] [--keep]
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import Project, case, consent  # noqa: E402
from tests.photos import Planted  # noqa: E402


def write_project(root: Path, cases: int) -> Project:
    project = Project(root)
    project.manifest = {
        "treatments": {
            "lip-filler": {"title": "Lip filler", "typical_results": "Most patients see fuller lips for 6 to 12 months."},
        },
        "cases": [case(f"case-{n:03d}", f"C-2026-{n:04d}") for n in range(cases)],
    }
    project.consents = [consent(f"C-2026-{n:04d}", f"case-{n:03d}", f"P-{n:05d}") for n in range(cases)]
    for n in range(cases):
        project.photo(f"case-{n:03d}-before.jpg", size=(1600, 1200), seed=n, planted=Planted(taken="2026:01:10 10:00:00"))
        project.photo(f"case-{n:03d}-after.jpg", size=(1600, 1200), seed=n + 1000, planted=Planted(taken="2026:02:10 10:00:00"))
    project.pages = {"index.md": "# Home\n\nWelcome.\n", "gallery.md": "# Results\n\n<!-- compliant-gallery -->\n"}
    project.options = {"widths": [480, 960, 1600], "workers": 0}
    project.write()
    return project


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8", "replace"))
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return ""


def wait_until(check: Callable[[], bool], limit: float = 120.0) -> float:
    """Seconds until `check` holds, polling every 20 ms."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if check():
            return time.monotonic() - start
        time.sleep(0.02)
    raise SystemExit(f"gave up after {limit:.0f} s: the served page never showed the change")


def page_has(url: str, text: str) -> Callable[[], bool]:
    return lambda: text in fetch(url)


def timed_edit(path: Path, text: str, check: Callable[[], bool]) -> float:
    path.write_text(text, encoding="utf-8")
    start = time.monotonic()
    wait_until(check)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated project")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    project = write_project(work / "clinic", args.cases)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}/"
    log_path = work / "serve.log"
    log = log_path.open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-f", str(project.root / "mkdocs.yml"), "-a", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    register = project.gallery / "consents.yml"
    manifest = project.gallery / "manifest.yml"
    index = project.root / "docs" / "index.md"
    gallery_url = base + "gallery/"
    rows: dict[str, list[float]] = {"docs page edit (baseline)": [], "register: withdraw": [], "register: undo": []}
    rows.update({"register: channel out of scope": [], "manifest: caption edit": []})
    try:
        cold = wait_until(lambda: fetch(gallery_url).count("data-cg-case=") == args.cases, 600)
        print(f"cold first build and serve of {args.cases} cases: {cold:.1f} s")
        original_register = register.read_text(encoding="utf-8")
        original_manifest = manifest.read_text(encoding="utf-8")
        target = args.cases // 2
        case_id, consent_id = f"case-{target:03d}", f"C-2026-{target:04d}"
        for round_number in range(args.rounds):
            marker = f"Edit number {round_number}."
            rows["docs page edit (baseline)"].append(timed_edit(index, f"# Home\n\n{marker}\n", page_has(base, marker)))

            withdrawn = yaml.safe_load(original_register)
            next(c for c in withdrawn["consents"] if c["id"] == consent_id)["revoked_on"] = "2026-11-01"
            rows["register: withdraw"].append(
                timed_edit(
                    register, yaml.safe_dump(withdrawn, sort_keys=False), lambda: f'data-cg-case="{case_id}"' not in fetch(gallery_url)
                )
            )
            rows["register: undo"].append(
                timed_edit(register, original_register, lambda: f'data-cg-case="{case_id}"' in fetch(gallery_url))
            )

            narrowed = yaml.safe_load(original_register)
            next(c for c in narrowed["consents"] if c["id"] == consent_id)["channels"] = {"permit": ["social"]}
            rows["register: channel out of scope"].append(
                timed_edit(
                    register,
                    yaml.safe_dump(narrowed, sort_keys=False),
                    lambda: f'data-cg-preview-case="{case_id}"' in fetch(gallery_url),
                )
            )
            register.write_text(original_register, encoding="utf-8")
            wait_until(lambda: f'data-cg-case="{case_id}"' in fetch(gallery_url))

            caption = f"Revised caption {round_number}."
            rows["manifest: caption edit"].append(
                timed_edit(manifest, original_manifest.replace(f"Caption of {case_id}.", caption), page_has(gallery_url, caption))
            )
            manifest.write_text(original_manifest, encoding="utf-8")
            wait_until(lambda: f"Caption of {case_id}." in fetch(gallery_url))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    output = log_path.read_text(encoding="utf-8")
    summaries = re.findall(r"(\d+) photo pairs processed, (\d+) from cache", output)
    # A withdrawal purges the case's cached photos (as a real build does), so each undo processes one pair again;
    # any other rebuild must take every photo from the cache.
    reprocessed = sum(int(processed) for processed, _ in summaries[1:])
    if not summaries or reprocessed != args.rounds:
        raise SystemExit(
            f"rebuilds processed {reprocessed} photo pairs, expected {args.rounds} (one per undone withdrawal); see {log_path}"
        )
    baseline = statistics.median(rows["docs page edit (baseline)"])
    print(f"\n{'edit, then wait for the served page to show it':<44} {'median s':>9} {'max s':>7} {'x baseline':>11}")
    for name, values in rows.items():
        median = statistics.median(values)
        print(f"{name:<44} {median:>9.2f} {max(values):>7.2f} {median / baseline:>11.2f}")
    print(
        f"\n{len(summaries) - 1} rebuilds, {args.rounds} rounds, {args.cases} cases; photos processed again only after an undone withdrawal"
    )
    if args.keep:
        print(f"project kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
