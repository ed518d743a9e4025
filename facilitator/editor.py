"""The guide editor in the browser (issue 10, section 1): write a whole guide in a form, without
YAML. The page is a client of the same rules as REST v1 (`shared.library`: rights, the version
check, validation); these views only translate between the form's JSON and those rules.

- `GET /guides/new`: a skeleton (one section, one item) in the page's language; the first save
  creates the guide (`POST /guides/new`) and the page carries on as its editor.
- `GET /guides/<id>/edit` and `POST /guides/<id>/edit` (`{version, document}`): 200 `{version,
  document}`, 409 when somebody saved in between (the form keeps the text), 422 `{errors}`.
- `POST /guides/validate`: the validator's `{errors: [{place, message}]}` while typing; no write.
- `POST /guides/<id>/duplicate`: a copy owned by the user, opened in the editor.
- `GET /guides/<id>/export.yaml|json`: the document as a file that imports again.
- `POST /guides/<id>/archive` (`archived=1|0`), `GET|POST /guides/<id>/delete` (a confirmation
  page first; refused once a session used the guide): plain forms, no script needed.

The JSON routes answer 401 instead of redirecting to the sign-in page, so that the script can say
that the sign-in lapsed while the text stays in the form and in the browser's draft.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from shared import downloads, guides, library, templating
from shared.db import get_db
from shared.errors import STATUS, DialogrumError
from shared.models import Guide
from shared.uow import unit_of_work

bp = Blueprint("editor", __name__, template_folder="templates")


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    # The guide pages show "Edit" only to whoever the library's rule lets edit.
    return {"can_edit_guide": lambda guide: library.can_edit(current_user, guide),
            "can_archive_guide": lambda guide: library.can_archive(current_user, guide),
            "can_delete_guide": lambda guide: library.can_delete(get_db().session, current_user, guide)}


def _skeleton(language: str) -> dict[str, Any]:
    """A new guide: one section with one consideration, in the page's language, empty texts."""
    return {"title": "", "language": language, "description": "",
            "sections": [{"title": "", "statement": "", "tags": [], "notes": "", "duration": None,
                          "items": [{"kind": "consideration", "title": "", "text": "", "allow_unsure": False,
                                     "notes": "", "duration": None}]}]}


def _editable(guide_id: str) -> Guide:
    """The guide the signed-in user may edit, else 404 or 403."""
    guide = library.get_guide(get_db().session, guide_id)
    if guide is None:
        abort(404)
    if not library.can_edit(current_user, guide):
        abort(403)
    return guide


def _errors_body(exc: guides.GuideError) -> dict[str, list[dict[str, str]]]:
    return {"errors": [{"place": place, "message": message} for place, message in exc.errors]}


def _json_body() -> dict[str, Any] | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _signed_out():
    """A JSON request whose sign-in has lapsed: 401 with a message, never the sign-in page."""
    return jsonify({"error": "unauthorized", "message": _texts()["signed_out"]}), 401


@bp.get("/guides/new")
@login_required
def new_guide():
    """The editor on an empty guide in the page's language."""
    return _page(None, _skeleton(str(get_locale())))


@bp.get("/guides/<guide_id>/edit")
@login_required
def edit_guide(guide_id: str):
    """The editor on a guide the user may edit."""
    guide = _editable(guide_id)
    return _page(guide, guide.document)


def _page(guide: Guide | None, document: dict[str, Any]):
    names = templating.names()
    config = {
        "guide_id": guide.id if guide else None,
        "version": guide.version if guide else None,
        "document": document,
        "save_url": url_for("editor.edit_guide", guide_id=guide.id) if guide else url_for("editor.create"),
        "validate_url": url_for("editor.validate"),
        "detail_url": url_for("facilitator.guide_detail", guide_id=guide.id) if guide else None,
        "login_url": url_for("facilitator.login"),
        "sessions_url": url_for("facilitator.sessions"),
        "csrf": generate_csrf(),
        "vote_labels": guides.VOTE_LABELS,
        "kinds": names["kind_names"],
        "text": _texts(),
    }
    return render_template("facilitator/editor.html", guide=guide, config_json=config)


