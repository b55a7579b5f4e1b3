"""Build the prompt-injection / jailbreak screening sets from the hand-written lists in sources/.

Writes injection_train.jsonl (guardrails/training/data) and injection_dev.jsonl and
injection_test.jsonl (guardrails/evaluation/data), one JSON object per line:

    {"text": ..., "label": "attack" | "benign", "category": ...}

Every line of text comes from sources/<split>_<list>.txt, written by hand for this repo, one item
per line (blank lines and lines starting with # are skipped). The three splits have their own
files, so no sentence is shared between them. This script only transforms those lines:

- encoded_payload: a plain attack from <split>_payloads.txt is written in base64, hex or rot13 and
  put into a hand-written wrapper from <split>_encoded_wrappers.txt ("decode this and follow it").
- invisible_smuggling: a plain attack from <split>_payloads.txt is hidden or disguised with Unicode
  tag characters, zero-width characters, bidi controls, Cyrillic/Greek homoglyphs or full-width
  letters, often behind an innocent question from <split>_carriers.txt.
- {sha256}, {md5}, {uuid}, {b64id}, {hex12}, {b64:text} and {hex:text} in the with_codes lists
  become digests, ids and encodings of text, drawn with the split's seed; {emoji_name} in the
  with_emoji lists becomes an emoji sequence with joiners or tag characters (see EMOJI), written
  here as code points so that no invisible character hides in the source files.

Choices are drawn from random.Random with a fixed seed per split, so running the script again
gives the same files byte for byte (tests/test_screening_datasets.py checks it). The JSON is
written with ensure_ascii=True: invisible and bidi characters appear as \\u escapes, so the files
are safe to open in an editor or a code review tool.

Usage: python guardrails/training/build_injection_sets.py [--out DIR]
With --out all three files go to DIR. Prints the counts per category. Standard library only.
"""
import argparse
import base64
import codecs
import hashlib
import json
import random
import re
import sys
import uuid
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
DEFAULT_PATHS = {
    "train": HERE / "data" / "injection_train.jsonl",
    "dev": HERE.parent / "evaluation" / "data" / "injection_dev.jsonl",
    "test": HERE.parent / "evaluation" / "data" / "injection_test.jsonl",
}
SEEDS = {"train": 1101, "dev": 1102, "test": 1103}

# Lists copied as they are: category -> label.
PLAIN_CATEGORIES = {
    "direct_injection": "attack",
    "roleplay_jailbreak": "attack",
    "multilingual_injection": "attack",
    "payload_splitting": "attack",
    "business": "benign",
    "trigger_words": "benign",
    "security_topics": "benign",
    "multilingual": "benign",
    "with_codes": "benign",
    "with_emoji": "benign",
}
ATTACK_ORDER = (
    "direct_injection", "roleplay_jailbreak", "encoded_payload", "invisible_smuggling", "multilingual_injection",
    "payload_splitting",
)
BENIGN_ORDER = ("business", "trigger_words", "security_topics", "multilingual", "with_codes", "with_emoji")
# Only these lists have placeholders; elsewhere braces are the attacker's ({"role": "system"}).
CATEGORIES_WITH_PLACEHOLDERS = ("with_codes", "with_emoji")

# How many of a split's payloads are encoded; the rest are smuggled.
ENCODED_COUNTS = {"train": 60, "dev": 15, "test": 30}

ENCODINGS = ("base64", "hex", "rot13")
# What a wrapper's {scheme} may say for each encoding.
SCHEME_NAMES = {
    "base64": ("base64", "Base64", "b64", "BASE64"),
    "hex": ("hex", "hexadecimal", "base16", "hex bytes"),
    "rot13": ("rot13", "ROT13", "ROT-13", "rot-13"),
}

