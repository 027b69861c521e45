"""Security headers on every response: no framing, no sniffing, scripts and styles only from here."""

from __future__ import annotations

from flask import Flask, Response, request

#: Plotly sets inline styles on the elements it draws, hence style-src 'unsafe-inline'; scripts are
#: only our own files and the Plotly bundle served by this app (no inline script, no CDN).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)


def install_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not request.path.startswith("/static/") and not request.path.startswith("/assets/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
