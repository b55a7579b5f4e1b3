from django.db import models


class WorkerHeartbeat(models.Model):
    """When each Celery worker last proved it takes work (the web tier shows this to admins)."""

    worker_name = models.CharField(max_length=200, unique=True)
    last_seen = models.DateTimeField()

    def __str__(self):
        return f"{self.worker_name} at {self.last_seen:%Y-%m-%d %H:%M:%S}"
