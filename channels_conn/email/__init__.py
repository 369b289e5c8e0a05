"""The email channel: parse (MIME to a ParsedEmail), imap (receive), smtp (send)."""
