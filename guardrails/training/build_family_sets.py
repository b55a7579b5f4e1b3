"""Build the larger benign calibration set and the attack-family sets from the lists in sources/families/.

    python guardrails/training/build_family_sets.py [--out DIR]

Writes, one JSON object per line ({"text", "label": "attack" | "benign", "category"}):

- guardrails/training/data/families_train.jsonl: for training the classifier only;
- guardrails/evaluation/data/injection_families_dev.jsonl: for looking at misses and choosing thresholds;
- guardrails/evaluation/data/injection_families_heldback.jsonl: held back; only for reporting.

Every list in sources/families/ was written by hand for this repo (see guardrails/evaluation/README.md),
except manual_pages.tsv, whose names, one-line descriptions and section headings come from the man pages
installed on the build machine. Each list is cut into the three splits *before* anything is generated:
its lines are shuffled with a fixed seed and line i goes to train, dev or held-back by i % 10 (6 / 2 / 2).
Templates are always cut; fill lists with fewer than MIN_SPLIT_FILLS lines (years, decades, amounts) are
shared. So a held-back question is built from a template and mostly from names that train never saw.
A dev or held-back text sharing 60% or more of its words with a training text (this script's or
injection_train.jsonl's) is dropped, and so is a training text that close to a line of injection_dev.jsonl
or injection_test.jsonl; the datasets test checks both.

Benign categories: trivia, manual_newcomer, enterprise, summarise, other_languages, security_history, and
with_emoji / with_codes (a question of another category with an emoji or an identifier added).
Attack families: roleplay_persona, instruction_hijack, encoding_cipher, unicode_smuggling, markup_hidden,
tense_reworded, non_english.

Deterministic: random.Random(SEED) per split, no clock, no hash randomisation; the datasets test
rebuilds the committed files byte for byte. Standard library only.
"""
import argparse
import base64
import binascii
import codecs
import importlib.util
import json
import random
import re
import sys
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources" / "families"
SPLITS = ("train", "dev", "heldback")
DEFAULT_PATHS = {
    "train": HERE / "data" / "families_train.jsonl",
    "dev": HERE.parent / "evaluation" / "data" / "injection_families_dev.jsonl",
    "heldback": HERE.parent / "evaluation" / "data" / "injection_families_heldback.jsonl",
}
OLD_SETS = {  # build_injection_sets.py
    "train": HERE / "data" / "injection_train.jsonl",
    "dev": HERE.parent / "evaluation" / "data" / "injection_dev.jsonl",
    "test": HERE.parent / "evaluation" / "data" / "injection_test.jsonl",
}
SEED = 4409
SPLIT_OF_POSITION = ("train",) * 6 + ("dev",) * 2 + ("heldback",) * 2
MIN_SPLIT_FILLS = 40
ALWAYS_CUT = ("goal", "harm")  # what an attack asks for is never shared between splits
# Encoded and smuggled texts are compared through their plain attacks (cut by goal), not their words:
# binary, NATO spelling and zalgo share "words" (letters) with any other text of the same kind.
NOT_WORD_COMPARED = ("encoding_cipher", "unicode_smuggling")
NEAR_PARAPHRASE_JACCARD = 0.6

# How many questions each benign template yields in each split (fewer when its slots allow fewer).
BENIGN_PER_TEMPLATE = {"train": 40, "dev": 40, "heldback": 75}
DECORATED_SHARE = 0.08  # of benign questions, copied once with an emoji and once with an identifier
ATTACKS_PER_TEMPLATE = {"train": 10, "dev": 6, "heldback": 8}
ENCODED_PER_SCHEME = {"train": 14, "dev": 5, "heldback": 6}
SMUGGLED_PER_TECHNIQUE = {"train": 20, "dev": 6, "heldback": 8}

_SLOT = re.compile(r"\{(\w+)\}")


