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
