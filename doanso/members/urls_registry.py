"""Routes of the registry itself: list, search, record, statistics, export (included by members/urls.py)."""

urlpatterns: list = []
