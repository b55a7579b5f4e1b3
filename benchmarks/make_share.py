"""A file share to ingest: FILES small Markdown and text files in nested folders, the same every
time (a seeded generator, no clock). Each file has one to three passages of about 150 words; one
in five names a person with an e-mail address and a phone number, so the PII scan has work.

    python benchmarks/make_share.py /tmp/share --files 3000
"""
import argparse
import random
from pathlib import Path

TOPICS = ["travel", "expenses", "leave", "laptops", "security", "onboarding", "procurement", "facilities",
          "payroll", "training"]
WORDS = ("the team reviews each request within five working days and records the decision in the register "
         "a manager approves exceptions in writing before the work starts and keeps a copy for the audit "
         "receipts are kept for seven years and scanned copies are accepted when the original is lost "
         "questions about this rule go to the service desk which answers within one working day").split()
PEOPLE = ["Jonas Weber", "Maria Rossi", "Aiko Tanaka", "Pedro Alves", "Fatima Khan", "Liam Murphy"]


def passage(rng: random.Random, number: int, paragraph: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(130, 170))]
    return f"Rule {number}.{paragraph}: " + " ".join(words) + "."


def document(rng: random.Random, number: int) -> str:
    topic = TOPICS[number % len(TOPICS)]
    lines = [f"# {topic.capitalize()} note {number}", ""]
    for paragraph in range(rng.randint(1, 3)):
        lines += [f"## Part {paragraph + 1}", "", passage(rng, number, paragraph), ""]
    if number % 5 == 0:
        person = rng.choice(PEOPLE)
        first, last = person.lower().split()
        lines += [f"Contact: {person}, {first}.{last}@example.org, phone +44 20 7946 {number % 10000:04}.", ""]
    return "\n".join(lines)


def make_share(root: Path, files: int, seed: int = 16) -> None:
    rng = random.Random(seed)
    for number in range(files):
        folder = root / TOPICS[number % len(TOPICS)] / f"batch-{number // 100:02}"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".md" if number % 4 else ".txt"
        (folder / f"note-{number:05}{suffix}").write_text(document(rng, number))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=16)
    arguments = parser.parse_args()
    make_share(arguments.root, arguments.files, arguments.seed)
    print(f"{arguments.files} files under {arguments.root}")


if __name__ == "__main__":
    main()
