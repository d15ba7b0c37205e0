import importlib
import pkgutil

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import doanso

from .matrix import LOGIN, PERSONAS


def all_route_names(patterns=None, namespace=None):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(filter(None, [namespace, p.namespace])) or None
            yield from all_route_names(p.url_patterns, ns)
        elif isinstance(p, URLPattern):
            yield f"{namespace}:{p.name}" if namespace else p.name


def declared_routes():
    routes = {}
    # Every module named routes*.py in an app's tests package (a large app splits them by concern).
    for app in pkgutil.iter_modules(doanso.__path__):
        try:
            tests = importlib.import_module(f"doanso.{app.name}.tests")
        except ModuleNotFoundError:
            continue
        for module in pkgutil.iter_modules(tests.__path__):
            if not module.name.startswith("routes"):
                continue
            found = importlib.import_module(f"doanso.{app.name}.tests.{module.name}")
            overlap = routes.keys() & found.ROUTES.keys()
            assert not overlap, f"routes declared twice: {overlap}"
            routes.update(found.ROUTES)
    return routes


ROUTES = declared_routes()


def test_every_route_declares_its_expectations():
    names = set(all_route_names())
    assert None not in names, "every URL pattern needs a name, so the matrix can list it"
    missing = sorted(names - ROUTES.keys())
    assert not missing, f"routes with no permission expectations (add them to <app>/tests/routes.py): {missing}"
    stale = sorted(ROUTES.keys() - names)
    assert not stale, f"expectations for routes that no longer exist: {stale}"


@pytest.fixture
def matrix_world(world, django_capture_on_commit_callbacks):
    """The world of conftest plus objects that some routes need: a task, a twinning, a token, an invitation."""
    from doanso.accounts import services as account_services
    from doanso.accounts.models import RoleAssignment
    from doanso.core.models import TaskRun
    from doanso.org import services as org_services

    world.task = TaskRun.objects.create(kind="test", title="Xuất dữ liệu", owner=world.manager_C1, unit=world.C1)
    world.task.result_file.save("ket-qua.csv", ContentFile(b"ma,ten\n"))
    world.twinning = org_services.twin_units(world.B1, world.B2, actor=world.admin)
    world.token, _raw = account_services.create_api_token(world.manager_C1, actor=world.manager_C1)
    _inv, world.invitation_token = account_services.invite_user(
        actor=world.manager_C1, full_name="Nguyễn Văn Mới", unit=world.B1, email="moi@example.vn"
    )
    world.staff_assignment = RoleAssignment.objects.get(user=world.staff_C1)
    from doanso.members.models import SavedFilter
    from doanso.members.tests.factories import MemberFactory

    world.member = MemberFactory(unit=world.B1)
    world.saved_filter = SavedFilter.objects.create(user=world.manager_C1, name="Nam", query="sex=male")
    from doanso.members.services import lifecycle

    # A transfer from B2 (under C1) to B3 (under C2): both sides may act on it, others may not see it.
    world.transfer = lifecycle.send_transfer(MemberFactory(unit=world.B2), actor=world.admin, to_unit=world.B3)
    return world


def persona_user(world, persona):
    return {
        "anonymous": None,
        "nobody": world.nobody,
        "sibling": world.manager_C2,
        "parent": world.manager_P,
        "own": world.manager_C1,
    }[persona]


@pytest.mark.parametrize("name", sorted(ROUTES))
@pytest.mark.parametrize("persona", PERSONAS)
def test_route_answers_as_declared(client, matrix_world, name, persona, settings):
    settings.DEBUG = False
    route = ROUTES[name]
    expected = route.expect[PERSONAS.index(persona)]
    user = persona_user(matrix_world, persona)
    if user is not None:
        client.force_login(user)
    url = reverse(name, kwargs=route.kwargs(matrix_world))
    if route.method == "post" and route.json:
        response = client.post(url, route.data(matrix_world), content_type="application/json")
    elif route.method == "post":
        response = client.post(url, route.data(matrix_world))
    else:
        response = client.get(url, route.query)
    if expected == LOGIN:
        assert response.status_code == 302, f"{name} as {persona}: {response.status_code}"
        assert response.url.startswith(reverse("accounts:login")), f"{name} as {persona}: went to {response.url}"
    else:
        assert response.status_code == expected, f"{name} as {persona}: {response.status_code}, expected {expected}"
