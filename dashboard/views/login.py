"""/login — sign in with a token: a write token lets this browser triage; any read token opens reads."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from dashboard.auth import is_known_token, local_target, sign_in, sign_out
from dashboard.views import views


@views.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    token = request.form.get("token", "")
    if not is_known_token(token):
        return render_template(
            "login.html", next=request.form.get("next", ""), problem="that token is not one of this server's tokens"
        ), 403
    writer = sign_in(token)
    flash("signed in" + ("; you can triage" if writer else " (read only)"))
    return redirect(local_target(request.form.get("next"), url_for("views.overview")))


@views.post("/logout")
def logout() -> Response:
    sign_out()
    return redirect(url_for("views.overview"))
