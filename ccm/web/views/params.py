"""Path and query parameter rules shared by the pages: the API's own patterns, so both refuse the same."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

IDENTIFIER = r"[A-Za-z0-9][A-Za-z0-9._:@+\-]*"

TemplateKeyPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
VersionPath = Annotated[int, Path(ge=1, le=1_000_000)]
ExternalIdPath = Annotated[str, Path(min_length=1, max_length=200, pattern=f"^{IDENTIFIER}$")]
VersionQuery = Annotated[int | None, Query(ge=1, le=1_000_000)]
CustomerQuery = Annotated[str, Query(max_length=200, pattern=f"^(|{IDENTIFIER})$")]
PageQuery = Annotated[int, Query(ge=1, le=10_000)]
