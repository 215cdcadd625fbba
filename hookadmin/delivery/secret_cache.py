"""The engine's hook secrets: read from the secret store once, kept while it runs.

Reads run on the event loop's default executor (the OS keyring blocks); deliveries that
need the same secret at the same time share one read, and at the start every active
hook's secret is read in one keyring session (:meth:`SecretCache.warm`). A reset of a
secret changes the hook's ``updated_at`` (and ``previous_secret_expires_at``), which is
part of the cache key, so the new one is read at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from hookadmin.core.errors import SecretStoreError
from hookadmin.core.hook_types import OptionSecrets, read_option_secrets
from hookadmin.core.hooks import Hook
from hookadmin.core.proxy_settings import global_proxy_password
from hookadmin.core.secrets import HookSecrets
from hookadmin.delivery.keyring_wait import KeyringWait
from hookadmin.delivery.policy import DeliverySettings

log = logging.getLogger("hookadmin.delivery.engine")

SecretKey = tuple[int, str, float | None, bool]
"""(hook id, hook's ``updated_at``, ``previous_secret_expires_at``, replaced secret?)"""


def secret_key(hook: Hook, previous: bool) -> SecretKey:
    """The cache key of a hook's secret (``previous``: its replaced one)."""
    return (hook.id, hook.updated_at, hook.previous_secret_expires_at, previous)


class SecretCache:
    """Hook secrets, option secrets and the global proxy's password, cached.

    Args:
        secrets: where they are read (the OS keyring, or a team database's).
        on_keyring: called on the loop's thread when the store stops being usable (with
            the sentence saying why), and with None when a secret is read the first time
            or again after that, or the keyring was seen unlocked; once per change.
        waits: told of each read that found the store unusable and of each that
            succeeded (see :class:`~hookadmin.delivery.keyring_wait.KeyringWait`).

    Must be created and used on the event loop's thread.
    """

    def __init__(self, secrets: HookSecrets,
                 on_keyring: Callable[[str | None], None] | None = None,
                 waits: KeyringWait | None = None) -> None:
        self.secrets = secrets
        self._on_keyring = on_keyring
        self._waits = waits
        self._told = False  # on_keyring has been called at least once
        self._loop = asyncio.get_running_loop()
        self.cache: dict[SecretKey, str] = {}
        self._reads: dict[SecretKey, asyncio.Future[str]] = {}
        self._warming: dict[SecretKey, asyncio.Future[str | None]] = {}
        self._options: dict[tuple[int, str], OptionSecrets] = {}
        self._proxy_password: tuple[int, str | None] | None = None  # (proxy_serial, value)
        self.problem: str | None = None  # why the store cannot be used now

    def cached(self, hook: Hook) -> str | None:
        """The hook's current secret if it has been read, without waiting."""
        return self.cache.get((hook.id, hook.updated_at, hook.previous_secret_expires_at,
                               False))

    async def get(self, hook: Hook, *, previous: bool = False) -> str:
        """The hook's (or its replaced) secret.

        Raises:
            SecretStoreError: the store cannot be read, or holds no such secret.
        """
        key = secret_key(hook, previous)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        warm = self._warming.get(key)
        if warm is not None:
            value = await asyncio.shield(warm)
            if value is not None:
                return value
        read = self._reads.get(key)
        if read is None:
            read = self._loop.run_in_executor(None, self._read, hook.id, previous)
            self._reads[key] = read

            def done(fut: asyncio.Future[str]) -> None:
                self._reads.pop(key, None)
                if not fut.cancelled() and fut.exception() is None:
                    self.cache[key] = fut.result()
                    self.state(None)
            read.add_done_callback(done)
        return await asyncio.shield(read)

    def _read(self, hook_id: int, previous: bool) -> str:
        if not previous:
            return self.secrets.get(hook_id)
        value = self.secrets.get_optional(hook_id, previous=True)
        if value is None:
            raise SecretStoreError("The replaced secret is gone.", cause="missing")
        return value

    def state(self, problem: str | None) -> None:
        """Tell ``on_keyring`` when the store stops (``problem``: why) or starts being
        usable (None: the first time, or again after a problem); only changes are told."""
        if problem is None and self._waits is not None:
            self._waits.read_ok()
            if not self._told:  # the first read: what an earlier run left waiting goes
                self._waits.answered()
        if self._told and (problem == self.problem
                           or (problem is not None and self.problem is not None)):
            return
        if problem is None and self.problem is not None:
            log.info("the OS keyring can be used again")
        elif problem is not None:
            log.info("the OS keyring cannot be used: %s", problem)
        self.problem = problem
        self._told = True
        if self._on_keyring is not None:
            self._on_keyring(problem)

    def failed(self, err: SecretStoreError) -> None:
        """A read failed: unless the secret is only missing or damaged (the hook's own
        problem), the store cannot be used now: told as :meth:`state` tells it, and the
        wait for it to be usable again starts."""
        if err.cause in ("missing", "damaged"):
            return
        self.state(str(err))
        if self._waits is not None:
            self._waits.unusable()

    def seen_usable(self) -> None:
        """The keyring was seen unlocked (no secret read yet): say it can be used, even
        when no read of this engine had failed (the window's own call had)."""
        if self.problem is not None:
            log.info("the OS keyring is unlocked again")
        self.problem, self._told = None, True
        if self._on_keyring is not None:
            self._on_keyring(None)

    def forget_except(self, hooks: Iterable[Hook]) -> None:
        """Forget cached secrets that no longer match one of these hooks."""
        current = {secret_key(h, previous) for h in hooks for previous in (False, True)}
        for key in [k for k in self.cache if k not in current]:
            del self.cache[key]

    async def warm(self, hooks: Iterable[Hook]) -> None:
        """Read every active hook's secret in one go (see
        :meth:`SecretStore.get_many`: one keyring session for all, instead of one per
        hook), so the first event to many hooks does not wait for a read per hook.
        Deliveries that need one of these secrets meanwhile wait until theirs is read
        (each is handed over as soon as it is, not when all are)."""
        keys = {h.id: secret_key(h, False) for h in hooks
                if h.active and secret_key(h, False) not in self.cache}
        if not keys:
            return
        waiting = {hook_id: self._loop.create_future() for hook_id in keys}
        for hook_id, fut in waiting.items():
            self._warming[keys[hook_id]] = fut
        found: dict[int, str] = {}

        def arrived(hook_id: int, secret: str) -> None:  # on the loop, as each is read
            key = keys[hook_id]
            self.cache[key] = secret
            fut = self._warming.pop(key, None)
            if fut is not None and not fut.done():
                fut.set_result(secret)

        def found_one(hook_id: int, secret: str) -> None:  # on the executor's thread
            with contextlib.suppress(RuntimeError):  # the loop closed: the run is over
                self._loop.call_soon_threadsafe(arrived, hook_id, secret)

        def read_all() -> dict[int, str]:
            return self.secrets.get_many(list(keys), on_found=found_one)
        try:
            found = await self._loop.run_in_executor(None, read_all)
            if found:
                self.state(None)
        except SecretStoreError as err:
            log.info("secrets not read at start (%s)", err)
            self.failed(err)
        finally:
            for hook_id, fut in waiting.items():
                self._warming.pop(keys[hook_id], None)
                if hook_id in found:
                    self.cache[keys[hook_id]] = found[hook_id]
                # None: not read here; a delivery that needs it reads it alone, which
                # names the reason (missing, locked, ...) precisely.
                if not fut.done():
                    fut.set_result(found.get(hook_id))

    async def options(self, hook: Hook) -> OptionSecrets:
        """The hook's option secrets, read once per change of the hook (its
        ``updated_at``) and kept.

        Raises:
            SecretStoreError: the store cannot be read.
        """
        key = (hook.id, hook.updated_at)
        cached = self._options.get(key)
        if cached is None:
            cached = await self._loop.run_in_executor(None, read_option_secrets,
                                                      self.secrets, hook.id)
            self._options = {k: v for k, v in self._options.items() if k[0] != hook.id}
            self._options[key] = cached
        return cached

    def cached_options(self, hook: Hook) -> OptionSecrets:
        """The hook's option secrets if read (see :meth:`options`), else empty."""
        return self._options.get((hook.id, hook.updated_at), {})

    async def proxy_password(self, settings: DeliverySettings) -> str | None:
        """The global proxy's password (None without a global proxy or user), read once
        per change of the proxy setting.

        Raises:
            SecretStoreError: the store cannot be read.
        """
        proxy = settings.proxy
        if proxy is None or "@" not in proxy:
            return None
        serial = settings.proxy_serial
        if self._proxy_password is None or self._proxy_password[0] != serial:
            value = await self._loop.run_in_executor(None, global_proxy_password,
                                                      self.secrets)
            self._proxy_password = (serial, value)
        return self._proxy_password[1]