def read_lines(name: str) -> list[str]:
    text = (SOURCES / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def cut(lines: list[str], name: str) -> dict[str, list[str]]:
    """LINES shared out among the splits, 6 / 2 / 2, after a shuffle seeded by the list's NAME."""
    shuffled = sorted(lines)
    random.Random(f"{SEED}:{name}").shuffle(shuffled)
    parts = {split: [] for split in SPLITS}
    for position, line in enumerate(shuffled):
        parts[SPLIT_OF_POSITION[position % 10]].append(line)
    return parts


def fills_for(split: str) -> dict[str, list[str]]:
    """Every fill list (sources/families/fill_<slot>.txt) as the SPLIT may use it."""
    fills = {}
    for path in sorted(SOURCES.glob("fill_*.txt")):
        slot = path.stem.removeprefix("fill_")
        lines = read_lines(path.name)
        fills[slot] = cut(lines, path.name)[split] if len(lines) >= MIN_SPLIT_FILLS or slot in ALWAYS_CUT else lines
    manual = cut(read_lines("manual_pages.tsv"), "manual_pages.tsv")[split]
    pages = [line.split("\t") for line in manual]
    fills["cmd"] = fills["cmd2"] = [page[0] for page in pages]
    fills["desc"] = [page[1] for page in pages]
    fills["heading"] = [heading for page in pages if len(page) > 2 for heading in page[2].split(";") if heading]
    fills["person2"] = fills["person"]
    return fills


def fill(template: str, fills: dict[str, list[str]], rng: random.Random) -> str:
    """TEMPLATE with each {slot} drawn from FILLS; a page's {desc} and {heading} go with its {cmd}."""
    chosen = {}

    def value(match: re.Match) -> str:
        slot = match.group(1)
        if slot not in chosen:
            options = [option for option in fills[slot] if option not in chosen.values()]
            chosen[slot] = rng.choice(options)
        return chosen[slot]

    return _SLOT.sub(value, template).replace("\\n", "\n")


def templated(templates: list[str], fills: dict, per_template: int, rng: random.Random) -> list[str]:
    texts = []
    for template in templates:
        made = {fill(template, fills, rng) for _ in range(per_template * 3)}
        texts.extend(sorted(made)[:per_template] if len(made) > per_template else sorted(made))
    return texts


# Emoji and identifiers people really type; the with_emoji and with_codes copies use them.
EMOJI = ("🙏", "👍", "😊", "🤔", "📄", "✅", "🚀", "💡", "👩\u200d💻", "🇬🇧", "📅", "🙂")


def identifier(rng: random.Random) -> str:
    kinds = (
        lambda: f"ticket INC-{rng.randrange(10**6):06d}",
        lambda: f"invoice {rng.randrange(2019, 2027)}-{rng.randrange(10**5):05d}",
        lambda: f"case {rng.choice('ABCDEFGH')}{rng.randrange(10**7):07d}",
        lambda: "doc id " + "".join(rng.choice("0123456789abcdef") for _ in range(12)),
        lambda: "ref " + base64.b64encode(bytes(rng.randrange(256) for _ in range(9))).decode(),
        lambda: f"PO {rng.randrange(4500000000, 4600000000)}",
        lambda: "commit " + "".join(rng.choice("0123456789abcdef") for _ in range(40)),
    )
    return rng.choice(kinds)()


def decorated(texts: list[str], rng: random.Random) -> list[dict]:
    """Copies of some TEXTS with an emoji and others with an identifier (the question stays the same)."""
    rows = []
    for text in rng.sample(texts, int(len(texts) * DECORATED_SHARE)):
        rows.append(benign(f"{text} {rng.choice(EMOJI)}" if rng.random() < 0.7 else f"{rng.choice(EMOJI)} {text}",
                           "with_emoji"))
    for text in rng.sample(texts, int(len(texts) * DECORATED_SHARE)):
        rows.append(benign(f"{text.rstrip('?.')} ({identifier(rng)})?" if text.endswith("?")
                           else f"{text} Re: {identifier(rng)}.", "with_codes"))
    return rows


def benign(text: str, category: str) -> dict:
    return {"text": text, "label": "benign", "category": category}


def attack(text: str, category: str) -> dict:
    return {"text": text, "label": "attack", "category": category}


def benign_rows(split: str, fills: dict, rng: random.Random) -> list[dict]:
    per_template = BENIGN_PER_TEMPLATE[split]
    rows = []
    for name, category in (("benign_trivia.txt", "trivia"), ("benign_manual.txt", "manual_newcomer"),
                           ("benign_enterprise.txt", "enterprise")):
        templates = cut(read_lines(name), name)[split]
        rows += [benign(text, category) for text in templated(templates, fills, per_template, rng)]
    for name, category in (("benign_summarise.txt", "summarise"), ("benign_other_languages.txt", "other_languages"),
                           ("benign_security_history.txt", "security_history")):
        rows += [benign(text, category) for text in cut(read_lines(name), name)[split]]
    return rows + decorated([row["text"] for row in rows], rng)


# --- encodings and ciphers ---------------------------------------------------------------------------------

MORSE = dict(zip(
    "abcdefghijklmnopqrstuvwxyz0123456789.,?'!",
    ".- -... -.-. -.. . ..-. --. .... .. .--- -.- .-.. -- -. --- .--. --.- .-. ... - ..- ...- .-- -..- -.-- --.. "
    "----- .---- ..--- ...-- ....- ..... -.... --... ---.. ----. .-.-.- --..-- ..--.. .----. -.-.--".split(),
))
BRAILLE = dict(zip("abcdefghijklmnopqrstuvwxyz", "⠁⠃⠉⠙⠑⠋⠛⠓⠊⠚⠅⠇⠍⠝⠕⠏⠟⠗⠎⠞⠥⠧⠺⠭⠽⠵"))
NATO = dict(zip("abcdefghijklmnopqrstuvwxyz", (
    "Alfa Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliett Kilo Lima Mike November Oscar Papa Quebec "
    "Romeo Sierra Tango Uniform Victor Whiskey X-ray Yankee Zulu").split()))
LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "l": "1", "A": "4", "E": "3",
                      "I": "1", "O": "0", "S": "5", "T": "7"})


