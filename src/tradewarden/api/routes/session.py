"""Dashboard login: a token in, an httpOnly SameSite=Strict session cookie out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tradewarden.api.auth import (
    SESSION_COOKIE,
    ReadPrincipal,
    StateDep,
    refuse_unknown_token,
)
from tradewarden.api.errors import ERROR_RESPONSES, ApiError
from tradewarden.api.schemas import LoginIn, MeOut
from tradewarden.api.state import SESSION_TTL_S
from tradewarden.services import tokens
from tradewarden.services.audit_log import record_server_event

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERROR_RESPONSES)


@router.post("/login", response_model=MeOut, summary="Log in with an API token")
def login(body: LoginIn, request: Request, response: Response, state: StateDep) -> MeOut:
    """Sets the session cookie; the returned `csrf_token` must accompany every state-changing request."""
    token = body.token.get_secret_value()
    view = tokens.authenticate(state.app, token)  # a valid token logs in whatever others have tried
    if view is None:
        refuse_unknown_token(state, request, token, "login with an unknown or revoked token")
        raise ApiError(401, "unauthorized", "that token is unknown or revoked", "token")
    session_id, session = state.sessions.create(view.id, view.name, view.scope)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=SESSION_TTL_S,
        httponly=True,
        samesite="strict",
        secure=state.secure_cookies,
        path="/",
    )
    record_server_event(state.app, "auth.login", f"token:{view.name}")
    return MeOut(token_name=view.name, scope=view.scope, via="session", csrf_token=session.csrf)


@router.post("/logout", status_code=204, summary="Log out")
def logout(request: Request, response: Response, _: ReadPrincipal, state: StateDep) -> None:
    """Ends the session and clears the cookie."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        state.sessions.drop(session_id)
    response.delete_cookie(SESSION_COOKIE, path="/", samesite="strict", httponly=True)


@router.get("/me", response_model=MeOut, summary="Who am I")
def me(request: Request, principal: ReadPrincipal, state: StateDep) -> MeOut:
    """The caller's token name and scope (and CSRF token, for a session)."""
    csrf = None
    if principal.via == "session":
        session = state.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        csrf = session.csrf if session else None
    return MeOut(token_name=principal.token_name, scope=principal.scope, via=principal.via, csrf_token=csrf)
