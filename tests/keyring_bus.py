"""The test fixtures' own calls to the Secret Service, each bounded in time.

``keyring`` and ``secretstorage`` wait for a reply from the daemon without a limit, so
a hung gnome-keyring-daemon would hold a fixture until pytest-timeout ends the whole
run. The calls here go through jeepney (secretstorage's D-Bus library) with a timeout
and raise :class:`KeyringCallTimeout`, one sentence naming the call, instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from jeepney import DBusAddress, DBusErrorResponse, Message, MessageType, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from hookadmin.core.secrets import SERVICE_NAME

SECRETS_BUS_NAME = "org.freedesktop.secrets"
DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
COLLECTION_IFACE = "org.freedesktop.Secret.Collection"
ITEM_IFACE = "org.freedesktop.Secret.Item"
HOOKADMIN_SERVICE = SERVICE_NAME  # the keyring "service" of every hookadmin entry
CALL_TIMEOUT = 10.0
"""Seconds a fixture waits for one reply of the Secret Service (a healthy test daemon
answers in milliseconds, also on a loaded machine)."""


class KeyringCallTimeout(Exception):
    """The test Secret Service did not answer a call within its timeout."""


@contextlib.contextmanager
def session_bus() -> Iterator[DBusConnection]:
    """A new connection to the session bus (``DBUS_SESSION_BUS_ADDRESS``), closed after.

    Raises:
        OSError, KeyError: no bus to connect to (the address is unset or unreachable).
    """
    conn = open_dbus_connection(bus="SESSION")
    try:
        yield conn
    finally:
        conn.close()


def call(conn: DBusConnection, path: str, interface: str, method: str,
         signature: str = "", *body: object, timeout: float = CALL_TIMEOUT
         ) -> tuple[object, ...]:
    """Call ``method`` of the Secret Service's object ``path`` and return the reply's
    body (a tuple of D-Bus values).

    Raises:
        KeyringCallTimeout: no reply within ``timeout`` seconds.
        DBusErrorResponse: the daemon answered with an error (no such object, ...).
    """
    message = new_method_call(DBusAddress(path, bus_name=SECRETS_BUS_NAME,
                                          interface=interface), method, signature, body)
    try:
        reply: Message = conn.send_and_get_reply(message, timeout=timeout)
    except TimeoutError:
        raise KeyringCallTimeout(
            f"The test keyring daemon did not answer {interface.rsplit('.', 1)[-1]}."
            f"{method} on {path} within {timeout:g} s; it hangs, so this test's keyring "
            "clean-up could not run.") from None
    if reply.header.message_type == MessageType.error:
        raise DBusErrorResponse(reply)
    return tuple(reply.body)


def search_items(conn: DBusConnection, attributes: dict[str, str],
                 timeout: float = CALL_TIMEOUT) -> set[str]:
    """The object paths of the default collection's items with these attributes.

    Raises:
        KeyringCallTimeout: no reply within ``timeout`` seconds.
        DBusErrorResponse: the daemon refused (no default collection, ...).
    """
    (paths,) = call(conn, DEFAULT_COLLECTION, COLLECTION_IFACE, "SearchItems", "a{ss}",
                    attributes, timeout=timeout)
    assert isinstance(paths, list)
    return {str(path) for path in paths}


def delete_items(conn: DBusConnection, paths: set[str],
                 timeout: float = CALL_TIMEOUT) -> int:
    """Delete these items; one already gone (or that a locked keyring would need a
    prompt for) is left as it is. Returns how many were deleted.

    Raises:
        KeyringCallTimeout: a ``Delete`` got no reply within ``timeout`` seconds.
    """
    deleted = 0
    for path in sorted(paths):
        with contextlib.suppress(DBusErrorResponse):
            call(conn, path, ITEM_IFACE, "Delete", timeout=timeout)
            deleted += 1
    return deleted


def delete_entry(service: str, username: str, timeout: float = CALL_TIMEOUT) -> int:
    """Delete the keyring entry ``keyring.set_password(service, username, ...)`` made
    (those attributes), if there is one. Returns how many items were deleted (0 or 1).

    Raises:
        KeyringCallTimeout: the daemon did not answer within ``timeout`` seconds.
        OSError, KeyError: there is no session bus to connect to.
    """
    with session_bus() as conn:
        return delete_items(conn, search_items(
            conn, {"service": service, "username": username}, timeout), timeout)


def forget_keyring_entry(username: str, *, must_exist: bool = False) -> None:
    """For a fixture's teardown: delete the test keyring's ``hookadmin`` entry of
    ``username``, waiting at most ``CALL_TIMEOUT`` seconds for the daemon. Fails the test
    with one sentence when the daemon hangs, or when ``must_exist`` and there was no
    such entry (the test lost it)."""
    try:
        deleted = delete_entry(HOOKADMIN_SERVICE, username)
    except KeyringCallTimeout as hung:
        pytest.fail(str(hung), pytrace=False)
    if must_exist and not deleted:
        pytest.fail(f"The keyring entry {username!r} the fixture made was gone at the end "
                    "of the test.", pytrace=False)
