"""choose_route: the routing rule, with stand-in model entries (the end-to-end tests run real models)."""
import numpy as np

from appliance.routing.decision import EXTERNAL_GENERAL, LOCAL_SPECIALIST, REFUSE, choose_route
from appliance.routing.registry import ModelChoice

HR = ModelChoice("hr-small", "internal", "HR policies", True)
LEGAL = ModelChoice("legal-small", "internal", "contracts", True)
OUTSIDE = ModelChoice("general-xl", "external", "anything", True)
VECTORS = {"hr-small": np.array([1.0, 0.0]), "legal-small": np.array([0.0, 1.0]), "general-xl": np.array([0.7, 0.7])}
CONTRACT_QUESTION = np.array([0.1, 0.99])
PUBLIC = {"question": "public", "collections": "public", "chunks": "public", "conversation": "public"}


def route(choices, **sources):
    return choose_route({**PUBLIC, **sources}, CONTRACT_QUESTION, choices, VECTORS)


def test_public_data_may_go_to_the_external_model():
    chosen = route([HR, LEGAL, OUTSIDE])

    assert (chosen.name, chosen.model.name, chosen.perimeter) == (EXTERNAL_GENERAL, "general-xl", "external")


def test_it_keeps_a_question_with_personal_data_inside_and_says_why():
    chosen = route([HR, LEGAL, OUTSIDE], question="confidential")

    assert (chosen.name, chosen.model.name, chosen.sensitivity) == (LOCAL_SPECIALIST, "legal-small", "confidential")
    assert chosen.reason == (
        "The question contains personal data: answered inside the perimeter by legal-small, whose domain fits best."
    )


def test_each_source_of_sensitivity_keeps_the_answer_inside():
    for source in ("collections", "chunks", "conversation"):
        chosen = route([HR, OUTSIDE], **{source: "internal"})

        assert (chosen.name, chosen.perimeter) == (LOCAL_SPECIALIST, "internal"), source


def test_it_refuses_rather_than_falling_back_outward():
    broken = ModelChoice("legal-small", "internal", "contracts", False, "legal-small is disabled in the model registry.")

    chosen = route([broken, OUTSIDE], chunks="restricted")

    assert (chosen.name, chosen.model) == (REFUSE, None)
    assert chosen.reason == (
        "Refused: retrieved passages are labelled restricted, so only a model inside the perimeter may answer, "
        "and none is available. legal-small is disabled in the model registry."
    )


def test_it_picks_the_specialist_whose_domain_fits():
    assert route([HR, LEGAL], question="confidential").model.name == "legal-small"
    hr_question = choose_route({**PUBLIC, "question": "confidential"}, np.array([0.9, 0.1]), [HR, LEGAL], VECTORS)
    assert hr_question.model.name == "hr-small"


def test_public_data_without_an_external_model_is_answered_inside():
    chosen = route([HR, LEGAL])

    assert (chosen.name, chosen.model.name) == (LOCAL_SPECIALIST, "legal-small")
