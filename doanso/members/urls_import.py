"""Routes of the member registry's import pages (included by members/urls.py under the "members" namespace)."""

urlpatterns: list = []
