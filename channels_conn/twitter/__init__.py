"""X (Twitter): mentions and direct messages read with tweepy, replies and posts sent with it."""
