"""Outbound webhooks: endpoints a CRM subscribes, an outbox of deliveries, and the loop that sends them.

Any domain calls `ccm.webhooks.events.emit_event` inside its own transaction; one delivery row per
subscribed endpoint commits with the change it describes, so an event is never lost nor sent for a change
that rolled back. The dispatcher (`dispatch.py`) leases due rows as the message worker does.
"""
