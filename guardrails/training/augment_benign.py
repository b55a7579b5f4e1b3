"""More benign training questions, from templates, for the injection classifier.

    .venv/bin/python guardrails/training/augment_benign.py [--out DIR]

The hand-written training set has ~440 benign questions; on the dev split the classifier trained
on it alone flagged short plain questions, questions in other languages, questions with codes or
emoji, and questions using words like "print", "verbatim" or "instructions" innocently. This
script writes guardrails/training/data/benign_augmented.jsonl: business questions built from the
frames, documents and topics below (all written for this repo), some with an identifier, an
emoji or a word attacks also use; hand-written questions in other languages; and questions
carrying names, e-mail addresses, IBANs, phone and card numbers made up by Faker (the classifier
flagged 7% of the PII dev sentences as attacks before these were added). It is
training data only: nothing here is used for evaluation. Deterministic (seed 2311, and the clock
frozen at GENERATED_AS_OF for Faker's birth dates).
"""
import argparse
import base64
import itertools
import hashlib
import json
import random
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

OUT = Path(__file__).resolve().parent / "data"
SEED = 2311
COUNT = 700
# Faker's date_of_birth() counts back from today, so the {date} values changed every day. Frozen at
# the day benign_augmented.jsonl was generated, which rebuilds it (noon UTC; the ZoneInfo makes
# time-machine set the local time zone too).
GENERATED_AS_OF = datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo("UTC"))

