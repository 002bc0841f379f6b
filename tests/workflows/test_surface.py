"""The engine's public surface: ``workflows.api`` for workflow code and callers,
``workflows.ops`` for operators and the audit trail, one family of errors. No database."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import workflows
from workflows import api, ops
from workflows.errors import WorkflowError

ROOT = Path(__file__).resolve().parents[2]

# What ``import workflows.api`` loads, in a process that has loaded nothing else of the engine
# but what the app itself loads when Django starts.
_LOADED_BY_API = """
import json, sys
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=["workflows"], USE_TZ=True,
                   DATABASES={"default": {"ENGINE": "django.db.backends.postgresql"}})
django.setup()
import workflows.api
print(json.dumps(sorted(m for m in sys.modules if m.startswith("workflows"))))
"""


def _engine_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(workflows.__path__, "workflows.")
        if ".migrations." not in info.name and ".management." not in info.name
    )


def test_importing_the_api_leaves_the_operators_modules_unloaded():
    loaded = subprocess.run(
        [sys.executable, "-c", _LOADED_BY_API],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set(json.loads(loaded.stdout))
    assert "workflows.api" in modules
    operators = {
        "workflows.ops", "workflows.console", "workflows.interventions", "workflows.integrity",
        "workflows.anchors", "workflows.history", "workflows.operations", "workflows.inline",
    }  # fmt: skip
    assert modules & operators == set()


def test_the_two_public_modules_share_no_name_and_export_what_they_list():
    assert set(api.__all__).isdisjoint(ops.__all__)
    for module in (api, ops):
        assert sorted(module.__all__) == sorted(set(module.__all__))
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__} lists {name} but has none"


def test_every_error_the_engine_defines_is_a_workflow_error():
    defined = []
    for name in _engine_modules():
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            is_error = inspect.isclass(value) and issubclass(value, BaseException)
            if is_error and value.__module__ == name and not attribute.startswith("_"):
                defined.append(value)
    assert api.WorkflowError is WorkflowError
    assert {error.__name__ for error in defined} >= {
        "RunNotFound", "WorkflowNotFound", "StepFailed", "SignalTimeout", "Cancelled",
        "InterventionRefused",
    }  # fmt: skip
    assert [error for error in defined if not issubclass(error, WorkflowError)] == []


def test_the_public_errors_keep_their_builtin_bases():
    """Callers that caught ``LookupError`` for a missing run still catch it."""
    assert issubclass(api.RunNotFound, LookupError)
    assert issubclass(api.WorkflowNotFound, LookupError)


def test_the_lab_contract_forbids_every_engine_module_but_the_two_public_ones():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (lab,) = [
        c for c in contracts["contracts"] if c["type"] == "forbidden"
        and c["source_modules"] == ["samples"] and "workflows.store" in c["forbidden_modules"]
    ]  # fmt: skip
    forbidden = set(lab["forbidden_modules"])
    top_level = {name for name in _engine_modules() if name.count(".") == 1}
    top_level |= {"workflows.management", "workflows.migrations"}
    assert top_level - {"workflows.api", "workflows.ops"} == forbidden