@bp.post("/guides/new")
def create():
    """The first save of a new guide: 201 `{id, version, document, url}` or 422 `{errors}`."""
    if not current_user.is_authenticated:
        return _signed_out()
    body = _json_body()
    if body is None or not isinstance(body.get("document"), dict):
        return jsonify({"errors": [{"place": "document", "message": _texts()["bad_request"]}]}), 400
    db = get_db().session
    try:
        with unit_of_work(get_db(), session=db):
            guide = library.create_guide(db, body["document"], owner_id=current_user.id)
            answer = {"id": guide.id, "version": guide.version, "document": guide.document,
                      "url": url_for("editor.edit_guide", guide_id=guide.id),
                      "detail_url": url_for("facilitator.guide_detail", guide_id=guide.id)}
    except guides.GuideError as exc:
        return jsonify(_errors_body(exc)), 422
    return jsonify(answer), 201


@bp.post("/guides/<guide_id>/edit")
def save(guide_id: str):
    """Save the form: 200 `{version, document}`; 409 `{error, message, version}` when the version is
    stale; 403 when the user may not edit; 422 `{errors}` when invalid. Nothing is saved on a refusal."""
    if not current_user.is_authenticated:
        return _signed_out()
    db = get_db().session
    guide = library.get_guide(db, guide_id)
    if guide is None:
        abort(404)
    body = _json_body()
    if body is None or not isinstance(body.get("document"), dict):
        return jsonify({"errors": [{"place": "document", "message": _texts()["bad_request"]}]}), 400
    try:
        with unit_of_work(get_db(), session=db):
            guide = library.save_guide(db, current_user, guide, body["document"], version=body.get("version"))
            answer = {"version": guide.version, "document": guide.document}
    except guides.GuideError as exc:
        return jsonify(_errors_body(exc)), 422
    except DialogrumError as exc:
        if exc.code == "version_conflict":
            return jsonify({"error": exc.code, "message": _texts()["conflict"],
                            "version": getattr(exc, "version", None)}), 409
        return jsonify({"error": exc.code, "message": exc.message}), STATUS.get(exc.code, 400)
    return jsonify(answer)


@bp.post("/guides/validate")
def validate():
    """Validation as the user types: `{errors: [{place, message}]}`, empty when the document is
    valid. Nothing is written."""
    if not current_user.is_authenticated:
        return _signed_out()
    body = _json_body()
    try:
        guides.validate(body.get("document") if body else None)
    except guides.GuideError as exc:
        return jsonify(_errors_body(exc))
    return jsonify({"errors": []})


@bp.post("/guides/<guide_id>/duplicate")
@login_required
def duplicate(guide_id: str):
    """A copy of any guide (a built-in one too), owned by the user, opened in the editor."""
    db = get_db().session
    source = library.get_guide(db, guide_id)
    if source is None:
        abort(404)
    with unit_of_work(get_db(), session=db):
        copy = library.duplicate_guide(db, source, owner_id=current_user.id)
        target = url_for("editor.edit_guide", guide_id=copy.id)
    return redirect(target)


def _guide_or_404(guide_id: str) -> Guide:
    guide = library.get_guide(get_db().session, guide_id)
    if guide is None:
        abort(404)
    return guide


@bp.get("/guides/<guide_id>/export.<fmt>")
@login_required
def export(guide_id: str, fmt: str):
    """The guide as a YAML or JSON file that imports again (the REST API's export)."""
    if fmt not in library.EXPORT_FORMATS:
        abort(404)
    return downloads.response(library.export_file(_guide_or_404(guide_id), fmt))


@bp.post("/guides/<guide_id>/archive")
@login_required
def archive(guide_id: str):
    """Archive a guide (`archived=1`) or bring it back (`archived=0`), then show it."""
    db = get_db().session
    guide = _guide_or_404(guide_id)
    archived = request.form.get("archived") == "1"
    try:
        with unit_of_work(get_db(), session=db):
            library.archive_guide(db, current_user, guide, archived)
            title = guide.title
    except DialogrumError as exc:
        flash(exc.message, "error")
    else:
        flash(_("“%(title)s” is archived: it is no longer offered for new sessions.", title=title) if archived
              else _("“%(title)s” is offered for new sessions again.", title=title), "success")
    return redirect(url_for("facilitator.guide_detail", guide_id=guide_id))


