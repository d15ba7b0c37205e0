"""The module speaks Vietnamese by default: messages of refused input and the public page."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from .. import services
from .support import make_site

pytestmark = pytest.mark.django_db


def test_refusals_and_the_public_page_in_vietnamese(client, world, settings):
    settings.LANGUAGE_CODE = "vi"
    with translation.override("vi"), pytest.raises(ValidationError) as exc:
        services.create_site(
            actor=world.admin, unit=world.C1, kind="relic", name="X", latitude="108.2", longitude="16.05"
        )
    assert exc.value.message_dict["latitude"][0].startswith("Vĩ độ và kinh độ có vẻ bị đảo")
    site = make_site(world)
    html = client.get(reverse("sites:public_site", args=[site.code])).content.decode()
    assert "Chỉ đường" in html and "Địa chỉ đỏ" in html and 'lang="vi"' in html
