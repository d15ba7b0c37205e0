import pytest


@pytest.fixture(autouse=True)
def _fresh_site_caches():
    """Each test starts with no cached public page and no buffered scan of another test's sites."""
    from django.core.cache import cache

    from doanso.sites import scans

    cache.clear()
    scans.discard()
    yield
    scans.discard()


@pytest.fixture(autouse=True)
def _english(settings):
    """Messages are asserted in English, the source language (test_vietnamese.py checks the translation); a
    browser or client that asks for Vietnamese still gets it."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
