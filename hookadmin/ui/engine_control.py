"""The window's delivery engine seen from the window: pausing and resuming it (the
Delivery menu's check and the paused banner follow), its error in the problem banner
until it runs again, its attempts (failure notices and a refresh), and what the status
bar says it does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot

if TYPE_CHECKING:
    from hookadmin.delivery.engine import AttemptOutcome
    from hookadmin.ui.main_window import MainWindow


class EngineControl(QObject):
    """Pauses and resumes the window's engine and presents its state.

    Takes the engine's signals (attempts, running, errors, keyring) and the keyring
    state's changes from construction on; without an engine (tests) the status bar says
    ``off`` and pausing does nothing.

    Args:
        window: the main window (its engine, keyring state and lane, pause action,
            banners, status bar, failure notices and refresh).

    Attributes:
        error: the engine's last error while it is stopped by it ("": none).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.error = ""
        window.keyring_lane.busy_changed.connect(self.show_state)
        window.keyring.changed.connect(self.show_state)
        engine = window.engine
        if engine is not None:
            engine.attempt_recorded.connect(self.attempt_recorded)
            engine.running_changed.connect(self.running_changed)
            engine.errored.connect(self.errored)
            engine.keyring_changed.connect(window.keyring.engine_changed)
            window.keyring.window_answered.connect(engine.keyring_answered)

    @property
    def paused(self) -> bool:
        """True while *Delivery → Pause delivery* is checked."""
        return self.window.pause_action.isChecked()

    def start_unless_paused(self) -> None:
        """Start the engine unless there is none, it runs already, or delivery is
        paused."""
        engine = self.window.engine
        if engine is not None and not engine.running and not self.paused:
            engine.start()

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        """Pause (stop the engine; queued deliveries wait) or resume delivery; the
        Delivery menu's check and the paused banner follow."""
        w = self.window
        if w.engine is None:
            return
        if paused:
            w.engine.request_stop()  # returns at once; the engine ends in its process
        else:
            w.engine.start()
        if w.pause_action.isChecked() != paused:
            w.pause_action.setChecked(paused)
        w.paused_box.setVisible(paused)
        self._update_status()

    @Slot()
    def show_state(self) -> None:
        """Say in the status bar what the engine does (:meth:`state`)."""
        self.window.status.show_engine_state(self.state())

    def state(self) -> str:
        """What the status bar says the engine does: ``paused``, ``not sending: no team
        key on this machine``, ``waiting for the keyring``, ``off`` (no engine),
        ``running`` or ``stopped``."""
        w = self.window
        if w.engine is not None and self.paused:
            return "paused"
        if w.keyring.team_key_problem:
            return "not sending: no team key on this machine"
        if w.keyring.waiting:
            return "waiting for the keyring"
        if w.engine is None:
            return "off"
        return "running" if w.engine.running else "stopped"

    def _update_status(self) -> None:
        self.show_state()
        self.window.refresh()

    @Slot(str)
    def errored(self, message: str) -> None:
        """The engine stopped on an error: the banner says so until it runs again."""
        self.error = message
        self.window.show_banner(message)

    @Slot(bool)
    def running_changed(self, running: bool) -> None:
        """Hide the engine's error when it runs again (a banner saying something else
        stays), forget an ended engine's keyring problem, and show the new state."""
        w = self.window
        if running and self.error == w.banner.text():
            w.clear_banner()
        self.error = "" if running else self.error
        if not running:  # a new engine process says its own keyring problem, if any
            w.keyring.engine_ended()
        self._update_status()

    @Slot(object)
    def attempt_recorded(self, outcome: AttemptOutcome) -> None:
        """The engine recorded an attempt: notify a hook that starts failing, and
        refresh within a second. An attempt that was sent (not one waiting for its
        secret) tells the keyring state that delivery does not wait for the keyring."""
        if outcome.error_kind != "secret_unavailable":
            self.window.keyring.engine_sent()
        self.window.failure_notices.attempt_recorded(outcome)
        self.window.refresher.attempt_recorded()
