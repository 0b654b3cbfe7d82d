"""Newsroom Curator: the Slack side, the clock and the command line."""
