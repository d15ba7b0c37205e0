"""The demo contest (called once at the end of ``org.demo.DemoBuilder.build``).

Real: the questions' facts (the Union's founding on 26 March 1931, its former names, the age of members in its
Charter, the Youth Law 2020, the founding days of the Youth Federation and the Young Pioneers, Đà Nẵng's 2025
merger). Sample (Dữ liệu mẫu): the contest itself, its rounds and prizes, and every participant and attempt —
names and phones are made up, units are the demo's.
"""

import datetime
import random

from django.utils import timezone

from doanso.org.models import Unit, UnitKind

from .models import Audience, PredictionKind
from .services import results, setup, taking

# (topic, question, options, indexes of the correct options, explanation)
QUESTIONS = [
    (
        "Lịch sử Đoàn",
        "Đoàn TNCS Hồ Chí Minh được thành lập vào ngày, tháng, năm nào?",
        ["03/02/1930", "26/3/1931", "15/5/1941", "15/10/1956"],
        [1],
        "Ngày 26/3/1931.",
    ),
    (
        "Lịch sử Đoàn",
        "Ngày 26/3 được chọn làm Ngày thành lập Đoàn tại Đại hội Đoàn toàn quốc lần thứ mấy?",
        ["Lần thứ I", "Lần thứ II", "Lần thứ III", "Lần thứ IV"],
        [2],
        "Đại hội Đoàn toàn quốc lần thứ III (3/1961).",
    ),
    (
        "Lịch sử Đoàn",
        "Từ tháng 12/1976, Đoàn mang tên gì?",
        [
            "Đoàn Thanh niên Lao động Hồ Chí Minh",
            "Đoàn Thanh niên Cứu quốc Việt Nam",
            "Đoàn Thanh niên Cộng sản Hồ Chí Minh",
            "Đoàn Thanh niên Dân chủ Đông Dương",
        ],
        [2],
        "",
    ),
    (
        "Lịch sử Đoàn",
        "Giai đoạn 1941–1956, Đoàn mang tên gì?",
        [
            "Đoàn Thanh niên Cứu quốc Việt Nam",
            "Đoàn Thanh niên Phản đế Đông Dương",
            "Đoàn Thanh niên Lao động Việt Nam",
            "Đoàn Thanh niên Cộng sản Đông Dương",
        ],
        [0],
        "",
    ),
    (
        "Lịch sử Đoàn",
        "Ai là người đoàn viên đầu tiên, tấm gương của thanh niên Việt Nam?",
        ["Võ Thị Sáu", "Lý Tự Trọng", "Kim Đồng", "Nguyễn Văn Trỗi"],
        [1],
        "“Con đường của thanh niên chỉ có thể là con đường cách mạng, không thể là con đường nào khác.”",
    ),
    (
        "Lịch sử Đoàn",
        "Bài thơ “Không có việc gì khó” Bác Hồ tặng đơn vị thanh niên xung phong vào năm nào?",
        ["1945", "1951", "1954", "1965"],
        [1],
        "Năm 1951.",
    ),
    (
        "Điều lệ và pháp luật",
        "Theo Điều lệ Đoàn, thanh niên Việt Nam ở độ tuổi nào được xét kết nạp vào Đoàn?",
        ["Từ 14 đến 28 tuổi", "Từ 16 đến 30 tuổi", "Từ 15 đến 30 tuổi", "Từ 18 đến 35 tuổi"],
        [1],
        "",
    ),
    (
        "Điều lệ và pháp luật",
        "Theo Luật Thanh niên năm 2020, thanh niên là công dân Việt Nam từ đủ bao nhiêu tuổi?",
        ["Từ đủ 15 đến 30 tuổi", "Từ đủ 16 đến 30 tuổi", "Từ đủ 16 đến 35 tuổi", "Từ đủ 18 đến 30 tuổi"],
        [1],
        "",
    ),
    (
        "Điều lệ và pháp luật",
        "Tổ chức nào do Đoàn TNCS Hồ Chí Minh làm nòng cốt chính trị hoặc trực tiếp phụ trách?",
        [
            "Hội Liên hiệp Thanh niên Việt Nam",
            "Đội Thiếu niên Tiền phong Hồ Chí Minh",
            "Công đoàn Việt Nam",
            "Hội Nông dân Việt Nam",
        ],
        [0, 1],
        "Đoàn là nòng cốt chính trị của Hội LHTN Việt Nam và phụ trách Đội.",
    ),
    (
        "Điều lệ và pháp luật",
        "Ngày truyền thống Hội Liên hiệp Thanh niên Việt Nam là ngày nào?",
        ["26/3", "15/10", "15/5", "19/5"],
        [1],
        "Ngày 15/10/1956.",
    ),
    (
        "Điều lệ và pháp luật",
        "Đội Thiếu niên Tiền phong Hồ Chí Minh được thành lập ngày nào?",
        ["15/5/1941", "26/3/1931", "2/9/1945", "1/6/1941"],
        [0],
        "",
    ),
    (
        "Đà Nẵng",
        "Từ ngày 01/7/2025, thành phố Đà Nẵng được sắp xếp, hợp nhất với tỉnh nào?",
        ["Quảng Ngãi", "Thừa Thiên Huế", "Quảng Nam", "Kon Tum"],
        [2],
        "",
    ),
    (
        "Đà Nẵng",
        "Tháng nào trong năm được gọi là Tháng Thanh niên?",
        ["Tháng 2", "Tháng 3", "Tháng 5", "Tháng 10"],
        [1],
        "",
    ),
    (
        "Đà Nẵng",
        "Chiến dịch tình nguyện hè của sinh viên có tên gọi là gì?",
        ["Xuân tình nguyện", "Mùa hè xanh", "Tiếp sức mùa thi", "Hoa phượng đỏ"],
        [1],
        "",
    ),
    (
        "Đà Nẵng",
        "Ai là Bí thư thứ nhất Trung ương Đoàn được bầu tại Đại hội Đoàn toàn quốc lần thứ XII (2022)?",
        ["Nguyễn Anh Tuấn", "Lê Quốc Phong", "Bùi Quang Huy", "Nguyễn Đắc Vinh"],
        [2],
        "",
    ),
]

