"""SIGINT and SIGTERM only raise a flag that the run checks at safe points; at a prompt, "no"."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from structlog.testing import capture_logs

from myopenip_bot.errors import Interrupted
from myopenip_bot.interrupts import PromptInterrupted, StopSignal

SIGNALS = [signal.SIGINT, signal.SIGTERM]


def send(signum: int) -> None:
    """A real signal to this process; its Python handler runs before os.kill returns."""
    os.kill(os.getpid(), signum)


def handlers() -> dict[int, object]:
    return {signum: signal.getsignal(signum) for signum in SIGNALS}


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_only_raises_the_flag_and_check_then_interrupts_the_run(
    signum: signal.Signals,
) -> None:
    stop = StopSignal()
    with capture_logs() as events, stop.installed():
        send(signum)  # no KeyboardInterrupt, no exit: the run goes on to its next safe point
        assert stop.requested
        assert stop.signum == signum
        with pytest.raises(Interrupted) as raised:
            stop.check()
    assert raised.value.signum == signum == {"SIGINT": 2, "SIGTERM": 15}[signum.name]
    assert str(raised.value) == f"interrupted by {signal.Signals(signum).name}"
    # The handler logs nothing (a signal could re-enter the logger); the safe point does.
    assert [e["event"] for e in events] == ["stopped_at_safe_point"]
    assert events[0]["signal"] == signal.Signals(signum).name


def test_the_previous_handlers_are_restored_after_the_block() -> None:
    before = handlers()
    stop = StopSignal()
    with stop.installed():
        assert all(handler != before[signum] for signum, handler in handlers().items())
    assert handlers() == before


def test_the_previous_handlers_are_restored_when_the_block_raises() -> None:
    before = handlers()
    stop = StopSignal()
    with pytest.raises(RuntimeError, match="a step failed"), stop.installed():
        raise RuntimeError("a step failed")
    assert handlers() == before


def test_without_a_signal_check_passes_and_nothing_is_requested() -> None:
    stop = StopSignal()
    with stop.installed():
        stop.check()
    assert not stop.requested
    assert stop.signum is None


def test_installing_from_another_thread_leaves_the_handlers_alone() -> None:
    before = handlers()
    seen: list[dict[int, object]] = []

    def in_thread() -> None:
        with StopSignal().installed():
            seen.append(handlers())

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join(timeout=10)
    assert seen == [before]


def test_a_second_signal_keeps_the_first_and_says_the_run_is_already_stopping(
    capfd: pytest.CaptureFixture[str],
) -> None:
    stop = StopSignal()
    with capture_logs(), stop.installed():
        send(signal.SIGTERM)
        send(signal.SIGINT)
    assert stop.signum == signal.SIGTERM
    said = capfd.readouterr().err  # written straight to fd 2 by the handler
    assert "SIGTERM: stopping at the next safe point" in said
    assert "SIGINT: already stopping, please wait" in said


def test_a_signal_at_the_prompt_raises_prompt_interrupted_naming_it() -> None:
    stop = StopSignal()
    with stop.installed():
        with pytest.raises(PromptInterrupted) as raised, stop.prompting():
            send(signal.SIGINT)
        assert raised.value.signum == signal.SIGINT
        assert str(raised.value) == "SIGINT"


def test_a_signal_at_the_prompt_means_no_and_does_not_stop_the_run() -> None:
    stop = StopSignal()
    with stop.installed():
        with pytest.raises(PromptInterrupted), stop.prompting():
            send(signal.SIGINT)
        assert not stop.requested
        assert stop.signum is None
        stop.check()  # the person said no; the run is not interrupted


def test_after_the_prompt_a_signal_asks_the_run_to_stop_again() -> None:
    stop = StopSignal()
    with capture_logs(), stop.installed():
        with stop.prompting():
            pass
        send(signal.SIGTERM)  # no PromptInterrupted outside the prompt
        assert stop.signum == signal.SIGTERM


def test_a_signal_cuts_a_backoff_sleep_short_and_interrupts() -> None:
    stop = StopSignal()
    with capture_logs(), stop.installed():
        timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM))
        timer.start()
        try:
            started = time.monotonic()
            with pytest.raises(Interrupted) as raised:
                stop.sleep(5)
            elapsed = time.monotonic() - started
        finally:
            timer.cancel()
            timer.join()  # the signal must not arrive once the default handler is back
    assert raised.value.signum == signal.SIGTERM
    assert elapsed < 4  # returned early, not after the whole backoff


def test_a_sleep_after_a_signal_returns_at_once() -> None:
    stop = StopSignal()
    with capture_logs():
        stop.request(signal.SIGTERM)
    started = time.monotonic()
    with pytest.raises(Interrupted):
        stop.sleep(5)
    assert time.monotonic() - started < 4


def test_a_sleep_without_a_signal_waits_and_returns() -> None:
    stop = StopSignal()
    started = time.monotonic()
    stop.sleep(0.3)  # longer than one slice: it sleeps on after the first
    waited = time.monotonic() - started
    assert waited >= 0.3  # the whole backoff, never cut short without a signal
    assert not stop.requested


def test_what_the_handler_writes_is_in_the_persons_language(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYOPENIP_LANG", "fr")
    stop = StopSignal()  # its sentences looked up now, never inside the handler
    with capture_logs(), stop.installed():
        send(signal.SIGINT)
    assert "SIGINT\u00a0: arrêt au prochain point sûr" in capfd.readouterr().err
