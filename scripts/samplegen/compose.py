"""Turn an intent, a service, a writer and a moment into a labelled draft post.

A ``Draft`` carries the text (with ``{LINK}`` placeholders), the ground-truth label fields and the
expanded URLs for the links. The record builders (Twitter, forum) decide how links render.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from samplegen import phrases_en as en
from samplegen import phrases_incident as inc
from samplegen.grammar import add_noise, expand, pick, tidy
from samplegen.phrases_intl import INTL, LATIN_LANGS
from samplegen.services import SERVICE_BY_SLUG, Service
from samplegen.users import User

__all__ = ["Composer", "Draft"]

_SLUG_RE = re.compile(r"[^a-z0-9]+")
_COUNTRY_WORD = {
    "US": "the US",
    "CA": "Canada",
    "GB": "the UK",
    "DE": "Germany",
    "NO": "Norway",
    "NL": "the Netherlands",
    "KR": "Korea",
    "AU": "Australia",
    "IE": "Ireland",
    "FR": "France",
    "ES": "Spain",
    "IT": "Italy",
    "JP": "Japan",
    "MX": "Mexico",
    "BR": "Brazil",
    "PT": "Portugal",
    "IN": "India",
    "AR": "Argentina",
}
_SYMPTOM_WEIGHT = {"down_unavailable": 3, "error_message": 2}


@dataclass(slots=True)
class Draft:
    """A post before it becomes a record: text, label fields and link targets."""

    text: str
    lang: str
    intent: str
    is_outage: bool = False
    service: str | None = None
    symptom: str | None = None
    error: str | None = None
    feature: str | None = None
    links: list[str] = field(default_factory=list)

    def label(self, post_id: str, country: str | None) -> dict[str, object]:
        """Return the ``labels.jsonl.gz`` line for this draft."""
        return {
            "id": post_id,
            "intent": self.intent,
            "is_outage": self.is_outage,
            "service": self.service,
            "symptom": self.symptom,
            "error": self.error,
            "feature": self.feature,
            "country": country,
            "lang": self.lang,
        }


def slugify(text: str) -> str:
    """Lowercase ``text`` and join its words with hyphens (as news and forum URLs do)."""
    return _SLUG_RE.sub("-", text.lower()).strip("-")


class Composer:
    """Writes drafts; all randomness comes from the ``rng`` it is given."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.link_serial = 0

    # -- small helpers -------------------------------------------------------------------------
    def svc_name(self, svc: Service, lang: str) -> str:
        """Return the service as this writer would spell it."""
        names = svc.names
        if lang != "en":
            # "the Tesla app" or "my Tesla app" inside a French sentence reads wrong.
            names = (
                tuple(
                    n
                    for n in names
                    if not n.lower().startswith(("the ", "my ")) and " app" not in n.lower()
                )
                or names
            )
        name = pick(self.rng, names)
        if lang != "en" and name.islower() and self.rng.random() < 0.6:
            name = name[:1].upper() + name[1:]
        return name

    def _slots(self, user: User | None, svc: Service | None, lang: str) -> dict[str, object]:
        slots: dict[str, object] = dict(en.COMMON)
        if svc is not None:
            slots["svc"] = self.svc_name(svc, lang)
            slots["tag"] = tuple("#" + t for t in svc.tags)
            slots["calm_tag"] = tuple(
                "#" + t for t in svc.tags if "down" not in t.lower() and "outage" not in t.lower()
            )
            slots["model_tag"] = ("Model3", "ModelY")
        if user is not None and user.city is not None:
            slots["city"] = user.city.name
            slots["admin"] = user.city.admin_name
        else:
            slots["city"] = "my area"
            slots["admin"] = "my state"
        return slots

    def finish(self, text: str, lang: str, *, informal: bool = True, angry: bool = False) -> str:
        """Tidy ``text`` and, for informal posts in Latin script, add typing noise."""
        text = tidy(text)
        if informal and lang in LATIN_LANGS:
            text = add_noise(
                text,
                self.rng,
                caps_p=0.04 if angry else 0.01,
                lower_p=0.35 if lang == "en" else 0.2,
            )
        return text

    def elaborate(self, text: str, tone: str, p: float) -> str:
        """With probability ``p``, add one or two sentences so the post runs long."""
        if self.rng.random() >= p:
            return text
        extra = en.ELABORATE[tone]
        sentences = self.rng.sample(extra, k=1 if self.rng.random() < 0.6 else 2)
        joiner = "" if text.endswith((".", "!", "?")) else "."
        return f"{text}{joiner} " + " ".join(sentences)

    def _local_hour(self, user: User | None, when: datetime) -> float:
        if user is None or user.region is None:
            return when.hour
        return (when.hour + when.minute / 60 + user.region.utc_offset) % 24

    def news_link(self, headline: str, when: datetime) -> str:
        """Return a plausible article URL for ``headline``."""
        domain, path = pick(self.rng, en.NEWS_OUTLETS)
        self.link_serial += 1
        path = path.format(d=f"{when.day:02d}", n=24_000 + self.link_serial, slug=slugify(headline))
        return f"https://{domain}/{path}"

    # -- outage complaints ----------------------------------------------------------------------
    def outage(
        self,
        user: User,
        svc: Service,
        *,
        question_p: float = 0.25,
        symptoms: tuple[str, ...] | None = None,
        incident: bool = False,
    ) -> Draft:
        """A single-user (or incident) complaint that ``svc`` is not working."""
        rng = self.rng
        lang = user.lang if (user.lang in INTL and svc.slug != "pge") else "en"
        kind_bank = en.OUTAGE[svc.kind]
        options = symptoms or tuple(kind_bank)
        if not svc.errors:
            options = tuple(s for s in options if s != "error_message") or ("down_unavailable",)
        weights = [_SYMPTOM_WEIGHT.get(s, 1) for s in options]
        symptom = rng.choices(options, weights)[0]
        slots = self._slots(user, svc, lang)
        error: str | None = None
        if svc.errors:
            code = svc.errors[rng.randrange(len(svc.errors))]
            error, slots["err"] = code[0], code[1:]
        if lang != "en":
            return self._outage_intl(svc, lang, symptom, slots, error, question_p)
        clauses = list(kind_bank.get(symptom, kind_bank[next(iter(kind_bank))]))
        if incident:
            clauses += list(inc.INCIDENT_EXTRA.get(svc.slug, {}).get(symptom, ()))
        template, feature = clauses[rng.randrange(len(clauses))]
        if rng.random() < question_p:
            q = expand(pick(rng, en.OUTAGE_QUESTIONS), slots, rng)
            clause = expand(template, slots, rng)
            text = q if rng.random() < 0.45 else f"{q} {clause}"
            intent = "question"
        else:
            slots["clause"] = template
            text = expand(pick(rng, en.OUTAGE_FRAMES), slots, rng)
            text = self.elaborate(text, "negative", 0.3)
            intent = "outage_complaint"
        if rng.random() < 0.05:
            text += " {LINK}"
            links = [f"https://downdetector.com/status/{svc.slug.replace('_', '-')}/"]
        else:
            links = []
        uses_err = "{err}" in template or error is None
        return Draft(
            self.finish(text, "en", angry=True),
            "en",
            intent,
            True,
            svc.slug,
            symptom,
            error if (symptom == "error_message" and uses_err) else None,
            feature,
            links,
        )

    def _outage_intl(
        self,
        svc: Service,
        lang: str,
        symptom: str,
        slots: dict[str, object],
        error: str | None,
        question_p: float,
    ) -> Draft:
        rng = self.rng
        bank = INTL[lang]
        outage_bank: dict[str, tuple[tuple[str, str | None], ...]] = bank["outage"]  # type: ignore[assignment]
        options = outage_bank.get(symptom, ())
        if symptom == "connectivity_network":
            telecom = svc.kind == "telecom"
            options = tuple(o for o in options if (o[1] == "mobile_network") == telecom)
        if not options:
            symptom, options = "down_unavailable", outage_bank["down_unavailable"]
        template, feature = pick(rng, options)
        slots["tail"] = bank["tail"]  # type: ignore[assignment]
        clause = expand(template, slots, rng)
        intent = "outage_complaint"
        if rng.random() < question_p:
            question = expand(pick(rng, bank["question"]), slots, rng)  # type: ignore[arg-type]
            clause = question if rng.random() < 0.5 else f"{question} {clause}"
            intent = "question"
        if rng.random() < 0.45:
            clause += " " + expand(pick(rng, bank["tail"]), slots, rng)  # type: ignore[arg-type]
        return Draft(
            self.finish(clause, lang, angry=True),
            lang,
            intent,
            True,
            svc.slug,
            symptom,
            error if symptom == "error_message" else None,
            feature,
        )

    # -- the Tesla outage ----------------------------------------------------------------------
    def _tesla_slots(self, user: User, when: datetime) -> dict[str, object]:
        slots = self._slots(user, SERVICE_BY_SLUG["tesla"], "en")
        slots.update({k: v for k, v in inc.TESLA.items() if k not in ("clauses", "frames")})
        country = user.country or "US"
        loc_options = list(inc.TESLA["loc"])
        if country != "US":
            word = _COUNTRY_WORD.get(country, "here")
            loc_options += [f"{word} too", f"same here in {word}", f"{word} as well"]
        slots["loc"] = tuple(loc_options)
        local = self._local_hour(user, when)
        if 5 <= local < 10:
            slots["when"] = inc.TESLA["morning"]
        elif local >= 21 or local < 2:
            slots["when"] = ("tonight", "at 11pm", "late at night", "", "coming home")
        slots["tag"] = inc.TESLA["tags"]
        return slots

    def tesla_outage(self, user: User, when: datetime) -> Draft:
        """A complaint about the 2021-11-19 Tesla app outage, in the writer's language."""
        rng = self.rng
        lang = user.lang
        if lang != "en" and lang in inc.TESLA_INTL and rng.random() < 0.85:
            template, symptom, feature = pick(rng, inc.TESLA_INTL[lang])
            tail = INTL[lang]["tail"]
            text = template
            if rng.random() < 0.4:
                text += " " + pick(rng, tail).replace("{tag}", "TeslaDown")  # type: ignore[arg-type]
            error = "500" if "500" in template else None
            return Draft(
                self.finish(text, lang),
                lang,
                "outage_complaint",
                True,
                "tesla",
                symptom,
                error,
                feature,
            )
        slots = self._tesla_slots(user, when)
        clauses: tuple[tuple[str, str, str], ...] = inc.TESLA["clauses"]  # type: ignore[assignment]
        template, symptom, feature = pick(rng, clauses)
        template2 = pick(rng, clauses)[0]
        slots["clause"] = template
        slots["clause2"] = template2
        intent = "outage_complaint"
        if rng.random() < 0.12:
            text = pick(
                rng,
                (
                    "is the tesla app down?",
                    "Tesla app down?",
                    "is tesla down??",
                    "anyone else's tesla app not working?",
                    "is the Tesla app down for everyone or just me?",
                ),
            )
            if rng.random() < 0.5:
                text += " " + template
            intent = "question"
        else:
            text = pick(rng, inc.TESLA["frames"])  # type: ignore[arg-type]
            if rng.random() < 0.2:
                text += " {ctx}. " + pick(rng, en.ELABORATE["negative"])
        text = expand(text, slots, rng)
        error = "500" if ("500" in text) else None
        if error and symptom == "down_unavailable":
            symptom = "error_message"
        return Draft(
            self.finish(text, "en", angry=True),
            "en",
            intent,
            True,
            "tesla",
            symptom,
            error,
            feature,
        )

    def tesla_recovery(self, user: User) -> Draft:
        """A 'working again' post near the end of the outage (not an outage report)."""
        slots = self._tesla_slots(user, datetime(2021, 11, 20))
        text = expand(pick(self.rng, inc.TESLA_RECOVERY), slots, self.rng)
        return Draft(self.finish(text, "en"), "en", "smalltalk", False, "tesla")

    def elon_reply(self, user: User, when: datetime) -> Draft:
        """A reply under one of the @elonmusk tweets during the outage."""
        rng = self.rng
        slots = self._tesla_slots(user, when)
        clauses: tuple[tuple[str, str, str], ...] = inc.TESLA["clauses"]  # type: ignore[assignment]
        template, symptom, feature = pick(rng, clauses)
        slots["clause"] = template
        roll = rng.random()
        if roll < 0.62:
            text = expand(pick(rng, inc.ELON_REPLIES["outage"]), slots, rng)
            error = "500" if "500" in text else None
            if "{err}" in text or error:
                symptom = "error_message" if symptom == "down_unavailable" else symptom
            return Draft(
                self.finish(text, "en", angry=True),
                "en",
                "outage_complaint",
                True,
                "tesla",
                symptom,
                error,
                feature,
            )
        if roll < 0.82:
            text = expand(pick(rng, inc.ELON_REPLIES["chatter"]), slots, rng)
            return Draft(self.finish(text, "en"), "en", "reply_chatter", False, "tesla")
        text = expand(pick(rng, inc.ELON_REPLIES["joke"]), slots, rng)
        return Draft(self.finish(text, "en"), "en", "joke", False, "tesla")

    def tesla_news(self, when: datetime, during: bool) -> Draft:
        """A headline about the outage (during) or its end (after), with a link."""
        options = [h for h, is_out in inc.TESLA_NEWS if is_out == during]
        headline = pick(self.rng, options)
        return Draft(
            f"{headline} {{LINK}}",
            "en",
            "news",
            during,
            "tesla",
            "down_unavailable" if during else None,
            None,
            "mobile_app" if during else None,
            [self.news_link(headline, when)],
        )

    def outage_joke(self, svc: Service, user: User) -> Draft:
        """A joke that still tells you the service is down (labelled is_outage)."""
        slots = self._slots(user, svc, "en")
        text = expand(
            pick(
                self.rng,
                (
                    "{svc} down, guess I have to talk to my family now {laugh}",
                    "{svc} being down is the universe telling me to go outside {laugh}",
                    "everyone refreshing downdetector for {svc} like it's a sports score {laugh}",
                    "{svc} is down so I'm just staring at the wall {laugh}",
                    "me refreshing {svc} every 4 seconds like that'll fix it {laugh}",
                ),
            ),
            slots,
            self.rng,
        )
        return Draft(self.finish(text, "en"), "en", "joke", True, svc.slug, "down_unavailable")

    # -- background intents --------------------------------------------------------------------
    def background(self, user: User, svc: Service, intent: str) -> Draft:
        """A post of ``intent`` about ``svc`` that does not report an outage."""
        rng = self.rng
        lang = user.lang
        bank_intl = INTL.get(lang)
        # Evening-on-the-sofa small talk only fits streaming services in the other languages.
        fits = intent != "smalltalk" or svc.kind == "streaming"
        if bank_intl is not None and fits and rng.random() < 0.9:
            key = "question_other" if intent == "question" else intent
            options = bank_intl.get(key)
            if options and svc.slug != "netflix":
                options = tuple(o for o in options if "{show}" not in o)  # type: ignore[union-attr]
            if options:
                slots = self._slots(user, svc, lang)
                slots["tail"] = bank_intl["tail"]
                text = expand(pick(rng, options), slots, rng)  # type: ignore[arg-type]
                if intent == "other_complaint" and rng.random() < 0.4:
                    text += " " + expand(pick(rng, bank_intl["tail"]), slots, rng)  # type: ignore[arg-type]
                return Draft(self.finish(text, lang), lang, intent, False, svc.slug)
        slots = self._slots(user, svc, "en")
        specific = en.SPECIFIC.get(svc.slug, {}).get(intent, ())
        generic = en.OTHER.get(intent, ())
        use_specific = specific and (rng.random() < 0.7 or not generic)
        text = expand(pick(rng, specific if use_specific else generic), slots, rng)
        tone = {"other_complaint": "negative", "praise": "positive"}.get(intent, "neutral")
        if intent != "joke":
            text = self.elaborate(text, tone, 0.28 if intent == "other_complaint" else 0.18)
        roll = rng.random()
        if roll < 0.18:
            text += " " + expand("{calm_tag}", slots, rng)
        elif roll < 0.32 and intent in ("other_complaint", "joke"):
            text += " " + expand("{tail}", slots, rng)
        elif roll < 0.4 and intent in ("praise", "smalltalk"):
            text += " " + expand("{happy}", slots, rng)
        return Draft(
            self.finish(text, "en", angry=intent == "other_complaint"),
            "en",
            intent,
            False,
            svc.slug,
        )

    def news(self, svc: Service, when: datetime) -> Draft:
        """A headline with a link, as news accounts and link-sharers post them."""
        headlines = en.NEWS.get(svc.slug) or en.NEWS["tesla"]
        headline = pick(self.rng, headlines)
        service = svc.slug if svc.slug in en.NEWS else "tesla"
        text = pick(
            self.rng,
            (
                "{h} {LINK}",
                "{h} {LINK}",
                "{h}: {LINK}",
                "NEW: {h} {LINK}",
                "{h} via @{via} {LINK}",
                "{h} #{tag} {LINK}",
            ),
        )
        text = (
            text.replace("{h}", headline)
            .replace(
                "{via}", pick(self.rng, ("verge", "TechCrunch", "CNBC", "Reuters", "engadget"))
            )
            .replace("{tag}", pick(self.rng, SERVICE_BY_SLUG[service].tags))
        )
        return Draft(text, "en", "news", False, service, links=[self.news_link(headline, when)])

    def ad(self, user: User, svc: Service) -> Draft:
        """A promo post with a shop link."""
        slots = self._slots(user, svc, "en")
        text = expand(pick(self.rng, en.AD), slots, self.rng)
        mentioned = next(
            (
                s.slug
                for s in SERVICE_BY_SLUG.values()
                if any(n in text for n in (s.names[1], "#" + s.tags[0]))
            ),
            svc.slug,
        )
        if "Tesla" in text or "Model" in text or "Cybertruck" in text:
            mentioned = "tesla"
        elif "PS5" in text:
            mentioned = "psn"
        elif "Uber" in text:
            mentioned = "uber"
        elif "phone plan" in text:
            mentioned = None
        shop = user.screen_name.lower()
        link = f"https://{shop}.com/collections/{slugify(svc.slug)}?utm_source=twitter"
        return Draft(text, "en", "ad", False, mentioned, links=[link])

    def bot_text(self, user: User, svc: Service) -> Draft:
        """The one spam text a bot account repeats (chosen once per bot)."""
        if not user.spam:
            slots = self._slots(user, svc, "en")
            user.spam = expand(pick(self.rng, en.BOT_SPAM), slots, self.rng)
            user.extra["spam_service"] = (
                "tesla"
                if "Tesla" in user.spam
                else "roblox"
                if "robux" in user.spam
                else svc.slug
                if svc.names[1] in user.spam or svc.names[0] in user.spam
                else None
            )
        link = f"https://bit.ly/{self.rng.getrandbits(40):x}"
        return Draft(user.spam, "en", "bot", False, user.extra.get("spam_service"), links=[link])

    def ticker(self, when: datetime, price: float) -> Draft:
        """An automated stock-ticker post (a bot; the word 'down' here is not an outage)."""
        move = self.rng.uniform(-3.5, 3.0)
        arrow = "▲" if move >= 0 else "▼"
        word = "up" if move >= 0 else "down"
        text = pick(
            self.rng,
            (
                f"$TSLA {price:,.2f} {arrow} {move:+.2f}% | {when:%H:%M} UTC #Tesla #stocks",
                f"Tesla (TSLA) is {word} {abs(move):.1f}% today, trading at ${price:,.2f} #TSLA",
            ),
        )
        return Draft(text, "en", "bot", False, "tesla")

    def reply_chatter(self, user: User, svc: Service | None) -> Draft:
        """Reply small talk; the record builder prepends the @mention of the parent."""
        if user.role == "brand":
            text = pick(
                self.rng,
                (
                    "Hi there, sorry to hear that! Please send us a DM with your account email and "
                    "we'll take a look.",
                    "We're sorry for the trouble. Can you DM us more details?",
                    "Thanks for reaching out. We'd like to help, please check your DMs.",
                    "Hey! We're aware some customers are having issues and our team is on it.",
                ),
            )
            return Draft(text, "en", "reply_chatter", False, svc.slug if svc else None)
        lang = user.lang
        if lang == "en" or self.rng.random() < 0.6:
            text, lang = pick(self.rng, en.REPLY_CHATTER), "en"
        else:
            text = {
                "de": "haha genau",
                "es": "jajaja totalmente",
                "fr": "mdr grave",
                "pt": "kkkkk verdade",
                "it": "ahah vero",
                "ja": "それな",
                "ko": "ㅋㅋㅋ 인정",
                "nl": "haha precies",
                "no": "haha enig",
            }.get(lang, "lol")
        return Draft(
            self.finish(text, lang), lang, "reply_chatter", False, svc.slug if svc else None
        )

    def quote_comment(self, user: User, quoted_is_outage: bool, svc: Service | None) -> Draft:
        """The text someone adds when quote-tweeting another post."""
        rng = self.rng
        if quoted_is_outage and svc is not None and rng.random() < 0.7:
            text = pick(
                rng,
                (
                    "same here",
                    "same",
                    "this. exactly this.",
                    "same thing here {loc}",
                    "yep, {svc} is down for me too",
                    "can confirm, same issue",
                    "happening to me too {tail}",
                    "glad it's not just me",
                ),
            )
            slots = (
                self._tesla_slots(user, datetime(2021, 11, 19))
                if svc.slug == "tesla"
                else self._slots(user, svc, "en")
            )
            slots.setdefault("loc", "here")
            slots["svc"] = self.svc_name(svc, "en")
            return Draft(
                self.finish(expand(text, slots, rng), "en"),
                "en",
                "outage_complaint",
                True,
                svc.slug,
                "down_unavailable",
            )
        text = pick(
            rng,
            (
                "lmao",
                "😂😂😂",
                "this is so true",
                "can't make this up",
                "wild",
                "ok this is funny",
                "👀",
                "hmm",
                "big if true",
                "not surprised tbh",
            ),
        )
        intent = "joke" if any(c in text for c in "😂l") else "reply_chatter"
        return Draft(self.finish(text, "en"), "en", intent, False, svc.slug if svc else None)

    @staticmethod
    def shift(when: datetime, seconds: float) -> datetime:
        """Return ``when`` moved by ``seconds`` (a helper for follow-up posts)."""
        return when + timedelta(seconds=seconds)