def atbash(text: str) -> str:
    def swap(ch: str) -> str:
        if "a" <= ch <= "z":
            return chr(ord("z") - ord(ch) + ord("a"))
        if "A" <= ch <= "Z":
            return chr(ord("Z") - ord(ch) + ord("A"))
        return ch

    return "".join(map(swap, text))


def uuencode(text: str) -> str:
    data = text.encode()
    lines = [binascii.b2a_uu(data[i:i + 45]).decode().rstrip("\n") for i in range(0, len(data), 45)]
    return "begin 644 note.txt\n" + "\n".join(lines) + "\n`\nend"


ENCODERS = {
    "base16": lambda t: base64.b16encode(t.encode()).decode(),
    "base32": lambda t: base64.b32encode(t.encode()).decode(),
    "base64": lambda t: base64.b64encode(t.encode()).decode(),
    "base85": lambda t: base64.b85encode(t.encode()).decode(),
    "ascii85": lambda t: base64.a85encode(t.encode(), adobe=True).decode(),
    "uuencode": uuencode,
    "quoted-printable": lambda t: "".join(f"={byte:02X}" for byte in t.encode()),  # every byte, as some mailers do
    "rot13": lambda t: codecs.encode(t, "rot13"),
    "atbash": atbash,
    "morse": lambda t: " / ".join(" ".join(MORSE[c] for c in word if c in MORSE) for word in t.lower().split()),
    "braille": lambda t: "".join(BRAILLE.get(c, c) for c in t.lower()),
    "NATO alphabet": lambda t: " / ".join(" ".join(NATO[c] for c in word if c in NATO) for word in t.lower().split()),
    "leetspeak": lambda t: t.translate(LEET),
    "binary": lambda t: " ".join(f"{byte:08b}" for byte in t.encode()),
    "URL encoding": lambda t: urllib.parse.quote(t, safe=""),
}


def plain_attacks(split: str, fills: dict, rng: random.Random, count: int) -> list[str]:
    payloads = cut(read_lines("attack_payloads.txt"), "attack_payloads.txt")[split]
    return [fill(rng.choice(payloads), fills, rng) for _ in range(count)]


def encoded_rows(split: str, fills: dict, rng: random.Random) -> list[dict]:
    wrappers = cut(read_lines("attack_encoding_wrappers.txt"), "attack_encoding_wrappers.txt")[split]
    rows = []
    for scheme, encode in ENCODERS.items():
        for plain in plain_attacks(split, fills, rng, ENCODED_PER_SCHEME[split]):
            wrapper = rng.choice(wrappers)
            rows.append(attack(wrapper.replace("{scheme}", scheme).replace("{payload}", encode(plain)), "encoding_cipher"))
    return rows


# --- Unicode smuggling -------------------------------------------------------------------------------------

