"""`manage.py ingest DIR --recursive` and `--sync`: a folder walked, a collection kept in step with it."""
import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from appliance.audit.models import LedgerEntry
from appliance.runtime import release_store
from ingest.models import Document
from tests.conftest import REPO, database_url_for_children

pytestmark = [pytest.mark.django_db, pytest.mark.services]

HANDBOOK = "# Expenses\n\nTaxi receipts are reimbursed up to 80 euros per trip.\n"
HR_LEAVE = "# Leave\n\nAnnual leave is 25 days a year.\n"
IT_LEAVE = "# Leave\n\nLaptops stay in the office during leave.\n"


def ingest(*args, **options) -> tuple[list[dict], str]:
    """Run the command; returns its JSON lines (stdout) and what it wrote on stderr."""
    out, err = StringIO(), StringIO()
    call_command("ingest", *map(str, args), collection="Handbook", stdout=out, stderr=err, **options)
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def documents() -> dict[str, tuple[int, str]]:
    return {d.filename: (d.version, d.status) for d in Document.objects.all()}


def events_since(seq: int) -> list[tuple[str, str, int]]:
    return [(e.action, e.details.get("filename"), e.details.get("version"))
            for e in LedgerEntry.objects.filter(seq__gt=seq, action__startswith="document.").order_by("seq")]


def last_seq() -> int:
    return LedgerEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


@pytest.fixture
def share(tmp_path):
    root = tmp_path / "share"
    (root / "hr").mkdir(parents=True)
    (root / "it").mkdir()
    (root / ".git").mkdir()
    (root / "handbook.md").write_text(HANDBOOK)
    (root / "hr" / "leave.md").write_text(HR_LEAVE)
    (root / "it" / "leave.md").write_text(IT_LEAVE)
    (root / "it" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "setup.exe").write_bytes(b"MZ")
    (root / ".git" / "notes.md").write_text("# Hidden\n\nNot for the index.\n")
    (root / ".DS_Store").write_bytes(b"\0")
    return root


def test_it_ingests_a_nested_folder_by_relative_path_and_skips_hidden_and_unaccepted_files(share, roles):
    lines, stderr = ingest(share, recursive=True)

    assert [(line["document"], line["status"], line["action"]) for line in lines] == [
        ("handbook.md", "ready", "added"), ("hr/leave.md", "ready", "added"), ("it/leave.md", "ready", "added")]
    assert lines[1]["file"] == str(share / "hr" / "leave.md")
    assert lines[1]["chunks"] == 1 and lines[1]["error"] is None
    assert documents() == {"handbook.md": (1, "ready"), "hr/leave.md": (1, "ready"), "it/leave.md": (1, "ready")}
    assert stderr == (
        "Added 3, replaced 0, unchanged 0.\n"
        "Skipped: 2 hidden files or folders; 2 files of types the appliance does not accept (.exe, .png).\n"
    )


def test_it_does_nothing_on_an_unchanged_folder_and_says_so(share, roles):
    ingest(share, recursive=True)
    before = last_seq()

    lines, stderr = ingest(share, sync=True)

    assert [(line["document"], line["status"], line["action"]) for line in lines] == [
        ("handbook.md", "ready", "unchanged"), ("hr/leave.md", "ready", "unchanged"),
        ("it/leave.md", "ready", "unchanged")]
    assert stderr.splitlines()[0] == "Nothing to do: 3 files unchanged."
    assert events_since(before) == []


