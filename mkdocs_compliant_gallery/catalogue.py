"""Every rule the build checks, declared once: code, meaning, the build stage that checks it, default severity.

A code's hundreds digit names its family and the folder to open (`violations.FAMILIES`); the README's rule
table is generated from this list (`rule_table`), and a test fails when any code here has no test naming it.
Codes are a public contract: add new ones, never rename or renumber.
"""

from __future__ import annotations

from .violations import FAMILIES, Rule, Severity, Stage

LOAD, DECIDE, PROCESS, PLACE, VERIFY = Stage.LOAD, Stage.DECIDE, Stage.PROCESS, Stage.PLACE, Stage.VERIFY

# CG1xx: the clinic's files as written (records/)
CG101 = Rule("CG101", "unknown key (in the manifest, the register or the plugin options)", LOAD)
CG102 = Rule("CG102", "required field missing (e.g. alt text, `shows`, the register's `consents:` list)", LOAD)
CG103 = Rule("CG103", "wrong type or value (dates, ids with spaces or look-alike characters, boxes, edit kinds, file format)", LOAD)
CG104 = Rule("CG104", "duplicate (case id, consent id, view, YAML key), or a page where the plugin generates one", LOAD)
CG105 = Rule("CG105", "file missing", LOAD)
CG106 = Rule("CG106", "path escapes the project (`..`, absolute, backslashes, symlink outside)", LOAD)
CG107 = Rule("CG107", "a photo in the photo folder that no case lists", LOAD)
CG108 = Rule("CG108", "directive names an unknown case or treatment, or has an unknown argument", PLACE)
CG109 = Rule("CG109", "file cannot be read (YAML/CSV/JSON syntax, encoding, size, alias flood)", LOAD)
CG110 = Rule("CG110", "unknown treatment in a case, or an unavailable rule pack", LOAD)
CG111 = Rule(
    "CG111",
    'the face guard is needed (a release does not allow the face) but the face detector cannot run (runtime missing, model missing or not the pinned bytes): install the `[faces]` extra (`pip install "./mkdocs-compliant-gallery[faces]"` from the clone), then `compliant-gallery install-face-model`; or `face_guard: false`',
    PROCESS,
)
CG112 = Rule(
    "CG112",
    "an approval for a case that is not in the manifest, or the approval in force of a case by someone not in `approvers`",
    LOAD,
)
CG113 = Rule("CG113", "an approval whose digest does not match the content recorded with it (edited by hand or damaged)", LOAD)
CG114 = Rule(
    "CG114",
    "the manifest, the register or the photo folder is inside `docs_dir`, where a build without the plugin would publish it (warning)",
    LOAD,
    Severity.WARNING,
)
CG115 = Rule(
    "CG115",
    "the photo folder, the manifest or the register is tracked by git: its history keeps withdrawn originals (warning; "
    "`originals_in_git: private` for an access-controlled repository)",
    LOAD,
    Severity.WARNING,
)

# CG2xx: the release behind each case (rules/consent.py)
CG201 = Rule("CG201", "case has no consent, or the id is not in the register", DECIDE)
CG202 = Rule("CG202", "channel not permitted, or denied", DECIDE)
CG203 = Rule(
    "CG203",
    "consent withdrawn on or before the build date (the earlier of `revoked_on` and `revocation_received_on`; FHIR status "
    "`inactive`; a later release of the same patient that refuses the case): case removed (error with `on_withdrawn: fail`)",
    DECIDE,
    Severity.REMOVED,
)
CG204 = Rule(
    "CG204",
    "consent expired, or its expiry event occurred: case removed (error with `on_withdrawn: fail`)",
    DECIDE,
    Severity.REMOVED,
)
CG205 = Rule("CG205", "consent superseded", DECIDE)
CG206 = Rule(
    "CG206",
    "consent incomplete: signed date, expiry, signer/authority, purpose, required statements, `material_connection`, "
    "`third_party_remuneration`, `irrevocable` (never defaulted)",
    DECIDE,
)
CG207 = Rule("CG207", "consent marked irrevocable", DECIDE)
CG208 = Rule(
    "CG208",
    "case, photo, treatment, date or purpose outside the consent's scope; a release not bound to the case (no `scope.cases`, "
    "`scope.images` or matching `patient_ref`); a case taken down coming back without a later release naming it",
    DECIDE,
)
CG209 = Rule(
    "CG209",
    "face, name, distinctive marks or testimonial not allowed by the consent: declared under `shows`, a face the face guard found in a photo (with its box and fixes), the patient's name in public text (`name_hashes`), or a quotation or attribution in a caption",
    DECIDE,
)
CG210 = Rule("CG210", "signed date after the build date", DECIDE)
CG211 = Rule("CG211", "consent expires within `expiry_warning_days` (warning)", DECIDE, Severity.WARNING)
CG212 = Rule(
    "CG212",
    "release signed after a build that published its case (the publication log): those publications had no authorization; "
    "`compliant-gallery report` lists them",
    DECIDE,
)
CG213 = Rule(
    "CG213",
    "release not in force: FHIR status `draft`, `proposed`, `rejected` or `entered-in-error`, or `provision.period.start` after the build date",
    DECIDE,
)