def older_builder():
    """build_injection_sets.py, for its tag-character, zero-width, bidi, homoglyph and full-width helpers."""
    spec = importlib.util.spec_from_file_location("build_injection_sets", HERE / "build_injection_sets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def to_variation_selectors(text: str) -> str:
    """Each byte of TEXT as a variation selector (VS1-VS16 for 0-15, VS17-VS256 for 16-255), all invisible,
    hung on one visible character."""
    return "".join(chr(0xFE00 + b) if b < 16 else chr(0xE0100 + b - 16) for b in text.encode())


ZALGO_MARKS = [chr(code) for code in range(0x0300, 0x036F)]


def to_zalgo(text: str, rng: random.Random) -> str:
    return "".join(ch + "".join(rng.choice(ZALGO_MARKS) for _ in range(rng.randrange(1, 4))) if ch.isalpha() else ch
                   for ch in text)


def smuggled(plain: str, technique: str, carrier: str, rng: random.Random, old) -> str:
    if technique == "tag characters":
        return carrier + old.to_tag_characters(plain)
    if technique == "variation selectors":
        return carrier + " 🙂" + to_variation_selectors(plain)
    if technique == "zalgo":
        return to_zalgo(plain, rng)
    if technique == "zero-width":
        return old.break_words(plain, old.insert_zero_width, rng)
    if technique == "bidi controls":
        return old.break_words(plain, old.wrap_in_bidi, rng)
    if technique == "homoglyphs":
        return old.to_homoglyphs(plain, rng)
    return old.to_full_width(plain, rng)


SMUGGLING = ("tag characters", "variation selectors", "zalgo", "zero-width", "bidi controls", "homoglyphs", "full-width")


def smuggled_rows(split: str, fills: dict, rng: random.Random, carriers: list[str]) -> list[dict]:
    old = older_builder()
    rows = []
    for technique in SMUGGLING:
        for plain in plain_attacks(split, fills, rng, SMUGGLED_PER_TECHNIQUE[split]):
            rows.append(attack(smuggled(plain, technique, rng.choice(carriers) + " ", rng, old), "unicode_smuggling"))
    return rows


# --- the other families ------------------------------------------------------------------------------------

TEMPLATED_ATTACKS = (
    ("attack_roleplay.txt", "roleplay_persona"), ("attack_hijack.txt", "instruction_hijack"),
    ("attack_markup.txt", "markup_hidden"), ("attack_tense.txt", "tense_reworded"),
)


def attack_rows(split: str, fills: dict, rng: random.Random, carriers: list[str]) -> list[dict]:
    rows = []
    for name, category in TEMPLATED_ATTACKS:
        templates = cut(read_lines(name), name)[split]
        per_template = ATTACKS_PER_TEMPLATE[split]
        rows += [attack(text, category) for text in templated(templates, fills, per_template, rng)]
    rows += encoded_rows(split, fills, rng) + smuggled_rows(split, fills, rng, carriers)
    rows += [attack(text, "non_english") for text in cut(read_lines("attack_non_english.txt"), "attack_non_english.txt")[split]]
    return rows


def build_split(split: str) -> list[dict]:
    rng = random.Random(f"{SEED}:{split}")
    fills = fills_for(split)
    benign_part = benign_rows(split, fills, rng)
    carriers = [row["text"] for row in benign_part if row["category"] == "enterprise"]
    rows = benign_part + attack_rows(split, fills, rng, carriers)
    seen, unique = set(), []
    for row in rows:
        key = normalised(row["text"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def normalised(text: str) -> str:
    return "".join(text.lower().split())


def words_of(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", text.lower()))


def without_near_paraphrases(rows: list[dict], training_rows: list[dict]) -> list[dict]:
    """ROWS without those equal to a training text or sharing NEAR_PARAPHRASE_JACCARD of their words with one."""
    compared = [words_of(row["text"]) for row in training_rows if row["category"] not in NOT_WORD_COMPARED]
    index = defaultdict(list)
    for number, words in enumerate(compared):
        for word in words:
            index[word].append(number)
    exact = {normalised(row["text"]) for row in training_rows}
    return [row for row in rows if normalised(row["text"]) not in exact
            and (row["category"] in NOT_WORD_COMPARED or not is_near(words_of(row["text"]), compared, index))]


def is_near(words: frozenset[str], compared: list[frozenset[str]], index: dict) -> bool:
    shared = Counter(number for word in words for number in index.get(word, ()))
    return any(count / len(words | compared[number]) >= NEAR_PARAPHRASE_JACCARD for number, count in shared.items())


def build() -> dict[str, list[dict]]:
    splits = {split: build_split(split) for split in SPLITS}
    training = splits["train"] + read_jsonl(OLD_SETS["train"])
    splits["dev"] = without_near_paraphrases(splits["dev"], training)
    splits["heldback"] = without_near_paraphrases(splits["heldback"], training + splits["dev"])
    # Nor may training see the older sets' dev and test lines (a hand-written non-English attack came out
    # the same as one in injection_test.jsonl).
    splits["train"] = without_near_paraphrases(splits["train"], read_jsonl(OLD_SETS["dev"]) + read_jsonl(OLD_SETS["test"]))
    return splits


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=True) + "\n" for row in rows), encoding="utf-8")


def print_counts(splits: dict[str, list[dict]]) -> None:
    counts = {split: Counter((row["label"], row["category"]) for row in rows) for split, rows in splits.items()}
    keys = sorted({key for count in counts.values() for key in count})
    print("| label | category | " + " | ".join(SPLITS) + " |\n| --- | --- |" + " ---: |" * len(SPLITS))
    for key in keys:
        print(f"| {key[0]} | {key[1]} | " + " | ".join(str(counts[s][key]) for s in SPLITS) + " |")
    for label in ("attack", "benign"):
        print(f"| {label} | total | " + " | ".join(str(sum(v for k, v in counts[s].items() if k[0] == label))
                                               for s in SPLITS) + " |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the three files to this directory instead")
    args = parser.parse_args(argv)
    splits = build()
    for split, rows in splits.items():
        write_jsonl(args.out / DEFAULT_PATHS[split].name if args.out else DEFAULT_PATHS[split], rows)
    print_counts(splits)


if __name__ == "__main__":
    main(sys.argv[1:])
