"""A public roll-up link lives only while its publisher may publish (issue 15, point 17): deactivating
the organiser who published it (or making them a facilitator) suspends it, 404 like a revoked link;
activating them again brings it back; another organiser's link is unaffected. The roll-up page
marks a suspended link. On SQLite and PostgreSQL."""

from __future__ import annotations

from shared import organiser
from shared.db import get_db
from shared.models import User, UserRole


def _publish(app, user_id: int, guide_id: str) -> str:
    with app.app_context():
        db = get_db().session
        key = organiser.publish_rollup(db, guide_id, db.get(User, user_id)).key
        db.commit()
        db.remove()
    return key


def _change(app, user_id: int, **values) -> None:
    with app.app_context():
        db = get_db().session
        user = db.get(User, user_id)
        for name, value in values.items():
            setattr(user, name, value)
        db.commit()
        db.remove()


def test_a_public_link_ends_with_its_publishers_right_to_publish(app, client, make, regions, login, csrf):
    publisher, colleague = regions["organiser"], make.user("organiser")
    key = _publish(app, publisher.id, regions["guide"])
    theirs = _publish(app, colleague.id, regions["guide"])
    anonymous = app.test_client()
    assert anonymous.get(f"/f/{key}").status_code == 200

    with app.app_context():
        db = get_db().session
        organiser.set_user_active(db, db.get(User, colleague.id), publisher.id, False)
        db.commit()
        db.remove()
    assert anonymous.get(f"/f/{key}").status_code == 404
    assert anonymous.get(f"/f/{theirs}").status_code == 200  # the colleague's own link stays

    login(colleague)
    page = client.get(f"/guides/{regions['guide']}/rollup").text
    assert page.count("Suspended:") == 1

    _change(app, publisher.id, active=True)
    assert anonymous.get(f"/f/{key}").status_code == 200

    _change(app, publisher.id, role=UserRole.FACILITATOR)
    assert anonymous.get(f"/f/{key}").status_code == 404
    _change(app, publisher.id, role=UserRole.ORGANISER)
    assert anonymous.get(f"/f/{key}").status_code == 200
