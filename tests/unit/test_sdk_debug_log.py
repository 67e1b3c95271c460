"""The program keeps the SDK's debug messages (synchronous RPCs the CLI shows only under --debug) unless asked."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pulumi
import pulumi.log
import pytest

from components.sdk_debug_log import KEEP, drop_sdk_debug_messages

ROOT = Path(__file__).resolve().parents[2]

# The SDK modules that send the debug messages of a run (registrations, outputs, invokes, RPCs, shutdown).
SDK_SENDERS = ("pulumi.runtime.resource", "pulumi.runtime.rpc", "pulumi.runtime.invoke",
               "pulumi.runtime.rpc_manager", "pulumi.runtime.stack")


class RecordingEngine:
    def __init__(self) -> None:
        self.severities: list[int] = []

    def Log(self, request: Any) -> None:  # the gRPC stub's name
        self.severities.append(request.severity)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> RecordingEngine:
    recording = RecordingEngine()
    monkeypatch.setattr(pulumi.log, "get_engine", lambda: recording)
    monkeypatch.setattr(pulumi.log, "debug", pulumi.log.debug)  # put the SDK's back after each spec
    return recording


def test_debug_messages_are_not_sent_to_the_engine(engine: RecordingEngine) -> None:
    assert drop_sdk_debug_messages({}) is True
    pulumi.log.debug("resource registration successful: ty=libvirt:index/domain:Domain")
    assert engine.severities == []


def test_warnings_info_and_errors_are_still_sent(engine: RecordingEngine) -> None:
    drop_sdk_debug_messages({})
    pulumi.log.info("i")
    pulumi.log.warn("w")
    pulumi.log.error("e")
    assert len(engine.severities) == 3


def test_the_keep_variable_sends_them_as_the_sdk_does(engine: RecordingEngine) -> None:
    assert drop_sdk_debug_messages({KEEP: "1"}) is False
    pulumi.log.debug("kept")
    assert len(engine.severities) == 1


def test_every_sdk_module_that_logs_reaches_debug_through_the_log_module() -> None:
    """The replacement reaches the SDK only while its modules call `log.debug` on the module (`from .. import
    log`); an SDK that imported the function itself would keep sending, and this fails first."""
    for name in SDK_SENDERS:
        module = importlib.import_module(name)
        assert getattr(module, "log", None) is pulumi.log, name
        assert "from ..log import" not in Path(module.__file__ or "").read_text(), name


def test_the_program_drops_them_before_any_stack_kind_runs() -> None:
    main = (ROOT / "__main__.py").read_text()
    assert main.index("drop_sdk_debug_messages()") < main.index("config = pulumi.Config")
