"""The JSON Schemas of the OpenAPI document (shoal/api/openapi.py): what each resource of `/api/0/`
answers and what its bodies take, as the modules that serve them write them. A field the answer
always has is `required`; a field that may be null says so (`["string", "null"]`, JSON Schema
2020-12 as OpenAPI 3.1 uses it). tests/api/test_schemathesis.py checks answers against them.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Schema], required: list[str] | None = None, **extra: Any) -> Schema:
    """An object with these properties; `required` defaults to all of them."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        **extra,
    }


def nullable(schema: Schema) -> Schema:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return {**schema, "type": [*kinds, "null"]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
OPTIONAL_TIME = nullable(TIME)
OPTIONAL_STRING = nullable(STRING)
ANY_OBJECT: Schema = {"type": "object"}

# ------------------------------------------------------------------------ errors and who calls

ERROR = obj(
    {"detail": {}},
    required=[],
    description=(
        'A refusal, `{"detail": "…"}`, or a body that does not validate: each wrong field with its '
        'messages, `{"name": ["…"]}` (Django REST framework\'s shapes).'
    ),
)

INFO = obj(
    {
        "version": STRING,
        "user": nullable(obj({"id": STRING, "email": STRING, "username": STRING, "name": STRING})),
        "auth": nullable(obj({"scopes": array(STRING)})),
    }
)

# ----------------------------------------------------------------- organizations, projects, keys

ORGANIZATION = obj(
    {
        "id": STRING,
        "slug": STRING,
        "name": STRING,
        "dateCreated": TIME,
        "status": obj({"id": STRING, "name": STRING}),
        "isEarlyAdopter": BOOLEAN,
        "require2FA": BOOLEAN,
        "requireEmailVerification": BOOLEAN,
        "avatar": ANY_OBJECT,
        "features": array(STRING),
        "links": obj({"organizationUrl": STRING, "regionUrl": STRING}),
        "hasAuthProvider": BOOLEAN,
    }
)

TEAM = obj({"id": STRING, "slug": STRING, "name": STRING})

_PROJECT_FIELDS: dict[str, Schema] = {
    "id": STRING,
    "slug": STRING,
    "name": STRING,
    "platform": STRING,
    "dateCreated": OPTIONAL_TIME,
    "firstEvent": OPTIONAL_TIME,
    "isBookmarked": BOOLEAN,
    "isMember": BOOLEAN,
    "hasAccess": BOOLEAN,
    "isPublic": BOOLEAN,
    "features": array(STRING),
    "status": STRING,
    "team": nullable(ref("Team")),
    "teams": array(ref("Team")),
}
PROJECT = obj({**_PROJECT_FIELDS, "organization": ref("Organization")}, required=list(_PROJECT_FIELDS))
PROJECT_SUMMARY = obj({"id": STRING, "name": STRING, "slug": STRING, "platform": STRING})

KEY = obj(
    {
        "id": STRING,
        "name": STRING,
        "label": STRING,
        "public": STRING,
        "secret": {"type": "null"},
        "projectId": INTEGER,
        "isActive": BOOLEAN,
        "rateLimit": nullable(obj({"count": INTEGER, "window": INTEGER})),
        "dsn": obj({"public": STRING, "secret": STRING}),
        "dateCreated": TIME,
    }
)

# ----------------------------------------------------------------------------------- issues

STATS_SERIES = array({"type": "array", "prefixItems": [INTEGER, INTEGER], "minItems": 2, "maxItems": 2})
USER_ACTOR = obj({"type": {"const": "user"}, "id": STRING, "name": STRING, "email": STRING})

_ISSUE_FIELDS: dict[str, Schema] = {
    "id": STRING,
    "shareId": {"type": "null"},
    "shortId": STRING,
    "title": STRING,
    "culprit": STRING,
    "permalink": STRING,
    "logger": {"type": "null"},
    "level": STRING,
    "status": {"enum": ["unresolved", "resolved", "ignored"]},
    "statusDetails": ANY_OBJECT,
    "substatus": nullable(STRING),
    "isPublic": BOOLEAN,
    "platform": STRING,
    "project": ref("ProjectSummary"),
    "type": STRING,
    "issueType": STRING,
    "issueCategory": STRING,
    "metadata": ANY_OBJECT,
    "numComments": INTEGER,
    "assignedTo": nullable(ref("UserActor")),
    "isBookmarked": BOOLEAN,
    "isSubscribed": BOOLEAN,
    "subscriptionDetails": {"type": "null"},
    "hasSeen": BOOLEAN,
    "annotations": array(ANY_OBJECT),
    "count": {"type": "string", "pattern": "^[0-9]+$", "description": "Events seen, as a string."},
    "userCount": INTEGER,
    "firstSeen": TIME,
    "lastSeen": TIME,
}
ISSUE = obj(
    {**_ISSUE_FIELDS, "stats": {"type": "object", "additionalProperties": STATS_SERIES}},
    required=list(_ISSUE_FIELDS),
)
_RELEASE_NAME = nullable(obj({"version": STRING, "shortVersion": STRING}))
ACTIVITY = obj(
    {
        "id": STRING,
        "type": STRING,
        "data": ANY_OBJECT,
        "user": nullable(obj({"name": STRING, "email": STRING})),
        "dateCreated": TIME,
    }
)
ISSUE_DETAIL = {
    "allOf": [
        ref("Issue"),
        obj(
            {
                "firstRelease": _RELEASE_NAME,
                "lastRelease": _RELEASE_NAME,
                "activity": array(ref("Activity")),
                "seenBy": array(ANY_OBJECT),
                "participants": array(ANY_OBJECT),
                "pluginActions": array(ANY_OBJECT),
                "pluginIssues": array(ANY_OBJECT),
                "pluginContexts": array(ANY_OBJECT),
                "userReportCount": INTEGER,
            }
        ),
    ]
}

_WHOLE = {"type": "integer", "minimum": 1}
ISSUE_UPDATE = obj(
    {
        "status": {"enum": ["resolved", "resolvedInNextRelease", "unresolved", "ignored", "muted"]},
        "statusDetails": obj(
            {
                "inRelease": {"type": "string", "minLength": 1, "maxLength": 200},
                "inNextRelease": BOOLEAN,
                "inCommit": ANY_OBJECT,
                "ignoreDuration": {**_WHOLE, "description": "Minutes."},
                "ignoreCount": _WHOLE,
                "ignoreWindow": {**_WHOLE, "maximum": 43200, "description": "Minutes."},
                "ignoreUserCount": _WHOLE,
                "ignoreUserWindow": {**_WHOLE, "maximum": 43200, "description": "Minutes."},
            },
            required=[],
        ),
        "snoozeDuration": nullable({**_WHOLE, "description": "Minutes to ignore for (older field)."}),
        "assignedTo": {
            "type": ["string", "null"],
            "description": "An email, a user id or `user:ID` of a member who may see the project; "
            "null or empty for nobody.",
        },
        "hasSeen": BOOLEAN,
        "isBookmarked": BOOLEAN,
        "isSubscribed": BOOLEAN,
        "isPublic": BOOLEAN,
    },
    required=[],
)
BULK_RESULT = obj(
    {
        "status": {"enum": ["unresolved", "resolved", "ignored"]},
        "statusDetails": ANY_OBJECT,
        "substatus": nullable(STRING),
        "assignedTo": nullable(ref("UserActor")),
        "hasSeen": BOOLEAN,
        "isBookmarked": BOOLEAN,
        "isSubscribed": BOOLEAN,
        "isPublic": BOOLEAN,
    },
    required=[],
)

# ----------------------------------------------------------------------------------- events

_EVENT_FIELDS: dict[str, Schema] = {
    "id": STRING,
    "eventID": STRING,
    "groupID": STRING,
    "projectID": STRING,
    "event.type": STRING,
    "title": STRING,
    "message": STRING,
    "culprit": STRING,
    "location": OPTIONAL_STRING,
    "platform": OPTIONAL_STRING,
    "dateCreated": TIME,
    "user": nullable(ANY_OBJECT),
    "tags": array(obj({"key": STRING, "value": STRING})),
    "metadata": ANY_OBJECT,
    "crashFile": {"type": "null"},
}
EVENT = obj(_EVENT_FIELDS)
ENTRY = obj(
    {
        "type": {"enum": ["exception", "message", "stacktrace", "threads", "breadcrumbs", "request"]},
        "data": {},
    }
)
EVENT_DETAIL = obj(
    {
        **_EVENT_FIELDS,
        "type": STRING,
        "dateReceived": TIME,
        "contexts": ANY_OBJECT,
        "sdk": nullable(obj({"name": OPTIONAL_STRING, "version": OPTIONAL_STRING})),
        "release": _RELEASE_NAME,
        "dist": OPTIONAL_STRING,
        "environment": OPTIONAL_STRING,
        "fingerprints": array(STRING),
        "entries": array(ref("EventEntry")),
        "errors": array(ANY_OBJECT),
        "packages": ANY_OBJECT,
        "extra": ANY_OBJECT,
        "_meta": ANY_OBJECT,
        "occurrence": {"type": "null"},
        "userReport": {"type": "null"},
        "previousEventID": OPTIONAL_STRING,
        "nextEventID": OPTIONAL_STRING,
    }
)
EVENT_LOOKUP = obj(
    {
        "organizationSlug": STRING,
        "projectSlug": STRING,
        "groupId": STRING,
        "eventId": STRING,
        "event": ref("EventDetail"),
    }
)

# ----------------------------------------------------------------------- alert rules (Shoal's)

RULE = obj(
    {
        "id": STRING,
        "name": STRING,
        "conditions": array(ANY_OBJECT),
        "filters": array(ANY_OBJECT),
        "actions": array(ANY_OBJECT),
        "actionMatch": {"enum": ["all", "any", "none"]},
        "filterMatch": {"enum": ["all", "any", "none"]},
        "frequency": INTEGER,
        "environment": OPTIONAL_STRING,
        "status": {"enum": ["active", "disabled"]},
        "projects": array(STRING),
        "dateCreated": TIME,
        "owner": {"type": "null"},
        "snooze": BOOLEAN,
    }
)
_RULE_ENTRY = obj({"id": STRING}, description="A Sentry condition, filter or action, named by its id.")
RULE_BODY = obj(
    {
        "name": {"type": "string", "minLength": 1, "pattern": "[^ ]"},
        "conditions": array(_RULE_ENTRY),
        "filters": array(_RULE_ENTRY),
        "actions": array(_RULE_ENTRY),
        "actionMatch": {"enum": ["all", "any", "none"]},
        "filterMatch": {"enum": ["all", "any", "none"]},
        "frequency": INTEGER,
        "environment": OPTIONAL_STRING,
        "status": {"enum": ["active", "disabled"]},
    },
    required=["name"],
)
DECISION = obj(
    {
        "id": STRING,
        "rule": obj({"id": STRING, "name": STRING}),
        "eventID": OPTIONAL_STRING,
        "fired": BOOLEAN,
        "reason": STRING,
        "dateCreated": TIME,
    }
)

# ---------------------------------------------------------- releases, commits, deploys, repos

REPOSITORY = obj(
    {
        "id": STRING,
        "name": STRING,
        "url": OPTIONAL_STRING,
        "provider": nullable(obj({"id": STRING, "name": STRING})),
        "status": STRING,
        "dateCreated": TIME,
        "integrationId": {"type": "null"},
        "externalSlug": {"type": "null"},
        "externalId": {"type": "null"},
    }
)
COMMIT = obj(
    {
        "id": STRING,
        "message": OPTIONAL_STRING,
        "dateCreated": OPTIONAL_TIME,
        "author": nullable(obj({"name": OPTIONAL_STRING, "email": OPTIONAL_STRING})),
        "repository": ref("Repository"),
        "pullRequest": {"type": "null"},
        "suspectCommitType": STRING,
        "files": array(obj({"filename": STRING, "type": STRING})),
    },
    required=["id", "message", "dateCreated", "author", "repository"],
)
DEPLOY = obj(
    {
        "id": STRING,
        "environment": STRING,
        "name": OPTIONAL_STRING,
        "url": OPTIONAL_STRING,
        "dateStarted": OPTIONAL_TIME,
        "dateFinished": OPTIONAL_TIME,
    }
)
RELEASE = obj(
    {
        "id": INTEGER,
        "version": STRING,
        "shortVersion": STRING,
        "versionInfo": ANY_OBJECT,
        "status": STRING,
        "ref": OPTIONAL_STRING,
        "url": OPTIONAL_STRING,
        "dateCreated": TIME,
        "dateStarted": OPTIONAL_TIME,
        "dateReleased": OPTIONAL_TIME,
        "data": ANY_OBJECT,
        "owner": {"type": "null"},
        "newGroups": INTEGER,
        "commitCount": INTEGER,
        "lastCommit": nullable(ref("Commit")),
        "authors": array(obj({"name": OPTIONAL_STRING, "email": OPTIONAL_STRING})),
        "deployCount": INTEGER,
        "lastDeploy": nullable(ref("Deploy")),
        "firstEvent": OPTIONAL_TIME,
        "lastEvent": OPTIONAL_TIME,
        "projects": array(ANY_OBJECT),
        "currentProjectMeta": ANY_OBJECT,
        "userAgent": {"type": "null"},
    },
    required=["id", "version", "shortVersion", "dateCreated", "dateReleased", "newGroups", "projects"],
)
_PROJECT_NAMES = {**array({"type": ["string", "integer"]}), "minItems": 1}
_COMMIT_BODY = obj(
    {
        "id": STRING,
        "repository": STRING,
        "message": OPTIONAL_STRING,
        "author_name": OPTIONAL_STRING,
        "author_email": OPTIONAL_STRING,
        "timestamp": OPTIONAL_TIME,
        "patch_set": array(obj({"path": STRING, "type": {"enum": ["A", "M", "D"]}})),
    },
    required=["id"],
)
_REF_BODY = obj(
    {"repository": STRING, "commit": STRING, "previousCommit": OPTIONAL_STRING},
    required=["repository", "commit"],
)
_RELEASE_CHANGES: dict[str, Schema] = {
    "projects": _PROJECT_NAMES,
    "ref": OPTIONAL_STRING,
    "url": OPTIONAL_STRING,
    "dateStarted": OPTIONAL_TIME,
    "dateReleased": OPTIONAL_TIME,
    "commits": array(_COMMIT_BODY),
    "refs": array(_REF_BODY),
}
RELEASE_CREATE = obj({"version": STRING, **_RELEASE_CHANGES}, required=["version", "projects"])
RELEASE_UPDATE = obj(_RELEASE_CHANGES, required=[])
DEPLOY_CREATE = obj(
    {
        "environment": STRING,
        "name": OPTIONAL_STRING,
        "url": OPTIONAL_STRING,
        "dateStarted": OPTIONAL_TIME,
        "dateFinished": OPTIONAL_TIME,
        "projects": _PROJECT_NAMES,
    },
    required=["environment"],
)
REPOSITORY_CREATE = obj(
    {"name": STRING, "url": OPTIONAL_STRING, "provider": OPTIONAL_STRING}, required=["name"]
)
NO_RELEASE = obj({}, additionalProperties=False, description="Exactly `{}`: there is no such release.")

# ------------------------------------------------------------------------ stats (docs/stats.md)

_QUANTITY = "sum(quantity)"
_TIMES_SEEN = "sum(times_seen)"  # one entry per field asked for
STATS = obj(
    {
        "start": TIME,
        "end": TIME,
        "intervals": array(TIME),
        "groups": array(
            obj(
                {
                    "by": obj(
                        {
                            "outcome": STRING,
                            "category": STRING,
                            "reason": STRING,
                            "project": INTEGER,
                            "key_id": INTEGER,
                        },
                        required=[],
                        additionalProperties=False,
                    ),
                    "totals": obj({_QUANTITY: INTEGER, _TIMES_SEEN: INTEGER}, required=[]),
                    "series": obj({_QUANTITY: array(INTEGER), _TIMES_SEEN: array(INTEGER)}, required=[]),
                }
            )
        ),
    },
    description="Outcome counts (Sentry's stats_v2): one group per combination of the groupBy values.",
)

# ------------------------------------------------------------------- cron monitors (api/monitors.py)

_MONITOR_STATUS: Schema = {"enum": ["active", "ok", "error", "missed", "timeout"]}
MONITOR_CONFIG = obj(
    {
        "schedule_type": {"enum": ["crontab", "interval", None]},
        "schedule": {"type": ["string", "array", "null"], "description": "A crontab, or [count, unit]."},
        "checkin_margin": INTEGER,
        "max_runtime": INTEGER,
        "timezone": STRING,
        "failure_issue_threshold": INTEGER,
        "recovery_threshold": INTEGER,
    }
)
MONITOR = obj(
    {
        "id": STRING,
        "slug": STRING,
        "name": STRING,
        "type": {"const": "cron_job"},
        "status": STRING,
        "isMuted": BOOLEAN,
        "config": MONITOR_CONFIG,
        "dateCreated": TIME,
        "project": ref("ProjectSummary"),
        "environments": array(
            obj(
                {
                    "name": STRING,
                    "status": _MONITOR_STATUS,
                    "isMuted": BOOLEAN,
                    "dateCreated": TIME,
                    "lastCheckIn": OPTIONAL_TIME,
                    "nextCheckIn": OPTIONAL_TIME,
                    "nextCheckInLatest": OPTIONAL_TIME,
                }
            )
        ),
        "owner": {"type": "null"},
    },
    description="A cron monitor, with its state per environment (docs/crons.md).",
)
CHECK_IN = obj(
    {
        "id": {"type": "string", "format": "uuid"},
        "environment": STRING,
        "status": {"enum": ["in_progress", "ok", "error", "missed", "timeout"]},
        "duration": nullable(INTEGER),
        "dateCreated": TIME,
        "dateAdded": TIME,
        "dateUpdated": TIME,
        "expectedTime": OPTIONAL_TIME,
        "monitorConfig": MONITOR_CONFIG,
    },
    description="One check-in of a monitor; `duration` in milliseconds.",
)

USER_REPORT_SUBMIT = obj(
    {"event_id": STRING, "name": STRING, "email": STRING, "comments": STRING},
    ["event_id", "name", "email", "comments"],
    description="A user's report on an event: its id (32 hex digits or a UUID) and their words.",
)
USER_REPORT = obj(
    {
        "id": STRING,
        "eventID": STRING,
        "name": STRING,
        "email": STRING,
        "comments": STRING,
        "dateCreated": TIME,
        "user": {"type": "null"},
        "event": obj({"id": STRING, "eventID": STRING}),
        "issue": {"type": "null"},
    },
    description="The report as queued: not stored yet, so `id` is its event id and `issue` null.",
)

SCHEMAS: dict[str, Schema] = {
    "Error": ERROR,
    "Info": INFO,
    "Organization": ORGANIZATION,
    "Team": TEAM,
    "Project": PROJECT,
    "ProjectSummary": PROJECT_SUMMARY,
    "Key": KEY,
    "UserActor": USER_ACTOR,
    "Issue": ISSUE,
    "IssueDetail": ISSUE_DETAIL,
    "Activity": ACTIVITY,
    "IssueUpdate": ISSUE_UPDATE,
    "BulkResult": BULK_RESULT,
    "Event": EVENT,
    "EventEntry": ENTRY,
    "EventDetail": EVENT_DETAIL,
    "EventLookup": EVENT_LOOKUP,
    "Rule": RULE,
    "RuleBody": RULE_BODY,
    "Decision": DECISION,
    "Repository": REPOSITORY,
    "Commit": COMMIT,
    "Deploy": DEPLOY,
    "Release": RELEASE,
    "ReleaseCreate": RELEASE_CREATE,
    "ReleaseUpdate": RELEASE_UPDATE,
    "DeployCreate": DEPLOY_CREATE,
    "RepositoryCreate": REPOSITORY_CREATE,
    "NoRelease": NO_RELEASE,
    "Stats": STATS,
    "Monitor": MONITOR,
    "CheckIn": CHECK_IN,
    "UserReportSubmit": USER_REPORT_SUBMIT,
    "UserReport": USER_REPORT,
}
