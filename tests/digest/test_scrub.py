"""Server-side PII scrubbing (shoal/digest/scrub.py): a table of what is removed and what is kept,
then `_meta`, the settings, and the digest pipeline scrubbing before anything is made of the event."""

from __future__ import annotations

import copy
import html
import time
from typing import Any

import orjson
import pytest
from markupsafe import escape

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.normalize import NormalizeContext, normalize_event
from shoal.digest.pipeline import Digested, DigestLimits, Pipeline, ProjectSettings
from shoal.digest.scrub import FILTERED, MAX_DEPTH, scrub_event
from shoal.spool.base import SpoolEntry
from shoal.store.events import PayloadCodec
from shoal.store.projects import ProjectGrouping, ScrubbingSettings
from shoal.web.scrubbed_view import show
from shoal.web.templating import pretty_json

DEFAULTS = ScrubbingSettings()
F = FILTERED
KEEP = object()  # the expected value: the input's own, unchanged


def frame_vars(variables: dict[str, Any]) -> dict[str, Any]:
    return {
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "boom",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "app/pay.py",
                                "function": "pay",
                                "context_line": "    password = read_secret()",
                                "vars": variables,
                            }
                        ]
                    },
                }
            ]
        }
    }


def var(name: str) -> tuple[Any, ...]:
    return ("exception", "values", 0, "stacktrace", "frames", 0, "vars", name)


def crumb(message: str | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"category": "http", "timestamp": 1.0}
    if message is not None:
        value["message"] = message
    if data is not None:
        value["data"] = data
    return {"breadcrumbs": {"values": [value]}}


def request(**fields: Any) -> dict[str, Any]:
    return {"request": {"method": "GET", **fields}}


