"""The Redis-backed queue (RQ) that production uses when REDIS_URL is set, against the Redis on this machine."""

import pytest
import redis
from django.test import override_settings

from doanso.core.models import TaskRun
from doanso.core.tasks import queue_health, start_task

REDIS_URL = "redis://127.0.0.1:6379/15"
pytestmark = pytest.mark.django_db


@pytest.fixture
def rq_queue(settings):
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.fail("Redis must run on 127.0.0.1:6379 for this test (CI and the dev machines have it).")
    connection.flushdb()
    rq_settings = {
        "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        "RQ_QUEUES": {"default": {"URL": REDIS_URL}},
        "INSTALLED_APPS": [*settings.INSTALLED_APPS, "django_rq", "django_tasks_rq"],
    }
    with override_settings(**rq_settings):
        yield connection
    connection.flushdb()


def test_a_task_goes_through_redis_and_an_rq_worker(world, rq_queue, django_capture_on_commit_callbacks):
    import django_rq
    from rq import SimpleWorker

    from doanso.org.tasks import export_units

    with django_capture_on_commit_callbacks(execute=True):
        run = start_task(
            export_units, kind="org.export_units", title="Xuất", owner=world.manager_P, unit=world.P, unit_id=world.P.pk
        )
    assert TaskRun.objects.get(pk=run.pk).status == "queued"
    assert django_rq.get_queue("default").count == 1
    # In-process worker (no fork), so it shares the test's database connection.
    worker = SimpleWorker([django_rq.get_queue("default")], connection=rq_queue, job_class="django_tasks_rq.Job")
    worker.work(burst=True)
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == ("succeeded", 6, 6)
    assert run.result_file.name.endswith(".csv")
    assert queue_health() == "ok (redis)"
