"""Who may be sent what: the send rules (consent, suppression, an address to send to) in one place."""