def test_it_syncs_a_folder_adding_replacing_and_erasing_with_ledger_events(share, roles):
    ingest(share, sync=True)
    (share / "hr" / "leave.md").write_text(HR_LEAVE.replace("25 days", "28 days"))
    (share / "it" / "leave.md").unlink()
    (share / "finance").mkdir()
    (share / "finance" / "taxi.md").write_text("# Taxis\n\nBook taxis through the travel desk.\n")
    before = last_seq()

    lines, stderr = ingest(share, sync=True)

    assert [(line["document"], line["status"], line["action"]) for line in lines] == [
        ("it/leave.md", "erased", "erased"), ("finance/taxi.md", "ready", "added"),
        ("handbook.md", "ready", "unchanged"), ("hr/leave.md", "ready", "replaced")]
    assert lines[3]["version"] == 2
    assert documents() == {"handbook.md": (1, "ready"), "hr/leave.md": (2, "ready"), "finance/taxi.md": (1, "ready")}
    # Files are accepted a batch ahead of indexing (ingest.batching): both uploads come first.
    assert events_since(before) == [
        ("document.erased", "it/leave.md", 1),
        ("document.uploaded", "finance/taxi.md", 1), ("document.uploaded", "hr/leave.md", 2),
        ("document.indexed", "finance/taxi.md", 1), ("document.indexed", "hr/leave.md", 2),
        ("document.erased", "hr/leave.md", 1),
    ]
    assert stderr.splitlines()[0] == "Added 1, replaced 1, erased 1, unchanged 1."


def test_it_sums_up_failures_duplicates_and_skipped_entries_and_leaves_them_be_on_a_rerun(share, roles):
    (share / "empty.txt").write_bytes(b"")
    (share / "old").mkdir()
    (share / "old" / "handbook.md").write_text(HANDBOOK)
    (share / "people").symlink_to("hr")

    lines, first = ingest(share, recursive=True)
    again, second = ingest(share, recursive=True)

    assert [(line["document"], line["status"]) for line in lines] == [
        ("empty.txt", "failed"), ("handbook.md", "ready"), ("hr/leave.md", "ready"), ("it/leave.md", "ready"),
        ("old/handbook.md", "duplicate")]
    assert first == (
        "Added 3, replaced 0, unchanged 0.\n"
        "1 file failed: see their JSON lines.\n"
        "1 file identical to a document the collection already holds under another name: not added.\n"
        "Skipped: 2 hidden files or folders; 1 link to a folder inside this one (walked where it is); "
        "2 files of types the appliance does not accept (.exe, .png).\n"
    )
    assert [line["action"] for line in again] == ["unchanged", "unchanged", "unchanged", "unchanged", None]
    assert second.splitlines()[0] == "Nothing to do: 4 files unchanged."
    assert Document.objects.filter(filename="empty.txt").count() == 1


def test_it_keeps_documents_of_files_gone_from_the_folder_without_sync(share, roles):
    ingest(share, recursive=True)
    (share / "it" / "leave.md").unlink()

    lines, stderr = ingest(share, recursive=True)

    assert [line["action"] for line in lines] == ["unchanged", "unchanged"]
    assert "it/leave.md" in documents()
    assert stderr.splitlines()[0] == "Nothing to do: 2 files unchanged."


