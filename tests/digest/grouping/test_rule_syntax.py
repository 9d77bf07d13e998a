"""The rule text syntax (grouping.md §10.1, §11.1) and the globs rules match with: what parses, and
what is refused with the line and column a user needs to fix it."""

from __future__ import annotations

import pytest

from shoal.digest.grouping.fingerprint_rules import fingerprint_rules_from_json, parse_fingerprint_rules
from shoal.digest.grouping.globs import glob_match, path_match
from shoal.digest.grouping.rule_syntax import RuleSyntaxError
from shoal.digest.grouping.stacktrace_rules import FlagAction, VarAction, parse_stacktrace_rules


def test_fingerprint_rules_parse_with_comments_aliases_quotes_and_a_title() -> None:
    rules = parse_fingerprint_rules(
        """
        # timeouts in requests are one issue
        type:ReadTimeout path:**/requests/adapters.py -> timeout-in-requests
        !error.value:"*retry*" message:"connection refused" -> db, "{{default}}" title="DB: {{ message }}"
        """
    )
    first, second = rules.rules
    assert [(m.key, m.pattern) for m in first.matchers.matchers] == [
        ("error.type", "ReadTimeout"),
        ("stack.abs_path", "**/requests/adapters.py"),
    ]
    assert first.fingerprint == ("timeout-in-requests",)
    assert second.matchers.matchers[0].negated
    assert second.matchers.matchers[1].pattern == "connection refused"
    assert second.fingerprint == ("db", "{{ default }}")
    assert second.title == "DB: {{ message }}"


def test_a_bare_entry_is_split_at_its_variable() -> None:
    (rule,) = parse_fingerprint_rules("logger:* -> logger-{{ logger }}").rules
    assert rule.fingerprint == ("logger-", "{{ logger }}")


def test_the_json_form_gives_the_same_rules_as_the_text() -> None:
    stored = [
        {"matchers": [["type", "SoftTimeLimitExceeded"], ["!module", "celery.*"]], "fingerprint": ["soft"]}
    ]
    (rule,) = fingerprint_rules_from_json(stored).rules
    assert rule.text() == "error.type:SoftTimeLimitExceeded !stack.module:celery.* -> soft"
    assert parse_fingerprint_rules(rule.text()).rules[0] == rule


def test_stacktrace_rules_parse_ranges_variables_caller_and_callee() -> None:
    (first, second, third) = parse_stacktrace_rules(
        """
        path:**/release_webhook.py v-group
        function:<module> | [ function:spawn_main ] category=internals
        [ module:celery.* ] | function:run ^+app -group max-frames=3
        """
    ).rules
    assert first.actions == (FlagAction("group", False, "v"),)
    assert second.matchers.callee is not None and second.matchers.callee.pattern == "spawn_main"
    assert second.actions == (VarAction("category", "internals"),)
    assert third.matchers.caller is not None and third.matchers.caller.key == "stack.module"
    assert third.actions == (
        FlagAction("app", True, "^"),
        FlagAction("group", False, ""),
        VarAction("max-frames", "3"),
    )


def test_a_category_matcher_is_not_taken_for_an_action() -> None:
    (rule,) = parse_stacktrace_rules("category:internals -group").rules
    assert rule.matchers.matchers[0].key == "category"


@pytest.mark.parametrize(
    ("text", "line", "column", "says"),
    [
        ("type:ConnectionResetError network-reset", 1, 27, "unknown matcher"),
        ("\n\ntype:Foo", 3, 9, '"->"'),
        ("type:Foo ->", 1, 12, "fingerprint"),
        ('message:"never closed -> x', 1, 9, "unterminated"),
        ("colour:red -> x", 1, 1, "unknown matcher 'colour'"),
        ("-> x", 1, 1, "matcher"),
        ("type:X -> a title=plain", 1, 19, "quoted title"),
    ],
)
def test_fingerprint_rule_errors_name_the_line_and_column(
    text: str, line: int, column: int, says: str
) -> None:
    with pytest.raises(RuleSyntaxError) as raised:
        parse_fingerprint_rules(text)
    assert (raised.value.line, raised.value.column) == (line, column)
    assert says in str(raised.value)
    assert str(raised.value).startswith(f"line {line}, column {column}:")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("path:**/vendor/**", "expected an action"),
        ("path:**/vendor/** +ap", r"unknown action '\+ap'"),
        ("function:x max-frames=three", "needs a whole number"),
        ("function:x *app", "unknown action"),
        ("stack.colour:red -app", "unknown matcher"),
    ],
)
def test_stacktrace_rule_errors_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(RuleSyntaxError, match=says):
        parse_stacktrace_rules(text)


@pytest.mark.parametrize(
    ("value", "pattern", "matches"),
    [
        ("ReadTimeout", "Read*", True),
        ("ReadTimeout", "read*", False),
        ("a/b/c", "a*", True),
        ("ChunkLoadError: x", "ChunkLoadError*", True),
        ("x1", "x?", True),
        ("xb", "x[abc]", True),
        ("xd", "x[!abc]", True),
        ("a*b", r"a\*b", True),
        ("axb", r"a\*b", False),
    ],
)
def test_plain_globs(value: str, pattern: str, matches: bool) -> None:
    assert glob_match(value, pattern) is matches


@pytest.mark.parametrize(
    ("path", "pattern", "matches"),
    [
        ("/srv/app/vendor/lib.js", "**/vendor/**", True),
        ("vendor/lib.js", "**/vendor/**", True),
        ("C:\\App\\Vendor\\lib.js", "**/vendor/**", True),
        ("/usr/lib/python3.11/site-packages/requests/adapters.py", "**/requests/adapters.py", True),
        ("/srv/app/views.py", "/srv/*.py", False),
        ("/srv/views.py", "/srv/*.py", True),
        ("webpack:///./src/app.js", "webpack:**", True),
    ],
)
def test_path_globs(path: str, pattern: str, matches: bool) -> None:
    assert path_match(path, pattern) is matches
