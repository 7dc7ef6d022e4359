"""The composition root: the long-lived parts of a process (engine, archive vault, providers, signers),
built once from settings and handed to the domains, which never import this package."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from ccm.archiving.vault import ArchiveVault, open_vault
from ccm.channels.compose import dkim_keyring
from ccm.database import make_engine
from ccm.engagement.tokens import TokenSigner
from ccm.runtime.providers import build_providers
from ccm.settings import Settings
from delivery import DkimKeyring, ProviderRoutes, SnsMessageVerifier


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    archive: ArchiveVault
    providers: ProviderRoutes
    tokens: TokenSigner
    dkim: DkimKeyring | None = None
    sns_verifier: SnsMessageVerifier = field(default_factory=SnsMessageVerifier)

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
            dkim=dkim_keyring(settings),
            sns_verifier=SnsMessageVerifier(topic_arns=settings.sns_topic_arns or None),
        )

    def close(self) -> None:
        self.providers.close_all()
        self.archive.close()
        self.engine.dispose()
