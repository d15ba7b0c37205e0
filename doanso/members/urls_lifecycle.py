"""Routes of the member registry's lifecycle pages (included by members/urls.py under the "members" namespace)."""

urlpatterns: list = []
