"""The form that creates or edits a hook: URL, name, event checkboxes under tri-state
"All Job/Cluster Notifications" parents, and the Active toggle."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core import events as catalog
from hookadmin.core.errors import InputError
from hookadmin.core.formats import default_events
from hookadmin.core.hooks import Hook, validate_ca_bundle, validate_name, validate_url
from hookadmin.ui.display import status_color
from hookadmin.ui.event_picker import EventPicker
from hookadmin.ui.hook_type_form import HookTypeOptions, uses_url_field


class HookForm(QWidget):
    """Create or edit a hook.

    The submit button ("Create hook", or "Save changes" when editing) is enabled only
    while the form is valid; problems show inline under their field.

    Signals:
        submitted(dict): the user submitted valid values ``{"url", "name", "events",
            "active"}`` (validated, canonical).
        cancelled(): the user gave up.
    """

    submitted = Signal(dict)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editing: Hook | None = None
        self._url_touched = False
        # (CA field text, its problem or None): validate_ca_bundle loads the system's CA
        # store (~0.1 s), too slow to repeat on every keystroke in the other fields.
        self._ca_checked: tuple[str, str | None] | None = None

        self.title = QLabel("Add webhook")
        self.title.setObjectName("formTitle")
        title_font = QFont(self.title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.4)
        title_font.setBold(True)
        self.title.setFont(title_font)
        intro = QLabel("hookadmin will send a signed POST request to the URL below with the "
                       "details of each event you subscribe to.")
        intro.setObjectName("formIntro")
        intro.setWordWrap(True)

        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("url")
        self.url_edit.setPlaceholderText("https://example.com/hooks/etl")
        self.url_edit.setAccessibleName("Payload URL")
        self.url_error = QLabel()
        self.url_error.setObjectName("urlError")
        self.url_error.setWordWrap(True)
        self.url_error.setStyleSheet(f"color: {status_color('failed').name()};")
        self.url_error.hide()
        self.url_warning = QLabel()
        self.url_warning.setObjectName("urlWarning")
        self.url_warning.setWordWrap(True)
        self.url_warning.setStyleSheet(f"color: {status_color('pending').name()};")
        self.url_warning.hide()

        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("name")
        self.name_edit.setPlaceholderText("e.g. ops monitor (optional)")
        self.name_edit.setAccessibleName("Name")
        self.name_error = QLabel()
        self.name_error.setObjectName("nameError")
        self.name_error.setStyleSheet(f"color: {status_color('failed').name()};")
        self.name_error.hide()

        self.type_options = HookTypeOptions()
        self.type_options.setObjectName("typeOptions")

        self.events = EventPicker()
        self.events_error = QLabel("Choose at least one event.")
        self.events_error.setObjectName("eventsError")
        self.events_error.setStyleSheet(f"color: {status_color('failed').name()};")
        self.events_error.hide()

        self.active_box = QCheckBox("Active")
        self.active_box.setObjectName("active")
        self.active_box.setChecked(True)
        self.active_box.setAccessibleName("Active")
        active_note = QLabel("Deliver event details when this hook is triggered.")
        active_note.setEnabled(False)

        self.ca_edit = QLineEdit()
        self.ca_edit.setObjectName("caBundle")
        self.ca_edit.setPlaceholderText("optional: a PEM file of extra CA certificates")
        self.ca_edit.setAccessibleName("CA bundle")
        self.ca_browse = QPushButton("Browse…")
        self.ca_browse.setObjectName("caBrowse")
        self.ca_error = QLabel()
        self.ca_error.setObjectName("caError")
        self.ca_error.setWordWrap(True)
        self.ca_error.setStyleSheet(f"color: {status_color('failed').name()};")
        self.ca_error.hide()
        self.insecure_box = QCheckBox("Skip TLS certificate verification (not recommended)")
        self.insecure_box.setObjectName("insecureSsl")
        self.insecure_warning = QLabel("Without verification anyone on the network path can "
                                       "read or change deliveries. Prefer adding the "
                                       "receiver's CA above.")
        self.insecure_warning.setObjectName("insecureWarning")
        self.insecure_warning.setWordWrap(True)
        self.insecure_warning.setStyleSheet(f"color: {status_color('pending').name()};")
        self.insecure_warning.hide()
        tls_box = QFrame()
        tls_box.setFrameShape(QFrame.Shape.StyledPanel)
        tls_layout = QVBoxLayout(tls_box)
        ca_row = QHBoxLayout()
        ca_row.addWidget(QLabel("Trust extra CAs"))
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(self.ca_browse)
        tls_layout.addLayout(ca_row)
        tls_layout.addWidget(self.ca_error)
        tls_layout.addWidget(self.insecure_box)
        tls_layout.addWidget(self.insecure_warning)

        self.submit_button = QPushButton("Create hook")
        self.submit_button.setObjectName("submit")
        self.submit_button.setDefault(True)
        self.submit_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        url_col = QVBoxLayout()
        url_col.setSpacing(2)
        url_col.addWidget(self.url_edit)
        url_col.addWidget(self.url_error)
        url_col.addWidget(self.url_warning)
        # addRow(str, layout) gives the label no buddy, so its mnemonic would do nothing.
        url_label = QLabel("Payload &URL *")
        url_label.setBuddy(self.url_edit)
        form.addRow(self.type_options.type_label, self.type_options.type_list)
        form.addRow(url_label, url_col)
        name_col = QVBoxLayout()
        name_col.setSpacing(2)
        name_col.addWidget(self.name_edit)
        name_col.addWidget(self.name_error)
        name_label = QLabel("Na&me")  # Alt+N belongs to the window's "New hook"
        name_label.setBuddy(self.name_edit)
        form.addRow(name_label, name_col)

        events_title = QLabel("Which events should trigger this webhook?")
        events_frame = QFrame()
        events_frame.setFrameShape(QFrame.Shape.StyledPanel)
        frame_layout = QVBoxLayout(events_frame)
        frame_layout.addWidget(self.events)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.submit_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(intro)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addWidget(self.type_options)
        layout.addSpacing(8)
        layout.addWidget(events_title)
        layout.addWidget(events_frame)
        layout.addWidget(self.events_error)
        layout.addWidget(self.active_box)
        layout.addWidget(active_note)
        layout.addSpacing(6)
        layout.addWidget(QLabel("TLS (https URLs)"))
        layout.addWidget(tls_box)
        layout.addStretch(1)
        layout.addLayout(buttons)

        self.url_edit.textChanged.connect(self._on_url_changed)
        self.url_edit.editingFinished.connect(self._on_url_editing_finished)
        self.name_edit.textChanged.connect(self._validate)
        self.events.changed.connect(self._validate)
        self._ca_timer = QTimer(self)
        self._ca_timer.setSingleShot(True)
        self._ca_timer.setInterval(300)
        self._ca_timer.timeout.connect(self._validate)
        self.ca_edit.editingFinished.connect(self._on_ca_editing_finished)
        self.ca_edit.textChanged.connect(self._on_ca_changed)
        self.ca_browse.clicked.connect(self._on_browse)
        self.insecure_box.toggled.connect(self.insecure_warning.setVisible)
        self.submit_button.clicked.connect(self._on_submit)
        self.cancel_button.clicked.connect(self.cancelled)
        self.type_options.changed.connect(self._validate)
        self.type_options.type_changed.connect(self._on_type_changed)
        self._saved_state: tuple[object, ...] = ()
        self._submitting = False
        self._leave: tuple[Callable[[], None], Callable[[], None]] | None = None
        self.reset()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Return (or the keypad's Enter) submits from any field; Escape cancels. The
        fields leave these keys to their parent, the form."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self._on_submit()
        elif event.key() == Qt.Key.Key_Escape and not event.modifiers():
            self.cancelled.emit()
        else:
            super().keyPressEvent(event)

    def _state(self) -> tuple[object, ...]:
        """What the fields say, as typed (for telling unsaved edits)."""
        return (self.url_edit.text().strip(), self.name_edit.text().strip(),
                tuple(self.events.subscription()), self.active_box.isChecked(),
                self.ca_edit.text().strip(), self.insecure_box.isChecked(),
                self._type_state())

    def _type_state(self) -> object:
        try:
            return repr(self.type_options.values())
        except InputError:
            return "incomplete"

    def has_unsaved_edits(self) -> bool:
        """True when a field differs from what the form was opened with (False while
        the values are being submitted: the window leaves the form once saved)."""
        return not self._submitting and self._state() != self._saved_state

    def forget_edits(self) -> None:
        """Treat the values on screen as the saved ones (Cancel and Escape throw the
        edits away on purpose: leaving must not ask about them)."""
        self._saved_state = self._state()

    def submit_finished(self, saved: bool) -> bool:
        """The window's answer to ``submitted``: the values were saved (leaving the form
        no longer asks) or not (a problem is shown). Returns True when the form was
        submitted from the unsaved-changes question, whose choice (leave for where the
        user clicked, or stay) is then carried out; the window shows nothing else."""
        if saved:
            self._saved_state = self._state()
        leave, self._leave = self._leave, None
        if leave is None:
            return False
        proceed, stay = leave
        (proceed if saved else stay)()
        return True

    def confirm_leave(self, proceed: Callable[[], None], stay: Callable[[], None]) -> bool:
        """Whether the form may be left now. With unsaved edits, returns False and asks
        (Save / Discard / Cancel): Discard calls ``proceed``; Save submits and calls
        ``proceed`` once the form was saved and closed; Cancel calls ``stay``."""
        if not self.has_unsaved_edits():
            return True
        what = "the new hook" if self.editing is None else \
            f"“{self.editing.display_name}”"
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved changes",
                          f"Save your changes to {what} before leaving?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("unsavedChanges")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button: QMessageBox.StandardButton) -> None:
            if button == QMessageBox.StandardButton.Discard:
                self.forget_edits()
                proceed()
            elif button == QMessageBox.StandardButton.Save:
                # The window saves (perhaps in the background) and then calls
                # submit_finished, which leaves (proceed) or stays on the form.
                self._leave = (proceed, stay)
                if not self._on_submit():  # a problem is shown under its field
                    self._leave = None
                    stay()
            else:
                stay()

        def finished(_: int) -> None:
            clicked = box.clickedButton()
            answered(QMessageBox.StandardButton.Cancel if clicked is None
                     else box.standardButton(clicked))

        box.finished.connect(finished)
        box.open()
        return False

    def reset(self, hook: Hook | None = None) -> None:
        """Empty the form for a new hook, or fill it with ``hook`` to edit it."""
        self.editing = hook
        self._url_touched = hook is not None
        self.title.setText("Add webhook" if hook is None else
                           f"Edit hook “{hook.display_name}”")
        self.submit_button.setText("Create hook" if hook is None else "Save changes")
        self.type_options.reset(hook)
        self.url_edit.setText("" if hook is None or hook.type == "email" else hook.url)
        self.name_edit.setText("" if hook is None else hook.name)
        self.events.set_subscription(["job", "cluster"] if hook is None else hook.events)
        self.active_box.setChecked(True if hook is None else hook.active)
        self.ca_edit.setText("" if hook is None else hook.ca_bundle or "")
        self.insecure_box.setChecked(False if hook is None else hook.insecure_ssl)
        self.show_error(None)
        self._ca_checked = None
        self._validate()
        self._saved_state = self._state()

    def reset_as_copy(self, hook: Hook) -> None:
        """Fill the form for a new hook with a copy of ``hook``'s settings."""
        self.reset()
        self.title.setText(f"Add webhook (copy of hook {hook.id})")
        if hook.type == "web":  # other types' secrets are not copied: start them afresh
            self.url_edit.setText(hook.url)
        self.name_edit.setText(f"{hook.name} (copy)" if hook.name else "")
        self.events.set_subscription(hook.events)
        self.active_box.setChecked(hook.active)
        self.ca_edit.setText(hook.ca_bundle or "")
        self.insecure_box.setChecked(hook.insecure_ssl)
        self._validate()
        self._saved_state = self._state()

    def show_error(self, error: InputError | None) -> None:
        """Show a service-side error under the field it names (or under the URL)."""
        if error is None:
            return
        target = {"name": self.name_error, "ca_bundle": self.ca_error}.get(
            error.field or "", self.url_error)
        target.setText(str(error))
        target.show()

    def values(self) -> dict[str, object]:
        """The current values, validated: also ``type``, ``options`` and
        ``option_secrets`` (see :class:`HookTypeOptions`); ``url`` is None to keep a
        Slack hook's URL or to use PagerDuty's endpoint. Raises InputError."""
        kind, options, secrets = self.type_options.values()
        return {"url": self._url_value(kind), "type": kind, "options": options,
                "option_secrets": secrets,
                "name": validate_name(self.name_edit.text()),
                "events": catalog.normalize_subscription(self.events.subscription()),
                "active": self.active_box.isChecked(),
                "ca_bundle": validate_ca_bundle(self.ca_edit.text()),
                "insecure_ssl": self.insecure_box.isChecked()}

    def _url_value(self, kind: str) -> str | None:
        text = self.url_edit.text().strip()
        if kind == "email":
            return self.type_options.smtp_text()
        if kind == "pagerduty" and not text:
            return None
        if kind == "slack" and self.editing is not None and text == self.editing.url:
            return None  # the masked form of the stored URL: keep it
        return validate_url(text)

    @Slot(str)
    def _on_type_changed(self, kind: str) -> None:
        if self.editing is None:  # a new hook starts with the events its type can send
            self.events.set_subscription(list(default_events(kind)))
        self.url_edit.setEnabled(uses_url_field(kind))
        self.url_edit.setPlaceholderText({
            "slack": "https://hooks.slack.com/services/T000/B000/XXXX",
            "pagerduty": "empty for https://events.pagerduty.com/v2/enqueue",
            "email": "the SMTP server below"}.get(kind, "https://example.com/hooks/etl"))

    @Slot()
    def _on_browse(self) -> None:
        dialog = QFileDialog(self, "CA bundle (PEM)")
        dialog.setObjectName("caFileDialog")
        dialog.setNameFilter("PEM certificates (*.pem *.crt *.cer);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen(path: str) -> None:
            self.ca_edit.setText(path)
            self._validate()

        dialog.fileSelected.connect(chosen)
        dialog.open()

    @Slot()
    def _on_url_changed(self) -> None:
        if self.url_edit.text().strip():
            self._url_touched = True
        self._validate()

    @Slot()
    def _on_ca_changed(self) -> None:
        # A shown problem is re-checked once typing pauses, so it does not linger (and
        # keep Create disabled) after the path has been corrected.
        if not self.ca_error.isHidden():
            self._ca_timer.start()

    @Slot()
    def _on_ca_editing_finished(self) -> None:
        self._ca_checked = None  # the file may have appeared or changed meanwhile
        self._validate()

    @Slot()
    def _on_url_editing_finished(self) -> None:
        self._url_touched = True
        self._validate()

    @Slot()
    def _validate(self) -> bool:
        ok = True
        text = self.url_edit.text()
        self.url_warning.hide()
        try:
            url = self._url_value(self.type_options.type_name) or ""
        except InputError as err:
            ok = False
            if self._url_touched:
                self.url_error.setText(str(err))
                self.url_error.show()
            else:
                self.url_error.hide()
        else:
            self.url_error.hide()
            if url.startswith("http://"):
                self.url_warning.setText("Plain http: deliveries and their signatures travel "
                                         "unencrypted. Prefer https://.")
                self.url_warning.show()
        try:
            validate_name(self.name_edit.text())
        except InputError as err:
            ok = False
            self.name_error.setText(str(err))
            self.name_error.show()
        else:
            self.name_error.hide()
        text = self.ca_edit.text()
        if self._ca_checked is None or self._ca_checked[0] != text:
            try:
                validate_ca_bundle(text)
            except InputError as err:
                self._ca_checked = (text, str(err))
            else:
                self._ca_checked = (text, None)
        if self._ca_checked[1] is not None:
            ok = False
            self.ca_error.setText(self._ca_checked[1])
            self.ca_error.show()
        else:
            self.ca_error.hide()
        has_events = bool(self.events.subscription())
        self.events_error.setVisible(not has_events)
        ok = ok and has_events and self.type_options.check()
        self.submit_button.setEnabled(ok)
        return ok

    @Slot()
    def _on_submit(self) -> bool:
        """Emit ``submitted`` when the fields are valid; returns whether it was."""
        self._url_touched = True
        self._ca_checked = None
        if not self._validate():
            return False
        self._submitting = True
        try:
            self.submitted.emit(self.values())
        finally:
            self._submitting = False
        return True
