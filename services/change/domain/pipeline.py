"""Pipeline notifications as pure code: what GitHub's deployment states mean, and its webhook
signature (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Final

from services.change.domain.deployments import DeploymentResult

GITHUB_STATES: Final[Mapping[str, DeploymentResult | None]] = {
    "queued": DeploymentResult.IN_PROGRESS,
    "pending": DeploymentResult.IN_PROGRESS,
    "in_progress": DeploymentResult.IN_PROGRESS,
    "success": DeploymentResult.SUCCEEDED,
    "failure": DeploymentResult.FAILED,
    "error": DeploymentResult.FAILED,
    # Nothing was deployed: waiting for a reviewer, or an older deployment superseded by a newer one.
    "waiting": None,
    "inactive": None,
}

CHANGE_NUMBER = re.compile(r"^CHG\d{7}$", re.IGNORECASE)


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time comparison of the header with the signature of exactly these bytes."""
    if not header:
        return False
    return hmac.compare_digest(github_signature(secret, body), header.strip())
