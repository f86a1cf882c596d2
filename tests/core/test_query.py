"""The run query language (core/query.py) and run filters (core/run_filter.py): the parser on
any text (Hypothesis: it never fails but with a QueryError, and its printer reads back), the
regex-or-query rule, the compiled predicate against the tree, and queries over a logdir written
by real writers (tuiboard.init with tags, notes and nested configs; tensorboardX with a NaN loss,
a config.yaml and add_hparams; our EventWriter). What each query keeps is worked out from what
the writers were given (tests/query_runs.py), not from a run of ours."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuiboard
from tests.query_runs import SDK_RUNS, query_runs_dir
from tuiboard.core.logdir import Logdir
from tuiboard.core.query import (
    FIELDS,
    And,
    Compare,
    Field,
    Node,
    Not,
    Or,
    QueryError,
    Word,
    is_query,
    parse,
)
from tuiboard.core.run_filter import InfoCache, RunInfo, compile_filter, matches, predicate
from tuiboard.headless.health import SEVERITY, assess, run_facts

# --- the parser on any text ------------------------------------------------------------------

QUERYISH = st.text(alphabet=st.sampled_from(list("ab :.-()|\"'\\=<>!*ORNTDcfgtas_1e-3 \t")))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), QUERYISH))
def test_parse_never_fails_but_with_a_query_error(text: str) -> None:
    try:
        tree = parse(text, statuses=SEVERITY)
    except QueryError as e:
        assert 0 <= e.position <= len(text)
        return
    # Whatever parses prints to text that parses back to the same tree.
    assert parse(str(tree), statuses=SEVERITY) == tree


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), QUERYISH))
def test_compile_filter_never_fails_but_with_a_query_error(text: str) -> None:
    try:
        f = compile_filter(text)
    except QueryError:
        assert text.strip()
        return
    assert (f.query is not None) == (bool(text.strip()) and is_query(text))
    assert compile_filter(text, lenient_regex=True).text == text


_values = st.text(min_size=0, max_size=8)
_keys = st.from_regex(r"[a-z_][a-z0-9_]{0,5}(\.[a-z0-9_]{1,4}){0,2}", fullmatch=True)
_leaves: st.SearchStrategy[Node] = st.one_of(
    st.builds(Word, _values),
    st.builds(Field, st.sampled_from(FIELDS), _values),
    st.builds(Compare, _keys, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), _values),
)


def _combined(kids: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    """NOT, AND and OR over trees: the recursive step of every tree strategy here."""
    return st.one_of(
        st.builds(Not, kids),
        st.builds(And, st.lists(kids, min_size=2, max_size=3).map(tuple)),
        st.builds(Or, st.lists(kids, min_size=2, max_size=3).map(tuple)),
    )


_trees: st.SearchStrategy[Node] = st.recursive(_leaves, _combined, max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(_trees)
def test_printed_tree_parses_back(tree: Node) -> None:
    assert parse(str(tree)) == tree


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("lr", Word("lr")),
        ("a b", And((Word("a"), Word("b")))),
        ("a AND b", And((Word("a"), Word("b")))),
        ("a OR b c", Or((Word("a"), And((Word("b"), Word("c")))))),
        ("a | b", Or((Word("a"), Word("b")))),
        ("a|b", Or((Word("a"), Word("b")))),
        ("-a", Not(Word("a"))),
        ("NOT a", Not(Word("a"))),
        ("lr-0.1", Word("lr-0.1")),
        ("-(a OR b)", Not(Or((Word("a"), Word("b"))))),
        ('"two words"', Word("two words")),
        ("'it\\'s'", Word("it's")),
        ("tag:baseline", Field("tag", "baseline")),
        ('tag:"wide net"', Field("tag", "wide net")),
        ("TAG:x", Field("tag", "x")),
        ("has:val/acc", Field("has", "val/acc")),
        ("status:diverged", Field("status", "diverged")),
        ("cfg.lr>=1e-3", Compare("lr", ">=", "1e-3")),
        ("cfg.model.depth!=4", Compare("model.depth", "!=", "4")),
        ("cfg.optimizer==adam", Compare("optimizer", "=", "adam")),
        ('cfg.name="my run"', Compare("name", "=", "my run")),
        ("or", Word("or")),
    ],
)
def test_parse(text: str, tree: Node) -> None:
    assert parse(text, statuses=SEVERITY) == tree


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "empty query", 0),
        ("a OR", "nothing after OR", 2),
        ("(a", "unclosed (", 0),
        ("a)", "unmatched )", 1),
        ("()", "empty ( )", 0),
        ('"abc', "unterminated quote", 0),
        ("cfg.lr", "cfg.lr needs a comparison", 0),
        ("x cfg.=3", "cfg. needs a key", 2),
        ("cfg.lr!3", "bad operator after cfg.lr", 6),
        ("tag:", "tag: needs a value", 0),
        ("colour:red", "unknown field colour:", 0),
        ("status:dead", "unknown status 'dead'", 7),
        ("a AND", "nothing after AND", 2),
        ("(" * 70 + "a" + ")" * 70, "nested too deep", 64),
        ("-" * 70 + "a", "nested too deep", 64),
    ],
)
def test_errors_say_what_and_where(text: str, message: str, position: int) -> None:
    with pytest.raises(QueryError) as info:
        parse(text, statuses=SEVERITY)
    assert message in info.value.message
    assert info.value.position == position
    assert f"(at {position + 1})" in str(info.value)


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("baseline", False),
        ("^base", False),
        ("lr_0\\.1", False),
        ("a|b", False),
        ("lr-0.1", False),
        ("(?i:Base)", False),
        ("re:tag:x", False),
        ("tag:x", True),
        ("cfg.lr>1", True),
        ("a OR b", True),
        ("NOT a", True),
        ("-a", True),
        ("a b", True),
        ('"a"', True),
        ("status:live", True),
    ],
)
def test_regex_or_query(text: str, query: bool) -> None:
    assert is_query(text) is query


@pytest.mark.parametrize("text", ["(" * 5000 + ")" * 5000, "a{99999999999}"])
def test_regexes_python_refuses_by_raising_are_query_errors(text: str) -> None:
    with pytest.raises(QueryError):
        compile_filter(text)
    literal = compile_filter(text, lenient_regex=True).regex
    assert literal is not None and literal.search(text)


def test_bad_regex_is_an_error_or_literal() -> None:
    with pytest.raises(QueryError) as info:
        compile_filter("re:a(")
    assert "bad regex" in info.value.message and info.value.position == 4  # the (
    f = compile_filter("a(", lenient_regex=True)
    assert f.regex is not None and f.regex.pattern == "a\\("


# --- queries over real runs --------------------------------------------------------------------


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Logdir:
    root = query_runs_dir(tmp_path_factory, "query")
    return tuiboard.open(str(root))


def statuses(run: tuiboard.core.logdir.Run) -> tuple[str, ...]:
    return assess(run_facts(run), time.time()).statuses


def kept(logdir: Logdir, text: str, **kw: object) -> set[str]:
    f = compile_filter(text, statuses=SEVERITY, statuses_of=statuses, **kw)  # type: ignore[arg-type]
    return {r.name for r in f.select(logdir.runs)}


ALL = {"plain_run", "tbx/hp", "tbx/hp/session", "tbx/nan"} | {f"sdk/{n}" for n in SDK_RUNS}


def sdk(*names: str) -> set[str]:
    return {f"sdk/{n}" for n in names}


def with_config(pred: object) -> set[str]:
    """The sdk runs whose config (as given to tuiboard.init) satisfies pred."""
    return {f"sdk/{n}" for n, spec in SDK_RUNS.items() if pred(spec["config"])}  # type: ignore[operator]


def test_the_logdir(logdir: Logdir) -> None:
    assert {r.name for r in logdir.runs} == ALL


def test_bare_words_search_name_display_name_tags_and_notes(logdir: Logdir) -> None:
    # "baseline": two runs' tags and the third's notes; no run name holds it
    assert kept(logdir, "baseline x") == set()
    assert kept(logdir, '"baseline"') == sdk("base-adam", "base-sgd", "wide")
    assert kept(logdir, "BASE momentum") == sdk("base-sgd")  # a name and a note, any case
    assert kept(logdir, '"wide net"') == sdk("wide")  # a tag with a space, quoted
    assert kept(logdir, "tbx -hp") == {"tbx/nan"}
    # a single word with no query mark is today's regex on the run name: notes do not count
    assert kept(logdir, "momentum") == set()
    assert kept(logdir, "^sdk/base") == sdk("base-adam", "base-sgd")


def test_tags(logdir: Logdir) -> None:
    baseline = {f"sdk/{n}" for n, s in SDK_RUNS.items() if "baseline" in s["tags"]}
    assert kept(logdir, "tag:baseline") == baseline
    assert kept(logdir, "tag:BASELINE") == baseline
    assert kept(logdir, "tag:base") == set()  # a tag is matched whole ...
    assert kept(logdir, "tag:base*") == baseline  # ... or by a glob
    assert kept(logdir, "tag:baseline -tag:adam") == baseline - sdk("base-adam")
    assert kept(logdir, 'tag:"wide net" | tag:adam') == sdk("wide", "base-adam")


def test_config_comparisons(logdir: Logdir) -> None:
    # tbx/nan's config.yaml says lr 0.5; the hparams session 0.003
    assert kept(logdir, "cfg.lr>=1e-3") == with_config(lambda c: c["lr"] >= 1e-3) | {
        "tbx/nan",
        "tbx/hp/session",
    }
    assert kept(logdir, "cfg.lr<0.005") == with_config(lambda c: c["lr"] < 0.005) | {
        "tbx/hp/session"
    }
    assert kept(logdir, "cfg.lr=1e-2") == with_config(lambda c: c["lr"] == 0.01)
    assert kept(logdir, "cfg.optimizer=adam") == with_config(
        lambda c: c["optimizer"].lower() == "adam"
    ) | {"tbx/nan"}
    assert kept(logdir, "cfg.optimizer=sgd") == sdk("base-sgd")  # text ignores case
    assert kept(logdir, "cfg.optimizer!=adam") == {"sdk/base-sgd", "tbx/hp/session"}
    assert kept(logdir, "cfg.model.depth>2") == with_config(lambda c: c["model"]["depth"] > 2)
    assert kept(logdir, "cfg.model/width>=1024") == sdk("wide")
    # a run without the key never matches; its negation keeps it
    assert kept(logdir, "cfg.model.width<1") == set()
    assert kept(logdir, "-cfg.model.width>=1") == ALL - sdk("wide")


def test_has_and_status(logdir: Logdir) -> None:
    assert kept(logdir, "has:val/acc") == sdk(*SDK_RUNS)
    assert kept(logdir, "has:acc") == {"plain_run"}
    assert kept(logdir, "has:*loss") == sdk(*SDK_RUNS) | {"tbx/nan", "tbx/hp"}
    assert kept(logdir, "has:_hparams_/*") == {"tbx/hp/session"}
    assert kept(logdir, "status:diverged") == {"tbx/nan"}
    assert sdk(*SDK_RUNS) <= kept(logdir, "status:finished")
    assert kept(logdir, "has:loss -status:diverged") == sdk(*SDK_RUNS)


def test_parentheses_and_precedence(logdir: Logdir) -> None:
    a = kept(logdir, "tag:adam OR cfg.lr>0.05 tbx")
    b = kept(logdir, "tag:adam OR (cfg.lr>0.05 tbx)")
    assert a == b == sdk("base-adam") | {"tbx/nan"}
    assert kept(logdir, "(tag:adam OR cfg.lr>0.05) sdk") == sdk("base-adam", "wide")


def test_statuses_are_read_only_when_asked(logdir: Logdir) -> None:
    asked: list[str] = []

    def counting(run: tuiboard.core.logdir.Run) -> tuple[str, ...]:
        asked.append(run.name)
        return statuses(run)

    f = compile_filter("tag:baseline OR has:acc", statuses_of=counting)
    assert {r.name for r in f.select(logdir.runs)} == sdk("base-adam", "base-sgd") | {"plain_run"}
    assert asked == [] and not f.uses_status
    g = compile_filter("sdk status:finished", statuses_of=counting, statuses=SEVERITY)
    assert g.uses_status
    g.select(logdir.runs)
    assert set(asked) <= {r.name for r in logdir.runs}


_vocab = st.sampled_from(["base", "baseline", "adam", "sgd", "0.01", "*loss", "val/acc", "x", ""])
_run_leaves: st.SearchStrategy[Node] = st.one_of(
    st.builds(Word, _vocab),
    st.builds(Field, st.sampled_from(FIELDS), _vocab),
    st.builds(
        Compare,
        st.sampled_from(["lr", "optimizer", "model.depth", "model/width"]),
        st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
        st.sampled_from(["0.01", "1e-3", "adam", "SGD", "4", "nan"]),
    ),
)
_run_trees: st.SearchStrategy[Node] = st.recursive(_run_leaves, _combined, max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(tree=_run_trees)
def test_the_compiled_predicate_agrees_with_the_tree(logdir: Logdir, tree: Node) -> None:
    test = predicate(tree)
    cache = InfoCache(statuses)
    for run in logdir.runs:
        info = RunInfo(run, statuses)
        assert test(info) == matches(tree, info) == test(cache.info(run))