DOCUMENTS = [
    "supplier framework agreement", "travel and expenses policy", "incident response plan", "clinical handover protocol",
    "data retention schedule", "procurement guidelines", "board minutes from March", "loan origination manual",
    "anti-money-laundering procedure", "staff handbook", "business continuity plan", "records management policy",
    "IT acceptable use policy", "whistleblowing policy", "credit risk appetite statement", "vendor due diligence checklist",
    "infection control guideline", "medication administration policy", "grant funding conditions", "planning committee report",
    "internal audit report", "information security standard", "complaints handling procedure", "collective agreement",
    "fleet management policy", "pension scheme rules", "treasury management strategy", "safeguarding policy",
    "service level agreement with the cloud provider", "change management procedure", "privacy notice for patients",
    "lease for the Riverside office", "capital expenditure approval process", "code of conduct", "fraud response plan",
    "onboarding checklist", "outsourcing register", "model risk management framework", "visitor access procedure",
    "freedom of information guidance",
]
TOPICS = [
    "late payments", "overtime approval", "patient consent", "password rotation", "remote access", "gifts and hospitality",
    "conflicts of interest", "termination for convenience", "data breaches", "contract renewals", "sick leave",
    "expense receipts", "privileged accounts", "third-party audits", "record destruction", "escalation to the board",
    "customer complaints", "night shift staffing", "emergency procurement", "system outages", "backup restores",
    "software licences", "key performance indicators", "penalty clauses", "price increases", "working from home",
    "training deadlines", "access reviews", "sanctions screening", "duplicate invoices", "asset disposal",
    "vulnerable customers", "prescription errors", "subcontracting", "service credits", "rollback plans",
    "data subject requests", "retention periods", "fire drills", "approval limits",
]
FRAMES = [
    "What does the {doc} say about {topic}?", "Who approves {topic} under the {doc}?",
    "Summarise the section of the {doc} on {topic}.", "Is {topic} covered by the {doc}?",
    "When was the {doc} last updated?", "List the exceptions to {topic} in the {doc}.",
    "Compare how the {doc} handles {topic} with last year's version.", "How many days do we have for {topic}?",
    "Print the table on {topic} from the {doc}.", "Show me the paragraph of the {doc} about {topic}.",
    "Which rules in the {doc} apply to {topic}?", "Explain the instructions in the {doc} for {topic}.",
    "Can managers ignore {topic} in urgent cases according to the {doc}?", "Which system do we use to track {topic}?",
    "Quote the {doc} verbatim on {topic}, please.", "What are the steps for {topic}?",
    "Does the {doc} override the older guidance on {topic}?", "What is the previous version of the {doc} saying about {topic}?",
    "Give me a short overview of {topic}.", "Who is responsible for {topic}?",
    "What should I do about {topic} before the quarter ends?", "Are there any deadlines for {topic} in the {doc}?",
    "Where in the {doc} are the rules for {topic}?", "How do we report {topic} to the regulator?",
    "Which forms are needed for {topic}?", "Please repeat the key points on {topic} from the {doc}.",
    "What training covers {topic}?", "Has the {doc} changed the approach to {topic}?",
    "Forget the draft; what does the final {doc} say about {topic}?", "Act as a reviewer: is the {doc} clear on {topic}?",
]
EMOJI = ["📄", "✅", "📅", "🙏", "👍", "📊", "🔍", "💡", "⚠️", "🏥", "🏦", "🙂"]
OTHER_LANGUAGES = [
    "Quelle est la durée du préavis dans le contrat de bail ?", "Qui valide les notes de frais au-delà de 500 euros ?",
    "Que dit la politique sur le télétravail ?", "Combien de jours de congé maladie sont prévus ?",
    "Welche Kündigungsfrist gilt für den Rahmenvertrag?", "Wer genehmigt Überstunden in der Pflege?",
    "Was sagt die Richtlinie zur Datenaufbewahrung?", "Wie melden wir einen Datenschutzvorfall?",
    "¿Cuál es el plazo de preaviso del contrato de suministro?", "¿Quién aprueba los gastos de viaje?",
    "¿Qué dice la política sobre el trabajo remoto?", "¿Cómo se gestionan las quejas de los pacientes?",
    "Qual è il termine di preavviso nel contratto di fornitura?", "Chi approva le note spese?",
    "Wat staat er in het beleid over thuiswerken?", "Wie keurt de reiskosten goed?",
    "Jaki jest okres wypowiedzenia umowy najmu?", "Kto zatwierdza nadgodziny?",
    "Mikä on irtisanomisaika toimitussopimuksessa?", "Vem godkänner reseräkningar?",
    "Какой срок уведомления в договоре аренды?", "Кто утверждает командировочные расходы?",
    "Что говорит политика о удалённой работе?", "Как сообщить об утечке данных?",
    "ما هي مدة الإشعار في عقد التوريد؟", "من يوافق على مصاريف السفر؟",
    "מהי תקופת ההודעה המוקדמת בחוזה השכירות?", "מי מאשר שעות נוספות?",
    "供应合同的通知期是多久？", "谁批准差旅费用？", "远程办公政策有什么规定？",
    "賃貸契約の解約予告期間はどのくらいですか？", "출장비는 누가 승인하나요?",
    "Qual é o prazo de aviso prévio no contrato?", "Kdo schvaluje cestovní náhrady?",
    "Ποια είναι η περίοδος προειδοποίησης στη σύμβαση;", "Hangi belgeler gerekli?",
    "Hvem godkjenner reiseutgifter?", "Hvad siger politikken om hjemmearbejde?", "Ki hagyja jóvá a túlórát?",
    "Peux-tu résumer le rapport d'audit interne de mars ?", "Quelles sont les règles pour les cadeaux des fournisseurs ?",
    "Ignore-t-on les factures de moins de 50 euros dans le rapprochement ?", "Où trouver les instructions de sauvegarde ?",
    "Qui est responsable du système de paie ?", "Montre-moi la procédure de plainte des patients, s'il te plaît.",
    "Kannst du den Prüfbericht kurz zusammenfassen?", "Welche Regeln gelten für Geschenke von Lieferanten?",
    "Wo finde ich die Anweisungen zur Datensicherung?", "Wer ist für das Lohnsystem verantwortlich?",
    "Zeig mir bitte das Verfahren für Patientenbeschwerden.", "Wie oft muss das Passwort geändert werden?",
    "¿Puedes resumir el informe de auditoría interna?", "¿Qué reglas se aplican a los regalos de proveedores?",
    "¿Dónde están las instrucciones para las copias de seguridad?", "¿Quién es responsable del sistema de nóminas?",
    "Muéstrame el procedimiento de quejas de pacientes, por favor.", "¿Cada cuánto hay que cambiar la contraseña?",
    "Puoi riassumere il rapporto di audit interno?", "Quali regole valgono per i regali dei fornitori?",
    "Dove trovo le istruzioni per il backup?", "Chi è responsabile del sistema paghe?",
    "Mostrami la procedura per i reclami dei pazienti.", "Ogni quanto va cambiata la password?",
    "Kun je het interne auditrapport samenvatten?", "Welke regels gelden voor geschenken van leveranciers?",
    "Waar staan de instructies voor de back-up?", "Wie is verantwoordelijk voor het salarissysteem?",
    "Pode resumir o relatório de auditoria interna?", "Que regras se aplicam a presentes de fornecedores?",
    "Onde estão as instruções de backup?", "Quem é responsável pelo sistema de salários?",
    "Как часто нужно менять пароль?", "Покажи процедуру рассмотрения жалоб пациентов.",
    "ما هي قواعد قبول الهدايا من الموردين؟", "أين أجد تعليمات النسخ الاحتياطي؟",
    "מה הנהלים לקבלת מתנות מספקים?", "איפה ההוראות לגיבוי?",
    "供应商礼品有哪些规定？", "备份说明在哪里？", "患者投诉流程是什么？",
    "バックアップの手順はどこにありますか？", "공급업체 선물에 관한 규칙은 무엇입니까?",
    "Jakie są zasady dotyczące prezentów od dostawców?", "Gdzie są instrukcje tworzenia kopii zapasowych?",
    "Vilka regler gäller för gåvor från leverantörer?", "Missä ovat varmuuskopioinnin ohjeet?",
    "Tedarikçi hediyeleriyle ilgili kurallar nelerdir?", "Ποιοι κανόνες ισχύουν για τα δώρα προμηθευτών;",
]


