"""Names, synonyms and filler words the matcher must know about this subject.

Entities are what the facts are about (countries, capitals, people, organisations): a question
naming one that a fact does not mention must not get that fact. Synonyms fold the many ways of
saying "bought", "visit" or "loan" in three languages into one term. Surface forms are written
as people type them; `Lexicon` keys them with the same normaliser as questions, and a form
ending in `*` matches every word whose key starts with that form's key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain, compress, count
from operator import itemgetter
from typing import NamedTuple, TypeVar

from bot.domain.normalize import fold, key, keys, transliterate, words

# concept: (kind, country it implies or "", surface forms)
ENTITIES: dict[str, tuple[str, str, str]] = {
    # countries (any country a trap may name, not only those in the fact base)
    "belarus": (
        "country",
        "",
        "Belarus Belarusian Belarusians Byelorussia Belorussia Беларусь Белоруссия белорусский белорусская белорусские Беларуси беларусский Беларусь Беларусі беларускі беларуская",
    ),
    "azerbaijan": (
        "country",
        "",
        "Azerbaijan Azerbaijani Azerbaijanis Azeri Azeris Азербайджан азербайджанский азербайджанская азербайджанские Азербайджана Азербайджану Азербайджанам Азербайджане азербайджанцы Азербайджан Азербайджана азербайджанскі азербайджанская",
    ),
    "iran": (
        "country",
        "",
        "Iran Iranian Iranians Persia Persian Иран иранский иранская иранские Іран іранскі",
    ),
    "russia": (
        "country",
        "",
        "Russia Russian Russians Россия российский российская русский Расія расійскі Kremlin Кремль Крэмль",
    ),
    "armenia": (
        "country",
        "",
        "Armenia Armenian Armenians Армения армянский армянская Арменія армянскі",
    ),
    "turkey": (
        "country",
        "",
        "Turkey Türkiye Turkiye Turkish Турция турецкий турецкая Турцыя турэцкі",
    ),
    "china": ("country", "", "China Chinese PRC Китай китайский китайская Кітай кітайскі"),
    "kazakhstan": ("country", "", "Kazakhstan Kazakh Казахстан казахстанский Казахстан"),
    "kyrgyzstan": ("country", "", "Kyrgyzstan Kirgizia Kyrgyz Киргизия Кыргызстан"),
    "ukraine": ("country", "", "Ukraine Ukrainian Украина украинский Украіна"),
    "hungary": ("country", "", "Hungary Hungarian Венгрия венгерский Венгрыя"),
    "uae": ("country", "", "UAE Emirates Emirati ОАЭ Эмираты эмиратский Эміраты"),
    "zimbabwe": ("country", "", "Zimbabwe Зимбабве Зімбабвэ"),
    "pakistan": ("country", "", "Pakistan Пакистан Пакістан"),
    "india": ("country", "", "India Indian Индия индийский Індыя"),
    "georgia": ("country", "", "Georgia Georgian Грузия грузинский Грузія"),
    "usa": ("country", "", "USA US America American Americans США Америка американский ЗША"),
    "poland": ("country", "", "Poland Polish Польша польский Польшча"),
    "lithuania": ("country", "", "Lithuania Lithuanian Литва литовский Літва"),
    "latvia": ("country", "", "Latvia Latvian Латвия Латвія"),
    "germany": ("country", "", "Germany German Германия немецкий Германія"),
    "france": ("country", "", "France French Франция французский Францыя"),
    "britain": ("country", "", "Britain British UK England Великобритания Британия Англия"),
    "israel": ("country", "", "Israel Israeli Израиль Ізраіль"),
    "syria": ("country", "", "Syria Syrian Сирия Сірыя"),
    "iraq": ("country", "", "Iraq Iraqi Ирак Ірак"),
    "afghanistan": ("country", "", "Afghanistan Afghan Афганистан"),
    "venezuela": ("country", "", "Venezuela Венесуэла"),
    "cuba": ("country", "", "Cuba Cuban Куба"),
    "serbia": ("country", "", "Serbia Serbian Сербия"),
    "uzbekistan": ("country", "", "Uzbekistan Uzbek Узбекистан"),
    "tajikistan": ("country", "", "Tajikistan Таджикистан"),
    "turkmenistan": ("country", "", "Turkmenistan Туркменистан"),
    "moldova": ("country", "", "Moldova Moldovan Молдова Молдавия"),
    "japan": ("country", "", "Japan Japanese Япония"),
    "saudi": ("country", "", "Saudi Саудовская"),
    "egypt": ("country", "", "Egypt Египет"),
    "qatar": ("country", "", "Qatar Катар"),
    "vietnam": ("country", "", "Vietnam Вьетнам"),
    "mongolia": ("country", "", "Mongolia Монголия"),
    "korea": ("country", "", "Korea Korean Корея КНДР"),
    "nigeria": ("country", "", "Nigeria Нигерия"),
    "africa": ("country", "", "Africa African Африка Афрыка"),
    "asia": ("country", "", "Asia Asian Азия Азія"),
    # capitals and other places: a place also counts as its country
    "minsk": ("place", "belarus", "Minsk Минск Мінск"),
    "baku": ("place", "azerbaijan", "Baku Баку"),
    "tehran": ("place", "iran", "Tehran Teheran Тегеран Тэгеран"),
    "moscow": ("place", "russia", "Moscow Москва Масква"),
    "yerevan": ("place", "armenia", "Yerevan Erevan Ереван Ерэван"),
    "ankara": ("place", "turkey", "Ankara Istanbul Анкара Стамбул"),
    "beijing": ("place", "china", "Beijing Peking Пекин Пекін"),
    "kyiv": ("place", "ukraine", "Kyiv Kiev Киев Кіеў"),
    "astana": ("place", "kazakhstan", "Astana Астана"),
    "tbilisi": ("place", "georgia", "Tbilisi Тбилиси"),
    "washington": ("place", "usa", "Washington Вашингтон"),
    "karabakh": ("place", "azerbaijan", "Karabakh Karabagh Карабах Карабах Нагорный"),
    "shusha": ("place", "azerbaijan", "Shusha Shushi Шуша Шушу Шуше"),
    "fuzuli": ("place", "azerbaijan", "Fuzuli Füzuli Физули Фізулі"),
    "dubai": ("place", "uae", "Dubai Дубай"),
    # people
    "lukashenka": (
        "person",
        "belarus",
        "Lukashenka Lukashenko Lukashenk Лукашенко Лукашэнка Лукашенка",
    ),
    "aliyev": ("person", "azerbaijan", "Aliyev Aliev Aliyev's Алиев Аліеў Ильхам Ilham Ільхам"),
    "putin": ("person", "russia", "Putin Путин Пуцін"),
    "raisi": ("person", "iran", "Raisi Raeisi Раиси Раісі"),
    "khamenei": ("person", "iran", "Khamenei Khamenehi Хаменеи Хаменэі Хаменеі Ayatollah аятолла"),
    "pashinyan": ("person", "armenia", "Pashinyan Pashinian Пашинян Пашынян"),
    "szijjarto": ("person", "hungary", "Szijjarto Szijjártó Sijjarto Сийярто Сіярта"),
    "preiherman": ("person", "belarus", "Preiherman Preigerman Прейгерман Прэйгерман"),
    "erdogan": ("person", "turkey", "Erdogan Erdoğan Эрдоган"),
    "xi": ("person", "china", "Jinping Цзиньпин"),
    "zelensky": ("person", "ukraine", "Zelensky Zelenskyy Зеленский"),
    "tokayev": ("person", "kazakhstan", "Tokayev Токаев"),
    "rouhani": ("person", "iran", "Rouhani Роухани Ahmadinejad Ахмадинежад Pezeshkian Пезешкиан"),
    "medvedev": ("person", "russia", "Medvedev Медведев Lavrov Лавров"),
    "biden": ("person", "usa", "Biden Байден Trump Трамп Obama Обама"),
    "macron": ("person", "france", "Macron Макрон Scholz Шольц Merkel Меркель"),
    "orban": ("person", "hungary", "Orban Orbán Орбан"),
    "tsikhanouskaya": (
        "person",
        "belarus",
        "Tsikhanouskaya Tikhanovskaya Тихановская Ціханоўская",
    ),
    # organisations
    "eaeu": ("org", "", "EAEU EEU ЕАЭС ЕАЭС ЕАЭС Евразэс"),
    "csto": ("org", "", "CSTO ОДКБ АДКБ"),
    "sco": ("org", "", "SCO ШОС ШАС"),
    "eu": ("org", "", "EU ЕС Евросоюз Еўрасаюз"),
    "nato": ("org", "", "NATO НАТО"),
    "un": ("org", "", "UN ООН ААН"),
    "cis": ("org", "", "CIS СНГ СНД"),
    "gazprom": ("org", "russia", "Gazprom Газпром Газпрам"),
    "opec": ("org", "", "OPEC ОПЕК"),
    "brics": ("org", "", "BRICS БРИКС"),
}

# Multi-word names, written as they are typed; each becomes its concept when its words follow
# one another in a question.
PHRASES: dict[str, str] = {
    "Eurasian Economic Union": "eaeu",
    "Евразийский экономический союз": "eaeu",
    "Еўразійскі эканамічны саюз": "eaeu",
    "Collective Security Treaty": "csto",
    "Shanghai Cooperation Organization": "sco",
    "Shanghai Cooperation Organisation": "sco",
    "Шанхайская организация сотрудничества": "sco",
    "European Union": "eu",
    "Европейский союз": "eu",
    "United Arab Emirates": "uae",
    "Объединенные Арабские Эмираты": "uae",
    "United States": "usa",
    "United Nations": "un",
    "Saudi Arabia": "saudi",
    "North Korea": "korea",
    "Xi Jinping": "xi",
    "Си Цзиньпин": "xi",
    "Abu Dhabi": "uae",
    "Islamic Republic": "iran",
    "heads of state": "president",
    "de facto": "defacto",
    "state media": "media",
    "road map": "roadmap",
    "дорожная карта": "roadmap",
    "дарожная карта": "roadmap",
    "three times": "threefold",
    "в три раза": "threefold",
    "six times": "sixfold",
    "в шесть раз": "sixfold",
    "air defense": "airdefense",
    "air defence": "airdefense",
    "multiple launch rocket": "mlrs",
    "rocket launcher": "mlrs",
    "залпового огня": "mlrs",
    "came to power": "power",
    "come to power": "power",
    "пришел к власти": "power",
    "trade surplus": "surplus",
}

SYNONYMS: dict[str, str] = {
    "deal": "paid pay pays prepaid pre-paid оплат* предоплат* заплат* аплач* buy bought buys purchase purchased purchases acquire acquired procure procured sell "
    "sold sells sale sales supply supplied supplies deliver delivered delivery deliveries "
    "куп* закуп* покуп* приобр* прода* продаж* постав* набыв* купля",
    "weapon": "weapon weapons arms armament armaments munitions military-technical "
    "оруж* вооруж* зброя зброі узбраен*",
    "tank": "tank tanks танк*",
    "howitzer": "howitzer howitzers гаубиц* гаўбіц*",
    "aircraft": "aircraft plane planes jet jets warplane warplanes самолет* самолёт* штурмовик* "
    "самалет* штурмавік*",
    "apc": "apc apcs carrier carriers бронетранспортер* бронетранспартер*",
    "artillery": "artillery self-propelled артиллер* самоходн* артылер*",
    "mlrs": "launcher launchers пусков* установ* mlrs рсзо рсза",
    "palanez": "Palanez Polonez Polonaise Polonaize Palanets Полонез Паланэз Паланез",
    "iskander": "Iskander Искандер Іскандэр",
    "visit": "fly flew flown быва* летал* летал ляцел* езд* побыв* наведв* visit visits visited visiting trip trips travel travelled traveled journey "
    "tour визит* посет* поездк* съезд* ездил* побыва* наведа* візіт* паездк* прилет* прилёт*",
    "meet": "audience аудиенц* аўдыенц* sit meet met meeting meetings talks talk host hosted hosting receive received "
    "встреч* переговор* принима* принял* сустрэ* сустрака* перамов*",
    "trade": "таваразварот* таваразвар* наторг* гандлява* trade traded trading turnover commerce товарооборот* торгов* торговл* гандал* "
    "гандл* тавараабарот*",
    "export": "export exports exported экспорт* вывоз* экспарт*",
    "loan": "bail bailed bailout loan loans lend lent lending borrow borrowed money credit займ* заем* заём* "
    "кредит* одолж* деньг* денег* грош* пазык*",
    "gas": "gas газ газа газу газом газе газавы газов*",
    "oil": "oil нефт* нафт*",
    "treaty": "agree agreed agreeing договорил* договорились document documents документ* дакумент* treaty treaties agreement agreements accord accords pact договор* соглашен* "
    "пагаднен* дагавор*",
    "embassy": "embassy embassies посольств* амбасад* пасольств*",
    "diplomatic": "diplomatic diplomacy дипломат* дыпламат*",
    "establish": "устанав* усталяв* заснав* establish established establishment founded установ* устанавл* "
    "устаноўлен* наладж*",
    "anniversary": "anniversary годовщин* юбиле* гадавін* угодкі",
    "roadmap": "roadmap roadmaps",
    "fertilizer": "fertilizer fertilizers fertiliser fertilisers удобрен* угнаенн* угнаен*",
    "reconstruction": "reconstruction rebuild rebuilding restore restoration restoring "
    "repopulate восстанов* реконструк* отстро* аднаўл* аднаўлен*",
    "surplus": "surplus профицит* сальдо прафіцыт*",
    "record": "пик* пика пік* record highest peak maximum рекорд* максимал* рэкорд*",
    "share": "share percent percentage proportion доля доли долю процент* працэнт*",
    "sanctions": "sanction sanctions санкци* санкцы*",
    "nuclear": "warhead warheads боеголов* баегалоў* nuclear ядерн* ядзерн*",
    "power": "power власт* улад*",
    "author": "author authors wrote written writer analyst автор* написа* аўтар*",
    "president": "leader leaders head heads руковод* лидер* кіраўнік* president presidents президент* прэзідэнт*",
    "critic": "angry upset displeased displeasure oppose opposes protest недовол* недавол* возмущ* претенз* criticize criticise criticized criticised criticism critic critical denounce "
    "denunciation критик* критиков* осужд* крытык*",
    "help": "help helped helps assist assistance support helping помог* помощ* помоч* "
    "поддерж* дапамаг* дапамог*",
    "company": "company companies firm firms contractor contractors компани* подрядчик* кампані*",
    "construction": "construction builder builders building строител* строительн* будаўн*",
    "city": "гарад* city cities town towns город* горад*",
    "war": "war wars conflict conflicts войн* конфликт* вайн* канфлікт*",
    "threefold": "threefold three-fold tripled triple втрое трехкратн* трёхкратн* утрая",
    "sixfold": "sixfold six-fold шестикратн* вшестеро",
    "dispute": "dispute disputes crisis quarrel row спор* кризис* крызіс*",
    "debt": "debt debts owed owe задолженн* долг* запазычан*",
    "join": "join joined joining membership member members вступ* член* участ* уваход*",
    "agriculture": "agriculture agricultural farming сельск* аграрн* сельскагаспадар*",
    "medicine": "medicine medicines drug drugs pharmaceutical лекарств* медыкамент*",
    "elevator": "elevator elevators lift lifts лифт* ліфт*",
    "railway": "railway railways rail railroad железнодорож* чыгуна* чыгуначн*",
    "firefighting": "firefighting fire-fighting пожарн* пажарн*",
    "first": "first первый первая впервые першы",
    "ten": "ten 10 десять десяти дзесяць",
    "january": "january январь январе января студзен*",
    "february": "february февраль феврале февраля лют* лютага",
    "march": "march март марте марта сакавік*",
    "april": "april апрель апреле апреля красавік*",
    "may": "май мае мая травен* траўн* травн*",
    "june": "june июнь июне июня чэрвен* червен* чэрвень",
    "july": "july июль июле июля ліпен* липен*",
    "august": "august август августе августа жнівен* жнивен* жнівень",
    "september": "september сентябрь сентябре сентября верасен* верасн*",
    "october": "october октябрь октябре октября кастрычнік* кастрычник*",
    "november": "november ноябрь ноябре ноября лістапад* листапад*",
    "december": "december декабрь декабре декабря снежан* снежн*",
    "sign": "оформ* заключ* signed sign signed signing signature подпис* подписа* падпіса* падпіс*",
    "relations": "relation relations relationship relationships ties tie bilateral отношени* "
    "связ* стасунк* адносін* адносин* двусторон* двухбаков*",
    "begin": "begin began begun start started starting launch launched initiate начал* нача* "
    "пачал* пачат* запуст*",
    "friend": "friend friends friendly friendship друг* друж* дружб* сябр* сяброў*",
    "personal": "personal personally chemistry rapport bond личн* асабіст* хими*",
    "supply": "shipment shipments shipped ship send sent отправ* пастаўл* адправ*",
    "resume": "resume resumed resumption restart restarted again возобнов* снова аднав* зноў",
    "stop": "stop stopped halt halted cease ceased suspend suspended freeze frozen "
    "прекрат* прекрати* остановл* приостанов* спын* прыпын*",
    "reason": "reason reasons motive motives motivation motivations rationale purpose point "
    "goal aim причин* мотив* цель цели прычын* матыв* мэт*",
    "produce": "product products goods produce produced production manufacture manufacturing make made joint jointly "
    "производ* выпуск* совместн* вытворч* сумесн*",
    "price": "price prices cost costs стоимост* цен* кошт*",
    "dependence": "dependence dependent dependency reliant reliance depend зависим* залежн*",
    "west": "west western westerners запад* захад*",
    "isolate": "cut cutoff isolate isolation isolated изоляц* изолир* ізаляц*",
    "implement": "implement implemented implementation carry carried "
    "fulfil fulfill выполн* реализ* исполн* выканан* рэалізац*",
    "import": "import imports imported импорт* ввоз* імпарт*",
    "open": "open opened opening открыл* открыт* открыв* адкры*",
    "modernize": "modernize modernise modernized modernised modernization upgrade upgraded "
    "модерниз* мадэрніз*",
    "media": "media tv television press propaganda сми телевид* тв медиа прапаганд* пропаганд*",
    "growth": "grow grew grown growth increase increased rise rose risen jump jumped climb "
    "climbed рост* вырос* увелич* выраст* павялич* рос*",
    "neutral": "neutral neutrality sides side нейтрал* нейтральн*",
    "interest": "interest interests interested care cares интерес* заинтерес* цікав* зацікав*",
    "defacto": "unofficial informal de-facto фактическ* неофициальн* неафіцыйн*",
    "priority": "priority priorities main key главн* приоритет* галоўн* прыярытэт*",
    "blockade": "blockade logistics logistical logistically блокад* логистик* лагістык* блакад*",
    "partner": "partner partners partnership партнер* партнёр* партнёр* партнэр*",
    "signal": "signal signals signalling signaling message сигнал* сігнал*",
    "article": "article articles analysis piece commentary report статья статьи статью стат* "
    "анализ* материал* артыкул*",
    "motto": "motto slogan maxim principle девиз* лозунг* принцип* дэвіз*",
    "author_role": "director head chief директор* руковод* кіраўнік*",
}

# Question words: what kind of answer is wanted. They never count as content, but they tell a
# "when" phrasing from a "why" one.
INTENTS: dict[str, str] = {
    "why": "why purpose почему зачем отчего чаму навошта",
    "when": "when date dates day days month year когда дата даты числа числах месяце месяц "
    "калі чыслах чысла дата даты месяцы",
    "who": "who whom whose кто кого кому кем хто каго каму кім",
    "amount": "many much mny size number amount сколько колькі сумма",
    "where": "where где куда дзе куды",
}

STOPWORDS = set(
    fold(
        """a an the of in on at to for from with by and or about between it its this that these
        those is are was were be been being am do does did done has have had having there their
        they them he she his her him me my i you your we our us can could will would should may
        might must shall what when where who whom whose which why how much many any some into as
        so than then after before during also not no yes but if get got know tell please give over
        show say said let like just ever still very really s t d ll re ve m o y what's when's
        who's how's whats hello hi hey hiya greetings thanks thank thx ty cheers ok okay bye
        good morning evening afternoon night dear bot year years date dates day days month
        months mny exactly approximately roughly please did else besides other others time now today all become became toward towards early late exactly actually happen happened really ever behind spend spent dollar dollars usd
        что когда где кто кого кому кем чем чего как какой какая какие каков какова каково
        каких какого каким сколько ли был была были было быть есть это этот эта эти этого его
        ее её их он она они мы вы я ты же бы не ни да нет при между зачем почему в во на и или
        а но по о об от до за из к ко у с со для под над про также ещё еще уже ли ведь вот тот
        та те то привет здравствуйте здравствуй спасибо благодарю пожалуйста пока добрый доброе
        день утро вечер год года году годах годы лет дата даты
        числа числах месяц месяце точно примерно такая такой такие вдруг ещё еще другие другой сейчас сегодня каком какую какое какого какой каких каким случилось произошло было летом зимой весной осенью вообще именно долларов доллара доллары
        што калі дзе хто каго як які якая якія колькі ці гэта гэты гэтая яго яе іх ён яна яны
        мы вы я ты б не ні так але па аб пра ад да за з са для пад над чаму навошта вітаю
        прывітанне дзякуй калі ласка дзень ранак вечар быў была былі было год гады гадоў годзе гадах
        года паміж якім якіх якую чыслах чысла дата месяцы такая вельмі адкуль яшчэ іншыя цяпер сёння якое якога якой здарылася адбылося наогул"""
    ).split()
)


PREFIX_INDEX = 3
# Bounds on the memoised analyses of words, tokens and keywords: past them new ones are computed
# each time, so a long-running bot reading endless typos keeps its memory.
WORD_CACHE = 500_000
TOKEN_CACHE = 300_000
KEYWORD_CACHE = 100_000

# (key, is filler, term, may start a phrase, intent marker or "") of one folded word
WordInfo = tuple[str, bool, str, bool, str]
_KEY, _STARTS = itemgetter(0), itemgetter(3)
# Follows each of several texts read together: a content word whose key, term and intent are
# empty. No phrase holds it, so none runs from one text into the next, and the empty strings it
# leaves among the keys, terms and intents of all the texts mark where each one ends. It is what
# the empty token reads as, which str.split never yields.
_BREAK: WordInfo = ("", False, "", False, "")


_V = TypeVar("_V")


class _Memo(dict[str, _V]):
    """Values computed on first sight and kept while there are fewer than `bound`.

    As a dict that computes its misses, it lets `map(memo.__getitem__, keys)` look up all the
    words or tokens of a text in one pass that runs in C.
    """

    def __init__(self, compute: Callable[[str], _V], bound: int) -> None:
        super().__init__()
        self._compute = compute
        self._bound = bound

    def __missing__(self, item: str) -> _V:
        value = self._compute(item)
        if len(self) < self._bound:
            self[item] = value
        return value


class Analysis(NamedTuple):
    surface: list[str]  # content word keys as written, before synonyms are folded
    terms: list[str]  # content terms: phrases joined, synonyms folded
    intents: list[str]  # markers such as "?why" for the question words

    @property
    def phrasing(self) -> str:
        """The text as fuzzy comparison reads it: its intent markers, then its content keys."""
        return " ".join(self.intents + self.surface)


@dataclass(frozen=True)
class Entity:
    concept: str
    kind: str
    country: str


class Lexicon:
    """Maps question and fact words (already keyed) to the terms the matcher compares."""

    def __init__(self) -> None:
        self.entities: dict[str, Entity] = {}
        self._exact: dict[str, str] = {}
        self._prefixes: list[tuple[str, str]] = []
        self._phrases: dict[tuple[str, ...], str] = {}
        self._cache: dict[str, str] = {}
        # Texts repeat their words and tokens, and facts their keywords, far more than texts
        # repeat themselves; normalising is most of the cost of reading a text.
        self._words: _Memo[WordInfo] = _Memo(self._word, WORD_CACHE)
        self._tokens: _Memo[tuple[WordInfo, ...]] = _Memo(self._token, TOKEN_CACHE)
        self._tokens[""] = (_BREAK,)
        self._keywords: _Memo[tuple[str, ...]] = _Memo(self._keyword, KEYWORD_CACHE)
        for concept, (kind, country, forms) in ENTITIES.items():
            self.entities[concept] = Entity(concept, kind, country)
            for form in forms.split():
                self._add(form, concept)
        for concept, forms in SYNONYMS.items():
            for form in forms.split():
                self._add(form, concept)
        for phrase, concept in PHRASES.items():
            self._phrases[tuple(keys(phrase))] = concept
        self._countries = {c: e.country for c, e in self.entities.items() if e.country}
        self._starts = {phrase[0] for phrase in self._phrases}
        # Most words that may start a phrase are not followed by its second word ("в" by "три"):
        # checking the pair first spares trying every phrase length.
        self._heads = {phrase[:2] for phrase in self._phrases}
        self._prefixes.sort(key=lambda p: len(p[0]), reverse=True)
        # Prefixes by their first letters, so a new word is checked against a handful, not all.
        self._short_prefixes = [p for p in self._prefixes if len(p[0]) < PREFIX_INDEX]
        self._prefix_index: dict[str, list[tuple[str, str]]] = {}
        for prefix, concept in self._prefixes:
            if len(prefix) >= PREFIX_INDEX:
                self._prefix_index.setdefault(prefix[:PREFIX_INDEX], []).append((prefix, concept))
        for group in self._prefix_index.values():
            group += self._short_prefixes
            group.sort(key=lambda p: len(p[0]), reverse=True)
        self.stop_keys = {key(w) for w in STOPWORDS} | STOPWORDS
        self._intents = {
            fold(w): f"?{intent}" for intent, forms in INTENTS.items() for w in forms.split()
        }

    def _add(self, form: str, concept: str) -> None:
        if form.endswith("*"):
            self._prefixes.append((transliterate(fold(form[:-1])), concept))
        else:
            for k in keys(form):
                self._exact.setdefault(k, concept)

    def term(self, word_key: str) -> str:
        """The concept a keyed word stands for, or the key itself."""
        found = self._exact.get(word_key) or self._cache.get(word_key)
        if found is None:
            candidates = self._prefix_index.get(word_key[:PREFIX_INDEX], self._short_prefixes)
            found = next((c for p, c in candidates if word_key.startswith(p)), word_key)
            if len(self._cache) < 200_000:
                self._cache[word_key] = found
        return found

    def _word(self, word: str) -> WordInfo:
        """What a folded word is (see `WordInfo`)."""
        k = key(word)
        stop = k in self.stop_keys or word in STOPWORDS
        return (k, stop, self.term(k), k in self._starts, self._intents.get(word, ""))

    def _token(self, token: str) -> tuple[WordInfo, ...]:
        """What each word of a token is: usually one word, none for punctuation."""
        return tuple(map(self._words.__getitem__, words(token)))

    def _keyword(self, keyword: str) -> tuple[str, ...]:
        """The content terms of one keyword or alias (see `keyword_terms`)."""
        return tuple(self.content_terms([keyword]))

    def _read(self, texts: list[str]) -> list[WordInfo]:
        """What each word of the texts is, a `_BREAK` after each text.

        Token by token gives the same words as `words` on a whole text: every rule there
        (hyphens, apostrophes, year ranges) looks within one token.
        """
        tokens: list[str] = []
        for text in texts:
            tokens += text.split()
            tokens.append("")
        return list(chain.from_iterable(map(self._tokens.__getitem__, tokens)))

    def analyse(self, text: str) -> Analysis:
        """(content word keys as written, content terms, intents) of one text."""
        raw = self._read([text])
        phrases = self._phrases_in(raw)
        raw.pop()  # the break
        intents = sorted({r[4] for r in raw if r[4]})
        return Analysis(*self._content(raw, phrases), intents)

    def phrasings(self, texts: list[str]) -> tuple[list[str], set[str], set[str]]:
        """(the phrasing of each text, the content terms of all, the intents of all): what
        indexing a fact's questions needs. Read in one pass, they cost much less than an
        analysis of each."""
        raw = self._read(texts)
        surface, terms = self._content(raw, self._phrases_in(raw))
        marks = [r[4] for r in raw if r[4] or r is _BREAK]  # intents, "" where each text ends
        phrasings: list[str] = []
        s = m = 0  # where the next text starts in surface and in marks
        for _ in texts:
            s_end, m_end = surface.index(_BREAK[0], s), marks.index(_BREAK[4], m)
            intents = marks[m:m_end]  # seldom more than one
            if len(intents) > 1:
                intents = sorted(set(intents))
            phrasings.append(" ".join(intents + surface[s:s_end]))  # as Analysis.phrasing
            s, m = s_end + 1, m_end + 1
        found, all_intents = set(terms), set(marks)
        found.discard(_BREAK[2])
        all_intents.discard(_BREAK[4])
        return phrasings, found, all_intents

    def content_terms(self, texts: list[str]) -> set[str]:
        """The content terms of several texts together: all that indexing a fact's answers
        needs, and cheaper than an analysis of each."""
        raw = self._read(texts)
        phrases = self._phrases_in(raw)
        # Phrases are rare: without them the set takes one pass.
        found = set(self._content(raw, phrases)[1]) if phrases else {r[2] for r in raw if not r[1]}
        found.discard(_BREAK[2])
        return found

    def keyword_terms(self, keywords: Iterable[str]) -> set[str]:
        """`content_terms` of keywords and aliases: a small vocabulary that many facts share,
        so the terms of each are memoised, where an answer, written once, is read anew."""
        return set().union(*map(self._keywords.__getitem__, keywords))

    def _phrases_in(self, raw: list[WordInfo]) -> list[tuple[int, int, str]]:
        """(start, end, concept) of each phrase in the words, in order.

        Only the few words that may start a phrase are looked at, and most are not followed by
        the phrase's second word ("в" by "три"), which one lookup tells.
        """
        found: list[tuple[int, int, str]] = []
        end = 0
        for i in compress(count(), map(_STARTS, raw)):
            # raw ends with a break, so a word that may start a phrase has one after it
            if i < end or (raw[i][0], raw[i + 1][0]) not in self._heads:
                continue
            for size in (4, 3, 2):
                window = raw[i : i + size]
                concept = self._phrases.get(tuple(map(_KEY, window)))
                if concept is not None:
                    end = i + len(window)
                    found.append((i, end, concept))
                    break
        return found

    def _content(
        self, raw: list[WordInfo], phrases: list[tuple[int, int, str]]
    ) -> tuple[list[str], list[str]]:
        """(content word keys as written, content terms): phrases joined, filler words dropped."""
        surface: list[str] = []
        terms: list[str] = []
        done = 0  # raw[:done] is accounted for
        for start, end, concept in phrases:
            surface += [r[0] for r in raw[done:start] if not r[1]]
            terms += [r[2] for r in raw[done:start] if not r[1]]
            surface += [r[0] for r in raw[start:end]]
            terms.append(concept)
            done = end
        rest = raw[done:] if done else raw
        surface += [r[0] for r in rest if not r[1]]
        terms += [r[2] for r in rest if not r[1]]
        return surface, terms

    def terms(self, text: str) -> list[str]:
        """The content terms of a text: phrases joined, synonyms folded, filler words dropped."""
        return self.analyse(text).terms

    def countries_of(self, terms: set[str]) -> set[str]:
        """The countries that the places, people and organisations among the terms imply."""
        return {self._countries[t] for t in self._countries.keys() & terms}

    def entity(self, term: str) -> Entity | None:
        return self.entities.get(term)

    def surface_terms(self) -> list[tuple[str, str]]:
        """Every known word key with its concept, so typos of a name can still find it."""
        return list(self._exact.items())
