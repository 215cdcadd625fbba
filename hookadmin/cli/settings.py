"""``hookadmin settings``: show the settings, changing those given first."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from hookadmin.core.errors import InputError
from hookadmin.core.service import DELIVERY_DEFAULTS, HookService

if TYPE_CHECKING:
    from hookadmin.cli.common import Subcommands


def add_parser(sub: Subcommands) -> None:
    """Add ``settings`` to ``sub`` (the top parser's subcommands)."""
    st = sub.add_parser("settings", help="show or change settings")
    st.add_argument("--retention-days", type=int, metavar="N",
                    help="days of finished delivery history to keep (default 30)")
    st.add_argument("--audit-retention-days", type=int, metavar="N",
                    help="days of audit log to keep (default 0: keep every entry)")
    st.add_argument("--failing-alert-minutes", type=float, metavar="N",
                    help="minutes a hook fails with no success before hook.failing is sent "
                         "(default 15)")
    st.add_argument("--network-policy", choices=("workstation", "strict"),
                    help="strict refuses loopback and private addresses too")
    st.add_argument("--retry-schedule", metavar="SECONDS,...",
                    help="delays before each attempt, e.g. 0,5,300,1800,7200,18000,36000,36000")
    st.add_argument("--connect-timeout", type=float, metavar="SECONDS")
    st.add_argument("--attempt-timeout", type=float, metavar="SECONDS")
    st.add_argument("--response-cap", type=int, metavar="BYTES",
                    help="response body bytes kept per attempt")
    st.add_argument("--retry-pace", type=float, metavar="PER_SECOND",
                    help="retries started per second at most while fresh events flow "
                         "(default 50; without fresh events retries go at full speed)")
    st.add_argument("--proxy", metavar="URL",
                    help="the proxy of every HTTP hook without its own: "
                         "http://user:password@proxy.example:3128 (the password goes to the "
                         "keyring); '' for none")
    st.add_argument("--proxy-ca-bundle", metavar="F",
                    help="a PEM file of CA certificates the global or environment's proxy "
                         "is trusted with (an https:// proxy with a private CA); '' for none")
    st.add_argument("--proxy-from-env", choices=("on", "off"),
                    help="honour HTTPS_PROXY/HTTP_PROXY/NO_PROXY for hooks without a proxy "
                         "(default off)")


def run(service: HookService, args: argparse.Namespace) -> int:
    """Change the settings given in ``args`` (each checked by the service), then print
    every setting as ``name: value`` lines. Returns 0.

    Raises:
        InputError: a value is not valid (nothing of it changed).
        SecretStoreError: a proxy password cannot be kept in the keyring.
    """
    if args.retention_days is not None:
        service.set_retention_days(args.retention_days)
    if args.failing_alert_minutes is not None:
        service.set_failing_alert_after(args.failing_alert_minutes * 60)
    if args.audit_retention_days is not None:
        service.set_audit_retention_days(args.audit_retention_days or None)
    if args.network_policy is not None:
        service.set_network_policy(args.network_policy)
    schedule = None
    if args.retry_schedule is not None:
        try:
            schedule = [float(part) for part in args.retry_schedule.split(",")]
        except ValueError:
            raise InputError("--retry-schedule takes seconds separated by commas, e.g. "
                             "0,5,300,1800.") from None
    service.set_delivery_options(retry_schedule=schedule,
                                 connect_timeout=args.connect_timeout,
                                 attempt_timeout=args.attempt_timeout,
                                 response_cap=args.response_cap,
                                 retry_rate_while_fresh=args.retry_pace)
    if args.proxy is not None or args.proxy_from_env is not None \
            or args.proxy_ca_bundle is not None:
        service.set_proxy(url=args.proxy, from_environment=None if args.proxy_from_env is None
                          else args.proxy_from_env == "on", ca_bundle=args.proxy_ca_bundle)
    options = {**DELIVERY_DEFAULTS, **service.delivery_options()}
    proxy = service.proxy_setting()
    print(f"retention-days: {service.retention_days()}")
    print(f"audit-retention-days: {service.audit_retention_days() or 0}")
    print(f"failing-alert-minutes: {service.failing_alert_after() / 60:g}")
    print(f"network-policy: {service.network_policy()}")
    print("retry-schedule: " + ",".join(f"{d:g}" for d in options["retry_schedule"]))
    print(f"connect-timeout: {options['connect_timeout']:g}")
    print(f"attempt-timeout: {options['attempt_timeout']:g}")
    print(f"response-cap: {options['response_cap']}")
    print(f"retry-pace: {options['retry_rate_while_fresh']:g}")
    print(f"proxy: {proxy.url or 'none'}")
    print(f"proxy-from-env: {'on' if proxy.from_environment else 'off'}")
    print(f"proxy-ca-bundle: {proxy.ca_bundle or 'none'}")
    return 0
