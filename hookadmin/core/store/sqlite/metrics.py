"""The SQLite store's figures for the metrics (see
:class:`hookadmin.core.store.ports.MetricsSource`)."""

from __future__ import annotations

import math

from hookadmin.core.store.metrics_records import AttemptSample, DeliveryGauges
from hookadmin.core.store.metrics_sql import (
    GAUGES,
    LAST_ATTEMPT,
    SAMPLES,
    gauges_from_row,
    sample_from_row,
)
from hookadmin.core.store.sqlite.connection import Connected

_GAUGES = GAUGES.format(not_fanned_out="fanned_out = 0", active="active = 1")
_SAMPLES = SAMPLES.format(mark="?")


class MetricsPart(Connected):
    """Counts and attempt samples, read in one statement each."""

    def delivery_gauges(self) -> DeliveryGauges:
        """The queue now (see :class:`DeliveryGauges`)."""
        return gauges_from_row(self._db.execute(_GAUGES).fetchone())

    def last_attempt_id(self) -> int:
        """The id of the newest attempt (0 when none)."""
        return int(self._db.execute(LAST_ATTEMPT).fetchone()[0])

    def attempt_samples(self, after_id: int, *, limit: int = 10000,
                        since: float | None = None) -> list[AttemptSample]:
        """Attempts (no pings) with an id above ``after_id`` (started at ``since`` or
        later), oldest first."""
        return [sample_from_row(r) for r in self._db.execute(
            _SAMPLES, (after_id, -math.inf if since is None else since, limit))]
