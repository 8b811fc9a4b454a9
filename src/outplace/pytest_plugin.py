"""A pytest plugin: with ``pytest --outplace``, a test that fails with an in-place autograd error gets
`outplace diagnose`'s culprit report (the write, what it overwrote, the fix) added to its failure.

Registered through the ``pytest11`` entry point, so installing outplace makes the option available;
it does nothing unless ``--outplace`` is given (this module then imports torch, nothing before). The
recorder (`outplace.diagnose.recorder`) is installed in the pytest process itself, and a fresh
recording starts before each test: the report covers what that test ran. Tests in subprocesses or
``pytest-xdist`` workers are not recorded (their errors are reported as torch raised them).
"""

from __future__ import annotations

import pytest

SECTION = "outplace diagnose"


def pytest_addoption(parser) -> None:
    group = parser.getgroup("outplace")
    group.addoption("--outplace", action="store_true", default=False,
                    help="Record in-place writes; when a test fails with an in-place autograd error, report the "
                         "culprit write and its fix (outplace diagnose).")


def pytest_configure(config) -> None:
    if config.getoption("outplace", False):
        config.pluginmanager.register(_Diagnose(), "outplace-diagnose")


class _Diagnose:
    def __init__(self) -> None:
        from outplace.diagnose.recorder import RECORDER

        self.recorder = RECORDER.install()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item):
        self.recorder.start(None, {"target": item.nodeid, "module": False, "args": []})
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        rep = outcome.get_result()
        if call.excinfo is None or not rep.failed:
            return
        text = self.culprit_report(call.excinfo.value, item.nodeid)
        if text:
            rep.sections.append((SECTION, text))

    def culprit_report(self, exc: BaseException, nodeid: str = "") -> str | None:
        """diagnose's report of the in-place error `exc`, or None when it is no such error."""
        from outplace.diagnose import fixes, report
        from outplace.diagnose.child import _classify_exception
        from outplace.diagnose.recorder import INPLACE_MESSAGE

        message = str(exc)
        if not isinstance(exc, RuntimeError) or not (INPLACE_MESSAGE in message or "in-place operation" in message
                                                     or "modified inplace" in message):
            return None
        _classify_exception(self.recorder, exc)
        self.recorder.state.program.update(status="exception", exit_code=1)
        d = report.build(self.recorder.report(), 1)
        if not d.culprits:
            return None
        fixes.propose(d)
        return report.render(d, fix_hint=f"outplace diagnose --fix -m pytest {nodeid}".rstrip())

    def pytest_unconfigure(self, config) -> None:
        self.recorder.uninstall()
