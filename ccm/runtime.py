"""The long-lived parts of a process (engine, archive store, providers), built once and shared."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from ccm.communications.providers import build_providers
from ccm.compliance.vault import ArchiveVault, open_vault
from ccm.database import make_engine
from ccm.engagement.tokens import TokenSigner
from ccm.settings import Settings
from delivery import ProviderRegistry


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    archive: ArchiveVault
    providers: ProviderRegistry
    tokens: TokenSigner

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            archive=open_vault(settings, engine),
            providers=build_providers(settings),
            tokens=TokenSigner(settings.secret_key),
        )

    def close(self) -> None:
        self.providers.close_all()
        self.archive.close()
        self.engine.dispose()
