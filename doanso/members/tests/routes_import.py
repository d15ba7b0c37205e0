from doanso.core.tests.matrix import LOGIN, Route

# The upload page and the empty template: for anyone who may import members somewhere (the sibling manager
# imports into C2), a 404 for someone without that right anywhere.
IMPORTERS = (LOGIN, 404, 200, 200, 200)
# An import's own pages live in the session of the person who started it: for anyone else they do not exist.
SESSION_ONLY = (LOGIN, 404, 404, 404, 404)
TOKEN = lambda w: {"token": "0" * 32}  # noqa: E731

ROUTES = {
    "members:import_start": Route(expect=IMPORTERS, query={"don-vi": "C1"}),
    "members:import_template": Route(expect=IMPORTERS),
    "members:import_mapping": Route(expect=SESSION_ONLY, kwargs=TOKEN),
    "members:import_preview": Route(expect=SESSION_ONLY, kwargs=TOKEN),
    "members:import_commit": Route(expect=SESSION_ONLY, kwargs=TOKEN, method="post"),
    "members:import_result": Route(expect=SESSION_ONLY, kwargs=TOKEN),
}
