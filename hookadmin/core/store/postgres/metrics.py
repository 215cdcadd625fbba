"""The PostgreSQL store's figures for the metrics (see
:class:`hookadmin.core.store.ports.MetricsSource`)."""

from __future__ import annotations

import math
from typing import Any

from psycopg import Connection

from hookadmin.core.store.metrics_records import AttemptSample, DeliveryGauges
from hookadmin.core.store.metrics_sql import (
    GAUGES,
    LAST_ATTEMPT,
    SAMPLES,
    gauges_from_row,
    sample_from_row,
)

_GAUGES = GAUGES.format(not_fanned_out="NOT fanned_out", active="active").encode()
_SAMPLES = SAMPLES.format(mark="%s").encode()


class MetricsPart:
    """Counts and attempt samples. Mixed into
    :class:`hookadmin.core.store.postgres.PostgresStore`, which provides :attr:`db`.

    Attempt ids come from an identity column: two engines committing at once may
    commit a lower id after a higher one was read, and such an attempt is then left
    out of the counters (the gauges are exact)."""

    @property
    def db(self) -> Connection[tuple[Any, ...]]:
        """The connection (provided by the store)."""
        raise NotImplementedError

    def delivery_gauges(self) -> DeliveryGauges:
        """The queue now (see :class:`DeliveryGauges`)."""
        row = self.db.execute(_GAUGES).fetchone()
        assert row is not None
        return gauges_from_row(row)

    def last_attempt_id(self) -> int:
        """The id of the newest attempt (0 when none)."""
        row = self.db.execute(LAST_ATTEMPT.encode()).fetchone()
        assert row is not None
        return int(row[0])

    def attempt_samples(self, after_id: int, *, limit: int = 10000,
                        since: float | None = None) -> list[AttemptSample]:
        """Attempts (no pings) with an id above ``after_id`` (started at ``since`` or
        later), oldest first."""
        return [sample_from_row(r) for r in self.db.execute(
            _SAMPLES, (after_id, -math.inf if since is None else since, limit))]