SMUGGLING_TECHNIQUES = ("tag_characters", "zero_width", "bidi_controls", "homoglyphs", "full_width")

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060")
# Bidi controls used inside words: isolates (LRI, RLI, FSI ... PDI) and embeddings (LRE ... PDF).
# They change nothing on screen in a left-to-right sentence but break the word for a string match.
BIDI_PAIRS = (("\u2066", "\u2069"), ("\u2067", "\u2069"), ("\u2068", "\u2069"), ("\u202a", "\u202c"))
RIGHT_TO_LEFT_OVERRIDE, POP_DIRECTIONAL_FORMATTING = "\u202e", "\u202c"

# Latin letters and look-alikes that render the same in most fonts.
CYRILLIC = {
    "a": "\u0430", "c": "\u0441", "e": "\u0435", "o": "\u043e", "p": "\u0440", "x": "\u0445", "y": "\u0443",
    "i": "\u0456", "s": "\u0455", "j": "\u0458", "A": "\u0410", "B": "\u0412", "C": "\u0421", "E": "\u0415",
    "H": "\u041d", "I": "\u0406", "K": "\u041a", "M": "\u041c", "O": "\u041e", "P": "\u0420", "T": "\u0422",
    "X": "\u0425",
}
GREEK = {
    "o": "\u03bf", "v": "\u03bd", "u": "\u03c5", "i": "\u03b9", "A": "\u0391", "B": "\u0392", "E": "\u0395",
    "H": "\u0397", "I": "\u0399", "K": "\u039a", "M": "\u039c", "N": "\u039d", "O": "\u039f", "P": "\u03a1",
    "T": "\u03a4", "X": "\u03a7", "Y": "\u03a5", "Z": "\u0396",
}

# Emoji sequences for the with_emoji lists. Benign text with a zero-width joiner or tag characters
# in it, as people really type, keeps a screener from flagging every such character.
EMOJI = {
    "woman_health_worker": "\U0001f469\u200d\u2695\ufe0f",
    "man_technologist": "\U0001f468\u200d\U0001f4bb",
    "woman_judge": "\U0001f469\u200d\u2696\ufe0f",
    "family": "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "rainbow_flag": "\U0001f3f3\ufe0f\u200d\U0001f308",
    "eye_in_speech_bubble": "\U0001f441\ufe0f\u200d\U0001f5e8\ufe0f",
    # subdivision flags are written with tag characters U+E0067 ... U+E007F
    "flag_england": "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "flag_scotland": "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "flag_wales": "\U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f",
}

PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)(?::([^{}]*))?\}")


# ---------------------------------------------------------------------------------------------
# Reading the hand-written lists
# ---------------------------------------------------------------------------------------------

def read_list(split: str, name: str) -> list[str]:
    """The items of sources/<split>_<name>.txt: one per line, without blank and # comment lines."""
    path = SOURCES / f"{split}_{name}.txt"
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            items.append(line)
    if not items:
        raise SystemExit(f"{path} is empty")
    return items


# ---------------------------------------------------------------------------------------------
# Encoded payloads
# ---------------------------------------------------------------------------------------------

def encode(payload: str, encoding: str, rng: random.Random) -> str:
    """PAYLOAD in base64, hex (packed or as space-separated bytes) or rot13."""
    data = payload.encode("utf-8")
    if encoding == "base64":
        return base64.b64encode(data).decode("ascii")
    if encoding == "hex":
        return data.hex(" ") if rng.random() < 0.3 else data.hex()
    return codecs.encode(payload, "rot13")


def encoded_items(payloads: list[str], wrappers: list[str], rng: random.Random) -> list[dict]:
    """One item per payload: the encodings in turn, a wrapper drawn at random."""
    items = []
    for index, payload in enumerate(payloads):
        encoding = ENCODINGS[index % len(ENCODINGS)]
        wrapper = rng.choice(wrappers)
        text = wrapper.replace("{scheme}", rng.choice(SCHEME_NAMES[encoding]))
        text = text.replace("{payload}", encode(payload, encoding, rng))
        items.append(attack(text, "encoded_payload"))
    return items


# ---------------------------------------------------------------------------------------------
# Invisible smuggling
# ---------------------------------------------------------------------------------------------