# CG3xx: the photos themselves (images/)
CG301 = Rule("CG301", "photo cannot be decoded (damaged, truncated)", PROCESS)
CG302 = Rule("CG302", "photo larger than `max_pixels`", PROCESS)
CG303 = Rule("CG303", "not a still photo (raw camera file, PSD, SVG, GIF, video, animation, unknown format)", PROCESS)
CG304 = Rule(
    "CG304",
    "editing software or history (EXIF, XMP `xmp:`/`xap:`, C2PA actions) or a non-camera IPTC DigitalSourceType in the photo's metadata, with no declared `edits`",
    PROCESS,
)
CG305 = Rule("CG305", "before and after differ in shape after crop (not comparable)", PROCESS)
CG306 = Rule("CG306", "the after photo was taken before the before photo", PROCESS)
CG307 = Rule("CG307", "crop or redaction box outside the photo", PROCESS)
CG308 = Rule(
    "CG308",
    "photo too tall or too wide for an output format at its published width (WebP 16383, AVIF 32768, JPEG 65500 pixels per side)",
    PROCESS,
)
CG309 = Rule(
    "CG309",
    "before and after differ in brightness or white balance (not comparable): warning; error under `AU` and `US-CA`",
    PROCESS,
    Severity.WARNING,
)
CG310 = Rule(
    "CG310",
    "a site image outside the gallery shows a face: warning; error with `other_images: fail` (list reviewed ones under `other_images_reviewed`)",
    VERIFY,
    Severity.WARNING,
)
CG311 = Rule(
    "CG311",
    "a photo made or altered by generative AI (`edits: [generated]`, or IPTC DigitalSourceType / C2PA metadata saying so): refused in every gallery",
    PROCESS,
)

# CG4xx: what a visitor reads (rules/disclosures.py; CG404 in output/cards.py and output/hiding.py)
CG401 = Rule("CG401", "treatment without `typical_results`", DECIDE)
CG402 = Rule("CG402", '`typical_results` only says "results may vary"', DECIDE)
CG403 = Rule("CG403", "material connection without disclosure text", DECIDE)
CG404 = Rule(
    "CG404", "a rendered card lacks its visible disclosure, or a stylesheet of the site hides, shrinks, clips, covers or fades it", VERIFY
)
CG405 = Rule(
    "CG405",
    "guarantee language in a caption, testimonial, alt text, treatment title, `typical_results`, or the text of a page that places a gallery",
    DECIDE,
)
CG406 = Rule(
    "CG406",
    "case not approved for publication, or changed since its latest approval (`approval: required`): `compliant-gallery approve`",
    DECIDE,
)
CG407 = Rule(
    "CG407",
    "an identifier in public text (caption, alt text, view, case id, page text): a day-level date or an age over 89",
    DECIDE,
)

# CG5xx: jurisdiction packs (rules/jurisdictions.py)
CG501 = Rule("CG501", "US-CA: any declared edit (crop, resize and redaction are not edits)", DECIDE)
CG502 = Rule("CG502", "US-CA: procedures performed not listed", DECIDE)
CG503 = Rule("CG503", "US-NY: testimonial text, or a quotation or attribution in a caption", DECIDE)
CG504 = Rule("CG504", "US-TX: testimonial without its compensation recorded (`material_connection`)", DECIDE)
CG505 = Rule("CG505", "CA-ON: consent not signed after the procedure, or procedure date not recorded", DECIDE)
CG506 = Rule("CG506", "CA-ON: building for the `paid_ads` channel", DECIDE)
CG507 = Rule("CG507", "CA-ON: testimonial, or a quotation or attribution in a caption", DECIDE)
CG508 = Rule("CG508", "AU: subject under 18 at capture, or age not recorded", DECIDE)
CG509 = Rule("CG509", "AU: `practitioner_registration` not configured", DECIDE)
CG510 = Rule("CG510", "AU: treatment without `risks`", DECIDE)
CG511 = Rule("CG511", "AU: testimonial, or a quotation or attribution in a caption", DECIDE)
CG512 = Rule(
    "CG512", "AU: declared edits beyond crop, resize, redaction and one global `exposure` adjustment (retouch, filter, ...)", DECIDE
)
CG513 = Rule("CG513", "EU/UK: explicit consent not recorded", DECIDE)
CG514 = Rule("CG514", "UK: an original without a capture date (no proof it is genuine)", PROCESS)

# CG6xx: leaks in the built site (output/guard.py)
CG601 = Rule("CG601", "a published image holds more than pixels", VERIFY)
CG602 = Rule("CG602", "a raw original, the manifest or the register was copied into the site", VERIFY)
CG603 = Rule("CG603", "a patient_ref, consent id, raw photo name or removed case appears in the site", VERIFY)
CG604 = Rule("CG604", "an image in the gallery folder that this build did not produce", VERIFY)

RULES: dict[str, Rule] = {value.code: value for value in dict(globals()).values() if isinstance(value, Rule)}


def rule_table() -> str:
    """The README's table of rule codes, one row per rule in code order."""
    rows = ["| code | family | checked when | meaning |", "| --- | --- | --- | --- |"]
    for code in sorted(RULES):
        rule = RULES[code]
        rows.append(f"| {code} | {rule.family} | {rule.stage.value} | {rule.title} |")
    return "\n".join(rows)


def family_table() -> str:
    """One line per family: its code range and where its rules live."""
    return "\n".join(f"- CG{digit}xx {name}: {home}" for digit, (name, home) in FAMILIES.items())
