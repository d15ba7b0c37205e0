import csv
import io

import pytest
from django.urls import reverse

from doanso.core.models import TaskRun

pytestmark = pytest.mark.django_db


def test_export_task_runs_and_offers_the_file(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.manager_C1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("org:unit_export", args=[world.C1.pk]))
    run = TaskRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("core:task_detail", args=[run.pk])
    assert (run.status, run.done, run.total, run.owner, run.unit) == ("succeeded", 3, 3, world.manager_C1, world.C1)
    page = client.get(run and reverse("core:task_detail", args=[run.pk]))
    assert "100%" in page.content.decode()
    download = client.get(reverse("core:task_file", args=[run.pk, "result"]))
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["C1", "B1", "B2"]
    assert rows[2][5] == "C1"  # parent code of B1


@pytest.mark.parametrize(("language", "header"), [("en", "Code"), ("vi", "Mã")])
def test_a_task_writes_in_the_language_of_whoever_started_it(
    language, header, client, world, django_capture_on_commit_callbacks
):
    from django.conf import settings
    from django.utils import translation

    client.force_login(world.manager_C1)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("org:unit_export", args=[world.C1.pk]))
    # The worker runs in another process, in whatever language it starts with.
    with translation.override("vi" if language == "en" else "en"):
        for callback in callbacks:
            callback()
    run = TaskRun.objects.get()
    assert run.language == language
    download = client.get(reverse("core:task_file", args=[run.pk, "result"]))
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == header


def test_task_of_another_user_is_a_404(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.manager_C1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("org:unit_export", args=[world.C1.pk]))
    run = TaskRun.objects.get()
    client.force_login(world.manager_P)
    assert client.get(reverse("core:task_detail", args=[run.pk])).status_code == 404
    assert client.get(reverse("core:task_file", args=[run.pk, "result"])).status_code == 404


def test_failed_task_is_reported_with_an_error_report(world):
    from doanso.core.tasks import Progress, tracked

    @tracked
    def failing(progress: Progress, *, rows):
        progress.start(len(rows))
        progress.attach_errors(
            [{"row": 2, "column": "Ngày sinh", "value": "31/02/2001", "message": "Ngày không tồn tại"}]
        )
        raise ValueError("boom")

    run = TaskRun.objects.create(kind="t", title="t", owner=world.admin)
    with pytest.raises(ValueError):
        failing(run_id=str(run.pk), rows=[1, 2, 3])
    run.refresh_from_db()
    assert run.status == "failed" and run.total == 3 and "ValueError" in run.message


def test_error_report_is_a_csv_excel_can_read(world):
    from doanso.core.tasks import Progress

    run = TaskRun.objects.create(kind="t", title="t", owner=world.admin)
    progress = Progress(run)
    count = progress.attach_errors([{"row": 7, "column": "Số CCCD", "value": "0123", "message": "Thiếu chữ số"}])
    run.save()
    content = run.error_report.read()
    assert count == 1 and content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[1] == ["7", "Số CCCD", "0123", "Thiếu chữ số"]


def test_prune_tasks_deletes_old_finished_tasks_and_their_files(world):
    import datetime
    from io import StringIO

    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.utils import timezone

    now = timezone.now()
    old = TaskRun.objects.create(
        kind="t", title="cũ", owner=world.admin, status="succeeded", finished_at=now - datetime.timedelta(days=40)
    )
    old.result_file.save("cu.csv", ContentFile(b"x"))
    storage, name = old.result_file.storage, old.result_file.name
    recent = TaskRun.objects.create(
        kind="t", title="mới", owner=world.admin, status="succeeded", finished_at=now - datetime.timedelta(days=2)
    )
    running = TaskRun.objects.create(kind="t", title="đang chạy", owner=world.admin, status="running")
    import os

    from doanso.core.models import private_storage

    uploads = private_storage()
    abandoned = uploads.save("imports/2025/01/bo-do.xlsx", ContentFile(b"x"))
    fresh = uploads.save("imports/2025/01/dang-lam.xlsx", ContentFile(b"x"))
    old_time = (now - datetime.timedelta(days=40)).timestamp()
    os.utime(uploads.path(abandoned), (old_time, old_time))
    out = StringIO()
    call_command("prune_tasks", days=30, stdout=out)
    assert set(TaskRun.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert not storage.exists(name)
    assert (uploads.exists(abandoned), uploads.exists(fresh)) == (False, True)
    assert "Deleted 1 finished tasks older than 30 days, 1 files, and 1 abandoned uploads." in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_progress_inside_a_long_transaction_is_seen_by_others_at_once(world):
    """An import writes everything in one transaction; its progress must still show on the task page (another
    connection) while it runs, not only at the commit."""
    from django.db import connection, transaction

    from doanso.core.tasks import Progress

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer: the progress is written inside the transaction")
    run = TaskRun.objects.create(kind="test", title="t", owner=world.manager_C1)
    progress = Progress(run)
    other = connection.get_new_connection(connection.get_connection_params())
    other.autocommit = True
    try:
        with transaction.atomic():
            progress.start(100, "Đang nhập")
            progress.advance(40)  # within min_interval: not written
            progress._last_write = 0
            progress.advance(60)
            with other.cursor() as cursor:
                cursor.execute("SELECT done, total, message FROM core_taskrun WHERE id = %s", [run.pk])
                assert cursor.fetchone() == (60, 100, "Đang nhập")
            transaction.set_rollback(True)
    finally:
        progress.close()
        other.close()
    assert progress._side is None