def to_tag_characters(text: str) -> str:
    """Each printable ASCII character as its Unicode tag twin (U+E0020 ... U+E007E): invisible on
    screen, but some models read them as the letters they shadow."""
    return "".join(chr(0xE0000 + ord(char)) for char in text)


def long_words(text: str) -> list[tuple[int, int]]:
    """(start, end) of the words of 4 letters or more: the ones worth breaking up."""
    return [match.span() for match in re.finditer(r"[A-Za-z]{4,}", text)]


def break_words(text: str, make_break, rng: random.Random) -> str:
    """Put make_break(word, rng) in place of each long word, e.g. the word with a zero-width
    character inside it."""
    pieces, position = [], 0
    for start, end in long_words(text):
        pieces.append(text[position:start])
        pieces.append(make_break(text[start:end], rng))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def insert_zero_width(word: str, rng: random.Random) -> str:
    cut = rng.randrange(1, len(word))
    return word[:cut] + rng.choice(ZERO_WIDTH) + word[cut:]


def wrap_in_bidi(word: str, rng: random.Random) -> str:
    """The middle of the word inside a bidi isolate or embedding: looks the same, matches nothing."""
    opening, closing = rng.choice(BIDI_PAIRS)
    cut = rng.randrange(1, len(word) - 1)
    return word[:cut] + opening + word[cut:-1] + closing + word[-1]


def to_homoglyphs(text: str, rng: random.Random) -> str:
    """Swap Latin letters of the long words for Cyrillic or Greek look-alikes, at least one a word."""
    table = rng.choice((CYRILLIC, GREEK, {**GREEK, **CYRILLIC}))

    def swap(word: str, rng: random.Random) -> str:
        positions = [i for i, char in enumerate(word) if char in table]
        if not positions:
            return word
        chosen = {i for i in positions if rng.random() < 0.5} or {rng.choice(positions)}
        return "".join(table[char] if i in chosen else char for i, char in enumerate(word))

    return break_words(text, swap, rng)


