from .matrix import LOGGED_IN, LOGIN, PUBLIC, Route

ROUTES = {
    "core:home": PUBLIC,
    "core:healthz": PUBLIC,
    "core:dashboard": LOGGED_IN,
    # Audit pages need the audit right somewhere: the user without roles gets a 404.
    "core:audit_list": Route(expect=(LOGIN, 404, 200, 200, 200)),
    "core:access_list": Route(expect=(LOGIN, 404, 200, 200, 200)),
    "core:task_list": LOGGED_IN,
    # A task belongs to whoever started it (here the manager of C1); nobody else sees it.
    "core:task_detail": Route(expect=(LOGIN, 404, 404, 404, 200), kwargs=lambda w: {"pk": w.task.pk}),
    "core:task_file": Route(expect=(LOGIN, 404, 404, 404, 200), kwargs=lambda w: {"pk": w.task.pk, "which": "result"}),
    "set_language": Route(expect=(302, 302, 302, 302, 302), method="post", data=lambda w: {"language": "en"}),
    "api_docs": PUBLIC,
}
