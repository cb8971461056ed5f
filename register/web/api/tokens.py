"""API tokens (admin only): list, create (the secret is shown once), revoke."""

from __future__ import annotations

from fastapi import APIRouter

from register.web.deps import ApiAdmin, SessionDep
from register.web.schemas import RowId, TokenCreate, TokenCreated, TokenPublic
from register.web.tokens import create_token, list_tokens, revoke_token

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get("", response_model=list[TokenPublic])
def get_tokens(session: SessionDep, _: ApiAdmin) -> list[TokenPublic]:
    """Every token, newest first, without secrets."""
    return [TokenPublic.model_validate(t, from_attributes=True) for t in list_tokens(session)]


@router.post("", response_model=TokenCreated, status_code=201)
def post_token(body: TokenCreate, session: SessionDep, _: ApiAdmin) -> TokenCreated:
    """Create a token; its secret is in this response only."""
    row, secret = create_token(session, name=body.name, role=body.role, projects=body.projects)
    return TokenCreated.model_validate({**row.model_dump(), "token": secret})


@router.delete("/{token_id}", response_model=TokenPublic)
def delete_token(token_id: RowId, session: SessionDep, _: ApiAdmin) -> TokenPublic:
    """Revoke a token; it stops working at once."""
    return TokenPublic.model_validate(revoke_token(session, token_id), from_attributes=True)