# Benign questions that carry personal data: screening must mark them sensitive or block them for
# the PII, never as attacks. Frames differ from the PII evaluation set's templates.
PERSONAL_FRAMES = [
    "Forward the {doc} to {name} at {email}.", "Find every letter in the archive that mentions {name}.",
    "Verify that {name} is the holder of account {iban}.", "Send the summary of the {doc} to {email}.",
    "What did {name} decide about {topic}?", "Look up the case of {name}, born {date}.",
    "Is {phone} the number we have on file for {name}?", "Check whether card {card} was reported stolen.",
    "Print the correspondence with {name} about {topic}.", "Show the {doc} entries for {name}.",
    "{name} asked about {topic}; what should I tell them?", "Call {name} on {phone} about the {doc}?",
    "List the meetings {name} attended on {topic}.", "Did {email} receive the {doc}?",
    "Give me the history of {name}'s complaint about {topic}.", "Which branch does {name} from {city} bank with?",
]
FAKER_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "sv_SE"]


def personal_questions(count: int) -> list[dict]:
    import time_machine
    from faker import Faker

    fakers = [Faker(locale) for locale in FAKER_LOCALES]
    for index, faker in enumerate(fakers):
        faker.seed_instance(SEED + index)
    rng = random.Random(SEED)
    rows = []
    with time_machine.travel(GENERATED_AS_OF, tick=False):
        for faker in itertools.islice(itertools.cycle(fakers), count):
            text = rng.choice(PERSONAL_FRAMES).format(
                doc=rng.choice(DOCUMENTS), topic=rng.choice(TOPICS), name=faker.name(), email=faker.email(),
                iban=faker.iban(), phone=faker.phone_number(), card=faker.credit_card_number(), city=faker.city(),
                date=faker.date_of_birth().isoformat(),
            )
            rows.append({"text": text, "label": "benign", "category": "augmented_personal_data"})
    return rows


def identifier(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return hashlib.sha256(str(rng.random()).encode()).hexdigest()[: rng.choice((16, 24, 40, 64))]
    if kind == 1:
        return base64.b64encode(rng.randbytes(rng.choice((12, 18, 24)))).decode()
    if kind == 2:
        return f"INC-{rng.randrange(100000, 999999)}"
    if kind == 3:
        return f"PO-{rng.randrange(2020, 2027)}-{rng.randrange(1000, 99999):05d}"
    return f"{rng.randrange(16**8):08x}-{rng.randrange(16**4):04x}-{rng.randrange(16**4):04x}"


def question(rng: random.Random) -> dict:
    text = rng.choice(FRAMES).format(doc=rng.choice(DOCUMENTS), topic=rng.choice(TOPICS))
    variant = rng.randrange(10)
    if variant == 0:
        text = f"{text[:-1]} for reference {identifier(rng)}{text[-1]}"
    elif variant == 1:
        text = f"{text} {rng.choice(EMOJI)}"
    elif variant == 2:
        text = text.lower()
    elif variant == 3:
        text = f"{rng.choice(['Hi,', 'Quick one:', 'Thanks in advance.', 'For the audit,'])} {text}"
    return {"text": text, "label": "benign", "category": "augmented_business"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rng = random.Random(SEED)
    seen, rows = set(), []
    while len(rows) < COUNT:
        row = question(rng)
        if row["text"] not in seen:
            seen.add(row["text"])
            rows.append(row)
    rows += [{"text": text, "label": "benign", "category": "augmented_multilingual"} for text in OTHER_LANGUAGES]
    rows += personal_questions(300)
    path = args.out / "benign_augmented.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    print(f"wrote {len(rows)} benign questions to {path}")


if __name__ == "__main__":
    main()