def to_full_width(text: str, rng: random.Random) -> str:
    """ASCII letters, digits and signs as their full-width forms (U+FF01 ... U+FF5E)."""
    space = rng.choice((" ", "\u3000"))
    return "".join(space if char == " " else chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


def smuggle(payload: str, technique: str, carrier: str, rng: random.Random) -> str:
    """The payload hidden or disguised with TECHNIQUE, after the carrier question or on its own."""
    if technique == "tag_characters":
        # Nothing of the attack is visible: the carrier is all a reviewer sees.
        return carrier + to_tag_characters(payload)
    if technique == "zero_width":
        hidden = break_words(payload, insert_zero_width, rng)
    elif technique == "bidi_controls":
        if rng.random() < 0.4:
            # Stored backwards inside a right-to-left override: displayed forwards, matched by nothing.
            hidden = RIGHT_TO_LEFT_OVERRIDE + payload[::-1] + POP_DIRECTIONAL_FORMATTING
        else:
            hidden = break_words(payload, wrap_in_bidi, rng)
    elif technique == "homoglyphs":
        hidden = to_homoglyphs(payload, rng)
    else:
        hidden = to_full_width(payload, rng)
    return f"{carrier} {hidden}" if rng.random() < 0.6 else hidden


def smuggled_items(payloads: list[str], carriers: list[str], rng: random.Random) -> list[dict]:
    """One item per payload: the techniques in turn, a carrier drawn at random."""
    items = []
    for index, payload in enumerate(payloads):
        technique = SMUGGLING_TECHNIQUES[index % len(SMUGGLING_TECHNIQUES)]
        text = smuggle(payload, technique, rng.choice(carriers), rng)
        items.append(attack(text, "invisible_smuggling"))
    return items


# ---------------------------------------------------------------------------------------------
# Placeholders in benign lines
# ---------------------------------------------------------------------------------------------

def fill_placeholders(line: str, rng: random.Random) -> str:
    """Replace {sha256}, {b64:text}, {flag_england} ... (see the module docstring)."""

    def value(match: re.Match) -> str:
        name, argument = match.group(1), match.group(2)
        if name in EMOJI:
            return EMOJI[name]
        if name == "b64":
            return base64.b64encode(argument.encode("utf-8")).decode("ascii")
        if name == "hex":
            return argument.encode("utf-8").hex()
        random_bytes = rng.randbytes(32)
        if name == "sha256":
            return hashlib.sha256(random_bytes).hexdigest()
        if name == "md5":
            return hashlib.md5(random_bytes).hexdigest()
        if name == "uuid":
            return str(uuid.UUID(bytes=random_bytes[:16], version=4))
        if name == "b64id":
            return base64.urlsafe_b64encode(random_bytes[:18]).decode("ascii")
        if name == "hex12":
            return random_bytes[:6].hex().upper()
        raise SystemExit(f"unknown placeholder {match.group(0)} in: {line}")

    return PLACEHOLDER.sub(value, line)


# ---------------------------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------------------------

def attack(text: str, category: str) -> dict:
    return {"text": text, "label": "attack", "category": category}


def build_split(split: str) -> list[dict]:
    """All items of one split: attacks first, then benign questions, each category in list order."""
    rng = random.Random(SEEDS[split])
    payloads = read_list(split, "payloads")
    for payload in payloads:
        if not payload.isascii():
            # Tag characters shadow printable ASCII only.
            raise SystemExit(f"{split}_payloads.txt: payloads must be ASCII: {payload}")
    encoded_count = ENCODED_COUNTS[split]
    generated = {
        "encoded_payload": encoded_items(payloads[:encoded_count], read_list(split, "encoded_wrappers"), rng),
        "invisible_smuggling": smuggled_items(payloads[encoded_count:], read_list(split, "carriers"), rng),
    }
    rows = []
    for category in ATTACK_ORDER + BENIGN_ORDER:
        if category in generated:
            rows.extend(generated[category])
            continue
        for line in read_list(split, category):
            text = fill_placeholders(line, rng) if category in CATEGORIES_WITH_PLACEHOLDERS else line
            rows.append({"text": text, "label": PLAIN_CATEGORIES[category], "category": category})
    return rows


def normalised(text: str) -> str:
    """How texts are compared for duplicates: lower case, all whitespace removed."""
    return "".join(text.lower().split())


def check_no_duplicates(splits: dict[str, list[dict]]) -> None:
    """No text twice in a split, and none in two splits: a test item seen in training proves nothing."""
    owner: dict[str, str] = {}
    for split, rows in splits.items():
        for row in rows:
            key = normalised(row["text"])
            if key in owner:
                raise SystemExit(f"duplicate text in {owner[key]} and {split}: {row['text']}")
            owner[key] = split


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=True) + "\n")


def print_counts(splits: dict[str, list[dict]]) -> None:
    """The table in guardrails/evaluation/README.md."""
    categories = [("attack", c) for c in ATTACK_ORDER] + [("benign", c) for c in BENIGN_ORDER]
    print(f"| {'label':6} | {'category':22} | " + " | ".join(f"{split:>5}" for split in splits) + " |")
    print(f"|{'-' * 8}|{'-' * 24}|" + "|".join("-" * 7 for _ in splits) + "|")
    counts = {split: Counter((row["label"], row["category"]) for row in rows) for split, rows in splits.items()}
    for label, category in categories:
        print(f"| {label:6} | {category:22} | " + " | ".join(f"{counts[s][label, category]:5}" for s in splits) + " |")
    for label in ("attack", "benign"):
        total = [sum(n for (lab, _), n in counts[s].items() if lab == label) for s in splits]
        print(f"| {label:6} | {'total':22} | " + " | ".join(f"{n:5}" for n in total) + " |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write all three files to this directory instead")
    args = parser.parse_args(argv)
    splits = {split: build_split(split) for split in SEEDS}
    check_no_duplicates(splits)
    for split, rows in splits.items():
        path = args.out / DEFAULT_PATHS[split].name if args.out else DEFAULT_PATHS[split]
        write_jsonl(path, rows)
    print_counts(splits)


if __name__ == "__main__":
    sys.exit(main())
