"""The MkDocs adapter: maps build events onto the engine. All rules live in the engine, not here."""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import click
from mkdocs.config.base import ValidationError
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils import clean_directory, get_relative_url

from ... import tripwire
from ...audit.deploys import DeployCheck, DeployTarget
from ...engine import GalleryBuild
from ...output.preview import PROBLEMS_PAGE, PROBLEMS_SLOT, Preview, ProblemKey, changes
from ...output.render import TEMPLATE_DIR, Renderer
from ...settings import IMAGE_FOLDER, Settings
from ...violations import Severity, Violation, count, display_path, report
from .config import GalleryConfig, option_names, settings_from
from .neighbours import optimize_problems, social_problems

log = get_plugin_logger(__name__)

ASSET_DIR = Path(__file__).parent.parent.parent / "assets"
CSS_URI = "assets/compliant-gallery/compliant-gallery.css"
JS_URI = "assets/compliant-gallery/compliant-gallery.js"
PREVIEW_CSS_URI = "assets/compliant-gallery/compliant-gallery-preview.css"


class CompliantGalleryPlugin(BasePlugin[GalleryConfig]):  # type: ignore[no-untyped-call]
    """Publishes before/after cases only under a valid, in-scope, unexpired release."""

    def __init__(self) -> None:
        self.command: str = "build"
        # gh-deploy's own flags, read from its command line: MkDocs tells plugins only the command and --dirty.
        self.no_history: bool | None = None  # None: not known (a programmatic deploy), taken as keeping history
        self.force = False
        # What the previous `mkdocs serve` build of which project reported, so a rebuild logs only what changed.
        # MkDocs keeps one instance per process, across projects loaded in it too, hence the project's path.
        self.reported: tuple[str, set[ProblemKey]] | None = None
        self._reset()

    def _reset(self) -> None:
        # The instance outlives `mkdocs serve` rebuilds: every per-build value starts here.
        self.gallery: GalleryBuild | None = None
        self.expected: dict[str, Mapping[str, tuple[str, ...]]] = {}
        self.writing = False
        self.site_dir = ""
        # Live preview (`mkdocs serve` only): problems are shown in the pages instead of failing the build.
        self.preview: Preview | None = None
        self.gallery_errors: list[Violation] = []
        self.preview_pages: list[tuple[str, str]] = []  # (written file, page URL)
        self.problems_url = ""
        self.tally: WarningTally | None = None
        self.sources: dict[str, Path] = {}  # site path -> the clinic's file it was built from (pages, stylesheets)
        self.image_sources: dict[str, str] = {}  # site path -> project-relative source of every file with one (CG310)

    def load_config(self, options: dict[str, Any], config_file_path: str | None = None) -> tuple[Any, Any]:
        """MkDocs only warns about unknown options; a misspelt option here could disable a check, so it fails."""
        errors, warnings = super().load_config(options, config_file_path)
        kept = []
        for key, warning in warnings:
            if "Unrecognised configuration name" in str(warning):
                close = difflib.get_close_matches(key, option_names(), n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"options: {', '.join(option_names())}"
                errors.append((key, ValidationError(f"CG101 unknown option '{key}'; {hint}")))
            else:
                kept.append((key, warning))
        return errors, kept

    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        self.command = command
        self.no_history, self.force = None, False
        context = click.get_current_context(silent=True)
        if command == "gh-deploy" and context is not None and context.info_name == "gh-deploy":
            self.no_history = bool(context.params.get("no_history"))
            self.force = bool(context.params.get("force"))
        if dirty and self.config.enabled:
            raise PluginError(
                "compliant-gallery: --dirty builds are refused: they would keep files of withdrawn cases in the site. Build without --dirty."
            )

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if self.tally is not None:
            self.tally.detach()
        self._reset()
        self.site_dir = config.site_dir
        if not self.config.enabled:
            tripwire.plugin_disabled()
            return config
        if config.strict:
            self.tally = WarningTally.attach()
        settings = self.settings(config)
        plugins = list(config.plugins.items())
        conflicts = optimize_problems(plugins) + social_problems(
            plugins, (settings.photos, settings.manifest, settings.consents, settings.approvals_file), Path.cwd()
        )
        if conflicts:
            clean_directory(config.site_dir)  # a refused build leaves no gallery behind, as any failed build
            raise PluginError("compliant-gallery: another plugin would publish gallery photos unchecked:\n  " + "\n  ".join(conflicts))
        # Markdown converted after the pages were placed (blog excerpts) loses its directives: see tripwire.py.
        tripwire.activate(lambda: self.writing)
        if tripwire.__name__ not in config.markdown_extensions:
            config.markdown_extensions.append(tripwire.__name__)
        # The guard must see what every other post_build handler wrote, hooks and equal priorities included.
        post_build = config.plugins.events["post_build"]
        if self.on_post_build in post_build:
            post_build.remove(self.on_post_build)
            post_build.append(self.on_post_build)
        if str(TEMPLATE_DIR) not in config.theme.dirs:
            # Appended last, so the theme and a user's custom_dir override our fragments.
            config.theme.dirs.append(str(TEMPLATE_DIR))
        if CSS_URI not in [str(item) for item in config.extra_css]:
            config.extra_css.append(CSS_URI)
        if JS_URI not in [str(item) for item in config.extra_javascript]:
            config.extra_javascript.append(JS_URI)
        if self.command == "serve" and PREVIEW_CSS_URI not in [str(item) for item in config.extra_css]:
            config.extra_css.append(PREVIEW_CSS_URI)
        return config

    def settings(self, config: MkDocsConfig) -> Settings:
        """Engine settings from the plugin options, paths resolved next to mkdocs.yml."""
        return settings_from(self.config, config.config_file_path, config.site_url)

    # Validation runs here, after MkDocs cleaned site_dir, so a failure cannot leave the old site behind.
    @event_priority(100)
    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return files
        settings = self.settings(config)
        renderer = Renderer(config.theme.get_env(), slider=self.config.slider, filter=self.config.filter)
        gallery = GalleryBuild(settings, renderer, progress=_log_progress)
        self.gallery = gallery
        _exclude_inputs(files, settings)
        gallery.prepare(Path(config.docs_dir))
        _log_face_guard(gallery)
        _log_approval(gallery)
        _log_tracked_inputs(gallery)
        if self.command != "serve":  # the preview logs what changed, once every page is known
            for warning in gallery.warnings():
                log.warning(warning.format())
            for case_id, reason in gallery.removed().items():
                log.info(f"case {case_id} removed: {reason.message} ({reason.code}, {reason.where})")
        errors = gallery.errors() + (self._generate_pages(gallery, files, config) if self.config.pages else [])
        if errors and self.command != "serve":
            raise PluginError(report(errors, "compliant-gallery: the gallery cannot be published"))
        if self.command == "gh-deploy":
            # Refused before any photo is written when the cleared cases alone show the history must go.
            self._deploy_check(gallery, config, set(gallery.plan.published), final=False)
        files.append(File.generated(config, CSS_URI, abs_src_path=str(ASSET_DIR / "compliant-gallery.css")))
        files.append(File.generated(config, JS_URI, abs_src_path=str(ASSET_DIR / "compliant-gallery.js")))
        if self.command == "serve":
            self._start_preview(gallery, errors, files, config)
        return files

    def _start_preview(self, gallery: GalleryBuild, errors: list[Violation], files: Files, config: MkDocsConfig) -> None:
        """Serve mode: keep building, and add the preview stylesheet and the page that lists every problem."""
        self.preview = Preview(gallery.renderer.env)
        self.gallery_errors = errors
        files.append(File.generated(config, PREVIEW_CSS_URI, abs_src_path=str(ASSET_DIR / "compliant-gallery-preview.css")))
        page = files.get_file_from_path(PROBLEMS_PAGE)
        if page is None:
            page = File.generated(
                config, PROBLEMS_PAGE, content=f"# Gallery problems\n\n{PROBLEMS_SLOT}\n", inclusion=InclusionLevel.NOT_IN_NAV
            )
            files.append(page)
        self.problems_url = page.url

    def _generate_pages(self, gallery: GalleryBuild, files: Files, config: MkDocsConfig) -> list[Violation]:
        """Add the generated treatment pages to the site (never to docs_dir); refuse to replace an author's page."""
        root = Path(config.config_file_path or ".").resolve().parent

        def existing(uri: str) -> str | None:
            return display_path(Path(config.docs_dir) / uri, root) if files.get_file_from_path(uri) is not None else None

        pages, clashes = gallery.generated_pages(self.config.pages_dir.strip("/"), config.use_directory_urls, existing)
        for uri, markdown in pages.items():
            files.append(File.generated(config, uri, content=markdown))
        return clashes

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str | None:
        if self.gallery is None:
            return html

        def url_for(name: str) -> str:
            return get_relative_url(f"{IMAGE_FOLDER}/{name}", page.url)

        placed = self.gallery.place_page(html, _page_source(page), _page_path(page, config), page.url, url_for, self.preview)
        for mention in placed.removed:
            # A case= directive now shows nothing: worth a line. A list that got shorter is expected.
            level = log.info if mention.named else log.debug
            level(f"{mention.where}: case {mention.case} is removed (consent withdrawn or expired); the directive leaves it out")
        self.expected[page.file.src_uri] = placed.expected
        return placed.html

    def on_env(self, env: Any, *, config: MkDocsConfig, files: Files) -> Any:
        if self.gallery is None:
            return env
        if self.gallery.page_problems and self.preview is None:
            raise PluginError(report(self.gallery.page_problems, "compliant-gallery: pages place the gallery incorrectly"))
        for site_path, cached in sorted(self.gallery.image_files().items()):
            files.append(File.generated(config, site_path, abs_src_path=cached))
        self.sources = _clinic_sources(files, config)
        root = Path(config.config_file_path or ".").resolve().parent
        self.image_sources = {
            file.dest_uri: display_path(Path(file.abs_src_path).resolve(), root)
            for file in files
            if file.abs_src_path and not file.generated_by
        }
        self.writing = True
        return env

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str | None:
        expected = self.expected.get(page.file.src_uri)
        if expected and self.gallery is not None:
            self.gallery.check_page(output, expected, _page_path(page, config))
        if self.preview is not None and page.file.abs_dest_path:
            output = self.preview.mark_banner(output)
            self.preview_pages.append((page.file.abs_dest_path, page.url))
        return output

    # Last, so that whatever other plugins write in their post_build is guarded too.
    @event_priority(-100)
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        try:
            self._post_build(config)
        finally:
            if self.tally is not None:
                self.tally.detach()

    def _post_build(self, config: MkDocsConfig) -> None:
        gallery = self.gallery
        if gallery is None:
            return
        if self.preview is not None:
            self._finish_preview(gallery, self.preview, config)
            return
        problems = [*gallery.page_problems, *gallery.check_site_images(Path(config.site_dir), self.image_sources)]
        problems += gallery.guard(Path(config.site_dir), self.sources, [str(link) for link in config.extra_css])
        for note in gallery.unchecked_stylesheets:
            log.info(f"not checked for hidden disclosures (not part of the site): {note}")
        if gallery.other_images:
            log.info(
                f"{count(len(gallery.other_images), 'site image')} outside the gallery checked for faces "
                f"({gallery.other_images_scanned} scanned, the others known from the cache or reviewed)"
            )
        for warning in gallery.site_warnings:
            log.warning(warning.format())
        if problems:
            clean_directory(config.site_dir)
            raise PluginError(report(problems, "compliant-gallery: the built site failed verification and was emptied"))
        for path in gallery.scrubbed:
            log.info(f"removed metadata from {display_path(path, Path(config.site_dir))} (not a gallery photo; pixels unchanged)")
        deploy = None
        if self.command == "gh-deploy":
            deploy = self._deploy_check(gallery, config, set(gallery.uses), final=True)
        if self.command in ("build", "gh-deploy"):
            self._record(gallery, config, deploy)
        purged = gallery.purge_cache()
        if purged:
            log.debug(f"purged {len(purged)} cache entries")
        log.info(gallery.summary())

    def _record(self, gallery: GalleryBuild, config: MkDocsConfig, deploy: DeployCheck | None) -> None:
        """Append the publication record and write takedown receipts, unless the host is about to abort this build.

        Strict mode (`mkdocs build --strict`) counts warnings while the build runs and aborts only after every
        post_build handler, this one included, has returned: a record written now would describe a site that
        was never published, and a receipt a takedown that never reached the deploy.
        """
        warnings = strict_warnings(self.tally) if config.strict else 0
        if warnings:
            log.info(
                f"strict mode: the build stops for the {count(warnings, 'warning')} logged above, so nothing is recorded: no publication "
                "record and no takedown receipt. Fix the warnings and build again; that build records what it publishes and "
                "removes."
            )
            return
        config_text = Path(config.config_file_path).read_bytes() if config.config_file_path else b""
        log_path, receipts = gallery.record(config_text, dt.datetime.now(dt.timezone.utc), self.command, deploy)
        for problem in gallery.log_problems:
            # INFO: the log is append-only, so a damaged line stays; a warning would stop every strict build after it.
            log.info(f"publication log: {problem} ('compliant-gallery check' lists it)")
        for receipt in receipts:
            # A removal is the product working, not a warning: strict mode must not stop the build that takes a case down.
            log.info(
                f"takedown receipt written: {display_path(receipt, gallery.settings.project_root)}; "
                "'compliant-gallery purge-list' lists the URLs to purge"
            )
        log.debug(f"publication record appended to {log_path}")

    def _deploy_check(self, gallery: GalleryBuild, config: MkDocsConfig, published: set[str], final: bool) -> DeployCheck:
        """Refuse a gh-deploy that would keep a withdrawn case reachable in the deploy branch's history.

        MkDocs gives plugins no say over gh-deploy's arguments and pushes after every plugin event, so the plugin
        cannot drop the history itself (short of patching ghp-import); it refuses here, before the push, and
        names the command that does it.
        """
        target = DeployTarget(config.remote_name, config.remote_branch, self.no_history, self.force)
        # ghp-import runs git in the current folder, so the branch it builds on is judged there too.
        check = gallery.deploy_check(Path.cwd(), target, published)
        if not check.refused:
            if check.history == "dropped" and final:
                log.info(f"deploying to '{target.branch}' without history: no earlier deploy stays reachable from it")
            return check
        clean_directory(config.site_dir)
        command = _no_history_command()
        if check.quirk:
            command = f"git branch -D {shlex.quote(target.branch)} && {command}"
        raise PluginError(
            "compliant-gallery: deploy refused, nothing was pushed: "
            f"{check.reason()}.\n  Deploy without history instead (one new commit replaces the branch):\n    {command}\n"
            "  Afterwards purge the CDN ('compliant-gallery purge-list'); docs/withdrawal.md says what the host may still keep."
        )

    def _finish_preview(self, gallery: GalleryBuild, preview: Preview, config: MkDocsConfig) -> None:
        """Serve mode: guard the site as a real build would have written it, then add the preview markup."""
        site = Path(config.site_dir)
        image_problems = gallery.check_site_images(site, self.image_sources)
        guard_problems = gallery.guard(site, self.sources, [str(link) for link in config.extra_css])
        problems = self.gallery_errors + gallery.page_problems + image_problems + guard_problems
        self._log_preview(gallery, problems, config.config_file_path or "")
        if guard_problems:
            # A real build would empty site/ and fail: serve one page that says why, nothing else.
            clean_directory(config.site_dir)
            failed = preview.failed_site(problems)
            for name in ("index.html", "404.html"):
                (site / name).write_text(failed, encoding="utf-8")
            return
        removed = gallery.removed()
        for path, url in self.preview_pages:
            page = Path(path)
            href = get_relative_url(self.problems_url, url)
            page.write_text(preview.finish(page.read_text(encoding="utf-8"), problems, removed, href), encoding="utf-8")
        gallery.purge_cache()
        log.info(gallery.summary())

    def _log_preview(self, gallery: GalleryBuild, problems: list[Violation], project: str) -> None:
        """One line per problem on the first preview build; afterwards only what is new and what was fixed."""
        notes = gallery.warnings() + list(gallery.removed().values())
        if self.reported is None or self.reported[0] != project:
            for item in sorted(problems + notes, key=lambda v: v.sort_key):
                level = log.warning if item.severity is not Severity.REMOVED else log.info
                level(_one_line(item))
            if problems:
                log.warning(f"{count(len(problems), 'gallery problem')}: shown in the preview; `mkdocs build` fails until they are fixed")
        else:
            found = changes(self.reported[1], problems + notes)
            for key in found.fixed:
                log.info(f"fixed: {key.label()}")
            for item in found.new:
                level = log.warning if item.severity is not Severity.REMOVED else log.info
                level(f"new: {_one_line(item)}")
        self.reported = (project, {ProblemKey.of(item) for item in problems + notes})

    def on_build_error(self, *, error: Exception) -> None:
        if self.tally is not None:
            self.tally.detach()
        # Once writing has begun a failure may leave gallery files behind: empty the site instead.
        if self.writing and self.site_dir:
            clean_directory(self.site_dir)

    def on_serve(self, server: LiveReloadServer, *, config: MkDocsConfig, builder: Any) -> LiveReloadServer | None:
        if self.config.enabled:
            settings = self.settings(config)
            for path in (settings.manifest, settings.consents, settings.photos):
                if path.exists():
                    server.watch(str(path))
            # `compliant-gallery approve` replaces the approvals file (or creates it): watch its folder, so an
            # approval shows in the open page without a restart.
            if settings.approval_required and settings.approvals_file.parent.is_dir():
                server.watch(str(settings.approvals_file.parent), recursive=False)
        return server


class WarningTally(logging.Handler):
    """Counts the warnings of a strict build from the moment the plugin is configured.

    Only a fallback: `strict_warnings` reads the host's own counter when it finds one, which has counted from the
    start of the build, before any plugin ran.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.logger = _host_logger()

    @classmethod
    def attach(cls) -> WarningTally:
        tally = cls()
        tally.logger.addHandler(tally)
        return tally

    def detach(self) -> None:
        self.logger.removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def _host_logger() -> logging.Logger:
    """The host's top logger ('mkdocs', or 'properdocs' under ProperDocs): every warning of the build reaches it."""
    logger: logging.Logger = log.logger
    while logger.parent is not None and logger.parent is not logging.root:
        logger = logger.parent
    return logger


def strict_warnings(tally: WarningTally | None) -> int:
    """The warnings counted so far in a strict build: it will be aborted after post_build when this is not 0.

    MkDocs and ProperDocs count them with a handler (`utils.CountHandler`, with `get_counts()`) that
    `commands/build.py` adds to its top logger for the duration of a strict build; a plugin's logger is below it.
    """
    logger: logging.Logger | None = log.logger
    while logger is not None:  # the handler may sit on any ancestor of the plugin's logger
        for handler in logger.handlers:
            counts = getattr(handler, "get_counts", None)
            if callable(counts) and handler.level <= logging.WARNING:
                return sum(int(count) for _, count in counts())
        logger = logger.parent
    return tally.count if tally is not None else 0


def _log_progress(done: int, total: int) -> None:
    log.info(f"processed {done} of {count(total, 'new photo pair')}")


def _one_line(violation: Violation) -> str:
    case = f"{violation.case} " if violation.case else ""
    fix = f"; fix: {violation.fix}" if violation.fix else ""
    return f"{case}{violation.code} {violation.message} ({violation.where}){fix}"


def _log_face_guard(gallery: GalleryBuild) -> None:
    """The guard switched off, and every photo a person exempted from it: said on every build, not once."""
    if not gallery.settings.face_guard:
        log.warning(
            "face_guard is off: photos whose release does not allow the face are published without the face check "
            "(recorded in the publication log); remove 'face_guard: false' to check them again"
        )
    for item in gallery.plan.face_reviewed.values():
        log.info(f"{item.where}: face check of '{item.src}' skipped, reviewed by {item.reviewed_by}: {item.reason}")


def _log_approval(gallery: GalleryBuild) -> None:
    """Approval switched off: said on every build, as the publication log records it."""
    if not gallery.settings.approval_required:
        log.warning(
            "approval is off: cases are published without anyone approving what goes live (recorded in the publication "
            "log); remove 'approval: off' to publish only approved cases again"
        )


def _log_tracked_inputs(gallery: GalleryBuild) -> None:
    """Gallery inputs in git under a clinic's declaration: one info line (without one they are CG115, a warning)."""
    settings = gallery.settings
    if gallery.tracked and settings.originals_in_git != "warn":
        declared = "a private, access-controlled repository" if settings.originals_in_git == "private" else "synthetic files"
        names = ", ".join(gallery.tracked.names(settings.relative(settings.photos)))
        log.info(
            f"tracked by git: {names}; declared {declared} ('originals_in_git: {settings.originals_in_git}', recorded in the publication log)"
        )


def _no_history_command() -> str:
    """The gh-deploy command line that was run, with --no-history added (or a plain one when it is not known)."""
    context = click.get_current_context(silent=True)
    words = context.command_path.split() if context is not None and context.info_name == "gh-deploy" else ["mkdocs", "gh-deploy"]
    arguments = sys.argv[1:]
    rest = arguments[arguments.index("gh-deploy") + 1 :] if "gh-deploy" in arguments and context is not None else []
    return shlex.join([*words, *[item for item in rest if item != "--no-history"], "--no-history"])


def _clinic_sources(files: Files, config: MkDocsConfig) -> dict[str, Path]:
    """Site path -> source of every page and stylesheet the clinic wrote (docs_dir, the theme's custom_dir)."""
    own = [Path(config.docs_dir).resolve()]
    if config.theme.custom_dir:
        own.append(Path(config.theme.custom_dir).resolve())
    sources = {}
    for file in files:
        if not file.abs_src_path or not file.dest_uri.endswith((".html", ".css")):
            continue
        path = Path(file.abs_src_path).resolve()
        if any(path.is_relative_to(folder) for folder in own):
            sources[file.dest_uri] = path
    return sources


def _page_source(page: Page) -> str:
    """The page as its author wrote it, front matter included, so that lines named in errors are the file's lines."""
    if page.file.abs_src_path:
        try:
            return Path(page.file.abs_src_path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            pass
    return page.markdown or ""


def _page_path(page: Page, config: MkDocsConfig) -> str:
    root = Path(config.config_file_path or ".").resolve().parent
    if page.file.abs_src_path:
        return display_path(Path(page.file.abs_src_path).resolve(), root)
    return page.file.src_uri


def _exclude_inputs(files: Files, settings: Settings) -> None:
    """Take the manifest, the register, the approvals and everything under the photo folder out of the site."""
    inputs = {settings.manifest.resolve(), settings.consents.resolve(), settings.approvals_file.resolve()}
    photos = settings.photos.resolve()
    for file in list(files):
        if not file.abs_src_path:
            continue
        path = Path(file.abs_src_path).resolve()
        if path in inputs or path.is_relative_to(photos):
            files.remove(file)
