from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "appliance.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        # Failed sign-ins happen inside Django's and django-axes' authentication code, which
        # announces them only by signal; these receivers are the ledger's way to hear of them.
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed

        from appliance.audit.sign_ins import record_failed_login, record_lockout

        user_login_failed.connect(record_failed_login, dispatch_uid="audit-failed-login")
        user_locked_out.connect(record_lockout, dispatch_uid="audit-lockout")
