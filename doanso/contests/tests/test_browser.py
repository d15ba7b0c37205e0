"""A contestant on a 360 px phone in a real Chromium: registers (unit picked by typing), starts, answers, loses the
connection, refreshes, and finds every answer and the same remaining time; nothing on the page moves when an
answer is saved; the page's CSS and JS stay under 60 KB; submitting counts what was saved."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from doanso.contests.models import Attempt, AttemptQuestion, Participant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def chosen(attempt, position):
    return AttemptQuestion.objects.get(attempt=attempt, position=position).chosen


def test_register_answer_drop_refresh_resume_submit(page: Page, live_server, contest, round_):
    page.set_default_timeout(10000)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + reverse("contests:register", args=[contest.pk]))
    page.fill("#id_full_name", "Nguyễn Thị Lan")
    page.fill("#id_date_of_birth", "12/08/2004")
    page.fill("#id_phone", "0905 246 810")
    unit = page.locator("#id_unit")
    unit.press_sequentially("thon 1", delay=30)
    expect(page.locator("#unit-options option")).to_have_count(1)
    assert page.locator("#unit-options option").get_attribute("value") == "Chi đoàn thôn 1 — B1"
    unit.fill("Chi đoàn thôn 1 — B1")  # what choosing the suggestion puts in the box
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"**/cuoc-thi/{contest.pk}/")
    assert Participant.objects.get().unit.code == "B1"

    assets = []
    page.on("response", lambda r: assets.append(r) if r.request.resource_type in ("script", "stylesheet") else None)
    start = page.locator("form[action$='/bat-dau/'] button")
    box = start.bounding_box()  # on the phone's screen, not off to the right of a table
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360
    start.click()
    page.wait_for_url("**/cuoc-thi/bai/*/")
    attempt = Attempt.objects.get()
    # The whole page's CSS and JS, as the phone downloads them.
    assert assets and sum(len(r.body()) for r in assets) < 60 * 1024

    first = page.locator("fieldset[data-position='1'] label").nth(0)
    third_box = page.locator("fieldset[data-position='3']").bounding_box()
    first.click()
    expect(page.locator("fieldset[data-position='1'] [data-state]")).not_to_have_text("")
    page.wait_for_function(
        "document.querySelector(\"fieldset[data-position='1'] [data-state]\").textContent.length > 0"
    )
    # No layout jump: the question below did not move while the answer was being saved.
    assert page.locator("fieldset[data-position='3']").bounding_box() == third_box
    page.locator("fieldset[data-position='2'] label").nth(1).click()
    expect(page.locator("fieldset[data-position='2'] [data-state]")).not_to_be_empty()
    _wait_saved(page, attempt, 2)
    assert len(chosen(attempt, 1)) == 1 and len(chosen(attempt, 2)) == 1

    # The connection drops: the third answer cannot be sent and is kept on the phone.
    page.context.set_offline(True)
    page.locator("fieldset[data-position='3'] label").nth(2).click()
    expect(page.locator("[data-status]")).not_to_be_empty()
    assert chosen(attempt, 3) == []
    timer_before = _seconds(page.locator("[data-timer]").inner_text())

    # Back online, the person refreshes: the same attempt, every answer, the same time left.
    page.context.set_offline(False)
    page.reload()
    for position in (1, 2, 3):
        # Generous timeout: on a loaded CI machine the restored page can take a few seconds.
        expect(page.locator(f"fieldset[data-position='{position}'] input:checked")).to_have_count(1, timeout=15_000)
    _wait_saved(page, attempt, 3)
    timer_after = _seconds(page.locator("[data-timer]").inner_text())
    # The same time left, to the second: the page counts down on the phone's clock and the reloaded page starts
    # from the server's, so their roundings may differ by one second either way.
    assert -1 <= timer_before - timer_after <= 5
    assert Attempt.objects.count() == 1

    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("button.submit").click()
    page.wait_for_url("**/ket-qua/")
    attempt.refresh_from_db()
    assert attempt.status == "submitted"
    saved = [chosen(attempt, p) for p in (1, 2, 3)]
    assert all(saved)
    expect(page.locator("main .stats strong").first).to_have_text(f"{attempt.correct}/10")


def _seconds(text: str) -> int:
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + int(seconds)


def _wait_saved(page, attempt, position, tries=50):
    for _ in range(tries):
        if chosen(attempt, position):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"answer {position} never reached the server")


def test_time_up_without_a_connection_keeps_the_page_and_submits_once_back(page: Page, live_server, round_, register):
    """The time runs out while the phone has no connection: the page stays (not the browser's error page), says
    what is happening, and shows the result once the connection is back."""
    import datetime

    from django.utils import timezone

    from doanso.contests.services import taking

    attempt = taking.start_attempt(round_, register())
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + datetime.timedelta(seconds=6))
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + reverse("contests:attempt", args=[attempt.key]))
    page.locator("fieldset[data-position='1'] label").nth(0).click()
    _wait_saved(page, attempt, 1)
    page.context.set_offline(True)
    expect(page.locator("[data-status]")).to_have_text(
        "Đang thử nộp lại… Các câu đã lưu vẫn được tính.", timeout=20_000
    )
    assert page.url.endswith(reverse("contests:attempt", args=[attempt.key]))
    page.context.set_offline(False)
    page.wait_for_url("**/ket-qua/", timeout=20_000)
    attempt.refresh_from_db()
    assert attempt.status == "submitted" and chosen(attempt, 1)
