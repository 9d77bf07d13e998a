"""A person's account in the UI: the login form's rate limit, changing the password, resetting a
forgotten one through an emailed link, and choosing which projects' alert emails they get.

Pages for people who are not logged in (forgot / reset, and the invitation page of
`shoal.web.team_pages`) protect their forms like the login form does: a double-submit CSRF
cookie, since there is no session to hold a token yet.

The rate limit lives in the memory of each web process (docs/accounts.md): after 5 failed logins
for one email or 20 from one client address within 15 minutes, logging in is refused until that
window ends, even with the right password.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from shoal.clock import SYSTEM_CLOCK, Clock
from shoal.config import Config
from shoal.notify.base import DeliveryError, NotifySettings
from shoal.notify.email import message_id, send_email
from shoal.store import password_resets, projects, sessions, teams, users
from shoal.store.db import write_transaction
from shoal.web import auth
from shoal.web.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Viewer, check_csrf, current_viewer, engine_of
from shoal.web.form_posts import form_post, see_other
from shoal.web.pages import render

log = logging.getLogger(__name__)

LOGIN_WINDOW_SECONDS = 15 * 60
FAILURES_PER_EMAIL = 5
FAILURES_PER_ADDRESS = 20
NO_EMAIL = (
    "This Shoal cannot send email (SHOAL_SMTP_HOST is not set), so it cannot send a reset link. "
    "Ask an admin to set a new password for you with `shoal user set-password EMAIL`."
)
NOTICES = {
    "password": "Your password was changed. Your other sessions were logged out.",
    "notifications": "Saved. Alert emails follow these settings from now on.",
}


# -------------------------------------------------------------------------- the rate limit


@dataclass
class _Window:
    started: float
    failures: int


class LoginLimiter:
    """Failed logins counted per email and per client address in windows of `window` seconds
    that start at the first failure. A key with too many failures is refused until its window
    ends; then it starts afresh."""

    def __init__(
        self,
        *,
        per_email: int = FAILURES_PER_EMAIL,
        per_address: int = FAILURES_PER_ADDRESS,
        window: float = LOGIN_WINDOW_SECONDS,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._limits = {"email": per_email, "address": per_address}
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}

    def retry_after(self, email: str, address: str) -> int | None:
        """Seconds until a login for `email` from `address` may be tried again; None: now."""
        now = self._clock.now()
        with self._lock:
            waits = [
                window.started + self._window - now
                for key in self._keys(email, address)
                if (window := self._current(key, now)) and window.failures >= self._limits[key[0]]
            ]
        return max(1, int(max(waits)) + 1) if waits else None

    def failed(self, email: str, address: str) -> None:
        now = self._clock.now()
        with self._lock:
            if len(self._windows) > 10_000:  # many addresses or emails: forget the ended windows
                self._windows = {k: w for k, w in self._windows.items() if now < w.started + self._window}
            for key in self._keys(email, address):
                window = self._current(key, now)
                if window is None:
                    self._windows[key] = _Window(now, 1)
                else:
                    window.failures += 1

    def succeeded(self, email: str) -> None:
        """The right password ends the email's count (not the address's: one account that an
        attacker owns must not reset the count of their guesses at others)."""
        with self._lock:
            self._windows.pop(("email", email), None)

    def _keys(self, email: str, address: str) -> list[tuple[str, str]]:
        return [("email", email), ("address", address)]

    def _current(self, key: tuple[str, str], now: float) -> _Window | None:
        window = self._windows.get(key)
        if window is not None and now >= window.started + self._window:
            del self._windows[key]
            return None
        return window


LOGIN_LIMITER = LoginLimiter()


async def login(request: Request) -> Response:
    """`shoal.web.auth.login`, behind the rate limit."""
    if request.method != "POST":
        return await auth.login(request)
    form = await request.form()  # Starlette keeps the parsed form: auth.login reads the same one
    email = str(form.get("email") or "").strip().lower()
    address = client_address(request)
    wait = LOGIN_LIMITER.retry_after(email, address)
    if wait is not None:
        return too_many_attempts(request, wait)
    response = await auth.login(request)
    if response.status_code == 401:
        LOGIN_LIMITER.failed(email, address)
    elif response.status_code == 303:
        LOGIN_LIMITER.succeeded(email)
    return response


def too_many_attempts(request: Request, wait: int) -> Response:
    minutes = max(1, (wait + 59) // 60)
    message = (
        "Too many failed logins for this account or from your network. For your safety, logging in "
        f"is paused: try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )
    response = auth.login_page(request, message, status=429)
    response.headers["Retry-After"] = str(wait)
    return response


def client_address(request: Request) -> str:
    # The peer's address, not X-Forwarded-For: any client can write that header. Behind a
    # reverse proxy every client shares the proxy's address (docs/accounts.md says so).
    return request.client.host if request.client else ""


# ------------------------------------------------------------------ forms without a session


def anonymous_page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page whose form is posted by someone not logged in: the token is a double-submit cookie."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response: Response = request.app.state.templates.TemplateResponse(
        request, template, {"viewer": None, "csrf_token": token, **context}, status_code=status
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure(request))
    return response


def anonymous_form_ok(request: Request, form: FormData) -> bool:
    return check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE, ""), form.get("csrf_token"))


def optional_viewer(request: Request) -> Viewer | None:
    try:
        return current_viewer(request)
    except auth.LoginRequired:
        return None


def secure(request: Request) -> bool:
    return bool(request.app.state.config.public_url.startswith("https://"))


def start_session(request: Request, user_id: int, target: str) -> Response:
    """Log the user in (a new session, its cookie as `auth.login` sets it) and go to `target`."""
    with write_transaction(engine_of(request)) as conn:
        token = sessions.create_session(conn, user_id)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=sessions.SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


def password_errors(form: FormData, first: str, second: str) -> dict[str, str]:
    """The problems with a new password typed twice into the fields `first` and `second`."""
    password, again = raw_field(form, first), raw_field(form, second)
    problem = users.password_problem(password)
    if problem:
        return {first: problem}
    if password != again:
        return {second: "The two passwords are not the same."}
    return {}


def raw_field(form: FormData, name: str) -> str:
    """A field as typed: passwords are not stripped, a space can be part of one."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


