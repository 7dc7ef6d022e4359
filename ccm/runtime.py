"""The long-lived parts of a process (engine, archive store, providers), built once and shared."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from archive import ArchiveStore, open_store
from ccm.communications.providers import build_providers
from ccm.database import make_engine
from ccm.engagement.tokens import TokenSigner
from ccm.settings import Settings
from delivery import ProviderRegistry


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    archive: ArchiveStore
    providers: ProviderRegistry
    tokens: TokenSigner

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            settings=settings,
            engine=make_engine(settings.database_url),
            archive=open_store(
                settings.archive_url, s3_endpoint_url=settings.s3_endpoint_url, s3_region=settings.s3_region
            ),
            providers=build_providers(settings),
            tokens=TokenSigner(settings.secret_key),
        )

    def close(self) -> None:
        self.providers.close_all()
        self.engine.dispose()
