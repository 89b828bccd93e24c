"""The marker of the build's pool workers, read by the libraries that would otherwise start threads of their own.

The pool already keeps every core busy with one worker each; the AVIF encoder's own thread pool would
oversubscribe them (the face detector always runs on one thread). The engine's pool initializer sets the variable in each worker.
"""

from __future__ import annotations

import os

POOL_WORKER_ENV = "COMPLIANT_GALLERY_POOL_WORKER"


def in_pool_worker() -> bool:
    """True in a worker process of the build's pool."""
    return bool(os.environ.get(POOL_WORKER_ENV))