# -------------------------------------------------------------------------------- email


def email_configured(config: Config) -> bool:
    return bool(config.smtp_host)


def account_email(config: Config, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from Shoal to one person (a reset link, an invitation)."""
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = config.email_from
    email["To"] = to
    email["Date"] = format_datetime(datetime.fromtimestamp(SYSTEM_CLOCK.now(), UTC), usegmt=True)
    email["Message-ID"] = message_id(config.email_from)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5: no vacation replies to a robot
    email.set_content(body)
    return email


def send_account_email(config: Config, to: str, subject: str, body: str) -> str | None:
    """Send now; the reason in words when it failed, None when the server took it."""
    try:
        send_email(account_email(config, to, subject, body), NotifySettings.from_config(config))
    except DeliveryError as exc:
        log.warning("account email to a user failed: %s", exc)
        return str(exc)
    return None


# ------------------------------------------------------------------------ the account page


def account(request: Request) -> Response:
    viewer = current_viewer(request)
    return _account_page(request, viewer, notice=NOTICES.get(request.query_params.get("notice", "")))


def _account_page(
    request: Request,
    viewer: Viewer,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with engine_of(request).connect() as conn:
        organizations = users.organizations_of(conn, viewer.user.id)
        my_teams = teams.user_teams(conn, viewer.user.id)
    context = {
        "organizations": organizations,
        "teams": my_teams,
        "notice": notice,
        "errors": errors or {},
        "min_length": users.MIN_PASSWORD_LENGTH,
    }
    return render(request, viewer, "account.html", context, status=status)


@form_post
def change_password(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Current password, then the new one twice. Other sessions end: a copied cookie stops working."""
    email, address = viewer.user.email, client_address(request)
    wait = LOGIN_LIMITER.retry_after(email, address)
    if wait is not None:
        error = f"Too many wrong passwords: try again in {max(1, (wait + 59) // 60)} minutes."
        return _account_page(request, viewer, errors={"current_password": error}, status=429)
    with engine_of(request).connect() as conn:
        current_ok = users.check_password(conn, viewer.user.id, raw_field(form, "current_password"))
    errors = {} if current_ok else {"current_password": "That is not your current password."}
    if not current_ok:
        LOGIN_LIMITER.failed(email, address)
    errors.update(password_errors(form, "new_password", "new_password_again"))
    if errors:
        return _account_page(request, viewer, errors=errors, status=400)
    with write_transaction(engine_of(request)) as conn:
        users.set_password(conn, viewer.user.id, raw_field(form, "new_password"))
        sessions.end_user_sessions(conn, viewer.user.id, keep=request.cookies.get(SESSION_COOKIE))
        password_resets.end_resets(conn, viewer.user.id, SYSTEM_CLOCK.now())
    return see_other("/account/?notice=password")


# ---------------------------------------------------------------- notification settings


def notification_settings(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        rows = _setting_rows(conn, viewer)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return render(request, viewer, "notification_settings.html", {"rows": rows, "notice": notice})


def _setting_rows(conn: Any, viewer: Viewer) -> list[dict[str, Any]]:
    """The projects of the viewer's organizations that they may see, with whether they get its
    alert emails. Only members are emailed, so a superuser's other organizations are left out."""
    off = users.email_opt_outs(conn, viewer.user.id)
    return [
        {"project": project, "email": project.id not in off}
        for project in projects.list_projects(conn)
        if project.organization_id in viewer.roles and viewer.can_see_project(project)
    ]


@form_post
def save_notification_settings(request: Request, viewer: Viewer, form: FormData) -> Response:
    wanted = {int(value) for value in form.getlist("email") if isinstance(value, str) and value.isdigit()}
    with write_transaction(engine_of(request)) as conn:
        for row in _setting_rows(conn, viewer):
            project_id = row["project"].id
            if (project_id in wanted) != row["email"]:
                users.set_email_alerts(conn, viewer.user.id, project_id, project_id in wanted)
    return see_other("/account/notifications/?notice=notifications")


# ------------------------------------------------------------------------ forgot password

RESET_LIMITER = LoginLimiter(per_email=3, per_address=20, window=LOGIN_WINDOW_SECONDS)


async def forgot_password(request: Request) -> Response:
    """Ask for an email; answer the same whether an account has it or not, and send the link
    (if there is an account) after the answer, so its timing does not tell either."""
    config: Config = request.app.state.config
    if not email_configured(config):
        return anonymous_page(request, "forgot_password.html", {"configured": False, "no_email": NO_EMAIL})
    if request.method != "POST":
        return anonymous_page(request, "forgot_password.html", {"configured": True})
    form = await request.form()
    email = str(form.get("email") or "").strip().lower()
    if not anonymous_form_ok(request, form):
        error = "Your form expired. Please try again."
        return anonymous_page(request, "forgot_password.html", {"configured": True, "error": error}, 400)
    if "@" not in email:
        context = {"configured": True, "error": "Enter the email address you log in with.", "email": email}
        return anonymous_page(request, "forgot_password.html", context, 400)
    response = anonymous_page(request, "forgot_password.html", {"configured": True, "sent_to": email})
    # Each request counts, so nobody can fill someone's mailbox with links.
    if RESET_LIMITER.retry_after(email, client_address(request)) is None:
        RESET_LIMITER.failed(email, client_address(request))
        response.background = BackgroundTask(_send_reset_link, request, email)
    return response


def _send_reset_link(request: Request, email: str) -> None:
    config: Config = request.app.state.config
    now = SYSTEM_CLOCK.now()
    with write_transaction(engine_of(request)) as conn:
        user = users.find_user_by_email(conn, email)
        token = password_resets.create_reset(conn, user.id, now) if user else None
    if user is None or token is None:
        return
    link = f"{config.public_url}/reset-password/{token}"
    body = (
        f"Someone, hopefully you, asked to reset the password of {user.email} on Shoal at "
        f"{config.public_url}.\n\nTo choose a new password, open this link within 1 hour. "
        f"It works once:\n\n{link}\n\nIf you did not ask for this, ignore this email: your "
        "password stays as it is.\n"
    )
    send_account_email(config, user.email, "Reset your Shoal password", body)


# ------------------------------------------------------------------------- reset password


async def reset_password(request: Request) -> Response:
    token = str(request.path_params["token"])
    if request.method != "POST":
        return await run_in_threadpool(_reset_form, request, token)
    form = await request.form()
    return await run_in_threadpool(_reset, request, token, form)


def _reset_form(
    request: Request, token: str, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    with engine_of(request).connect() as conn:
        user_id = password_resets.valid_reset_user(conn, token, SYSTEM_CLOCK.now())
        user = users.get_user(conn, user_id) if user_id is not None else None
    if user is None:
        return _link_refused(request)
    context = {
        "email": user.email,
        "token": token,
        "errors": errors or {},
        "min_length": users.MIN_PASSWORD_LENGTH,
    }
    return anonymous_page(request, "reset_password.html", context, status)


def _link_refused(request: Request) -> Response:
    return anonymous_page(request, "reset_password.html", {"refused": True}, status=400)


def _reset(request: Request, token: str, form: FormData) -> Response:
    if not anonymous_form_ok(request, form):
        return _reset_form(request, token, {"form": "Your form expired. Please try again."}, 400)
    errors = password_errors(form, "new_password", "new_password_again")
    if errors:
        return _reset_form(request, token, errors, 400)
    with write_transaction(engine_of(request)) as conn:
        user_id = password_resets.use_reset(conn, token, SYSTEM_CLOCK.now())
        if user_id is not None:
            users.set_password(conn, user_id, raw_field(form, "new_password"))
            sessions.end_user_sessions(conn, user_id, keep=request.cookies.get(SESSION_COOKIE))
    if user_id is None:
        return _link_refused(request)
    LOGIN_LIMITER.succeeded(_email_of(request, user_id))
    return see_other("/login?notice=reset")


def _email_of(request: Request, user_id: int) -> str:
    with engine_of(request).connect() as conn:
        return users.email_of(conn, user_id) or ""


ROUTES: list[Route] = [
    Route("/account/", account),
    Route("/account/password", change_password, methods=["POST"]),
    Route("/account/notifications/", notification_settings),
    Route("/account/notifications/", save_notification_settings, methods=["POST"]),
    Route("/forgot-password", forgot_password, methods=["GET", "POST"]),
    Route("/reset-password/{token:str}", reset_password, methods=["GET", "POST"]),
]
