"""Routes of the member registry's selfservice pages (included by members/urls.py under the "members" namespace)."""

urlpatterns: list = []
