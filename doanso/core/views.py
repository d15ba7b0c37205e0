from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import FileResponse, Http404, HttpResponseServerError, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template import loader
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from doanso.accounts.roles import VIEW_AUDIT
from doanso.accounts.scope import can_anywhere, scope_q
from doanso.org.models import Unit

from .forms import AuditFilterForm
from .models import AccessRecord, AuditRecord, TaskRun


def home(request):
    """The public home page: what the platform is and where the public parts are."""
    return render(request, "core/home.html")


@login_required
def dashboard(request):
    units = Unit.objects.restrict(request.user).active()
    roots = list(Unit.objects.filter(pk__in={u for _r, _p, u in request.user.assignments()}).select_related("parent"))
    context = {
        "unit_count": units.count(),
        "my_units": roots,
        "recent_tasks": TaskRun.objects.filter(owner=request.user)[:5],
    }
    return render(request, "core/dashboard.html", context)


@never_cache
@require_GET
def healthz(request):
    """Liveness for load balancers and monitoring: the database, the cache and the task queue."""
    checks: dict[str, str] = {}
    ok = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # health checks report, they do not raise
        checks["database"] = f"error: {exc.__class__.__name__}"
        ok = False
    try:
        key = "healthz:probe"
        cache.set(key, "1", 10)
        checks["cache"] = "ok" if cache.get(key) == "1" else "error: cache did not keep a value"
    except Exception as exc:
        checks["cache"] = f"error: {exc.__class__.__name__}"
    ok = ok and checks["cache"] == "ok"
    from .tasks import queue_health

    checks["queue"] = queue_health()
    ok = ok and checks["queue"].startswith("ok")
    return JsonResponse({"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503)


@login_required
def audit_list(request):
    if not can_anywhere(request.user, VIEW_AUDIT):
        raise Http404
    form = AuditFilterForm(request.GET or None, user=request.user)
    records = AuditRecord.objects.restrict(request.user).select_related("actor", "unit")
    if form.is_valid():
        records = form.apply(records)
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    template = "core/partials/audit_rows.html" if request.htmx else "core/audit_list.html"
    return render(request, template, {"form": form, "page": page})


@login_required
def access_list(request):
    """Reads of personal data (Decree 13/2023) in the manager's subtree."""
    if not can_anywhere(request.user, VIEW_AUDIT):
        raise Http404
    records = AccessRecord.objects.filter(scope_q(request.user, VIEW_AUDIT, "unit")).select_related("actor", "unit")
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return render(request, "core/access_list.html", {"page": page})


def visible_tasks(user):
    # A person sees the tasks they started; a platform admin sees all of them.
    return TaskRun.objects.all() if user.is_superuser else TaskRun.objects.filter(owner=user)


@login_required
def task_list(request):
    page = Paginator(visible_tasks(request.user).select_related("unit"), 30).get_page(request.GET.get("page"))
    return render(request, "core/task_list.html", {"page": page})


@login_required
def task_detail(request, pk):
    task = get_object_or_404(visible_tasks(request.user), pk=pk)
    template = "core/partials/task_status.html" if request.htmx else "core/task_detail.html"
    return render(request, template, {"task": task})


@login_required
def task_file(request, pk, which):
    task = get_object_or_404(visible_tasks(request.user), pk=pk)
    field = {"result": task.result_file, "errors": task.error_report}.get(which)
    if not field:
        raise Http404
    name = field.name.rsplit("/", 1)[-1]
    return FileResponse(field.open("rb"), as_attachment=True, filename=name)


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    # No context processors that touch the database: the error may come from there.
    return HttpResponseServerError(loader.get_template("500.html").render({"now": timezone.now()}))


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` rows: counting every match of a common word among a million
    members costs more than the page itself. Past the cap the page says "more than …" and asks to narrow the
    search; every page up to the cap stays reachable."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        # Counted without ORDER BY: with a LIMIT, an ordering would make the database walk an index in that
        # order instead of using the one that finds the matches.
        n = self.object_list.order_by()[: self.cap + 1].count()
        self.capped = n > self.cap
        return min(n, self.cap)
