"""The approval gate (CG406): with `approval: required`, a case is published only as someone approved it.

The case's content (records/approvals.py) is compared with the approval in force, its latest entry in the
approvals file; the violation says who approved it last, when, what changed since, and the command that
approves it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalogue import CG406
from ..records.approvals import Approval, Change, case_content, changes_between, digest_of, pending_summary
from ..records.manifest import Case, Treatment
from ..records.register import Consent
from ..violations import Violation

APPROVED, NEVER, CHANGED, NOT_AN_APPROVER, UNTRUSTED = "approved", "never approved", "changed", "not an approver", "untrusted"


@dataclass(frozen=True)
class CaseApproval:
    """Where one case stands against its approval in force."""

    case: str
    content: str  # the case's content now (canonical JSON)
    status: str  # APPROVED, NEVER, CHANGED, NOT_AN_APPROVER or UNTRUSTED
    approval: Approval | None  # the latest entry of the case, if any
    changes: tuple[Change, ...] = ()  # since that approval

    @property
    def approved(self) -> bool:
        return self.status == APPROVED

    @property
    def digest(self) -> str:
        return digest_of(self.content)

    def document(self) -> dict[str, Any]:
        parsed = json.loads(self.content)
        return parsed if isinstance(parsed, dict) else {}

    def photo_digests(self) -> Mapping[str, str | None]:
        """The SHA-256 of each photo of the case, by its `src`, as this content pins it."""
        photos = self.document().get("photos")
        return photos if isinstance(photos, dict) else {}

    def headline(self) -> str:
        """Where the case stands, to head the list of its changes."""
        if self.status == CHANGED and self.approval is not None:
            return f"changed since approved by {self.approval.by} on {self.approval.when}:"
        return self.state()

    def state(self) -> str:
        """One line for a person: where the case stands."""
        if self.approval is None:
            return "never approved"
        last = f"approved by {self.approval.by} on {self.approval.when}"
        if self.status == APPROVED:
            return last
        if self.status == CHANGED:
            return f"changed since {last}: {pending_summary(self.changes)}"
        if self.status == NOT_AN_APPROVER:
            return f"{last}, who is not among the approvers"
        return f"{last}, but the approvals file cannot be trusted"


def review_case(
    case: Case,
    treatment: Treatment | None,
    consent: Consent | None,
    approval: Approval | None,
    trusted: bool,
    approvers: tuple[str, ...],
    digest: Callable[[Path], str],
) -> CaseApproval:
    """Compare a case as it is now with its approval in force (its latest entry; `trusted`: the file is not damaged)."""
    content = case_content(case, treatment, consent, digest)
    if not trusted:
        return CaseApproval(case.id, content, UNTRUSTED, approval)
    if approval is None:
        return CaseApproval(case.id, content, NEVER, None)
    if approvers and approval.by not in approvers:
        return CaseApproval(case.id, content, NOT_AN_APPROVER, approval)
    if approval.digest == digest_of(content):
        return CaseApproval(case.id, content, APPROVED, approval)
    return CaseApproval(case.id, content, CHANGED, approval, tuple(changes_between(approval.document(), json.loads(content))))


def approval_violation(case: Case, state: CaseApproval, approvals_file: str, cli_config: str) -> Violation | None:
    """CG406 for a case that is not approved as it is now; None when it is."""
    if state.approved:
        return None
    approve = f"compliant-gallery approve {case.id} --by <your name>{cli_config}"
    review = f"compliant-gallery pending{cli_config}"
    approval = state.approval
    if state.status == NEVER:
        message = f"not approved for publication: {approvals_file} holds no approval of case {case.id}"
        fix = f"have the case reviewed ({review} shows what it publishes), then approve it: {approve}"
    elif state.status == CHANGED and approval is not None:
        message = f"changed since it was approved by {approval.by} on {approval.when}: {pending_summary(state.changes)}"
        fix = f"have the change reviewed ({review} shows it), then approve the case again: {approve}"
    elif state.status == NOT_AN_APPROVER and approval is not None:
        message = f"last approved by {approval.by} on {approval.when}, who is not among the approvers"
        fix = f"one of the approvers named in mkdocs.yml reviews the case and approves it: {approve}"
    else:
        last = f" (last approved by {approval.by} on {approval.when})" if approval is not None else ""
        message = f"cannot count as approved{last}: {approvals_file} has errors, and a damaged approvals file approves nothing"
        fix = f"fix the errors reported for {approvals_file} (restore it from version control if it was edited by hand), then build again"
    return Violation(CG406, case.where(), message, fix, case.id)
