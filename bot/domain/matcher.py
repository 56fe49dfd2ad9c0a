"""Finds the fact a question asks about, or says honestly that there is none.

Plain fuzzy matching fails on this subject because a trap ("How many tanks did Belarus sell to
Iran?") shares almost every word with a real fact. So the matcher scores in three steps:

1. Coverage: how much of the question's content (weighted by rarity) the fact's phrasings,
   keywords, aliases and answers account for. Unknown words count against a fact, which is
   what turns away off-topic questions.
2. Similarity: token-sorted fuzzy ratio against the fact's best phrasing, which separates a
   specific fact from a broader one sharing the same words.
3. Entities: a question naming a country, place, person or organisation that the fact does not
   mention cannot get that fact at all.

The best fact is answered only when it clears a threshold and a margin over the runner-up;
otherwise close candidates become a "did you mean", and anything weaker is declined.

The index is compact (term ids in arrays) so 100,000 facts fit in memory, and it is updated in
place when an admin adds, edits or retires a fact.
"""

from __future__ import annotations

import gc
import heapq
import math
import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from typing import Literal

from rapidfuzz import fuzz, process

from bot.domain.lexicon import Lexicon
from bot.domain.models import Fact
from bot.domain.normalize import language_of

Outcome = Literal["answered", "suggested", "declined"]

YEAR = re.compile(r"^(19|20)\d\d$")
UNIVERSAL = frozenset({"belarus", "minsk", "lukashenka"})
MAX_QUESTION_TERMS = 48
# Longer questions are read this far: enough for any real question, bounded work for the rest.
QUESTION_LIMIT = 4096
ANSWER_WEIGHT = 0.4
UNKNOWN_WEIGHT = 1.25
OVERVIEW_PENALTY = 0.9
INTENT_BONUS = 0.05
PREFIX = 5
PASSING_MENTION = 0.9
PREFIX_SURE = 0.8


@dataclass(frozen=True)
class Thresholds:
    """Where an answer, a "did you mean" and a decline part (tuned on the dev set and on
    tests/domain/questions.yaml together, so neither alone decides)."""

    answer: float = 0.50
    suggest: float = 0.42
    margin: float = 0.02
    coverage_weight: float = 0.8
    # Share of the question's non-name words (weighted) a fact must account for: a trap keeps
    # the names of a real fact but asks something else about them.
    predicate: float = 0.45
    # A fact that accounts for this much of the question needs no margin: a close runner-up
    # is then another fact on the same subject, not a sign the question is about something else.
    full_coverage: float = 0.9
    rivals: int = 2


@dataclass(frozen=True)
class Candidate:
    fact_id: str
    score: float
    coverage: float = 0.0
    # False when the fact misses too much of what the question asks (see Thresholds.predicate).
    complete: bool = True


@dataclass(frozen=True)
class Match:
    """The matcher's verdict on one question."""

    question: str
    lang: str
    outcome: Outcome
    fact_id: str | None
    score: float
    suggestions: tuple[Candidate, ...] = ()
    reason: str = ""


