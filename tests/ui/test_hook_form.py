"""The hook form on its own: event check boxes under tri-state group parents, inline URL
validation and when Create is enabled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QWidget
from pytestqt.qtbot import QtBot

from hookadmin.core.hook_types import HookOptions
from hookadmin.ui.hook_form import HookForm
from tests.ui.gui import click, click_checkbox

CHECKED = Qt.CheckState.Checked
PARTIAL = Qt.CheckState.PartiallyChecked
UNCHECKED = Qt.CheckState.Unchecked

# DESIGN.md §2, written out here so the test checks the form against the contract.
LABELS = {
    "job.submitted": "Job Submitted",
    "job.started": "Job Started",
    "job.stopped": "Job Stopped",
    "job.completed": "Job Completed",
    "job.failed": "Job Failed",
    "cluster.requested": "Cluster Requested",
    "cluster.available": "Cluster Available",
    "cluster.terminated": "Cluster Terminated",
    "cluster.idled": "Cluster Idled",
    "cluster.error": "Cluster Error",
}
OPERATOR_LABELS = {
    "hook.failing": "Hook Failing",
    "hook.disabled": "Hook Disabled",
    "hook.recovered": "Hook Recovered",
    "delivery.exhausted": "Delivery Exhausted",
}
JOB_EVENTS = [e for e in LABELS if e.startswith("job.")]
CLUSTER_EVENTS = [e for e in LABELS if e.startswith("cluster.")]


@pytest.fixture
def form(qtbot: QtBot) -> Iterator[HookForm]:
    """A new-hook form, shown on its own."""
    widget = HookForm()
    qtbot.addWidget(widget)
    widget.resize(700, 900)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()


def event_box(form: HookForm, type_id: str) -> QCheckBox:
    box = form.findChild(QCheckBox, f"event_{type_id}")
    assert box is not None, type_id
    return box


def group_box(form: HookForm, group_id: str) -> QCheckBox:
    box = form.findChild(QCheckBox, f"group_{group_id}")
    assert box is not None, group_id
    return box


def ticked(form: HookForm) -> list[str]:
    return [t for t in LABELS if event_box(form, t).isChecked()]


def untick_everything(qtbot: QtBot, form: HookForm) -> None:
    """A new form starts with every event ticked; clear both groups by clicking them."""
    for group in ("job", "cluster"):
        assert group_box(form, group).checkState() == CHECKED
        click_checkbox(qtbot, group_box(form, group))
        assert group_box(form, group).checkState() == UNCHECKED
    assert ticked(form) == []


def type_url(qtbot: QtBot, form: HookForm, text: str) -> None:
    """Replace the URL field's text by typing, as a user would."""
    form.url_edit.setFocus()
    qtbot.keyClick(form.url_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(form.url_edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(form.url_edit, text)
    assert form.url_edit.text() == text


def test_every_event_check_box_has_its_design_label(form: HookForm) -> None:
    boxes = {b.objectName(): b.text() for b in form.findChildren(QCheckBox)
             if b.objectName().startswith("event_")}
    assert boxes == {f"event_{t}": label for t, label in (LABELS | OPERATOR_LABELS).items()}
    assert group_box(form, "job").text() == "All Job Notifications"
    assert group_box(form, "hook").text() == "All Hook Notifications"
    assert group_box(form, "cluster").text() == "All Cluster Notifications"
    assert group_box(form, "job").isTristate()
    assert group_box(form, "cluster").isTristate()


def test_a_new_form_subscribes_to_everything(form: HookForm) -> None:
    assert ticked(form) == list(LABELS)
    assert form.events.subscription() == ["job", "cluster"]
    assert form.active_box.isChecked()
    assert form.submit_button.text() == "Create hook"
    assert not form.submit_button.isEnabled()  # no URL yet
    assert not form.url_error.isVisible()  # nothing typed yet: no scolding


def test_clicking_a_group_unticks_and_ticks_all_its_events(qtbot: QtBot, form: HookForm) -> None:
    job = group_box(form, "job")
    click_checkbox(qtbot, job)
    assert job.checkState() == UNCHECKED
    assert ticked(form) == CLUSTER_EVENTS
    assert form.events.subscription() == ["cluster"]

    click_checkbox(qtbot, job)
    assert job.checkState() == CHECKED
    assert ticked(form) == list(LABELS)
    assert form.events.subscription() == ["job", "cluster"]

    cluster = group_box(form, "cluster")
    click_checkbox(qtbot, cluster)
    assert cluster.checkState() == UNCHECKED
    assert job.checkState() == CHECKED  # the other group is left alone
    assert ticked(form) == JOB_EVENTS
    assert form.events.subscription() == ["job"]


def test_single_events_make_the_group_partial_then_checked(qtbot: QtBot,
                                                           form: HookForm) -> None:
    untick_everything(qtbot, form)
    job = group_box(form, "job")

    click_checkbox(qtbot, event_box(form, "job.failed"))
    assert event_box(form, "job.failed").isChecked()
    assert job.checkState() == PARTIAL
    assert group_box(form, "cluster").checkState() == UNCHECKED
    assert form.events.subscription() == ["job.failed"]

    for type_id in JOB_EVENTS:
        if type_id == "job.failed":
            continue
        assert job.checkState() == PARTIAL
        click_checkbox(qtbot, event_box(form, type_id))
    assert job.checkState() == CHECKED
    assert form.events.subscription() == ["job"]

    click_checkbox(qtbot, event_box(form, "job.started"))  # untick one again
    assert job.checkState() == PARTIAL
    assert form.events.subscription() == ["job.submitted", "job.stopped", "job.completed",
                                          "job.failed"]

    click_checkbox(qtbot, event_box(form, "cluster.error"))
    assert group_box(form, "cluster").checkState() == PARTIAL
    assert form.events.subscription() == ["job.submitted", "job.stopped", "job.completed",
                                          "job.failed", "cluster.error"]


def test_clicking_a_partial_group_ticks_all_its_events(qtbot: QtBot, form: HookForm) -> None:
    untick_everything(qtbot, form)
    click_checkbox(qtbot, event_box(form, "cluster.idled"))
    cluster = group_box(form, "cluster")
    assert cluster.checkState() == PARTIAL

    click_checkbox(qtbot, cluster)
    assert cluster.checkState() == CHECKED
    assert ticked(form) == CLUSTER_EVENTS
    assert form.events.subscription() == ["cluster"]

    click_checkbox(qtbot, cluster)
    assert cluster.checkState() == UNCHECKED
    assert ticked(form) == []
    assert form.events.subscription() == []


def test_the_space_bar_on_a_group_works_like_a_click(qtbot: QtBot, form: HookForm) -> None:
    job = group_box(form, "job")
    job.setFocus()
    qtbot.waitUntil(job.hasFocus)
    qtbot.keyClick(job, Qt.Key.Key_Space)
    assert job.checkState() == UNCHECKED
    assert not any(event_box(form, t).isChecked() for t in JOB_EVENTS)
    qtbot.keyClick(job, Qt.Key.Key_Space)
    assert job.checkState() == CHECKED
    assert all(event_box(form, t).isChecked() for t in JOB_EVENTS)


def test_create_is_disabled_while_no_event_is_ticked(qtbot: QtBot, form: HookForm) -> None:
    type_url(qtbot, form, "https://example.com/hooks")
    assert form.submit_button.isEnabled()
    assert not form.events_error.isVisible()

    untick_everything(qtbot, form)
    assert not form.submit_button.isEnabled()
    assert form.events_error.isVisible()
    assert form.events_error.text() == "Choose at least one event."

    click_checkbox(qtbot, event_box(form, "cluster.available"))
    assert form.submit_button.isEnabled()
    assert not form.events_error.isVisible()
    assert form.events.subscription() == ["cluster.available"]


BAD_URLS = [
    ("ftp://x", "The URL scheme 'ftp' is not supported; use https:// or http://."),
    ("https://user:pw@x.com/", "The URL must not contain a user name or password (user:pass@); "
                               "remove them and rely on the signature instead."),
    ("http://exa mple.com", "The URL contains spaces; remove them or encode them as %20."),
    ("https://x.com:99999/", "The URL's port is not valid; use a number from 1 to 65535."),
    ("example.com/hooks", "The URL must start with https:// or http://."),
]


@pytest.mark.parametrize(("url", "message"), BAD_URLS)
def test_a_bad_url_shows_why_inline_and_blocks_create(qtbot: QtBot, form: HookForm, url: str,
                                                      message: str) -> None:
    type_url(qtbot, form, url)
    assert form.url_error.isVisible()
    assert form.url_error.text() == message
    assert not form.submit_button.isEnabled()
    with qtbot.assertNotEmitted(form.submitted):
        qtbot.keyClick(form.url_edit, Qt.Key.Key_Return)  # Enter does not get past it

    type_url(qtbot, form, "https://x.com/hooks")
    assert not form.url_error.isVisible()
    assert not form.url_warning.isVisible()
    assert form.submit_button.isEnabled()


def test_plain_http_is_allowed_with_a_warning(qtbot: QtBot, form: HookForm) -> None:
    type_url(qtbot, form, "http://example.com/hooks")
    assert not form.url_error.isVisible()
    assert form.url_warning.isVisible()
    assert "unencrypted" in form.url_warning.text()
    assert form.submit_button.isEnabled()


def test_submit_emits_the_canonical_values(qtbot: QtBot, form: HookForm) -> None:
    type_url(qtbot, form, "  HTTPS://Example.COM/hooks/etl  ")
    qtbot.keyClicks(form.name_edit, "ops monitor")
    untick_everything(qtbot, form)
    click_checkbox(qtbot, event_box(form, "job.failed"))
    click_checkbox(qtbot, group_box(form, "cluster"))
    click_checkbox(qtbot, form.active_box)
    with qtbot.waitSignal(form.submitted, timeout=2000) as blocker:
        click(qtbot, form.submit_button)
    assert blocker.args == [{"url": "https://example.com/hooks/etl", "name": "ops monitor",
                             "events": ["cluster", "job.failed"], "active": False,
                             "ca_bundle": "", "insecure_ssl": False, "type": "web",
                             "options": HookOptions(), "option_secrets": {}}]


def test_cancel_emits_cancelled(qtbot: QtBot, form: HookForm) -> None:
    with qtbot.waitSignal(form.cancelled, timeout=2000):
        click(qtbot, form.cancel_button)


def test_the_webhook_form_asks_for_the_url_before_the_optional_endpoint_options(
        form: HookForm) -> None:
    """Type, Payload URL and Name come first, as on GitHub's form: the optional endpoint
    and delivery options (basic auth, headers, proxy, client certificate, filter, rate
    limit) follow them instead of pushing the one required field below the fold."""
    def top(widget: QWidget) -> int:
        return widget.mapTo(form, widget.rect().topLeft()).y()

    type_list = form.type_options.type_list
    assert top(type_list) < top(form.url_edit) < top(form.name_edit)
    assert top(form.name_edit) < top(form.type_options.http_box)
    assert top(form.name_edit) < top(form.type_options.common_box)
