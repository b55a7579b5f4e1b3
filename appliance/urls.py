from django.contrib.auth import views as auth_views
from django.urls import path

from drf_spectacular.views import SpectacularAPIView

from appliance import api_contract
from appliance.accounts import api as accounts_api
from appliance.answering import api as answering_api
from appliance.health.views import healthz
from appliance.web import chat_views, collection_views, policy_views, views
from appliance.web import model_views
from appliance.web import ledger_views
from appliance.web import policy_bench_views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("analyst/", views.analyst_home, name="analyst-home"),
    path("analyst/ask/", chat_views.chat, name="chat"),
    path("analyst/ask/send/", chat_views.ask, name="ask"),
    path("analyst/conversations/<int:conversation_id>/", chat_views.chat, name="conversation"),
    path("analyst/exchanges/<int:exchange_id>/", chat_views.exchange_state, name="exchange-state"),
    path("analyst/passages/<str:chunk_id>/", chat_views.source_passage, name="source-passage"),
    path("administration/", views.admin_home, name="admin-home"),
    path("administration/people/", views.people, name="people"),
    path("administration/people/<int:user_id>/roles/", views.change_roles, name="change-roles"),
    path("administration/people/<int:user_id>/teams/", views.change_teams, name="change-teams"),
    path("administration/people/<int:user_id>/password/", views.reset_password_view, name="reset-password"),
    path("compliance/", ledger_views.compliance_home, name="compliance-home"),
    path("compliance/policy/", policy_views.policy_editor, name="policy-editor"),
    path("compliance/policy/versions/<int:number>/", policy_views.policy_version, name="policy-version"),
    path("compliance/policy/changes/", policy_bench_views.draft_changes, name="policy-draft-changes"),
    path("compliance/policy/bench/question/", policy_bench_views.bench_question, name="policy-bench-question"),
    path("compliance/policy/bench/replay/", policy_bench_views.bench_replay, name="policy-bench-replay"),
    path("compliance/policy/bench/trials/<int:trial_id>/", policy_bench_views.trial_state, name="policy-trial"),
    path("compliance/ledger/", ledger_views.ledger, name="ledger"),
    path("compliance/ledger/verify/", ledger_views.ledger_verify, name="ledger-verify"),
    path("compliance/ledger/export.<str:fmt>", ledger_views.ledger_export, name="ledger-export"),
    path("compliance/ledger/entries/<int:seq>/", ledger_views.ledger_entry, name="ledger-entry"),
    path("compliance/ledger/entries/<int:seq>/review/", ledger_views.review_entry, name="review-entry"),
    path("compliance/ledger/entries/<int:seq>/resolve/", ledger_views.resolve_escalation, name="resolve-escalation"),
    path("compliance/inbox/", ledger_views.inbox, name="compliance-inbox"),
    path("compliance/ledger/entries/<int:seq>/evidence.json", ledger_views.ledger_evidence, name="ledger-evidence"),
    path("compliance/key/", ledger_views.public_key, name="public-key"),
    path("compliance/key/audit-public-key.txt", ledger_views.public_key_download, name="public-key-download"),
    path("administration/collections/", collection_views.collection_list, name="collection-list"),
    path("administration/collections/<int:collection_id>/", collection_views.collection_detail, name="collection-detail"),
    path("administration/collections/<int:collection_id>/documents/", collection_views.collection_documents,
         name="collection-documents"),
    path("administration/collections/<int:collection_id>/upload/", collection_views.upload_documents,
         name="upload-documents"),
    path("administration/collections/<int:collection_id>/delete/", collection_views.delete_collection,
         name="delete-collection"),
    path("administration/documents/<int:document_id>/replace/", collection_views.replace_document,
         name="replace-document"),
    path("administration/documents/<int:document_id>/delete/", collection_views.delete_document, name="delete-document"),
    path("administration/models/", model_views.model_registry, name="model-registry"),
    path("administration/models/register/", model_views.register_model, name="register-model"),
    path("administration/models/<int:model_id>/enable/", model_views.enable_model, name="enable-model"),
    path("administration/models/<int:model_id>/disable/", model_views.disable_model, name="disable-model"),
    path("administration/models/<int:model_id>/edit/", model_views.edit_model, name="edit-model"),
    path("administration/models/<int:model_id>/rehash/", model_views.rehash_model, name="rehash-model"),
    path("account/password/", views.password_change, name="password-change"),
    path("account/tokens/", views.api_tokens, name="api-tokens"),
    path("account/tokens/<str:token_key>/revoke/", views.revoke_api_token_view, name="revoke-api-token"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/me", accounts_api.me, name="api-me"),
    path("api/v1/collections", answering_api.collections, name="api-collections"),
    path("api/v1/questions", answering_api.ask, name="api-ask"),
    path("api/v1/questions/<int:exchange_id>", answering_api.question, name="api-question"),
    path("api/v1/history", answering_api.history, name="api-history"),
    path("api/v1/schema", SpectacularAPIView.as_view(), name="api-schema"),
]

# A URL under /api/ that matches nothing answers in the API's {error, code} shape.
handler404 = api_contract.not_found
