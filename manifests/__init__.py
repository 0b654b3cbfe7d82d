"""The Slack app manifest and the commented example config, shipped as ``bot.manifests``.

This file makes the folder a package, so the wheel and an editable install both find the
files with importlib.resources; the YAML files beside it are what to read.
"""
