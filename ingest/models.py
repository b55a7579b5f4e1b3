import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import RegexValidator
from django.db import models

from appliance.accounts.roles import Role


class Classification(models.TextChoices):
    """How sensitive a collection is as a whole; chunks can only be labelled higher."""

    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"


class Collection(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # the vector store's tenant key
    name = models.CharField(
        max_length=100,
        unique=True,
        validators=[RegexValidator(r"^[\w][\w .-]*$", "Use letters, digits, spaces, dots, dashes and underscores.")],
    )
    classification = models.CharField(max_length=20, choices=Classification.choices, default=Classification.INTERNAL)
    redact_pii = models.BooleanField(
        default=False, help_text="Replace personal data with its type (e.g. <PERSON>) before indexing."
    )
    groups = models.ManyToManyField(Group, blank=True, related_name="collections", help_text="Teams that may ask about it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def store_key(self) -> str:
        return str(self.uid)

    @classmethod
    def granted_to(cls, user):
        """Collections granted to one of USER's teams."""
        if not user.is_authenticated or not user.is_active:
            return cls.objects.none()
        return cls.objects.filter(groups__user=user).distinct()

    @staticmethod
    def team_groups():
        """Groups that can be granted collections: every group except the role groups."""
        return Group.objects.exclude(name__in=[role.value for role in Role]).order_by("name")


class Document(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PARSING = "parsing", "Parsing"
        SCANNING = "scanning", "Scanning for personal data"
        EMBEDDING = "embedding", "Embedding"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        ERASING = "erasing", "Being erased"

    IN_PROGRESS = (Status.QUEUED, Status.PARSING, Status.SCANNING, Status.EMBEDDING, Status.ERASING)

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # document_id in the vector store
    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="documents")
    filename = models.CharField(max_length=255)
    version = models.PositiveIntegerField(default=1)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by",
        help_text="The version this one takes over from once it is ready.",
    )
    content_sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField()
    file_type = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    entity_counts = models.JSONField(default=dict, blank=True)  # {"EMAIL_ADDRESS": 3}: types and counts only
    # Sentences written to an AI assistant ("ignore your instructions ..."): a poisoned document.
    # They stay in the index but are never used as evidence; the admin is told at ingestion.
    instructions_found = models.PositiveIntegerField(default=0)
    sensitivity = models.CharField(max_length=20, blank=True)
    # Why it got that label, in words, as decided at ingestion under the policy then in force:
    # "restricted because it contains 1 IBAN and 3 e-mail addresses (policy v4)".
    sensitivity_reason = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    indexed_at = models.DateTimeField(null=True, blank=True)
    # Which run of which worker has it, and until when (ingest/claims.py): a second delivery of its
    # task, or a sweep for the work of dead workers, leaves it alone while the lease holds.
    claimed_by = models.CharField(max_length=200, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return f"{self.filename} v{self.version}"

    @property
    def is_in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS


class Chunk(models.Model):
    """A passage as indexed (already redacted when the collection redacts), for citations."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    chunk_id = models.CharField(max_length=64)  # content hash; the vector store's point id derives from it
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    section = models.CharField(max_length=1000, blank=True)
    page = models.PositiveIntegerField(null=True, blank=True)
    start_char = models.PositiveIntegerField()
    end_char = models.PositiveIntegerField()
    sensitivity = models.CharField(max_length=20)
    entity_types = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["document", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["document", "chunk_id"], name="chunk_once_per_document")]


class Archive(models.Model):
    """A zip uploaded into a collection. The web request only stores it; the worker unpacks it
    into documents (each named by its path inside the archive) and deletes the zip."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to be unpacked"
        UNPACKING = "unpacking", "Being unpacked"
        UNPACKED = "unpacked", "Unpacked"
        REFUSED = "refused", "Refused"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # the stored zip's blob name
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="archives")
    filename = models.CharField(max_length=255)
    content_sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    # What the worker made of it, for the admin: counts by outcome, and refused members with why.
    counts = models.JSONField(default=dict, blank=True)
    problems = models.JSONField(default=list, blank=True)  # ["“../x.md” ...", ...]: one sentence each
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    claimed_by = models.CharField(max_length=200, blank=True)  # as Document's
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return self.filename

    @property
    def is_in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.UNPACKING)