def test_it_reports_each_bad_file_and_ingests_the_rest(share, tmp_path, roles):
    outside = tmp_path / "outside.md"
    outside.write_text("# Secret\n\nNot in the share.\n")
    (share / "hr" / "up").symlink_to("..")
    (share / "it" / "loop.md").symlink_to("loop.md")
    (share / "it" / "secret.md").symlink_to(outside)
    (share / "it" / "gone.md").symlink_to(tmp_path / "nowhere.md")
    os.mkfifo(share / "it" / "pipe.md")
    long_name = f"{'x' * 200}/{'y' * 60}.md"
    (share / long_name).parent.mkdir()
    (share / long_name).write_text(HANDBOOK)

    lines, stderr = ingest(share, recursive=True)

    errors = {line["document"]: (line["status"], line["error"]) for line in lines if line["status"] != "ready"}
    assert errors == {
        "hr/up": ("failed", "“hr/up” is a symbolic link loop; not followed."),
        "it/loop.md": ("failed", "“it/loop.md” is a symbolic link loop; not followed."),
        "it/secret.md": ("failed", f"“it/secret.md” links outside the folder (to {outside}); not followed."),
        "it/gone.md": ("failed", "“it/gone.md” is a broken link: its target does not exist."),
        "it/pipe.md": ("failed", "“it/pipe.md” is not a regular file; not read."),
        long_name: ("failed", f"“{long_name}” has a path longer than 255 characters."),
    }
    assert sorted(line["document"] for line in lines if line["status"] == "ready") == [
        "handbook.md", "hr/leave.md", "it/leave.md"]
    assert stderr.splitlines()[:2] == ["Added 3, replaced 0, unchanged 0.", "6 files failed: see their JSON lines."]
    assert set(documents()) == {"handbook.md", "hr/leave.md", "it/leave.md"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_it_reports_an_unreadable_file(share, roles):
    (share / "hr" / "leave.md").chmod(0)

    lines, _ = ingest(share, recursive=True)

    assert lines[1]["error"] == f"cannot read {share / 'hr' / 'leave.md'}: Permission denied"


def test_it_sync_does_not_erase_a_document_whose_file_it_could_not_read(share, tmp_path, roles):
    ingest(share, sync=True)
    (share / "it" / "leave.md").unlink()
    (share / "it" / "leave.md").symlink_to(tmp_path / "nowhere.md")

    lines, _ = ingest(share, sync=True)

    assert [(line["document"], line["action"]) for line in lines] == [
        ("handbook.md", "unchanged"), ("hr/leave.md", "unchanged"), ("it/leave.md", None)]
    assert documents()["it/leave.md"] == (1, "ready")


@pytest.mark.parametrize("args, options, message", [
    (["missing"], {"recursive": True}, "“{tmp}/missing” does not exist."),
    (["share/handbook.md"], {"recursive": True},
     "“{tmp}/share/handbook.md” is a file, not a folder: leave out --recursive to ingest single files."),
    (["share"], {}, "“{tmp}/share” is a folder: add --recursive to ingest the files in it and its subfolders."),
    (["share", "share/hr"], {"sync": True}, "--sync takes exactly one folder, the one the collection mirrors."),
])
def test_it_refuses_bad_paths_with_a_clear_error(share, tmp_path, roles, args, options, message):
    with pytest.raises(CommandError) as error:
        ingest(*(tmp_path / arg for arg in args), **options)

    assert str(error.value) == message.format(tmp=tmp_path)
    assert not Document.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_draws_progress_on_a_terminal_while_stdout_stays_json_lines(share, roles):
    """The real command in a child process whose stderr is a terminal (tqdm draws only there)."""
    release_store()  # this test process may still hold the embedded store
    terminal, child_side = pty.openpty()
    fcntl.ioctl(child_side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))  # a terminal has a width
    child = subprocess.Popen(
        [sys.executable, "manage.py", "ingest", str(share), "--recursive", "--collection", "Handbook"],
        cwd=REPO, env={**os.environ, "DATABASE_URL": database_url_for_children()},
        stdout=subprocess.PIPE, stderr=child_side, text=True,
    )
    os.close(child_side)
    drawn = []
    reader = threading.Thread(target=read_terminal, args=(terminal, drawn))
    reader.start()
    stdout, _ = child.communicate(timeout=600)
    reader.join(timeout=60)
    stderr = b"".join(drawn).decode()

    assert child.returncode == 0, stderr
    documents_printed = [json.loads(line)["document"] for line in stdout.splitlines()]
    assert documents_printed == ["handbook.md", "hr/leave.md", "it/leave.md"]
    assert f"{share}: 100%" in stderr and "3/3" in stderr
    assert stderr.rstrip().endswith("Skipped: 2 hidden files or folders; 2 files of types the appliance does not "
                                    "accept (.exe, .png).")


def read_terminal(terminal: int, into: list[bytes]) -> None:
    while True:
        try:
            data = os.read(terminal, 4096)
        except OSError:  # EIO: the child closed its side
            break
        if not data:
            break
        into.append(data)
    os.close(terminal)
