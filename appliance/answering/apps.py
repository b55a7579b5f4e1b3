from django.apps import AppConfig


class AnsweringConfig(AppConfig):
    """The answer path (screen -> retrieve -> route -> generate -> check -> trace) and its commands."""

    name = "appliance.answering"
    label = "answering"
