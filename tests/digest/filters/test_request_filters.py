"""The filters that look at where an event came from: IP addresses, localhost, web crawlers, and
health-check transactions (by name or URL path); and the release and environment globs."""

from __future__ import annotations

from typing import Any

import pytest

from shoal import outcomes
from shoal.digest.filters import environment, health_check, ip_address, localhost, release, web_crawlers
from shoal.digest.filters.inbound import Inbound
from shoal.store.inbound_filters import FilterSettings

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def with_list(reason: str, *patterns: str) -> FilterSettings:
    return FilterSettings(frozenset({reason}), {reason: patterns})


def from_agent(agent: str) -> dict[str, Any]:
    return {"request": {"url": "https://shop.example.com/", "headers": {"User-Agent": agent}}}


# ---------------------------------------------------------------------------------- IP addresses


def test_an_address_or_a_range_drops_by_the_users_address_or_the_senders() -> None:
    settings = with_list(outcomes.FILTER_IP_ADDRESS, "10.0.0.0/8", "2001:db8::/32", "192.0.2.7")
    assert ip_address.check(Inbound({"user": {"ip_address": "10.1.2.3"}}), settings) is not None
    assert ip_address.check(Inbound({"user": {"ip_address": "2001:db8::1"}}), settings) is not None
    assert ip_address.check(Inbound({}, client_ip="192.0.2.7"), settings) == outcomes.FILTER_IP_ADDRESS
    assert ip_address.check(Inbound({"user": {"ip_address": "11.0.0.1"}}, "192.0.2.8"), settings) is None


def test_an_address_an_sdk_left_for_the_server_to_fill_is_not_an_address() -> None:
    settings = with_list(outcomes.FILTER_IP_ADDRESS, "10.0.0.0/8")
    assert ip_address.check(Inbound({"user": {"ip_address": "{{auto}}"}}), settings) is None


@pytest.mark.parametrize("pattern", ["10.0.0.0/33", "not an address", "10.0.0.0/8/8", "::g"])
def test_a_pattern_that_is_not_an_address_is_explained(pattern: str) -> None:
    assert ip_address.ip_address_error(pattern) is not None
    assert (
        ip_address.check(
            Inbound({"user": {"ip_address": "10.0.0.1"}}), with_list(outcomes.FILTER_IP_ADDRESS, pattern)
        )
        is None
    )


# ------------------------------------------------------------------------------------- localhost

ON = FilterSettings().only(outcomes.FILTER_LOCALHOST)


@pytest.mark.parametrize(
    "event",
    [
        {"user": {"ip_address": "127.0.0.1"}},
        {"user": {"ip_address": "::1"}},
        {"request": {"url": "http://localhost:8000/cart"}},
        {"request": {"url": "http://shop.localhost/cart"}},
        {"request": {"url": "http://127.0.0.1:5000/"}},
        {"request": {"url": "file:///home/dev/index.html"}},
        {"request": {"headers": [["Host", "localhost:3000"]]}},
    ],
)
def test_events_from_a_developers_machine_are_dropped(event: dict[str, Any]) -> None:
    assert localhost.check(Inbound(event), ON) == outcomes.FILTER_LOCALHOST


def test_a_host_that_only_starts_like_localhost_and_the_sending_address_are_not_local() -> None:
    assert localhost.check(Inbound({"request": {"url": "https://localhost.com/"}}), ON) is None
    # A backend SDK on Shoal's own machine sends from 127.0.0.1 whatever its users do.
    assert localhost.check(Inbound({}, client_ip="127.0.0.1"), ON) is None
    assert localhost.check(Inbound({"user": {"ip_address": "127.0.0.1"}}), FilterSettings()) is None


# ----------------------------------------------------------------------------------- web crawlers


@pytest.mark.parametrize(
    "agent",
    [
        GOOGLEBOT,
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
        "Mozilla/5.0 (compatible; Bytespider; spider-feedback@bytedance.com)",
    ],
)
def test_known_crawlers_are_dropped_by_their_user_agent(agent: str) -> None:
    assert web_crawlers.check(Inbound(from_agent(agent)), FilterSettings()) == outcomes.FILTER_WEB_CRAWLERS


def test_people_and_slackbot_itself_are_kept() -> None:
    for agent in (FIREFOX, "Slackbot 1.0 (+https://api.slack.com/robots)"):
        assert web_crawlers.check(Inbound(from_agent(agent)), FilterSettings()) is None
    assert web_crawlers.check(Inbound({}), FilterSettings()) is None


# ------------------------------------------------------------------------- health-check transactions


def transaction(name: str, url: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "transaction", "transaction": name}
    if url is not None:
        event["request"] = {"url": url, "method": "GET"}
    return event


def test_a_health_check_transaction_is_dropped_by_its_name() -> None:
    assert (
        health_check.check(Inbound(transaction("GET /healthz")), FilterSettings())
        == outcomes.FILTER_HEALTH_CHECK
    )
    assert health_check.check(Inbound(transaction("/k8s/ready/")), FilterSettings()) is not None


def test_an_endpoint_named_transaction_is_dropped_by_its_url_path() -> None:
    # transaction_style="endpoint": the name is the view function, the URL still says /health.
    named = transaction("app.main.health", "https://shop.example.com/health?probe=lb")
    assert health_check.check(Inbound(named), FilterSettings()) == outcomes.FILTER_HEALTH_CHECK
    assert health_check.check(Inbound(transaction("app.main.health")), FilterSettings()) is None


def test_a_host_named_health_and_ordinary_pages_are_kept() -> None:
    other = transaction("app.main.checkout", "https://health.example.com/checkout")
    assert health_check.check(Inbound(other), FilterSettings()) is None
    assert health_check.check(Inbound(transaction("/api/healthy-recipes")), FilterSettings()) is None


def test_an_error_at_a_health_endpoint_is_news_and_is_kept() -> None:
    error = {"transaction": "/health", "exception": {"values": [{"type": "OperationalError"}]}}
    assert health_check.check(Inbound(error), FilterSettings()) is None


def test_the_health_check_filter_switched_off_keeps_them() -> None:
    off = FilterSettings(frozenset(), {})
    assert health_check.check(Inbound(transaction("/health")), off) is None


# ------------------------------------------------------------------------ releases, environments


def test_a_release_glob_matches_the_whole_release_and_never_an_event_without_one() -> None:
    settings = with_list(outcomes.FILTER_RELEASE, "shop@1.*")
    assert release.check(Inbound({"release": "shop@1.4.2"}), settings) == outcomes.FILTER_RELEASE
    assert release.check(Inbound({"release": "shop@2.0.0"}), settings) is None
    assert release.check(Inbound({}), with_list(outcomes.FILTER_RELEASE, "*")) is None


def test_an_environment_glob_drops_that_environment_only() -> None:
    settings = with_list(outcomes.FILTER_ENVIRONMENT, "staging", "dev-*")
    assert environment.check(Inbound({"environment": "dev-anna"}), settings) == outcomes.FILTER_ENVIRONMENT
    assert environment.check(Inbound({"environment": "Staging"}), settings) is not None
    assert environment.check(Inbound({"environment": "production"}), settings) is None
    assert environment.check(Inbound({}), with_list(outcomes.FILTER_ENVIRONMENT, "*")) is None
