"""Every outplace the tests start keeps its check cache in a scratch directory of this session,
never in the user's ~/.cache (tests that are about the cache's location set their own)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_SCRATCH = tempfile.mkdtemp(prefix="outplace-test-cache-")
os.environ["OUTPLACE_CACHE_DIR"] = _SCRATCH
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)
