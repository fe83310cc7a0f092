"""Property tests for the compositional families: a meeting arrangement (an intent plus a place
or a time) and a self-harm plan (an intent plus a time, a method or a farewell), generated from
parts in several languages and disguised, and a generated benign corpus where neither is found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguard.signals.indicators import Family, SignalResult, analyze
from safeguard.signals.languages import families_for
from safeguard.signals.temporal import find_times, supported_time_languages

SENT_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Parts:
    """The parts a language offers for generating meetings, plans and benign text."""

    meeting_intents: tuple[str, ...]
    places: tuple[str, ...]
    times: tuple[str, ...]
    exclusivity: tuple[str, ...]
    first_person_intents: tuple[str, ...]
    reported_intents: tuple[str, ...]
    methods: tuple[str, ...]
    farewells: tuple[str, ...]
    # Benign sentences that must not make a meeting or a plan whatever they are combined with.
    benign: tuple[str, ...]
    # Benign on its own: a meeting intent with neither a place nor a time.
    bare_intents: tuple[str, ...]
    # Chinese is written without spaces, and its characters are not disguised like letters.
    joiner: str = "  "
    latin: bool = True


PARTS: dict[str, Parts] = {
    "en": Parts(
        meeting_intents=(
            "let's meet",
            "meet me",
            "can we meet up",
            "i'll pick you up",
            "i can come get you",
            "wanna hang out",
            "do you want to come over",
            "can i see you",
            "let's link up",
            "come see me",
        ),
        places=(
            "at the station",
            "at the bus stop",
            "in my car",
            "at my place",
            "outside your school",
            "at the mall",
            "behind the shop",
            "in the park",
            "at the school gate",
            "at the cinema",
        ),
        times=(
            "tonight",
            "tomorrow",
            "at 7pm",
            "this evening",
            "in an hour",
            "after school",
            "2nite",
            "friday at 6",
            "at midnight",
            "on saturday",
        ),
        exclusivity=(
            "come alone",
            "don't bring anyone",
            "just the two of us",
            "just us",
            "leave your friends at home",
            "keep it between us",
        ),
        first_person_intents=(
            "i want to kill myself",
            "i'm going to end it all",
            "i want to die",
            "i don't want to live anymore",
            "i'm going to hurt myself",
        ),
        reported_intents=(
            "she said she wants to kill herself",
            "my friend told me he is going to end his life",
            "my son says he wants to die",
            "she posted that she will hurt herself",
            "he told us he doesn't want to live anymore",
        ),
        methods=(
            "i have the pills ready",
            "jump off the bridge",
            "there is a rope in the garage",
            "razor blades",
            "painkillers",
        ),
        farewells=(
            "goodbye everyone",
            "this is my last message",
            "tell my mum i'm sorry",
            "giving away my things",
            "she said goodbye",
        ),
        benign=(
            "we need to meet the deadline by friday",
            "the station is closed tonight",
            "my plan for the evening is homework",
            "the bus stop moved to main street",
            "the park is lovely in the morning",
            "i took my allergy pills this morning",
            "the rope swing at the park is broken",
            "goodbye everyone, see you tomorrow",
            "this homework is killing me",
            "i'm dying to see the new movie tomorrow",
            "my phone is about to die",
            "we watched a film at the cinema on saturday",
            "dad parked my car at the mall",
            "i can't take it anymore, this puzzle is hard",
            "the meeting is at 7pm",
        ),
        bare_intents=("let's meet up sometime", "can we hang out", "i'd love to see you"),
    ),
    "es": Parts(
        meeting_intents=(
            "quieres vernos",
            "vamos a vernos",
            "te recojo",
            "paso por ti",
            "quiero verte",
            "kieres quedar",
        ),
        places=(
            "en la estación",
            "en el parque",
            "en mi casa",
            "en mi carro",
            "en el centro comercial",
            "a la salida del colegio",
        ),
        times=("esta noche", "mañana", "a las 7", "el viernes", "en una hora"),
        exclusivity=("ven sola", "no traigas a nadie", "solo tú y yo"),
        first_person_intents=("me quiero matar", "quiero morirme", "ya no quiero vivir"),
        reported_intents=(
            "mi hija dijo que se quiere matar",
            "me dijo q quiere quitarse la vida",
            "publicó que se va a cortar",
        ),
        methods=("tengo las pastillas", "tirarme del puente", "una cuerda"),
        farewells=("adiós a todos", "este es mi último mensaje", "está regalando sus cosas"),
        benign=(
            "la estación está cerrada esta noche",
            "mi plan para la tarde es hacer la tarea",
            "el parque está bonito mañana",
            "tomé las pastillas para la alergia",
            "adiós a todos, nos vemos en clase",
        ),
        bare_intents=("quieres vernos algún día",),
    ),
    "pt": Parts(
        meeting_intents=("vamos se encontrar", "vc quer me ver", "eu te busco", "quero te ver"),
        places=("na estação", "no shopping", "na minha casa", "no meu carro", "no parque"),
        times=("hoje à noite", "amanhã", "às 7", "na sexta", "daqui a uma hora"),
        exclusivity=("vem sozinha", "não traz ninguém", "só nós dois"),
        first_person_intents=("eu quero me matar", "vou acabar com tudo", "não quero mais viver"),
        reported_intents=(
            "minha filha disse que quer se matar",
            "ele falou q vai se cortar",
            "ela postou que quer morrer",
        ),
        methods=("tenho os remédios", "pular da ponte", "uma corda"),
        farewells=("adeus a todos", "essa é minha última mensagem", "dando minhas coisas"),
        benign=(
            "a estação fecha hoje à noite",
            "meu plano pra noite é fazer o dever",
            "tomei o remédio da alergia amanhã cedo",
            "adeus a todos, até amanhã na escola",
        ),
        bare_intents=("vamos se encontrar um dia",),
    ),
    "id": Parts(
        meeting_intents=("ketemuan yuk", "kopdar yuk", "gw jemput lo", "aku mau ketemu kamu"),
        places=("di stasiun", "di mall", "di rumah gw", "di taman", "di depan sekolah"),
        times=("nanti malam", "besok", "jam 7", "hari jumat", "sejam lagi"),
        exclusivity=("dateng sendirian", "jangan ajak siapa siapa", "berdua aja"),
        first_person_intents=("aku mau bunuh diri", "gue pengen mati", "aku udah gak mau hidup"),
        reported_intents=(
            "anak saya bilang mau bunuh diri",
            "temen aku cerita pengen mengakhiri hidup",
            "dia ngancam bunuh diri",
        ),
        methods=("udah siapin obat", "lompat dari jembatan", "pakai tali"),
        farewells=("selamat tinggal semua", "ini pesan terakhir aku", "besok aku udah gak ada"),
        benign=(
            "stasiun tutup nanti malam",
            "rencana aku malam ini ngerjain pr",
            "aku minum obat alergi besok pagi",
            "selamat tinggal semua, sampai jumpa besok di sekolah",
        ),
        bare_intents=("ketemuan yuk kapan kapan",),
    ),
    "zh": Parts(
        meeting_intents=("我们见面吧", "我去接你", "出来玩", "我想见你"),
        places=("在车站", "在公园", "在我家", "在商场", "在学校门口"),
        times=("今晚", "明天", "八点", "周五", "一小时后"),
        exclusivity=("一个人来", "别带别人", "就我们俩"),
        first_person_intents=("我想死", "我想自杀", "我不想活了"),
        reported_intents=("我女儿说她想自杀", "他告诉我他想死", "孩子说不想活了"),
        methods=("我买了安眠药", "我要跳楼", "准备了绳子"),
        farewells=("再见了大家", "这是我的最后一条消息", "她把她的东西送人了"),
        benign=("车站今晚关门", "我今晚的计划是写作业", "明天在公园跑步", "我吃了感冒药"),
        bare_intents=("有空见面",),
        joiner="\uff0c",  # A fullwidth comma, as Chinese chat writes it.
        latin=False,
    ),
}
LANGUAGES = sorted(PARTS)

LEET = {"a": "4@", "e": "3", "o": "0", "s": "5$", "t": "7", "i": "1", "l": "1", "g": "9"}
SEPARATORS = [".", "-", "*", " "]


@st.composite
def disguised_word(draw: st.DrawFn, word: str) -> tuple[str, bool]:
    """The word in mixed case, with doubled letters, leetspeak or spaced-out letters; the flag
    says it is spaced out with single spaces, so two spaces must separate it from its neighbours.
    """
    if not word.isascii() or not word.isalpha() or len(word) == 1:
        return word, False
    glyphs: list[str] = []
    for char in word:
        how = draw(st.sampled_from(["plain", "upper", "leet", "double"]))
        if how == "leet" and char in LEET:
            glyphs.append(draw(st.sampled_from(LEET[char])))
        elif how == "upper":
            glyphs.append(char.upper())
        elif how == "double":
            glyphs.append(char * draw(st.sampled_from([2, 3, 6])))
        else:
            glyphs.append(char)
    # A word written entirely in digits reads as a number, so keep one letter.
    if not any(glyph.isalpha() for glyph in glyphs):
        glyphs[0] = word[0]
    if len(word) >= 3 and draw(st.integers(0, 4)) == 0:
        separator = draw(st.sampled_from(SEPARATORS))
        return separator.join("".join(glyphs)), separator == " "
    return "".join(glyphs), False


@st.composite
def disguised(draw: st.DrawFn, phrase: str, language: str) -> str:
    if not PARTS[language].latin:
        return phrase
    words = [draw(disguised_word(word)) for word in phrase.split(" ")]
    out, previous_spaced = words[0]
    for text, spaced in words[1:]:
        out += ("  " if previous_spaced or spaced else " ") + text
        previous_spaced = spaced
    return out


@dataclass(frozen=True)
class Built:
    text: str
    # The (start, end) span of each inserted part, keyed by its role.
    spans: dict[str, tuple[int, int]]


def build(language: str, pieces: list[tuple[str, str]]) -> Built:
    """Join (role, text) pieces with the language's separator, remembering each piece's span."""
    joiner = PARTS[language].joiner
    text = ""
    spans: dict[str, tuple[int, int]] = {}
    for role, piece in pieces:
        if text:
            text += joiner
        spans[role] = (len(text), len(text) + len(piece))
        text += piece
    return Built(text=text, spans=spans)


def time_spans(language: str, built: Built) -> list[tuple[int, int]]:
    """The time expressions in the text: found by signals.temporal for the languages it reads,
    else the span of the time words the test inserted."""
    if language in supported_time_languages():
        found = find_times(built.text, sent_at=SENT_AT, zone=UTC, languages=(language,))
        return [(t.start, t.end) for t in found]
    return [built.spans["time"]] if "time" in built.spans else []


def families(language: str) -> tuple[Family, ...]:
    return families_for(language)


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def assert_covered(result: SignalResult, family: str, group: str, span: tuple[int, int]) -> None:
    found = [i.span for i in result.indicators if i.family == family and i.group == group]
    assert any(overlaps(span, other) for other in found), (family, group, span, found)


def analyse(language: str, built: Built) -> SignalResult:
    return analyze(built.text, families(language), time_spans=time_spans(language, built))


# --- Meetings --------------------------------------------------------------------------------


@st.composite
def meeting(draw: st.DrawFn) -> tuple[str, Built]:
    language = draw(st.sampled_from(LANGUAGES))
    parts = PARTS[language]
    with_place, with_time = draw(st.sampled_from([(True, False), (False, True), (True, True)]))
    pieces = [("intent", draw(disguised(draw(st.sampled_from(parts.meeting_intents)), language)))]
    if with_place:
        pieces.append(("place", draw(disguised(draw(st.sampled_from(parts.places)), language))))
    if with_time:
        # Time words are left plain: reading disguised times is signals.temporal's to test.
        pieces.append(("time", draw(st.sampled_from(parts.times))))
    if draw(st.booleans()):
        pieces.append(("exclusivity", draw(st.sampled_from(parts.exclusivity))))
    return language, build(language, pieces)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meeting())
def test_a_meeting_intent_with_a_place_or_a_time_is_a_meeting_arrangement(
    generated: tuple[str, Built],
) -> None:
    language, built = generated
    result = analyse(language, built)
    score = result.score("meeting_arrangement")
    assert score.triggered, (built.text, result.indicators)
    for role, span in built.spans.items():
        assert_covered(result, "meeting_arrangement", role, span)


@pytest.mark.parametrize("language", LANGUAGES)
def test_exclusivity_raises_the_meeting_score(language: str) -> None:
    parts = PARTS[language]
    plain = build(language, [("intent", parts.meeting_intents[0]), ("place", parts.places[0])])
    alone = build(
        language,
        [
            ("intent", parts.meeting_intents[0]),
            ("place", parts.places[0]),
            ("exclusivity", parts.exclusivity[0]),
        ],
    )
    before = analyse(language, plain).score("meeting_arrangement")
    after = analyse(language, alone).score("meeting_arrangement")
    assert before.triggered
    assert after.score > before.score


def test_asking_if_the_child_is_home_alone_tonight_is_a_meeting_arrangement() -> None:
    text = "are you home alone tonight?"
    spans = [(t.start, t.end) for t in find_times(text, sent_at=SENT_AT, zone=UTC)]
    assert spans == [(19, 26)]
    assert analyze(text, time_spans=spans).score("meeting_arrangement").triggered
    # The same question without a time is reported but does not trigger.
    assert not analyze(text).score("meeting_arrangement").triggered


# --- Self-harm plans ---------------------------------------------------------------------------


@st.composite
def plan(draw: st.DrawFn) -> tuple[str, Built]:
    language = draw(st.sampled_from(LANGUAGES))
    parts = PARTS[language]
    intents = draw(st.sampled_from([parts.first_person_intents, parts.reported_intents]))
    pieces = [("intent", draw(disguised(draw(st.sampled_from(intents)), language)))]
    kind = draw(st.sampled_from(["time", "method", "farewell"]))
    if kind == "time":
        pieces.append(("time", draw(st.sampled_from(parts.times))))
    elif kind == "method":
        pieces.append(("method", draw(disguised(draw(st.sampled_from(parts.methods)), language))))
    else:
        farewell = draw(st.sampled_from(parts.farewells))
        pieces.append(("farewell", draw(disguised(farewell, language))))
    if draw(st.booleans()):
        pieces.reverse()
    return language, build(language, pieces)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan())
def test_intent_with_a_time_method_or_farewell_is_a_self_harm_plan(
    generated: tuple[str, Built],
) -> None:
    language, built = generated
    result = analyse(language, built)
    assert result.score("self_harm_plan").triggered, (built.text, result.indicators)
    assert result.score("self_harm_intent").triggered, (built.text, result.indicators)
    for role, span in built.spans.items():
        assert_covered(result, "self_harm_plan", role, span)


@pytest.mark.parametrize("language", LANGUAGES)
def test_intent_alone_is_not_a_plan_and_reported_intent_counts(language: str) -> None:
    parts = PARTS[language]
    for intent in parts.first_person_intents + parts.reported_intents:
        result = analyze(intent, families(language))
        assert result.score("self_harm_intent").triggered, intent
        assert not result.score("self_harm_plan").triggered, intent
        assert result.score("self_harm_plan").groups == ("intent",), intent


# --- The benign corpus -------------------------------------------------------------------------


@st.composite
def benign(draw: st.DrawFn) -> tuple[str, Built]:
    language = draw(st.sampled_from(LANGUAGES))
    parts = PARTS[language]
    if draw(st.integers(0, 4)) == 0:
        # A meeting intent alone: a wish to meet, with no place or time to do it.
        return language, build(language, [("intent", draw(st.sampled_from(parts.bare_intents)))])
    # Times alone, places alone, places with times, methods and farewells without intent.
    pool = parts.benign + parts.times + parts.places + parts.methods + parts.farewells
    chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4))
    return language, build(language, [(f"part{k}", piece) for k, piece in enumerate(chosen)])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(benign())
def test_the_benign_corpus_has_no_meeting_and_no_plan(generated: tuple[str, Built]) -> None:
    language, built = generated
    result = analyse(language, built)
    triggered = set(result.triggered)
    assert not triggered & {"meeting_arrangement", "self_harm_plan"}, (
        built.text,
        [(i.family, i.group, i.text) for i in result.indicators],
    )


@pytest.mark.parametrize(
    "text",
    [
        "we need to meet the deadline tonight",
        "the station is closed tonight",
        "my plan for the evening is homework",
    ],
)
def test_the_examples_from_the_brief_are_benign(text: str) -> None:
    spans = [(t.start, t.end) for t in find_times(text, sent_at=SENT_AT, zone=UTC)]
    result = analyze(text, time_spans=spans)
    assert not {"meeting_arrangement", "self_harm_plan"} & set(result.triggered)


# --- Wider phrasings: the gap kinds a held-out set showed ---------------------------------------
#
# Each language has the same kinds of message: a sextortion threat whose images and audience sit
# in separate clauses, reported and first-person self-harm intent, a named method or a farewell
# with an intent, chat spellings of a meeting, family secrecy, and kin address. The look-alikes
# below them (hyperbole, a stranger naming the child's parent, a secret recipe) must not trigger.

WIDER: list[tuple[str, str, str]] = [
    # (language, text, the family it must trigger)
    (
        "en",
        "i have all your pictures. send $300 or everyone on your follow list sees them",
        "sextortion",
    ),
    ("en", "ill send the vid to your parents unless you pay", "sextortion"),
    ("en", "pay me 200 in bitcoin or i post the nudes", "sextortion"),
    ("en", "my daughter keeps talking about ending her life", "self_harm_intent"),
    ("en", "shes going to hurt herself, she told me", "self_harm_intent"),
    ("en", "i don't want to be here anymore", "self_harm_intent"),
    ("en", "i can't do this anymore, i'm done", "self_harm_intent"),
    ("en", "she took all her mum's pills, she said she wants to die", "self_harm_plan"),
    ("en", "i want to die. going to the bridge. bye guys forever", "self_harm_plan"),
    ("en", "i want to end it. i wrote my letters. tell my mum i love her", "self_harm_plan"),
    ("en", "see u at the park at 5", "meeting_arrangement"),
    ("en", "ill come see you tonight", "meeting_arrangement"),
    ("en", "a man is going to pick up my daughter after school", "meeting_arrangement"),
    ("en", "no one needs to know", "secrecy"),
    ("en", "he told her not to tell her parents", "secrecy"),
    ("en", "ok mum, love you", "family_context"),
    ("en", "mums stuck at work, text mum when you get to the station", "family_context"),
    ("es", "tengo tus fotos. mandame 100 dolares o se las mando a tus papas", "sextortion"),
    ("es", "ya no quiere estar aqui, dijo que quiere acabar con todo", "self_harm_intent"),
    ("es", "quiero morirme. perdon por todo", "self_harm_plan"),
    ("es", "nos vemos esta noche", "meeting_arrangement"),
    ("es", "nadie tiene que saberlo", "secrecy"),
    ("es", "vale mami, te quiero", "family_context"),
    ("pt", "tenho suas fotos. faz um pix de 200 reais ou eu posto", "sextortion"),
    ("pt", "ele falou que ela nao quer mais viver", "self_harm_intent"),
    ("pt", "quero morrer. desculpa por tudo", "self_harm_plan"),
    ("pt", "ninguem precisa saber", "secrecy"),
    ("pt", "ta bom mae, obrigada", "family_context"),
    ("id", "gw punya foto lo. transfer 500 ribu atau gw sebarin", "sextortion"),
    ("id", "dia bilang mau mengakhiri hidupnya", "self_harm_intent"),
    ("id", "gak ada yang perlu tau", "secrecy"),
    ("id", "iya ma, mama udah di depan", "family_context"),
    ("ms", "aku ada gambar kau. bank in 300 ringgit kalau tak aku sebar", "sextortion"),
    ("ms", "dia dah tak nak ada lagi", "self_harm_intent"),
    ("ms", "ok mak, terima kasih", "family_context"),
    ("zh", "我有你的照片 不然我就发给你爸妈 给我转500块", "sextortion"),
    ("zh", "她一直说想自杀", "self_harm_intent"),
    ("zh", "好的妈妈 爱你", "family_context"),
]

LOOK_ALIKES: list[tuple[str, str, str]] = [
    # (language, text, the family it must not trigger)
    ("en", "i'm dying to see that movie tonight", "self_harm_intent"),
    ("en", "this exam is going to kill me tomorrow", "self_harm_intent"),
    ("en", "i could die laughing", "self_harm_intent"),
    ("en", "i'm done with this game, i can't do this anymore", "self_harm_intent"),
    ("en", "this is my last night in london", "self_harm_intent"),
    ("en", "i'll send the photos from the trip to everyone. can you pay me back?", "sextortion"),
    ("en", "this is our secret recipe for the bake sale", "secrecy"),
    ("en", "your mums stuck at work so she asked me to pick you up", "family_context"),
    ("en", "i'm like a big brother to you", "family_context"),
    ("en", "ok bro", "family_context"),
    ("en", "see you tonight", "meeting_arrangement"),
    ("es", "me muero de ganas de verte", "self_harm_intent"),
    ("es", "tu mama esta afuera, me pidio que te recoja", "family_context"),
    ("pt", "to morrendo de rir", "self_harm_intent"),
    ("pt", "sua mae ta la fora", "family_context"),
    ("id", "mati ketawa gw", "self_harm_intent"),
    ("id", "mama kamu udah di depan, nyuruh aku jemput", "family_context"),
    ("ms", "mati gelak aku", "self_harm_intent"),
    ("ms", "mak awak suruh saya ambil awak", "family_context"),
    ("zh", "笑死我了", "self_harm_intent"),
    ("zh", "你妈妈在门口等你", "family_context"),
]


def signals_for(language: str, text: str) -> SignalResult:
    languages = tuple(
        code for code in dict.fromkeys((language, "en")) if code in supported_time_languages()
    )
    found = find_times(text, sent_at=SENT_AT, zone=UTC, languages=languages)
    return analyze(text, families(language), time_spans=[(t.start, t.end) for t in found])


@pytest.mark.parametrize(("language", "text", "family_name"), WIDER)
def test_the_wider_phrasings_trigger_their_family(
    language: str, text: str, family_name: str
) -> None:
    result = signals_for(language, text)
    assert family_name in result.triggered, [(i.family, i.group, i.text) for i in result.indicators]


@pytest.mark.parametrize(("language", "text", "family_name"), LOOK_ALIKES)
def test_the_look_alikes_of_the_wider_phrasings_do_not(
    language: str, text: str, family_name: str
) -> None:
    result = signals_for(language, text)
    assert family_name not in result.triggered, [
        (i.family, i.group, i.text) for i in result.indicators
    ]
