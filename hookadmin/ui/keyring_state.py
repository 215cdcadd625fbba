"""What the window knows of the OS keyring: whether its own last keyring call could use
it, whether the engine's process can, and whether this machine holds the team key. The
status bar's "waiting for the keyring", the banner of the check made after the first
paint and the hook page's "cannot sign" notice follow from it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

if TYPE_CHECKING:
    from hookadmin.core.service import HookService
    from hookadmin.ui.background import Lane
    from hookadmin.ui.workers import StartupChecks

TEAM_KEY_CAUSES = ("team_key_missing", "team_key_mismatch", "team_key_invalid")
KEYRING_ADVICE = ("Hooks still list; deliveries wait until the keyring can be read and are "
                  "never sent unsigned.")


class KeyringState(QObject):
    """The keyring's state as the window shows it.

    The window's own calls and the engine's are kept apart: the window's keyring
    answering says nothing of the engine's process, which says so itself once it reads
    secrets again.

    Args:
        lane: the window's keyring lane (a call running long on it counts as waiting).
        parent: the Qt parent (the window).

    Attributes:
        problem: True when the keyring could not be used at the window's last call.
        engine_problem: why the engine's process cannot use the keyring ("" when it can).
        team_key_problem: why this machine cannot sign for the team database, in one
            sentence ("" when it can).
        unusable_said: the :attr:`unusable` sentence while it holds, else "".

    Signals:
        changed(): what the status bar says of the keyring may have changed.
        unusable(str): the check after the first paint found the keyring unusable: the
            banner's sentence (the problem, then what still works).
        team_key_missing(str): the check found no usable team key on this machine: why,
            in one sentence.
        checked(bool): the check after the first paint is done: True when the keyring
            can be used.
        usable(str): the keyring answers again after :attr:`unusable` was said: the
            sentence that no longer holds (sent once per :attr:`unusable`), so the
            banner showing it can go.
        window_answered(bool): a keyring call of the window ended: True when the
            keyring answered (the engine, told at once, sends what waited for it).
    """

    changed = Signal()
    unusable = Signal(str)
    team_key_missing = Signal(str)
    checked = Signal(bool)
    window_answered = Signal(bool)
    usable = Signal(str)

    def __init__(self, lane: Lane[HookService], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lane = lane
        self.problem = False
        self.engine_problem = ""
        self.team_key_problem = ""
        self._startup: StartupChecks | None = None
        self._sent_since_problem = False  # the engine delivered after the window's failure
        self.unusable_said = ""  # the banner's sentence while it holds, else ""

    @property
    def waiting(self) -> bool:
        """True while delivery waits for the keyring: the window's last call or the
        engine's could not use it, or a keyring call has been running for a while (a
        locked keyring's unlock prompt). The window's failed call no longer counts
        once the engine has sent a delivery since (it holds the secrets it read)."""
        window_waits = self.problem and not self._sent_since_problem
        return window_waits or bool(self.engine_problem) or self.lane.busy

    def answered(self, ok: bool) -> None:
        """A keyring call of the window ended: ``ok`` when the keyring answered
        (delivery no longer waits for it), False when it could not be used."""
        self.problem = not ok
        self._sent_since_problem = False
        self.window_answered.emit(ok)
        self.changed.emit()
        if ok:
            self._answers_again()

    @Slot(str)
    def engine_changed(self, problem: str) -> None:
        """The engine's keyring reads failed (``problem``: why) or answer again (""):
        the keyring answering the engine answers the window too."""
        self.engine_problem = problem
        self.problem = self.problem and bool(problem)
        self.changed.emit()
        if not problem:
            self._answers_again()

    def engine_sent(self) -> None:
        """The engine sent a delivery (it could sign it): a failed call of the window's
        no longer means delivery waits for the keyring. The window still does not ask
        the keyring again (:attr:`problem` stays, so no unlock prompt at each refresh)."""
        if self.problem and not self._sent_since_problem:
            self._sent_since_problem = True
            self.changed.emit()

    def _answers_again(self) -> None:
        """The keyring answered a call: the unusable sentence said, if any, no longer
        holds (:attr:`usable`)."""
        said, self.unusable_said = self.unusable_said, ""
        if said:
            self.usable.emit(said)

    def engine_ended(self) -> None:
        """The engine stopped: forget its keyring problem (a new engine process says
        its own, if any)."""
        self.engine_problem = ""

    def follow(self, startup: StartupChecks) -> None:
        """Take the answer of ``startup``'s keyring check (made after the first paint)
        when it comes, in the GUI thread (:meth:`startup_checked`)."""
        self._startup = startup
        startup.keyring_checked.connect(self.startup_checked)

    @Slot(str)
    def startup_checked(self, problem: str) -> None:
        """The keyring check made after the first paint answered: ``problem`` in one
        sentence ("" when the keyring answered), of the kind the check's ``cause``
        says (a :attr:`SecretStoreError.cause` such as ``team_key_missing``). A missing
        team key is said on the hook page, not as a fault."""
        cause = self._startup.cause if self._startup is not None else None
        if problem and cause in TEAM_KEY_CAUSES:
            self.team_key_problem = problem
            self.team_key_missing.emit(problem)
            self.changed.emit()
            self.checked.emit(False)
            return
        if problem:
            self.unusable_said = f"{problem} {KEYRING_ADVICE}"
            self.unusable.emit(self.unusable_said)
        self.answered(not problem)
        self.checked.emit(not problem)
