"""Alerts: signing webhooks (Standard Webhooks v1), guarding their URLs against SSRF, the
delivery retry policy, and rendering incident events as generic or Slack JSON.

These are library pieces with no web framework and no database: the sender that reads the
outbox and posts with an HTTP client builds on them.
"""
