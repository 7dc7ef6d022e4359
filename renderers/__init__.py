"""Stateless renderers: (template source, context) -> text or bytes; see email, pdf, sms, mime."""
