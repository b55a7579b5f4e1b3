"""Build guardrails/data/person_names.json, the name lists of GazetteerPersonRecognizer.

    .venv/bin/python tools/build_name_gazetteer.py [--out PATH]

Why a gazetteer: the small spaCy model finds names by their capital letters and their place in an
English sentence, so it misses names typed in lower case ("padraig kelleher"), names in other
scripts ("Аполлон Королев", "鈴木和也") and many names from outside the English-speaking world.

What goes in (a dev-time build: Faker is a dev dependency, and the appliance never imports it):

- first and last names: the person providers of Faker (FAKER_VERSION, MIT licence; the lists are
  names in common use, which Faker's maintainers took from public census and name-frequency
  lists), all locales but the generic "en" one (its lists hold words such as "Author", "Baby",
  "Doctor") and GAZETTEER_HELD_OUT: those locales stay out so that the held-back PII set
  (guardrails/evaluation/generate_pii_holdout.py) can show how the recognizer does on names it has
  never seen. Names are stored casefolded; a multi-word entry ("van Vlaanderen") is left out.
- common words: words that are also names ("will", "may", "grant", "mark") must not make a
  business question look like it names someone. They are the words that occur in lower case at
  least COMMON_MIN_COUNT times in the source of the Python standard library and of Django (a large
  body of English prose with no personal names in lower case), Faker's en_US lorem word list,
  spaCy's English stop words, and HAND_WRITTEN_COMMON (English words that are names and common in
  business questions, written for this file). All of them are stored in `common_words`: the
  recognizer decides what a name that is also a common word means, and never takes a common word
  after a title ("ms word") for a surname.

The output is sorted and written with one entry per line, so the same inputs give the same bytes.
"""
import argparse
import collections
import importlib
import json
import pkgutil
import re
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "guardrails" / "data" / "person_names.json"
FAKER_VERSION = "40.54.0"
GAZETTEER_HELD_OUT = ("sk_SK", "sl_SI", "lv_LV", "et_EE", "tr_TR", "vi_VN", "uk_UA", "ko_KR")
COMMON_MIN_COUNT = 3
# Providers name their lists differently ("first_names_female_islamic", "unisex_last_names",
# "first_romanized_names"): every list attribute whose name matches is read.
FIRST_NAME_ATTRIBUTE = re.compile(r"^(?:first|middle)_(?:romanized_|kana_)?names(?:_\w+)?$")
LAST_NAME_ATTRIBUTE = re.compile(r"^(?:\w+_)?last_(?:romanized_|kana_)?names(?:_\w+)?$")
LOWER_CASE_WORD = re.compile(r"(?<![\w@.])[a-z]{2,}(?![\w@])")

HAND_WRITTEN_COMMON = """
will may bill grant mark rose june april august hope faith joy grace chase hunter page ward hill wood green
young long price bell field fields king white black brown gray grey cook baker miller rich major frank lane
park banks case chance summer winter spring autumn dawn sky sun ray guy art sue pat drew rob nick amber ruby
pearl crystal iris lily violet holly ivy olive basil sage reed stone brook cliff dale glen heath forest river
storm gale bay day ball best church glass good house key short small strong wall power read law low way foot
guard clear fall fresh judge story stack deep date post room ties list stock held company real close kind
back peace each forget pages car among said made link parts soon must early carry doctor friend general job
lawyer less line lot man media son star true hand church sales audit claim claims bond bonds cash trust
fund funds rule rules policy review march may august christian english french german irish dutch polish
swedish norman castle hall street bank money gold silver golden rich noble sterling victor victory justice
page paige sharp sweet well wells best brown cross gates marsh moor nash north south east west wing winter
booth bush cole penny worth young love hunt hart fox wolf bird crane swan drake lamb bull steel iron frost
snow rain cloud star moon bloom chance
"""


def faker_names() -> tuple[set[str], set[str]]:
    """Casefolded single-word first and last names of every Faker locale we use."""
    import faker
    import faker.providers.person

    if faker.VERSION != FAKER_VERSION:
        sys.exit(f"Faker {FAKER_VERSION} is needed to reproduce the committed file, found {faker.VERSION}")
    first, last = set(), set()
    for module in pkgutil.iter_modules(faker.providers.person.__path__):
        if module.name == "en" or module.name in GAZETTEER_HELD_OUT:
            continue
        provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        first |= provider_names(provider, FIRST_NAME_ATTRIBUTE)
        last |= provider_names(provider, LAST_NAME_ATTRIBUTE)
    return first, last


def provider_names(provider, attribute: re.Pattern) -> set[str]:
    names = set()
    for name in dir(provider):
        value = getattr(provider, name, ()) if attribute.match(name) else ()
        if isinstance(value, (dict, list, tuple, set, frozenset)):  # some providers define properties instead
            names |= {entry.casefold() for entry in value
                      if isinstance(entry, str) and entry.strip() and " " not in entry.strip()}
    return names


def common_words() -> set[str]:
    import django
    import spacy.lang.en.stop_words
    from faker.providers.lorem.en_US import Provider as Lorem

    counts = collections.Counter()
    for root in (Path(sysconfig.get_paths()["stdlib"]), Path(django.__file__).parent):
        for path in sorted(root.rglob("*.py")):
            if {"test", "tests", "site-packages", "locale"} & set(path.relative_to(root).parts):
                continue
            counts.update(LOWER_CASE_WORD.findall(path.read_text(encoding="utf-8", errors="replace")))
    frequent = {word for word, count in counts.items() if count >= COMMON_MIN_COUNT}
    return frequent | set(Lorem.word_list) | set(spacy.lang.en.stop_words.STOP_WORDS) | set(HAND_WRITTEN_COMMON.split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    first, last = faker_names()
    common = common_words()
    gazetteer = {
        "source": (
            f"Faker {FAKER_VERSION} person providers (MIT licence), every locale except 'en' and "
            f"{', '.join(GAZETTEER_HELD_OUT)}; common words: lower-case words seen {COMMON_MIN_COUNT}+ times in "
            f"the Python {sys.version_info.major}.{sys.version_info.minor} standard library and Django sources, "
            "Faker's en_US lorem words, spaCy's English stop words and a hand-written list. Built by "
            "tools/build_name_gazetteer.py."
        ),
        "first_names": sorted(first),
        "last_names": sorted(last),
        "common_words": sorted(common),
    }
    text = json.dumps(gazetteer, ensure_ascii=False, indent=0)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"{args.out}: {len(first)} first names, {len(last)} last names, {len(common)} common words", file=sys.stderr)


if __name__ == "__main__":
    main()
