"""A project's filter settings (shoal/store/inbound_filters.py) and the order filters are asked in
(`first_reason`)."""

from __future__ import annotations

from shoal import outcomes
from shoal.digest.filters import FILTERS, Inbound, first_reason
from shoal.store.inbound_filters import ALL_FILTERS, DEFAULT_ON, FilterSettings


def test_a_project_that_never_saved_has_sentrys_defaults_and_the_404_filter() -> None:
    settings = FilterSettings.from_json("{}")
    assert settings.on == {
        outcomes.FILTER_BROWSER_EXTENSIONS,
        outcomes.FILTER_LEGACY_BROWSERS,
        outcomes.FILTER_WEB_CRAWLERS,
        outcomes.FILTER_HEALTH_CHECK,
        outcomes.FILTER_HTTP_404,
    }
    assert not settings.is_on(outcomes.FILTER_ERROR_TYPE)
    assert not settings.is_on(outcomes.FILTER_LOCALHOST)


def test_error_types_are_offered_with_the_client_disconnects_filled_in() -> None:
    patterns = FilterSettings().patterns_of(outcomes.FILTER_ERROR_TYPE)
    assert patterns == ("ConnectionResetError", "BrokenPipeError")


def test_saved_settings_round_trip_and_keep_patterns_of_a_filter_switched_off() -> None:
    settings = FilterSettings(
        frozenset({outcomes.FILTER_RELEASE}),
        {outcomes.FILTER_RELEASE: ("shop@1.*",), outcomes.FILTER_ERROR_TYPE: ("KeyError",)},
    )
    again = FilterSettings.from_json(settings.to_json())
    assert again.on == {outcomes.FILTER_RELEASE}
    assert again.patterns_of(outcomes.FILTER_ERROR_TYPE) == ("KeyError",)
    assert again.patterns_of(outcomes.FILTER_RELEASE) == ("shop@1.*",)


def test_a_column_that_cannot_be_read_gives_the_defaults() -> None:
    for junk in ("not json", "[1, 2]", '{"error-type": {"on": "yes", "patterns": "KeyError"}}', None):
        settings = FilterSettings.from_json(junk)
        assert settings.on == DEFAULT_ON
        assert settings.patterns_of(outcomes.FILTER_ERROR_TYPE) == ("ConnectionResetError", "BrokenPipeError")


def test_every_filter_has_its_own_outcome_reason_and_a_setting() -> None:
    assert set(FILTERS) == set(ALL_FILTERS)
    assert len(set(FILTERS)) == 11


def test_an_event_two_filters_drop_is_counted_under_the_first_in_relays_order() -> None:
    settings = FilterSettings(
        frozenset({outcomes.FILTER_RELEASE, outcomes.FILTER_ERROR_TYPE}),
        {outcomes.FILTER_RELEASE: ("shop@1.*",), outcomes.FILTER_ERROR_TYPE: ("KeyError",)},
    )
    event = {"release": "shop@1.2", "exception": {"values": [{"type": "KeyError", "value": "'x'"}]}}
    assert first_reason(Inbound(event), settings) == outcomes.FILTER_RELEASE
    assert first_reason(Inbound({**event, "release": "shop@2.0"}), settings) == outcomes.FILTER_ERROR_TYPE
    assert first_reason(Inbound({"message": "hello"}), settings) is None


def test_only_switches_one_filter_on_with_the_shown_patterns() -> None:
    alone = FilterSettings().only(outcomes.FILTER_ERROR_TYPE)
    assert alone.on == {outcomes.FILTER_ERROR_TYPE}
    assert alone.patterns_of(outcomes.FILTER_ERROR_TYPE) == ("ConnectionResetError", "BrokenPipeError")