@bp.route("/guides/<guide_id>/delete", methods=["GET", "POST"])
@login_required
def delete(guide_id: str):
    """Ask, then delete a guide no session used and no open campaign asks for, naming the closed
    campaigns that go with it (the rule refuses the others with a reason)."""
    db = get_db().session
    guide = _guide_or_404(guide_id)
    if not library.can_edit(current_user, guide):
        abort(403)
    used = library.session_count(db, guide.id)
    open_campaigns, closed_campaigns = library.guide_campaigns(db, guide.id)
    if request.method == "POST" and not used and not open_campaigns:  # CSRFProtect has checked the token
        title = guide.title
        with unit_of_work(get_db(), session=db):
            library.delete_guide(db, current_user, guide)
        flash(_("The guide “%(title)s” was deleted.", title=title), "success")
        return redirect(url_for("facilitator.guide_library"))
    refused = bool(used or open_campaigns)
    return render_template("facilitator/guide_delete.html", guide=guide, used=used, open_campaigns=open_campaigns,
                           closed_campaigns=closed_campaigns), (409 if refused else 200)


def _texts() -> dict[str, str]:
    """The editor script's texts in the page's language."""
    return {
        "section": _("Section %(n)s"),
        "item": _("Item %(n)s"),
        "section_title": _("Section title"),
        "statement": _("Goal (“We want …”)"),
        "tags": _("Tags (separated by commas)"),
        "notes": _("Facilitator notes (only on the console)"),
        "minutes": _("Suggested minutes"),
        "kind": _("Kind"),
        "item_title": _("Title (optional)"),
        "item_text": _("Text"),
        "allow_unsure": _("Offer “Don't know” as well"),
        "move_section_up": _("Move section %(n)s up"),
        "move_section_down": _("Move section %(n)s down"),
        "remove_section": _("Remove section %(n)s"),
        "move_item_up": _("Move item %(n)s up"),
        "move_item_down": _("Move item %(n)s down"),
        "move_item_to": _("Move item %(n)s to section"),
        "move": _("Move"),
        "move_item": _("Move item %(n)s to the chosen section"),
        "remove_item": _("Remove item %(n)s"),
        "remove": _("Remove"),
        "add_item": _("Add an item"),
        "add_item_after": _("Add an item after item %(n)s"),
        "add_item_to": _("Add an item to section %(n)s"),
        "add_section": _("Add a section"),
        "add_section_after": _("Add a section after section %(n)s"),
        "removed_item": _("Item %(n)s was removed."),
        "removed_section": _("Section %(n)s was removed."),
        "undo": _("Undo"),
        "moved_item": _("Item moved: it is now item %(n)s."),
        "moved_section": _("Section moved: it is now section %(n)s."),
        "saving": _("Saving…"),
        "saved": _("Saved (version %(version)s)."),
        "created": _("The guide was created and saved."),
        "unsaved": _("Changes not saved yet."),
        "invalid": _("The guide was not saved: fix the places listed above."),
        "errors_heading": _("Fix these places before saving:"),
        "conflict": _("Somebody else saved this guide while you were editing it, so your version was not "
                      "saved. Your text is kept in this form: download it or copy it, then reload the page "
                      "to see theirs."),
        "download": _("Download my version (JSON)"),
        "signed_out": _("Your sign-in has ended, so the guide was not saved. Your text is kept in this "
                        "browser: sign in again and open this page; the text will be restored."),
        "sign_in": _("Sign in again"),
        "forbidden": _("You may not change this guide. Duplicate it and edit the copy."),
        "network": _("The server could not be reached, so the guide was not saved. Your text is kept; "
                     "try again in a moment."),
        "bad_request": _("The form could not be read. Reload the page; your text is kept in this browser."),
        "restored": _("Text that was not saved (from %(time)s) has been restored."),
        "discard": _("Discard it and show the saved guide"),
        "preview_empty": _("Choose an item in the form to see it here."),
        "your_comment": _("Your comment"),
        "send": _("Send"),
    }
