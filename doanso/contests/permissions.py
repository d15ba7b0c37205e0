"""Actions of the contests module (granted to roles in ``apps.ContestsConfig.ready``)."""

MANAGE_CONTESTS = "contests.manage"  # set up contests, rounds and the question bank; review flags; publish
VIEW_CONTESTS = "contests.view"  # results, participation by unit, the live dashboard, exports