@dataclass(slots=True)
class _Entry:
    fact_id: str
    strong: array  # sorted term ids from phrasings, keywords, aliases (weight 1)
    weak: array  # sorted term ids found only in the answers (weight ANSWER_WEIGHT)
    phrasings: str  # "\n"-joined word keys of each phrasing as written, with intent markers
    overview: bool
    intents: frozenset[str]  # question words of its phrasings: "?why", "?when", ...


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Indexing makes a few long-lived containers per fact and no reference cycles: left on,
    the cyclic garbage collector walks the whole growing index several times over while it is
    built, a tenth of the time at 100,000 facts, and frees nothing."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Matcher:
    """An in-memory index over the live facts."""

    def __init__(
        self,
        facts: Iterable[Fact] = (),
        lexicon: Lexicon | None = None,
        thresholds: Thresholds | None = None,
        common_postings: int = 2000,
    ) -> None:
        self.lexicon = lexicon or Lexicon()
        self.thresholds = thresholds or Thresholds()
        self._common = common_postings
        self._term_ids: dict[str, int] = {}
        self._terms: list[str] = []
        # Strong occurrences count 1, answer-only ANSWER_WEIGHT. A list, not an array: indexing
        # updates it for every term of every fact, and a list does that twice as fast.
        self._df: list[float] = []
        self._postings: list[array] = []  # slots where the term is strong
        self._weak_postings: list[array] = []  # slots where it is only in the answers
        self._entries: list[_Entry | None] = []
        self._slot: dict[str, int] = {}
        self._recency: dict[str, int] = {}  # fact date as an ordinal, to order equal scores
        self._fuzzy_buckets: dict[tuple[str, int], list[str]] = {}
        self._prefix_buckets: dict[str, list[str]] = {}
        self._fuzzy_target: dict[str, str] = {}
        for word, concept in self.lexicon.surface_terms():
            self._add_fuzzy(word, concept)
        with _collector_paused():
            for fact in facts:
                self.upsert(fact)

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, fact_id: object) -> bool:
        return fact_id in self._slot

    # -- index maintenance -------------------------------------------------------------

    def _term_id(self, term: str) -> int:
        tid = self._term_ids.get(term)
        if tid is None:
            tid = len(self._terms)
            self._term_ids[term] = tid
            self._terms.append(term)
            self._df.append(0.0)
            self._postings.append(array("i"))
            self._weak_postings.append(array("i"))
            self._add_fuzzy(term, term)
        return tid

    def _add_fuzzy(self, word: str, target: str) -> None:
        if len(word) < 4 or word.isdigit() or word in self._fuzzy_target:
            return
        self._fuzzy_target[word] = target
        self._fuzzy_buckets.setdefault((word[0], len(word)), []).append(word)
        if len(word) >= PREFIX:
            self._prefix_buckets.setdefault(word[:PREFIX], []).append(word)

    def _fact_terms(self, fact: Fact) -> tuple[set[str], set[str], list[str], set[str]]:
        """(strong terms, answer-only terms, phrasings, intents) of a fact."""
        lexicon = self.lexicon
        phrasings, strong, intents = lexicon.phrasings(list(chain(*fact.questions.values())))
        strong |= lexicon.keyword_terms(chain(fact.keywords, fact.aliases))
        weak = lexicon.content_terms(list(fact.answer.values()))
        weak.add(fact.country)
        weak |= lexicon.countries_of(strong | weak)
        weak -= strong
        return strong, weak, phrasings, intents

    def _ids(self, terms: set[str]) -> array:
        """Sorted ids of the terms: most are known already, and looking them up in one pass is
        much cheaper than a call per term."""
        try:
            return array("i", sorted(map(self._term_ids.__getitem__, terms)))
        except KeyError:
            for term in terms.difference(self._term_ids):
                self._term_id(term)
            return self._ids(terms)

    def upsert(self, fact: Fact) -> None:
        """Index a new or changed fact; a retired fact is removed instead."""
        self.remove(fact.id)
        if fact.retired:
            return
        strong, weak, phrasings, intents = self._fact_terms(fact)
        slot = len(self._entries)
        entry = _Entry(
            fact_id=fact.id,
            strong=self._ids(strong),
            weak=self._ids(weak),
            phrasings="\n".join(phrasings),
            overview=fact.topic == "overview",
            intents=frozenset(intents),
        )
        df = self._df
        for tids, weight, postings in (
            (entry.strong, 1.0, self._postings),
            (entry.weak, ANSWER_WEIGHT, self._weak_postings),
        ):
            for tid in tids:
                df[tid] += weight
                postings[tid].append(slot)
        self._entries.append(entry)
        self._slot[fact.id] = slot
        self._recency[fact.id] = fact.starts.toordinal()

    def remove(self, fact_id: str) -> None:
        slot = self._slot.pop(fact_id, None)
        if slot is None:
            return
        del self._recency[fact_id]
        entry = self._entries[slot]
        assert entry is not None
        for tids, weight, postings in (
            (entry.strong, 1.0, self._postings),
            (entry.weak, ANSWER_WEIGHT, self._weak_postings),
        ):
            for tid in tids:
                self._df[tid] -= weight
                postings[tid].remove(slot)
        self._entries[slot] = None

    # -- matching ------------------------------------------------------------------------

    def _idf(self, tid: int | None) -> float:
        n = max(len(self._slot), 1)
        df = self._df[tid] if tid is not None else 0.0
        return math.log(1 + n / (df if df > 0.5 else 0.5))

    def _resolve(self, term: str) -> tuple[int | None, float]:
        """The indexed term a question term stands for, tolerating typos, and how sure that is."""
        tid = self._term_ids.get(term)
        if tid is not None and self._df[tid] > 1e-9:
            return tid, 1.0
        if len(term) < 4 or term.isdigit():
            return None, 0.0
        choices: list[str] = []
        for size in (len(term) - 1, len(term), len(term) + 1):
            choices += self._fuzzy_buckets.get((term[0], size), [])
        found = process.extractOne(term, choices, scorer=fuzz.ratio, score_cutoff=86)
        best: tuple[str, float] | None = (found[0], found[1]) if found else None
        if best is None:
            # Inflection: "наторговали" and "торговля" share no ending but a long stem.
            stems = self._prefix_buckets.get(term[:PREFIX], [])
            if not stems:
                return None, 0.0
            word = min(stems, key=lambda w: abs(len(w) - len(term)))
            best = (word, 100 * PREFIX_SURE)
        target = self._fuzzy_target[best[0]]
        tid = self._term_ids.get(target)
        if tid is None or self._df[tid] < 1e-9:
            return None, 0.0
        return tid, best[1] / 100

    @staticmethod
    def _has(entry: _Entry, tid: int) -> float:
        for terms, weight in ((entry.strong, 1.0), (entry.weak, ANSWER_WEIGHT)):
            i = bisect_left(terms, tid)
            if i < len(terms) and terms[i] == tid:
                return weight
        return 0.0

    def _entity_fit(self, entry: _Entry, required: list[tuple[int, bool]]) -> float:
        """0 when the fact misses a name or year the question asks about; less than 1 when it
        only mentions a name in passing (in its answer) rather than being about it."""
        fit = 1.0
        for tid, is_name in required:
            held = self._has(entry, tid)
            if held == 0:
                return 0.0
            if held < 1 and is_name:
                fit *= PASSING_MENTION
        return fit

    def rank(self, question: str, limit: int = 10) -> tuple[str, list[Candidate]]:
        """The question's language and its best facts, entity-compatible, best first."""
        lang = language_of(question)
        analysis = self.lexicon.analyse(question[:QUESTION_LIMIT])
        terms = list(dict.fromkeys(analysis.terms))[:MAX_QUESTION_TERMS]
        if not terms or not self._slot:
            return lang, []
        required = self._required_entities(terms)
        if required is None:
            return lang, []
        weights: list[tuple[int | None, float, bool]] = []
        for term in terms:
            tid, sure = self._resolve(term)
            weight = self._idf(tid) * sure if tid is not None else self._idf(None) * UNKNOWN_WEIGHT
            weights.append((tid, weight, self.lexicon.entity(term) is None))
        total = sum(w for _, w, _ in weights)
        predicate_total = sum(w for _, w, p in weights if p)
        scores: dict[int, float] = {}
        predicates: dict[int, float] = {}
        deferred: list[tuple[int, float, bool]] = []
        for tid, weight, is_predicate in weights:
            if tid is None:
                continue
            strong, weak = self._postings[tid], self._weak_postings[tid]
            if len(strong) + len(weak) > self._common:
                deferred.append((tid, weight, is_predicate))
                continue
            for postings, gained in ((strong, weight), (weak, weight * ANSWER_WEIGHT)):
                for slot in postings:
                    scores[slot] = scores.get(slot, 0.0) + gained
                    if is_predicate:
                        predicates[slot] = predicates.get(slot, 0.0) + gained
        if not scores and deferred:
            rarest = min(deferred, key=lambda d: self._df[d[0]])
            scores = dict.fromkeys(self._postings[rarest[0]][: self._common * 2], 0.0)
        pool = heapq.nlargest(max(limit * 4, 40), scores.items(), key=lambda kv: kv[1])
        intents = analysis.intents
        query = analysis.phrasing
        t = self.thresholds
        cw = t.coverage_weight
        # Coverage is cheap and similarity is not: bound each score from above with the best
        # possible similarity, and stop once no remaining fact can reach the top `limit`.
        bounded: list[tuple[float, _Entry, float, float, float, bool]] = []
        for slot, partial in pool:
            entry = self._entries[slot]
            assert entry is not None
            fit = self._entity_fit(entry, required)
            if not fit:
                continue
            late = [(w * self._has(entry, tid), p) for tid, w, p in deferred]
            coverage = (partial + sum(g for g, _ in late)) / total if total else 0.0
            predicate = predicates.get(slot, 0.0) + sum(g for g, p in late if p)
            factor = fit
            if entry.overview and "?why" not in intents:
                factor *= OVERVIEW_PENALTY
            bonus = INTENT_BONUS if entry.intents.intersection(intents) else 0.0
            # A broad "why" is what overview facts are for, however it is worded; a fact that
            # names what the question is about only in passing cannot answer it.
            complete = fit == 1.0 and (
                not predicate_total
                or predicate / predicate_total >= t.predicate
                or (entry.overview and "?why" in intents)
            )
            upper = factor * (cw * coverage + (1 - cw)) + bonus
            bounded.append((upper, entry, coverage, factor, bonus, complete))
        bounded.sort(key=lambda b: b[0], reverse=True)
        ranked: list[Candidate] = []
        best: list[float] = []  # the top `limit` exact scores so far, a min-heap
        for upper, entry, coverage, factor, bonus, complete in bounded:
            if len(best) >= limit and upper < best[0]:
                break
            similarity = (
                max(fuzz.token_sort_ratio(query, p) for p in entry.phrasings.split("\n")) / 100
            )
            score = factor * (cw * coverage + (1 - cw) * similarity) + bonus
            heapq.heappush(best, score)
            if len(best) > limit:
                heapq.heappop(best)
            ranked.append(Candidate(entry.fact_id, round(score, 4), round(coverage, 4), complete))
        # Equal scores: the more recent fact first, then a stable order by id.
        ranked.sort(key=lambda c: (-c.score, -self._recency[c.fact_id], c.fact_id))
        return lang, ranked[:limit]

    def _required_entities(self, terms: list[str]) -> list[tuple[int, bool]] | None:
        """(term id, is a name) a fact must hold, for each entity or year the question names.

        None when the question names something no live fact mentions at all: nothing can
        answer it.
        """
        required: list[tuple[int, bool]] = []
        for term in terms:
            entity = self.lexicon.entity(term)
            # A year is as specific as a name: a fact on 2010 does not answer about 2018.
            if (entity is None and not YEAR.match(term)) or term in UNIVERSAL:
                continue
            tid = self._term_ids.get(term)
            if tid is None or self._df[tid] < 1e-9:
                return None
            required.append((tid, entity is not None))
        return required

    def match(self, question: str) -> Match:
        """Answer, suggest or decline, by the thresholds."""
        lang, ranked = self.rank(question, limit=4)
        t = self.thresholds
        if not ranked or ranked[0].score < t.suggest:
            return Match(
                question,
                lang,
                "declined",
                None,
                ranked[0].score if ranked else 0.0,
                reason="no fact covers this question",
            )
        best = ranked[0]
        rivals = [c for c in ranked[1:] if best.score - c.score < t.margin]
        # One close rival that also covers the question is a second fact on the same subject;
        # several mean the question is too broad to pick one ("Lukashenka").
        clear = not rivals or (best.coverage >= t.full_coverage and len(rivals) <= t.rivals)
        if best.score >= t.answer and best.complete and clear:
            return Match(question, lang, "answered", best.fact_id, best.score)
        suggestions = tuple(c for c in ranked[:3] if c.score >= t.suggest)
        return Match(
            question,
            lang,
            "suggested",
            None,
            best.score,
            suggestions,
            reason="several facts come close",
        )