def at(event: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        event = event[key]
    return event


CARD_SPACES = "4111 1111 1111 1111"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq\nq0vQ9ce+x2\n-----END RSA PRIVATE KEY-----"

# (case, event, settings, where, expected)
CASES: list[tuple[str, dict[str, Any], ScrubbingSettings, tuple[Any, ...], Any]] = [
    # --- sensitive keys, Sentry's word list matched anywhere in the key, any case
    ("password", frame_vars({"password": "'hunter2'"}), DEFAULTS, var("password"), F),
    ("passwd", frame_vars({"db_passwd": "'x'"}), DEFAULTS, var("db_passwd"), F),
    ("secret", frame_vars({"the_secret": "'x'"}), DEFAULTS, var("the_secret"), F),
    ("api_key", frame_vars({"api_key": "'k'"}), DEFAULTS, var("api_key"), F),
    ("apiKey, any case", frame_vars({"apiKey": "'k'"}), DEFAULTS, var("apiKey"), F),
    ("access_token", frame_vars({"access_token": "'t'"}), DEFAULTS, var("access_token"), F),
    ("a key with auth in it", frame_vars({"auth_header": "'x'"}), DEFAULTS, var("auth_header"), F),
    ("mysql_pwd", {"extra": {"MYSQL_PWD": "x"}}, DEFAULTS, ("extra", "MYSQL_PWD"), F),
    ("private_key", {"extra": {"private_key": "x"}}, DEFAULTS, ("extra", "private_key"), F),
    ("privatekey", {"extra": {"privateKey": "x"}}, DEFAULTS, ("extra", "privateKey"), F),
    (
        "credentials, an object, removed",
        {"extra": {"credentials": {"u": "a"}}},
        DEFAULTS,
        ("extra", "credentials"),
        None,
    ),
    ("otp, exactly", {"extra": {"otp": "123456"}}, DEFAULTS, ("extra", "otp"), F),
    ("otp only as the whole key", {"extra": {"otp_sent": "yes"}}, DEFAULTS, ("extra", "otp_sent"), KEEP),
    ("two-factor", {"extra": {"two-factor": "123456"}}, DEFAULTS, ("extra", "two-factor"), F),
    ("a key that is not sensitive", frame_vars({"order_id": "'452903'"}), DEFAULTS, var("order_id"), KEEP),
    ("csrftoken", {"extra": {"csrftoken": "x"}}, DEFAULTS, ("extra", "csrftoken"), F),
    ("a session cookie name as a key", frame_vars({"sessionid": "'abc'"}), DEFAULTS, var("sessionid"), F),
    # --- headers and cookies
    (
        "Authorization header, dict",
        request(headers={"Authorization": "Bearer abc.def.ghi", "Accept": "*/*"}),
        DEFAULTS,
        ("request", "headers", "Authorization"),
        F,
    ),
    (
        "Authorization header, pairs",
        request(headers=[["authorization", "Basic dXNlcjpwYXNz"], ["Accept", "*/*"]]),
        DEFAULTS,
        ("request", "headers", 0, 1),
        F,
    ),
    (
        "Accept header kept",
        request(headers=[["Accept", "*/*"]]),
        DEFAULTS,
        ("request", "headers", 0, 1),
        KEEP,
    ),
    (
        "Cookie header, whole",
        request(headers={"Cookie": "theme=dark; sessionid=abc"}),
        DEFAULTS,
        ("request", "headers", "Cookie"),
        F,
    ),
    (
        "Set-Cookie in a response context",
        {"contexts": {"response": {"headers": {"Set-Cookie": "sessionid=abc; HttpOnly"}}}},
        DEFAULTS,
        ("contexts", "response", "headers", "Set-Cookie"),
        F,
    ),
    (
        "a session cookie in request.cookies",
        request(cookies={"sessionid": "abc", "theme": "dark"}),
        DEFAULTS,
        ("request", "cookies", "sessionid"),
        F,
    ),
    (
        "other cookies kept",
        request(cookies={"sessionid": "abc", "theme": "dark"}),
        DEFAULTS,
        ("request", "cookies", "theme"),
        KEEP,
    ),
    (
        "cookies as a string",
        request(cookies="theme=dark; csrftoken=abc; sessionid=x"),
        DEFAULTS,
        ("request", "cookies"),
        f"theme=dark; csrftoken={F}; sessionid={F}",
    ),
    (
        "HTTP_AUTHORIZATION in env",
        request(env={"HTTP_AUTHORIZATION": "x"}),
        DEFAULTS,
        ("request", "env", "HTTP_AUTHORIZATION"),
        F,
    ),
    # --- nested, in lists, pairs
    (
        "nested deep in extra",
        {"extra": {"config": {"db": {"password": "pw", "host": "db1"}}}},
        DEFAULTS,
        ("extra", "config", "db", "password"),
        F,
    ),
    (
        "nested sibling kept",
        {"extra": {"config": {"db": {"password": "pw", "host": "db1"}}}},
        DEFAULTS,
        ("extra", "config", "db", "host"),
        KEEP,
    ),
    (
        "in a list of objects",
        {"extra": {"accounts": [{"name": "a"}, {"name": "b", "token": "t"}]}},
        DEFAULTS,
        ("extra", "accounts", 1, "token"),
        F,
    ),
    ("a tag by its key", {"tags": [["auth_method", "sso"], ["shop", "berlin"]]}, DEFAULTS, ("tags", 0, 1), F),
    (
        "a plain tag kept",
        {"tags": [["auth_method", "sso"], ["shop", "berlin"]]},
        DEFAULTS,
        ("tags", 1, 1),
        KEEP,
    ),
    (
        "argv pairs",
        {"extra": {"argv": [["--token", "s3"], ["--port", "80"]]}},
        DEFAULTS,
        ("extra", "argv", 0, 1),
        F,
    ),
    # --- credit cards: 13–19 digits, Luhn-valid, a network's first digit
    ("card with spaces", frame_vars({"card": f"'{CARD_SPACES}'"}), DEFAULTS, var("card"), f"'{F}'"),
    ("card with dashes", frame_vars({"card": "'4111-1111-1111-1111'"}), DEFAULTS, var("card"), f"'{F}'"),
    ("card written whole", {"extra": {"pan": "4111111111111111"}}, DEFAULTS, ("extra", "pan"), F),
    ("Amex in groups", {"extra": {"c": "3782 822463 10005"}}, DEFAULTS, ("extra", "c"), F),
    (
        "card inside text",
        {"extra": {"note": "paid with 5555555555554444 today"}},
        DEFAULTS,
        ("extra", "note"),
        f"paid with {F} today",
    ),
    ("Luhn-invalid number kept", {"extra": {"pan": "4111111111111112"}}, DEFAULTS, ("extra", "pan"), KEEP),
    ("millisecond timestamp kept", {"extra": {"at": "1732470399711"}}, DEFAULTS, ("extra", "at"), KEEP),
    ("order number kept", frame_vars({"order": "'452903'"}), DEFAULTS, var("order"), KEEP),
    ("UUID kept", frame_vars({"id": "'2dd63566-92e5-4750-8095-b3e9d3550cb9'"}), DEFAULTS, var("id"), KEEP),
    ("hex id kept", frame_vars({"rid": "'9742445558ed4f1e8a6c0d4b7f3e2a10'"}), DEFAULTS, var("rid"), KEEP),
    (
        "card in an exception value, the rest kept",
        {"exception": {"values": [{"type": "PaymentError", "value": f"declined: {CARD_SPACES}"}]}},
        DEFAULTS,
        ("exception", "values", 0, "value"),
        f"declined: {F}",
    ),
    (
        "card in a breadcrumb message",
        crumb(message=f"charging {CARD_SPACES}"),
        DEFAULTS,
        ("breadcrumbs", "values", 0, "message"),
        f"charging {F}",
    ),
    # --- PEM keys, URL passwords, bearer tokens, IBAN, SSN
    (
        "PEM key body",
        {"extra": {"key": PEM}},
        DEFAULTS,
        ("extra", "key"),
        f"-----BEGIN RSA PRIVATE KEY-----\n{F}\n-----END RSA PRIVATE KEY-----",
    ),
    (
        "password in the request URL",
        request(url="https://bob:s3cret@api.example.com/v1/charges"),
        DEFAULTS,
        ("request", "url"),
        f"https://bob:{F}@api.example.com/v1/charges",
    ),
    (
        "password in a breadcrumb's URL",
        crumb(data={"url": "postgres://app:pa55@db:5432/shop"}),
        DEFAULTS,
        ("breadcrumbs", "values", 0, "data", "url"),
        f"postgres://app:{F}@db:5432/shop",
    ),
    (
        "an e-mail address is not a URL password",
        frame_vars({"email": "'ivo@example.com'"}),
        DEFAULTS,
        var("email"),
        KEEP,
    ),
    (
        "bearer token in a breadcrumb message",
        crumb(message="GET /api Authorization: Bearer abc.def.ghi"),
        DEFAULTS,
        ("breadcrumbs", "values", 0, "message"),
        f"GET /api Authorization: Bearer {F}",
    ),
    (
        "bearer token in the message, lower case",
        {"logentry": {"formatted": "retrying with bearer abc.def.ghi"}},
        DEFAULTS,
        ("logentry", "formatted"),
        f"retrying with bearer {F}",
    ),
    ("IBAN", {"extra": {"iban": "NL91ABNA0417164300"}}, DEFAULTS, ("extra", "iban"), F),
    (
        "IBAN in groups",
        {"extra": {"to": "pay to DE89 3704 0044 0532 0130 00"}},
        DEFAULTS,
        ("extra", "to"),
        f"pay to {F}",
    ),
    (
        "IBAN with a wrong check kept",
        {"extra": {"iban": "NL92ABNA0417164300"}},
        DEFAULTS,
        ("extra", "iban"),
        KEEP,
    ),
    ("US SSN", {"extra": {"ssn": "078-05-1120"}}, DEFAULTS, ("extra", "ssn"), F),
    (
        "US SSN in the message",
        {"logentry": {"formatted": "user 078-05-1120 failed"}},
        DEFAULTS,
        ("logentry", "formatted"),
        f"user {F} failed",
    ),
    ("a date is not an SSN", {"extra": {"day": "2026-11-24"}}, DEFAULTS, ("extra", "day"), KEEP),
    # --- name=value pairs in request strings
    (
        "query string",
        request(query_string="page=2&password=hunter2&q=shoes"),
        DEFAULTS,
        ("request", "query_string"),
        f"page=2&password={F}&q=shoes",
    ),
    (
        "query and fragment of the URL",
        request(url="https://shop.example.com/cb?page=2&api_key=k1#access_token=t1&state=s"),
        DEFAULTS,
        ("request", "url"),
        f"https://shop.example.com/cb?page=2&api_key={F}#access_token={F}&state=s",
    ),
    (
        "form body",
        request(data="user=bob&password=pw"),
        DEFAULTS,
        ("request", "data"),
        f"user=bob&password={F}",
    ),
    (
        "JSON body by key",
        request(data={"user": "bob", "password": "pw"}),
        DEFAULTS,
        ("request", "data", "password"),
        F,
    ),
    (
        "JSON body sent as a string",
        request(data='{"user": "bob", "password": "pw"}'),
        DEFAULTS,
        ("request", "data", "password"),
        F,
    ),
    ("a body that is not JSON kept", request(data="{not json"), DEFAULTS, ("request", "data"), KEEP),
    # --- what is not scrubbed
    (
        "source context kept",
        frame_vars({}),
        DEFAULTS,
        ("exception", "values", 0, "stacktrace", "frames", 0, "context_line"),
        KEEP,
    ),
    (
        "frame filename kept",
        frame_vars({}),
        DEFAULTS,
        ("exception", "values", 0, "stacktrace", "frames", 0, "filename"),
        KEEP,
    ),
    (
        "a boolean under a sensitive key kept",
        frame_vars({"authenticated": True}),
        DEFAULTS,
        var("authenticated"),
        KEEP,
    ),
    ("null under a sensitive key kept", frame_vars({"token": None}), DEFAULTS, var("token"), KEEP),
    (
        "a number under a sensitive key removed",
        frame_vars({"pin_secret": 1234}),
        DEFAULTS,
        var("pin_secret"),
        None,
    ),
    (
        "a number that looks like a card kept",
        {"extra": {"n": 4111111111111111}},
        DEFAULTS,
        ("extra", "n"),
        KEEP,
    ),
    (
        "a string the SDK filtered stays",
        request(headers={"Cookie": F}),
        DEFAULTS,
        ("request", "headers", "Cookie"),
        F,
    ),
    # --- project settings
    (
        "safe field keeps a password",
        frame_vars({"password": "'x'"}),
        ScrubbingSettings(safe_fields=("password",)),
        var("password"),
        KEEP,
    ),
    (
        "safe field keeps a card",
        {"extra": {"test_card": "4111111111111111"}},
        ScrubbingSettings(safe_fields=("Test_Card",)),
        ("extra", "test_card"),
        KEEP,
    ),
    (
        "sensitive field by key",
        {"extra": {"customer_ref": "C-1"}},
        ScrubbingSettings(sensitive_fields=("customer_ref",)),
        ("extra", "customer_ref"),
        F,
    ),
    (
        "sensitive field in a value",
        {"extra": {"note": "ref Customer_Ref 12"}},
        ScrubbingSettings(sensitive_fields=("customer_ref",)),
        ("extra", "note"),
        F,
    ),
    (
        "sensitive field does not destroy the message",
        {"logentry": {"formatted": "customer_ref missing"}},
        ScrubbingSettings(sensitive_fields=("customer_ref",)),
        ("logentry", "formatted"),
        KEEP,
    ),
    (
        "IP kept by default",
        {"user": {"id": "7", "ip_address": "10.1.2.3"}},
        DEFAULTS,
        ("user", "ip_address"),
        KEEP,
    ),
    (
        "IP scrubbing: user.ip_address",
        {"user": {"id": "7", "ip_address": "10.1.2.3"}},
        ScrubbingSettings(scrub_ip_addresses=True),
        ("user", "ip_address"),
        None,
    ),
    (
        "IP scrubbing: REMOTE_ADDR",
        request(env={"REMOTE_ADDR": "10.1.2.3"}),
        ScrubbingSettings(scrub_ip_addresses=True),
        ("request", "env", "REMOTE_ADDR"),
        None,
    ),
    (
        "IP scrubbing: X-Forwarded-For",
        request(headers={"X-Forwarded-For": "10.1.2.3"}),
        ScrubbingSettings(scrub_ip_addresses=True),
        ("request", "headers", "X-Forwarded-For"),
        None,
    ),
    (
        "scrubbing off keeps a password",
        frame_vars({"password": "'x'"}),
        ScrubbingSettings(enabled=False),
        var("password"),
        KEEP,
    ),
    (
        "scrubbing off keeps a card",
        {"extra": {"pan": "4111111111111111"}},
        ScrubbingSettings(enabled=False),
        ("extra", "pan"),
        KEEP,
    ),
    (
        "scrubbing off, IPs still removed",
        {"user": {"ip_address": "10.1.2.3"}},
        ScrubbingSettings(enabled=False, scrub_ip_addresses=True),
        ("user", "ip_address"),
        None,
    ),
]


@pytest.mark.parametrize(
    ("event", "settings", "where", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_scrubbing(
    event: dict[str, Any], settings: ScrubbingSettings, where: tuple[Any, ...], expected: Any
) -> None:
    scrubbed = scrub_event(copy.deepcopy(event), settings)
    assert at(scrubbed, where) == (at(event, where) if expected is KEEP else expected)


def test_the_table_has_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


# --------------------------------------------------------------------------------------- _meta


def test_a_filtered_value_is_recorded_in_meta_with_its_rule_range_and_length() -> None:
    event = scrub_event(frame_vars({"password": "'hunter2'"}), DEFAULTS)
    assert at(
        event["_meta"], ("exception", "values", "0", "stacktrace", "frames", "0", "vars", "password")
    ) == {"": {"rem": [["@password:filter", "s", 0, len(F)]], "len": 9}}


def test_a_removed_value_is_recorded_as_removed() -> None:
    event = scrub_event({"extra": {"credentials": {"user": "u"}}}, DEFAULTS)
    assert event["extra"]["credentials"] is None
    assert event["_meta"]["extra"]["credentials"] == {"": {"rem": [["@password:filter", "x"]]}}


def test_a_partly_filtered_string_has_the_range_of_each_replacement() -> None:
    text = f"card {CARD_SPACES} and 078-05-1120"
    event = scrub_event({"extra": {"note": text}}, DEFAULTS)
    assert event["extra"]["note"] == f"card {F} and {F}"
    rem = event["_meta"]["extra"]["note"][""]["rem"]
    assert rem == [["@creditcard:filter", "s", 5, 15], ["@usssn:filter", "s", 20, 30]]
    assert all(event["extra"]["note"][start:end] == F for _, _, start, end in rem)
    assert event["_meta"]["extra"]["note"][""]["len"] == len(text)


def test_list_indices_and_pairs_are_strings_in_meta() -> None:
    event = scrub_event({"tags": [["shop", "berlin"], ["api_key", "k"]]}, DEFAULTS)
    assert event["_meta"]["tags"]["1"]["1"][""]["rem"] == [["@password:filter", "s", 0, len(F)]]


def test_what_the_sdk_recorded_in_meta_is_kept() -> None:
    event = request(headers={"Cookie": F, "Authorization": "Bearer x"})
    event["_meta"] = {"request": {"headers": {"Cookie": {"": {"rem": [["!config", "s"]]}}}}}
    scrubbed = scrub_event(event, DEFAULTS)
    headers_meta = scrubbed["_meta"]["request"]["headers"]
    assert headers_meta["Cookie"] == {"": {"rem": [["!config", "s"]]}}
    assert headers_meta["Authorization"][""]["rem"] == [["@password:filter", "s", 0, len(F)]]


def test_an_event_without_secrets_is_returned_as_it_was() -> None:
    event = frame_vars({"order_id": "'452903'", "tenant": "'globex'"})
    before = copy.deepcopy(event)
    assert scrub_event(event, DEFAULTS) == before
    assert "_meta" not in event


def test_it_scrubs_in_place_and_returns_the_event() -> None:
    event = frame_vars({"password": "'x'"})
    assert scrub_event(event, DEFAULTS) is event
    assert at(event, var("password")) == F


def test_data_nested_deeper_than_it_checks_is_dropped() -> None:
    deep: dict[str, Any] = {"leaf": "4111111111111111"}
    for _ in range(MAX_DEPTH + 5):
        deep = {"next": deep}
    event = scrub_event({"extra": {"deep": deep}}, DEFAULTS)
    assert "4111111111111111" not in orjson.dumps(event).decode()
    assert "!limit" in orjson.dumps(event["_meta"]).decode()


def test_the_same_secret_in_many_frames_is_filtered_in_each() -> None:
    frames = [{"function": f"f{i}", "vars": {"card": f"'{CARD_SPACES}'", "n": str(i)}} for i in range(12)]
    event = {"exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}}]}}
    scrubbed = scrub_event(event, DEFAULTS)
    assert [
        frame["vars"]["card"] for frame in scrubbed["exception"]["values"][0]["stacktrace"]["frames"]
    ] == [f"'{F}'"] * 12


def test_a_dict_passed_down_the_stack_is_scrubbed_in_every_frame_that_shows_it() -> None:
    # sentry-python serializes each frame's locals apart: the same dict, once per frame.
    def ctx() -> dict[str, Any]:
        return {
            "tenant": "'globex'",
            "session": {"uid": "'7'"},
            "auth": {"token": "'t'"},
            "note": CARD_SPACES,
        }

    frames: list[dict[str, Any]] = [{"function": f"f{i}", "vars": {"ctx": ctx()}} for i in range(5)]
    frames[2]["vars"]["ctx"]["tenant"] = "'initech'"  # one frame's differs: walked on its own
    event = scrub_event(
        {"exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}}]}}, DEFAULTS
    )
    shown = [frame["vars"]["ctx"] for frame in event["exception"]["values"][0]["stacktrace"]["frames"]]
    assert [c["session"] for c in shown] == [None] * 5
    assert [c["auth"] for c in shown] == [None] * 5
    assert [c["note"] for c in shown] == [F] * 5
    assert [c["tenant"] for c in shown] == ["'globex'", "'globex'", "'initech'", "'globex'", "'globex'"]
    frames_meta = event["_meta"]["exception"]["values"]["0"]["stacktrace"]["frames"]
    assert all(
        frames_meta[str(i)]["vars"]["ctx"]["session"] == {"": {"rem": [["@anything:filter", "x"]]}}
        for i in range(5)
    )


def test_a_string_holding_a_nul_does_not_hide_the_next_one() -> None:
    event = scrub_event({"extra": {"a": "x\x00y\x00z", "b": "4111111111111111"}}, DEFAULTS)
    assert event["extra"] == {"a": "x\x00y\x00z", "b": F}


def test_non_ascii_text_around_a_secret_keeps_its_place() -> None:
    event = scrub_event({"extra": {"note": f"Zahlung über € mit {CARD_SPACES} ✓"}}, DEFAULTS)
    assert event["extra"]["note"] == f"Zahlung über € mit {F} ✓"


# ------------------------------------------------------------------------------------ settings


def test_settings_round_trip_through_the_project_column() -> None:
    settings = ScrubbingSettings(
        enabled=False, sensitive_fields=("iban_no",), safe_fields=("order_id",), scrub_ip_addresses=True
    )
    assert ScrubbingSettings.from_json(settings.to_json()) == settings


@pytest.mark.parametrize("stored", ["{}", "", "not json", "[1, 2]", '{"enabled": "no", "safe_fields": 3}'])
def test_a_setting_that_cannot_be_read_scrubs_by_default(stored: str) -> None:
    settings = ScrubbingSettings.from_json(stored)
    assert settings.enabled is True
    assert settings.safe_fields == ()
    assert settings.scrub_ip_addresses is False


# ------------------------------------------------------------------------------ the digest


def test_the_digest_scrubs_before_the_title_tags_and_stored_payload_are_made() -> None:
    payload = {
        "event_id": "b" * 32,
        "platform": "python",
        "exception": {
            "values": [
                {
                    "type": "PaymentError",
                    "value": f"card {CARD_SPACES} declined",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "charge",
                                "module": "shop.pay",
                                "in_app": True,
                                "vars": {"password": "'hunter2'", "card": f"'{CARD_SPACES}'"},
                            }
                        ]
                    },
                }
            ]
        },
        "tags": {"auth_header": "Bearer abc.def.ghi"},
        "breadcrumbs": {"values": [{"message": "Authorization: Bearer abc.def.ghi"}]},
    }
    entry = SpoolEntry(1, "store", time.time(), None, None, "identity", orjson.dumps(payload))
    into = Digested()
    pipeline = Pipeline(DigestLimits(1 << 20, 1 << 20), PayloadCodec())
    pipeline.digest_entry(entry, ProjectSettings(ProjectGrouping(DEFAULT_CONFIG_ID)), into)
    [digested] = into.events
    stored = orjson.dumps(PayloadCodec().decode(digested.payload)).decode()
    for secret in ("hunter2", CARD_SPACES, "4111111111111111", "abc.def.ghi"):
        assert secret not in stored
        assert secret not in digested.summary.title
        assert all(secret not in value for _, value in digested.tags)
    assert digested.summary.title == f"PaymentError: card {F} declined"
    assert ("auth_header", F) in digested.tags


def test_a_project_that_turned_scrubbing_off_keeps_its_data() -> None:
    raw = normalize_event(
        frame_vars({"password": "'hunter2'"}), NormalizeContext(time.time(), None, None, None)
    )
    assert at(scrub_event(raw, ScrubbingSettings(enabled=False)), var("password")) == "'hunter2'"


# ------------------------------------------------------------------- what the event page shows


def test_the_page_marks_each_filtered_part_and_escapes_the_rest() -> None:
    event = scrub_event({"extra": {"note": f"<b>paid</b> with {CARD_SPACES}"}}, DEFAULTS)
    shown = str(show(event["extra"]["note"], event["_meta"]["extra"]["note"]))
    assert shown == (
        "&lt;b&gt;paid&lt;/b&gt; with "
        '<span class="filtered" title="Filtered: a credit card number (@creditcard:filter)">[Filtered]</span>'
    )


def test_the_page_marks_filtered_values_inside_json_and_removed_ones() -> None:
    db = {"password": "pw", "credentials": {"u": 1}, "<k>": "v\n"}
    event = scrub_event({"extra": {"db": db}}, DEFAULTS)
    shown = str(show(event["extra"]["db"], event["_meta"]["extra"]["db"]))
    title = "Filtered: the value of a sensitive key (password, secret, token, auth, …) (@password:filter)"
    span = f'<span class="filtered" title="{title}">[Filtered]</span>'
    lines = ["{", f'  "password": "{span}",', f'  "credentials": {span},', '  "<k>": "v\\n"', "}"]
    assert html.unescape(shown) == "\n".join(lines)
    assert "&lt;k&gt;" in shown


def test_the_page_shows_unscrubbed_data_as_before() -> None:
    value = {"a": [1, "<x>"], "b": None}
    assert str(show(value, {})) == str(escape(pretty_json(value)))
