"""Make ``tests/backends/_helpers.py`` importable as ``pyneural_backend_test_helpers``.

With ``--import-mode=importlib`` test modules cannot import their siblings, so the helper
module is loaded here (conftest files are imported before the test modules).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_NAME = "pyneural_backend_test_helpers"

if _NAME not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_NAME, Path(__file__).with_name("_helpers.py"))
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[_NAME] = _module
    _spec.loader.exec_module(_module)
