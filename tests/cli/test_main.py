"""The CLI end to end: real subprocesses, so exit codes and stderr are what a person sees."""

import codecs
import json
import subprocess
import sys

import pytest

from tests.conftest import REPO


def seqlab(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "seqlab", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=kwargs.pop("timeout", 120), **kwargs)


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_corpora_lists_all_built_ins():
    result = seqlab("corpora")
    assert result.returncode == 0
    for name in ("tiny-shakespeare", "hamlet", "imdb", "rotten-tomatoes", "imdb-full", "sunspots", "seasonal-synthetic",
                 "memory-copy-N", "memory-brackets-N"):  # the memory-probe families once each, with how to name N
        assert name in result.stdout
    assert "e.g. memory-copy-20" in result.stdout and "sunspots            forecast" in result.stdout
    assert len(json.loads(seqlab("corpora", "--json").stdout)) == 9


def test_inspect_tiny_shakespeare():
    result = seqlab("inspect", "tiny-shakespeare")
    assert result.returncode == 0
    assert "characters:          1,115,394" in result.stdout and "distinct characters: 65" in result.stdout
    stats = json.loads(seqlab("inspect", "tiny-shakespeare", "--json").stdout)
    assert (stats["characters"], stats["distinct_characters"]) == (1_115_394, 65)


def test_inspect_stanford_archive(shared_data):
    result = seqlab("inspect", str(shared_data / "aclImdb_v1_reviews.tar.gz"))
    assert result.returncode == 0, result.stderr
    assert "train: 24,996 reviews" in result.stdout and "test: 24,996 reviews" in result.stdout
    assert result.stdout.count("balanced") == 2


@pytest.mark.parametrize("name,content,fragments", [
    ("photo.txt", bytes(range(256)) * 20, ["binary"]),
    ("empty.txt", b"", ["empty"]),
    ("latin1.txt", "caf\xe9".encode("latin-1") * 10, ["not valid UTF-8", "0xe9"]),
    ("nolabel.csv", b"text,id\nfine film,101\ndull film,2034\n", ["no column holds labels"]),
    ("oneclass.csv", b"text,label\nfine,pos\ngood,pos\n", ["labelled positive"]),
])
def test_bad_files_give_one_line_and_exit_2(tmp_path, name, content, fragments):
    path = tmp_path / name
    path.write_bytes(content)
    assert_one_line_error(seqlab("inspect", str(path)), *fragments)


def test_utf16_file_is_read(tmp_path):
    path = tmp_path / "notepad.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + "Ça va très bien.\n".encode("utf-16-le"))
    result = seqlab("inspect", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["characters"] == 17


def test_unknown_corpus_and_missing_download():
    assert_one_line_error(seqlab("inspect", "shakespear"), "neither a built-in corpus")
    assert_one_line_error(seqlab("inspect", "/no/such/file.txt"), "No file or folder")


def test_every_command_prints_its_help():
    """argparse formats help lazily: a stray '%' in a flag's text only fails when someone asks for --help."""
    from seqlab.cli.main import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    for name, parser in commands.items():
        assert parser.format_help(), name
        for sub in getattr(parser, "_subparsers", None) and parser._subparsers._group_actions[0].choices.values() or []:
            assert sub.format_help()


def test_a_reader_that_leaves_the_pipe_early_gets_no_error_message(tmp_path):
    """`seqlab … | head` closes the pipe before seqlab has written everything: no 'internal error' on stderr."""
    import subprocess
    import sys

    code = ("import sys\nfrom seqlab.cli import main as cli\n"
            "def flood(args):\n    for _ in range(100_000):\n        print('x' * 100)\n"
            "cli.command_corpora = flood\nsys.exit(cli.main(['corpora']))\n")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.close()  # like `head -1`
    error = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert error == "", error
