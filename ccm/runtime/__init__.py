"""The composition root: the long-lived parts of a process (engine, archive vault, providers, signers),
built once from settings and handed to the domains, which never import this package."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from ccm.archiving.vault import ArchiveVault, open_vault
from ccm.channels.compose import dkim_keyring
from ccm.database import make_engine
from ccm.engagement.tokens import TokenSigner, token_signer
from ccm.runtime.providers import build_providers
from ccm.settings import EmailProviderName, Settings
from delivery import DkimKeyring, ProviderRoutes, SnsMessageVerifier

logger = logging.getLogger(__name__)


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
        warn_if_ses_events_are_refused(settings)
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            archive=open_vault(settings, engine),
            providers=build_providers(settings),
            tokens=token_signer(settings),
            dkim=dkim_keyring(settings),
            sns_verifier=SnsMessageVerifier(topic_arns=settings.sns_topic_arns),
        )

    def close(self) -> None:
        self.providers.close_all()
        self.archive.close()
        self.engine.dispose()


def warn_if_ses_events_are_refused(settings: Settings) -> None:
    """SES reports bounces and complaints only through SNS, and `/webhooks/ses` refuses them all until
    `CCM_SNS_TOPIC_ARNS` names the topic: say so at start-up rather than let bounced addresses go
    unsuppressed in silence."""
    uses_ses = settings.email_provider is EmailProviderName.SES or any(
        "ses" in names for names in settings.routes.values()
    )
    if uses_ses and not settings.sns_topic_arns:
        logger.warning(
            "SES sends email but CCM_SNS_TOPIC_ARNS is empty: /webhooks/ses answers 404 not_configured,"
            " so SES bounces and complaints are not applied (set it to the topic of the SES events)"
        )
