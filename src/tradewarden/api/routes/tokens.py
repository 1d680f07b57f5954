"""API tokens (admin): create (shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, status

from tradewarden.api.auth import AdminPrincipal, StateDep
from tradewarden.api.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND
from tradewarden.api.schemas import TokenCreatedOut, TokenCreateIn, TokenOut
from tradewarden.services import tokens

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[TokenOut], summary="List tokens")
def list_tokens(_: AdminPrincipal, state: StateDep, include_revoked: bool = False) -> list[TokenOut]:
    """Tokens with scope and last use; never the token itself."""
    return [TokenOut.model_validate(t.to_json()) for t in tokens.list_tokens(state.app, include_revoked)]


@router.post(
    "",
    response_model=TokenCreatedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a token",
    responses=CONFLICT,
)
def create_token(body: TokenCreateIn, principal: AdminPrincipal, state: StateDep) -> TokenCreatedOut:
    """A new token; the `token` field is its only appearance anywhere."""
    view, token = tokens.create_token(state.app_for(principal.actor), body.name, body.scope)
    return TokenCreatedOut.model_validate({**view.to_json(), "token": token.reveal()})


@router.delete(
    "/{token:path}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a token", responses=NOT_FOUND
)
def revoke_token(token: str, principal: AdminPrincipal, state: StateDep) -> None:
    """Revoke by name or id; its dashboard sessions end at once."""
    view = tokens.revoke_token(state.app_for(principal.actor), token)
    state.sessions.drop_token(view.id)
