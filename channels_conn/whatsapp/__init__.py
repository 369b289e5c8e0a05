"""WhatsApp: its 24-hour window (:mod:`.window`) and its template messages (:mod:`.templates`)."""
