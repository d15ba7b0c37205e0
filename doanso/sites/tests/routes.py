from doanso.core.tests.matrix import LOGIN, PUBLIC, Route

from .support import jpeg, make_marker, make_site, once

# The matrix world's site is a published red address managed by commune C1; its marker likewise; the adoption is
# branch B1's (under C1). Sites are made on first use, so the core fixture needs no knowledge of this app.
SITE = lambda w: once(w, "site", lambda: make_site(w))  # noqa: E731
MARKER = lambda w: once(w, "marker_site", lambda: make_marker(w))  # noqa: E731


def _adoption(w):
    from .. import services

    return once(w, "adoption", lambda: services.adopt_site(SITE(w), actor=w.admin, unit=w.B1, since=w.C1.active_from))


def _photo(w):
    from .. import services

    return once(w, "photo", lambda: services.add_photo(SITE(w), jpeg(), actor=w.admin, alt="Cổng địa đạo"))


def _media(w):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .. import services

    pdf = SimpleUploadedFile("tai-lieu.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    return once(w, "media", lambda: services.add_media(SITE(w), pdf, actor=w.admin, kind="document", title="Lý lịch"))


EDITOR_LIST = (LOGIN, 404, 200, 200, 200)
C1_PAGE = (LOGIN, 404, 404, 200, 200)
C1_POST = (LOGIN, 404, 404, 302, 302)
C1_FORM_ERROR = (LOGIN, 404, 404, 400, 400)

ROUTES = {
    # Public pages: everyone, no login.
    "sites:public_list": PUBLIC,
    "sites:map": PUBLIC,
    "sites:geojson": PUBLIC,
    "sites:public_site": Route(expect=PUBLIC.expect, kwargs=lambda w: {"code": SITE(w).code}),
    "sites:qr_image": Route(expect=PUBLIC.expect, kwargs=lambda w: {"code": SITE(w).code, "fmt": "png"}),
    "qr:scan": Route(expect=PUBLIC.expect, kwargs=lambda w: {"code": SITE(w).code}),
    # Editors' pages: a role with sites.view somewhere; each sees their own subtree's sites.
    "sites:site_list": Route(expect=EDITOR_LIST),
    "sites:site_create": Route(expect=EDITOR_LIST),
    "sites:marker_create": Route(expect=EDITOR_LIST),
    "sites:marker_list": Route(expect=EDITOR_LIST),
    "sites:import_start": Route(expect=EDITOR_LIST),
    "sites:export": Route(expect=EDITOR_LIST, kwargs=lambda w: {"fmt": "xlsx"}),
    "sites:site_detail": Route(expect=C1_PAGE, kwargs=lambda w: {"pk": SITE(w).pk}),
    "sites:site_edit": Route(expect=C1_PAGE, kwargs=lambda w: {"pk": SITE(w).pk}),
    "sites:board": Route(expect=C1_PAGE, kwargs=lambda w: {"pk": SITE(w).pk, "fmt": "svg"}),
    # The world's site is published: submitting it again or an empty review note is refused with a message on
    # the site page (302); nothing changes.
    "sites:site_submit": Route(expect=C1_POST, method="post", kwargs=lambda w: {"pk": SITE(w).pk}),
    "sites:site_review": Route(expect=C1_POST, method="post", kwargs=lambda w: {"pk": SITE(w).pk}),
    "sites:site_unpublish": Route(expect=C1_POST, method="post", kwargs=lambda w: {"pk": SITE(w).pk}),
    # Uploads without a file: the form comes back with its errors.
    "sites:photo_add": Route(expect=C1_FORM_ERROR, method="post", kwargs=lambda w: {"pk": SITE(w).pk}),
    "sites:media_add": Route(expect=C1_FORM_ERROR, method="post", kwargs=lambda w: {"pk": SITE(w).pk}),
    "sites:photo_delete": Route(expect=C1_POST, method="post", kwargs=lambda w: {"pk": _photo(w).pk}),
    "sites:media_delete": Route(expect=C1_POST, method="post", kwargs=lambda w: {"pk": _media(w).pk}),
    # A published marker or site is visible to every logged-in user (units adopt what the public sees); an
    # empty form is refused at its fields.
    "sites:condition_add": Route(
        expect=(LOGIN, 400, 400, 400, 400), method="post", kwargs=lambda w: {"pk": MARKER(w).pk}
    ),
    "sites:adopt": Route(expect=(LOGIN, 400, 400, 400, 400), method="post", kwargs=lambda w: {"pk": SITE(w).pk}),
    # The adoption belongs to branch B1 (under C1).
    "sites:adoption_detail": Route(expect=C1_PAGE, kwargs=lambda w: {"pk": _adoption(w).pk}),
    "sites:activity_add": Route(expect=C1_FORM_ERROR, method="post", kwargs=lambda w: {"pk": _adoption(w).pk}),
    "sites:adoption_end": Route(expect=C1_POST, method="post", kwargs=lambda w: {"pk": _adoption(w).pk}),
}
