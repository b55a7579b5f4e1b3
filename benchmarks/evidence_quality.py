"""Evidence quality without a model: retrieval, the quotes the appliance picks and its judgement of
whether they answer, for every question of a split (the answer path up to the model, which shows
the quotes; SmolLM2's sentence is shown for few questions, see docs/benchmarks.md).

    REPO=<checkout> [QFILE=questions.jsonl] [CORPUS=dir] [DATA=/tmp/dir] [OUT=file.json] \
        .venv/bin/python benchmarks/evidence_quality.py dev|test|holdout|all

REPO is the code measured (any checkout whose EvidenceSelector.run returns quotes, answers_question
and confidence), so that two versions run side by side. DATA keeps the ingested corpus: a second
run on the same DATA skips ingestion. Prints, for answerable questions: judged answerable ("found"),
every keyword in the quotes, and both; the gold section among the quoted passages; every keyword in
the top 5 passages; and for unanswerable questions the share told "not in the documents"; and the
time EvidenceSelector.run takes per question (p50, p95).
"""
import json
import os
import sys
import statistics
import tempfile
import time
from io import StringIO
from pathlib import Path
REPO = Path(os.environ.get("REPO", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(REPO))
EVAL = REPO / "appliance/answering/evaluation"
qfile = Path(os.environ.get("QFILE", EVAL / "questions.jsonl"))
corpus = Path(os.environ.get("CORPUS", EVAL / "corpus"))
data = os.environ.get("DATA") or tempfile.mkdtemp(prefix="evidence-quality-")

fresh = not (Path(data) / "appliance.sqlite3").exists()
os.environ["DJANGO_SETTINGS_MODULE"] = "appliance.settings"
os.environ["APPLIANCE_DATA_DIR"] = data
os.environ["HF_HUB_OFFLINE"] = "1"
import django; django.setup()
from django.core.management import call_command
rows = [json.loads(l) for l in qfile.read_text().splitlines() if l.strip()]
if fresh:
    call_command("migrate", verbosity=0); call_command("bootstrap", "--demo", stdout=StringIO())
    cols = {}
    for r in rows:
        if r["document"]: cols.setdefault(r["collection"], set()).add(r["document"])
    for name, docs in sorted(cols.items()):
        call_command("ingest", *(str(corpus/d) for d in sorted(docs)), collection=name, grant=["analysts"], stdout=StringIO())
from django.conf import settings
from appliance.answering.prompting import passages_from_hits
from appliance.retrieval.searching import search_chunks
from appliance.runtime import evidence_selector, worker_parts
from ingest.models import Collection
split = sys.argv[1] if len(sys.argv) > 1 else "dev"
parts, selector = worker_parts(), evidence_selector()
out, selection_ms = [], []
def norm(s): return " ".join(s.lower().split())
for r in rows:
    if split != "all" and r["split"] != split: continue
    v = parts.embedder.embed([r["question"]])[0]
    hits = search_chunks(r["question"], [Collection.objects.get(name=r["collection"])], parts, limit=settings.ANSWERING_PASSAGES, vector=v)
    passages = passages_from_hits(hits)
    started = time.perf_counter()
    ev = selector.run(r["question"], v, passages)
    selection_ms.append((time.perf_counter() - started) * 1000)
    text = norm(" ".join(q.text for q in ev.quotes))
    kw = all(norm(k) in text for k in r["keywords"]) if r["answerable"] else None
    cited = {p.section for p in passages if p.number in ev.cited}
    gold = r.get("gold_section") or ""
    sec = any(gold and gold.lower() in (s or "").lower() for s in cited) if r["answerable"] else None
    retrieved = any(all(norm(k) in norm(p.text) for k in r["keywords"]) for p in passages) if r["answerable"] else None
    out.append(dict(id=r["id"], answerable=r["answerable"], found=ev.answers_question, conf=ev.confidence, kw=kw, sec=sec,
                    retr=retrieved, q=r["question"], quotes=[(q.passage, " ".join(q.text.split())[:200]) for q in ev.quotes],
                    features=ev.features, keywords=r["keywords"], gold=gold,
                    sections=[p.section for p in passages]))
A = [o for o in out if o["answerable"]]; U = [o for o in out if not o["answerable"]]
def rate(xs): return f"{sum(xs)}/{len(xs)}={sum(xs)/max(1,len(xs)):.3f}"
print("answerable found", rate([o["found"] for o in A]))
print("kw in quotes (any outcome)", rate([o["kw"] for o in A]))
print("kw & found", rate([o["kw"] and o["found"] for o in A]))
print("sec cited & found", rate([o["sec"] and o["found"] for o in A]))
print("kw retrieved top5", rate([o["retr"] for o in A]))
print("abstain", rate([not o["found"] for o in U]))
print(f"evidence selection p50 {statistics.median(selection_ms):.1f} ms, "
      f"p95 {statistics.quantiles(selection_ms, n=20)[-1]:.1f} ms over {len(selection_ms)} questions")
if os.environ.get("OUT"):
    Path(os.environ["OUT"]).write_text(json.dumps(out, indent=1))