GIVEN = [
    "An",
    "Bình",
    "Chi",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hoa",
    "Khánh",
    "Lan",
    "Linh",
    "Minh",
    "Nam",
    "Ngọc",
    "Phúc",
    "Quân",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Huỳnh", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thanh", "Hữu", "Thu"]


def build_contest_demo(admin, root: Unit, *, participants: int = 120, seed: int = 31) -> None:
    """A public contest of the provincial union with two weekly rounds: last week's (ranked and published) and
    this week's (open), with sample participants spread over the demo's branches."""
    rng = random.Random(seed)
    now = timezone.now()
    contest = setup.create_contest(
        actor=admin,
        organiser=root,
        title="Tìm hiểu lịch sử 95 năm Đoàn TNCS Hồ Chí Minh (dữ liệu mẫu)",
        rules="Mỗi tuần một đợt thi, mỗi lượt 10 câu hỏi trong 10 phút và một câu hỏi dự đoán. Mỗi người thi tối "
        "đa 2 lượt mỗi tuần; lượt có kết quả cao nhất được tính. Xếp hạng: số câu đúng, rồi dự đoán gần nhất, rồi "
        "thời gian làm bài ngắn nhất, rồi thời điểm nộp bài sớm nhất.",
        audience=Audience.PUBLIC,
        is_published=True,
    )
    for topic, text, options, correct, explanation in QUESTIONS:
        setup.create_question(
            contest,
            actor=admin,
            text=text,
            options=options,
            correct=correct,
            topic=topic,
            explanation=explanation,
            audit_it=False,
        )
    week = datetime.timedelta(days=7)
    common = {
        "question_count": 10,
        "topic_quotas": {"Lịch sử Đoàn": 4},
        "time_limit": 600,
        "attempt_cap": 2,
        "prediction_kind": PredictionKind.PARTICIPANTS,
        "prediction_text": "Dự đoán có bao nhiêu người tham gia tuần thi này?",
        "prizes": {"first": 1, "second": 2, "third": 3, "consolation": 5},
    }
    last = setup.create_round(contest, actor=admin, opens_at=now - 2 * week, closes_at=now - week, **common)
    current = setup.create_round(
        contest,
        actor=admin,
        opens_at=now - datetime.timedelta(days=1),
        closes_at=now + week - datetime.timedelta(days=1),
        **common,
    )
    branches = list(
        Unit.objects.filter(path__startswith=root.path, kind=UnitKind.BRANCH, active_to__isnull=True).order_by("id")[
            :400
        ]
    )
    rng.shuffle(branches)
    branches = branches[:40]
    for i in range(participants):
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        person = taking.register_participant(
            contest,
            full_name=name,
            date_of_birth=datetime.date(rng.randint(1996, 2009), rng.randint(1, 12), rng.randint(1, 28)),
            phone=f"09{rng.choice('0134')}{i:07d}",
            unit=branches[i % len(branches)],
            occupation=rng.choice(["pupil", "student", "worker", "civil_servant", "other"]),
        )
        for round_, share in ((last, 1.0), (current, 0.4)):
            if rng.random() > share:
                continue
            started = round_.opens_at + datetime.timedelta(minutes=rng.randint(10, 60 * 24 * 6))
            if started >= min(now, round_.closes_at) - datetime.timedelta(minutes=20):
                started = min(now, round_.closes_at) - datetime.timedelta(minutes=rng.randint(20, 600))
            _take(round_, person, started, rng)
    results.rank_round(last, actor=admin, now=now)
    results.publish_results(last, actor=admin)


def _take(round_, person, started, rng) -> None:
    from .models import AttemptQuestion

    attempt = taking.start_attempt(round_, person, ip=f"198.51.100.{rng.randint(1, 254)}", now=started)
    skill = rng.random()
    for seq, aq in enumerate(AttemptQuestion.objects.filter(attempt=attempt).select_related("version"), 1):
        correct = aq.version.correct
        pick = (
            correct
            if rng.random() < 0.45 + skill / 2
            else [rng.choice([o for o in aq.option_order if o not in correct])]
        )
        taking.save_answer(attempt.key, aq.position, pick, seq, now=started + datetime.timedelta(seconds=10 * seq))
    taking.save_prediction(attempt.key, rng.randint(60, 200), 100, now=started + datetime.timedelta(seconds=110))
    taking.submit_attempt(attempt.key, now=started + datetime.timedelta(seconds=rng.randint(120, 590)))
