import datetime

import factory

from doanso.members.models import Member, Sex


class MemberFactory(factory.django.DjangoModelFactory):
    """A sample member; ``unit`` must be given."""

    class Meta:
        model = Member

    family_name = factory.Iterator(["Nguyễn", "Trần", "Lê", "Phạm", "Hồ", "Alăng"])
    middle_name = factory.Iterator(["Văn", "Thị", "Đức", "Ngọc"])
    given_name = factory.Sequence(lambda n: ["An", "Bình", "Chi", "Dũng", "Hà", "Khánh"][n % 6])
    date_of_birth = datetime.date(2003, 5, 17)
    sex = factory.Iterator([Sex.MALE, Sex.FEMALE])
    ethnicity = "Kinh"
    is_sample = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        member = model_class(*args, **kwargs)
        member.refresh_search()
        member.save()
        return member
