"""Renderers of findings for people: Markdown for PR comments (JSON is `perfci regressions --json`)."""
