"""Where the synthetic writers live: regions, cities, profile locations and place objects.

``Region.utc_offset`` is the offset in force in November 2021 (northern winter, southern summer).
Profile locations are free text the way people fill them in; place objects follow Twitter's v1.1
shape with GeoJSON ``[lon, lat]`` order in bounding boxes.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from samplegen.grammar import pick

__all__ = ["REGIONS", "City", "Region", "location_text", "place_object", "point_near"]


@dataclass(frozen=True, slots=True)
class City:
    """A city writers live in; ``aliases`` are extra ways people write it in profiles."""

    name: str
    admin: str
    admin_name: str
    lat: float
    lon: float
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Region:
    """A population of writers sharing a country, time zone and language mix."""

    key: str
    country: str
    country_name: str
    utc_offset: float
    weight: float
    langs: tuple[tuple[str, float], ...]
    tesla: float
    cities: tuple[City, ...]
    flag: str = ""


def _c(name: str, admin: str, admin_name: str, lat: float, lon: float, *aliases: str) -> City:
    return City(name, admin, admin_name, lat, lon, aliases)


REGIONS: tuple[Region, ...] = (
    Region(
        "us_pacific",
        "US",
        "United States",
        -8,
        17.0,
        (("en", 0.93), ("es", 0.07)),
        3.0,
        (
            _c("San Francisco", "CA", "California", 37.7749, -122.4194, "SF", "Bay Area", "sf ☁️"),
            _c("Oakland", "CA", "California", 37.8044, -122.2712, "Bay Area", "The Town"),
            _c("San Jose", "CA", "California", 37.3382, -121.8863, "Silicon Valley", "South Bay"),
            _c("Fremont", "CA", "California", 37.5485, -121.9886, "Bay Area"),
            _c("Los Angeles", "CA", "California", 34.0522, -118.2437, "LA", "Los Angeles 🌴"),
            _c("San Diego", "CA", "California", 32.7157, -117.1611, "SD", "sunny San Diego"),
            _c("Irvine", "CA", "California", 33.6846, -117.8265, "OC", "Orange County"),
            _c("Sacramento", "CA", "California", 38.5816, -121.4944, "Sactown"),
            _c("Seattle", "WA", "Washington", 47.6062, -122.3321, "PNW", "Seattle ☔"),
            _c("Portland", "OR", "Oregon", 45.5152, -122.6784, "PDX", "PNW"),
            _c("Las Vegas", "NV", "Nevada", 36.1699, -115.1398, "Vegas"),
        ),
    ),
    Region(
        "us_mountain",
        "US",
        "United States",
        -7,
        4.0,
        (("en", 1.0),),
        1.5,
        (
            _c("Denver", "CO", "Colorado", 39.7392, -104.9903, "Mile High City"),
            _c("Boulder", "CO", "Colorado", 40.0150, -105.2705),
            _c("Salt Lake City", "UT", "Utah", 40.7608, -111.8910, "SLC"),
            _c("Phoenix", "AZ", "Arizona", 33.4484, -112.0740, "PHX"),
            _c("Scottsdale", "AZ", "Arizona", 33.4942, -111.9261),
        ),
    ),
    Region(
        "us_central",
        "US",
        "United States",
        -6,
        12.0,
        (("en", 0.92), ("es", 0.08)),
        1.4,
        (
            _c("Austin", "TX", "Texas", 30.2672, -97.7431, "ATX", "Austin, Texas 🤠"),
            _c("Houston", "TX", "Texas", 29.7604, -95.3698, "H-Town", "HTX"),
            _c("Dallas", "TX", "Texas", 32.7767, -96.7970, "DFW"),
            _c("San Antonio", "TX", "Texas", 29.4241, -98.4936, "SATX"),
            _c("Chicago", "IL", "Illinois", 41.8781, -87.6298, "Chicagoland", "Chi-town"),
            _c("Minneapolis", "MN", "Minnesota", 44.9778, -93.2650, "Twin Cities"),
            _c("Kansas City", "MO", "Missouri", 39.0997, -94.5786, "KC"),
            _c("Nashville", "TN", "Tennessee", 36.1627, -86.7816, "Music City"),
            _c("New Orleans", "LA", "Louisiana", 29.9511, -90.0715, "NOLA"),
        ),
    ),
    Region(
        "us_eastern",
        "US",
        "United States",
        -5,
        22.0,
        (("en", 0.94), ("es", 0.06)),
        1.2,
        (
            _c("New York", "NY", "New York", 40.7128, -74.0060, "NYC", "Brooklyn, NY", "Queens"),
            _c("Boston", "MA", "Massachusetts", 42.3601, -71.0589, "Boston 🦞"),
            _c("Philadelphia", "PA", "Pennsylvania", 39.9526, -75.1652, "Philly"),
            _c("Pittsburgh", "PA", "Pennsylvania", 40.4406, -79.9959, "Pgh"),
            _c("Washington", "DC", "District of Columbia", 38.9072, -77.0369, "DC", "DMV"),
            _c("Miami", "FL", "Florida", 25.7617, -80.1918, "Miami 🌴", "South Florida"),
            _c("Orlando", "FL", "Florida", 28.5383, -81.3792),
            _c("Tampa", "FL", "Florida", 27.9506, -82.4572, "Tampa Bay"),
            _c("Atlanta", "GA", "Georgia", 33.7490, -84.3880, "ATL", "the A 🍑"),
            _c("Savannah", "GA", "Georgia", 32.0809, -81.0912),
            _c("Marietta", "GA", "Georgia", 33.9526, -84.5499),
            _c("Athens", "GA", "Georgia", 33.9519, -83.3576, "Athens GA 🐶"),
            _c("Charlotte", "NC", "North Carolina", 35.2271, -80.8431, "CLT"),
            _c("Raleigh", "NC", "North Carolina", 35.7796, -78.6382, "the Triangle"),
            _c("Richmond", "VA", "Virginia", 37.5407, -77.4360, "RVA"),
            _c("Columbus", "OH", "Ohio", 39.9612, -82.9988),
            _c("Detroit", "MI", "Michigan", 42.3314, -83.0458, "the D", "Metro Detroit"),
            _c("Newark", "NJ", "New Jersey", 40.7357, -74.1724, "North Jersey", "NJ"),
        ),
    ),
    Region(
        "ca_east",
        "CA",
        "Canada",
        -5,
        3.0,
        (("en", 0.8), ("fr", 0.2)),
        1.6,
        (
            _c("Toronto", "ON", "Ontario", 43.6532, -79.3832, "the 6ix", "GTA"),
            _c("Ottawa", "ON", "Ontario", 45.4215, -75.6972),
            _c("Montréal", "QC", "Québec", 45.5017, -73.5673, "Montreal", "MTL"),
            _c("Mississauga", "ON", "Ontario", 43.5890, -79.6441, "GTA"),
        ),
        "🇨🇦",
    ),
    Region(
        "ca_west",
        "CA",
        "Canada",
        -8,
        1.5,
        (("en", 1.0),),
        1.8,
        (
            _c("Vancouver", "BC", "British Columbia", 49.2827, -123.1207, "Van", "YVR"),
            _c("Calgary", "AB", "Alberta", 51.0447, -114.0719, "YYC"),
            _c("Edmonton", "AB", "Alberta", 53.5461, -113.4938, "YEG"),
        ),
        "🇨🇦",
    ),
    Region(
        "gb",
        "GB",
        "United Kingdom",
        0,
        6.0,
        (("en", 1.0),),
        1.0,
        (
            _c("London", "ENG", "England", 51.5074, -0.1278, "London, England", "Ldn"),
            _c("Manchester", "ENG", "England", 53.4808, -2.2426, "Manc"),
            _c("Birmingham", "ENG", "England", 52.4862, -1.8904, "Brum"),
            _c("Leeds", "ENG", "England", 53.8008, -1.5491),
            _c("Glasgow", "SCT", "Scotland", 55.8642, -4.2518),
            _c("Edinburgh", "SCT", "Scotland", 55.9533, -3.1883),
            _c("Bristol", "ENG", "England", 51.4545, -2.5879),
        ),
        "🇬🇧",
    ),
    Region(
        "ie",
        "IE",
        "Ireland",
        0,
        0.8,
        (("en", 1.0),),
        0.9,
        (
            _c("Dublin", "L", "Leinster", 53.3498, -6.2603, "Dublin, Ireland ☘️"),
            _c("Cork", "M", "Munster", 51.8985, -8.4756),
        ),
        "🇮🇪",
    ),
    Region(
        "de",
        "DE",
        "Germany",
        1,
        3.5,
        (("de", 0.72), ("en", 0.28)),
        1.0,
        (
            _c("Berlin", "BE", "Berlin", 52.5200, 13.4050, "Berlin, Deutschland"),
            _c("München", "BY", "Bayern", 48.1351, 11.5820, "Munich", "Muenchen"),
            _c("Hamburg", "HH", "Hamburg", 53.5511, 9.9937),
            _c("Köln", "NW", "Nordrhein-Westfalen", 50.9375, 6.9603, "Cologne", "Koeln"),
            _c("Frankfurt", "HE", "Hessen", 50.1109, 8.6821, "Frankfurt am Main"),
            _c("Stuttgart", "BW", "Baden-Württemberg", 48.7758, 9.1829),
        ),
        "🇩🇪",
    ),
    Region(
        "no",
        "NO",
        "Norway",
        1,
        1.2,
        (("no", 0.55), ("en", 0.45)),
        6.0,
        (
            _c("Oslo", "03", "Oslo", 59.9139, 10.7522, "Oslo, Norge"),
            _c("Bergen", "46", "Vestland", 60.3913, 5.3221),
            _c("Trondheim", "50", "Trøndelag", 63.4305, 10.3951),
            _c("Stavanger", "11", "Rogaland", 58.9690, 5.7331),
        ),
        "🇳🇴",
    ),
    Region(
        "nl",
        "NL",
        "Netherlands",
        1,
        1.5,
        (("nl", 0.5), ("en", 0.5)),
        3.0,
        (
            _c("Amsterdam", "NH", "Noord-Holland", 52.3676, 4.9041, "Adam", "Amsterdam, Nederland"),
            _c("Rotterdam", "ZH", "Zuid-Holland", 51.9244, 4.4777),
            _c("Utrecht", "UT", "Utrecht", 52.0907, 5.1214),
            _c("Den Haag", "ZH", "Zuid-Holland", 52.0705, 4.3007, "The Hague"),
            _c("Eindhoven", "NB", "Noord-Brabant", 51.4416, 5.4697),
        ),
        "🇳🇱",
    ),
    Region(
        "fr",
        "FR",
        "France",
        1,
        2.5,
        (("fr", 0.8), ("en", 0.2)),
        0.6,
        (
            _c("Paris", "IDF", "Île-de-France", 48.8566, 2.3522, "Paris, France", "Paname"),
            _c("Lyon", "ARA", "Auvergne-Rhône-Alpes", 45.7640, 4.8357),
            _c("Marseille", "PAC", "Provence-Alpes-Côte d'Azur", 43.2965, 5.3698),
            _c("Toulouse", "OCC", "Occitanie", 43.6047, 1.4442),
        ),
        "🇫🇷",
    ),
    Region(
        "es",
        "ES",
        "Spain",
        1,
        2.0,
        (("es", 0.85), ("en", 0.15)),
        0.5,
        (
            _c("Madrid", "MD", "Comunidad de Madrid", 40.4168, -3.7038, "Madrid, España"),
            _c("Barcelona", "CT", "Cataluña", 41.3851, 2.1734, "BCN"),
            _c("Valencia", "VC", "Comunidad Valenciana", 39.4699, -0.3763),
            _c("Sevilla", "AN", "Andalucía", 37.3891, -5.9845),
        ),
        "🇪🇸",
    ),
    Region(
        "it",
        "IT",
        "Italy",
        1,
        1.5,
        (("it", 0.8), ("en", 0.2)),
        0.4,
        (
            _c("Milano", "MI", "Lombardia", 45.4642, 9.1900, "Milan"),
            _c("Roma", "RM", "Lazio", 41.9028, 12.4964, "Rome"),
            _c("Torino", "TO", "Piemonte", 45.0703, 7.6869),
            _c("Napoli", "NA", "Campania", 40.8518, 14.2681),
        ),
        "🇮🇹",
    ),
    Region(
        "mx",
        "MX",
        "Mexico",
        -6,
        2.0,
        (("es", 0.88), ("en", 0.12)),
        0.3,
        (
            _c("Ciudad de México", "CMX", "Ciudad de México", 19.4326, -99.1332, "CDMX"),
            _c("Guadalajara", "JAL", "Jalisco", 20.6597, -103.3496, "GDL"),
            _c("Monterrey", "NLE", "Nuevo León", 25.6866, -100.3161, "MTY"),
        ),
        "🇲🇽",
    ),
    Region(
        "ar",
        "AR",
        "Argentina",
        -3,
        0.8,
        (("es", 0.95), ("en", 0.05)),
        0.1,
        (
            _c("Buenos Aires", "C", "Ciudad Autónoma de Buenos Aires", -34.6037, -58.3816, "BsAs"),
            _c("Córdoba", "X", "Córdoba", -31.4201, -64.1888),
        ),
        "🇦🇷",
    ),
    Region(
        "br",
        "BR",
        "Brazil",
        -3,
        3.5,
        (("pt", 0.9), ("en", 0.1)),
        0.1,
        (
            _c("São Paulo", "SP", "São Paulo", -23.5505, -46.6333, "Sampa", "SP"),
            _c("Rio de Janeiro", "RJ", "Rio de Janeiro", -22.9068, -43.1729, "Rio", "RJ"),
            _c("Belo Horizonte", "MG", "Minas Gerais", -19.9167, -43.9345, "BH"),
            _c("Curitiba", "PR", "Paraná", -25.4284, -49.2733),
        ),
        "🇧🇷",
    ),
    Region(
        "pt",
        "PT",
        "Portugal",
        0,
        0.5,
        (("pt", 0.85), ("en", 0.15)),
        0.5,
        (
            _c("Lisboa", "11", "Lisboa", 38.7223, -9.1393, "Lisbon"),
            _c("Porto", "13", "Porto", 41.1579, -8.6291),
        ),
        "🇵🇹",
    ),
    Region(
        "jp",
        "JP",
        "Japan",
        9,
        4.0,
        (("ja", 0.92), ("en", 0.08)),
        0.2,
        (
            _c("東京", "13", "東京都", 35.6762, 139.6503, "東京都 渋谷区", "Tokyo", "東京都"),
            _c("大阪", "27", "大阪府", 34.6937, 135.5023, "大阪市", "Osaka"),
            _c("横浜", "14", "神奈川県", 35.4437, 139.6380, "神奈川", "Yokohama"),
            _c("福岡", "40", "福岡県", 33.5904, 130.4017, "福岡市"),
        ),
        "🇯🇵",
    ),
    Region(
        "kr",
        "KR",
        "Republic of Korea",
        9,
        2.5,
        (("ko", 0.82), ("en", 0.18)),
        2.5,
        (
            _c("Seoul", "11", "Seoul", 37.5665, 126.9780, "서울", "서울특별시", "Seoul, Korea"),
            _c("Busan", "26", "Busan", 35.1796, 129.0756, "부산"),
            _c("Incheon", "28", "Incheon", 37.4563, 126.7052, "인천"),
            _c("Seongnam", "41", "Gyeonggi-do", 37.4200, 127.1265, "분당", "판교"),
        ),
        "🇰🇷",
    ),
    Region(
        "au_east",
        "AU",
        "Australia",
        11,
        2.5,
        (("en", 1.0),),
        1.3,
        (
            _c("Sydney", "NSW", "New South Wales", -33.8688, 151.2093, "Sydney, NSW", "Syd"),
            _c("Melbourne", "VIC", "Victoria", -37.8136, 144.9631, "Melbourne, Victoria", "Melb"),
            _c("Canberra", "ACT", "Australian Capital Territory", -35.2809, 149.1300),
            _c("Brisbane", "QLD", "Queensland", -27.4698, 153.0251, "Brissy"),
        ),
        "🇦🇺",
    ),
    Region(
        "au_west",
        "AU",
        "Australia",
        8,
        0.4,
        (("en", 1.0),),
        1.3,
        (_c("Perth", "WA", "Western Australia", -31.9505, 115.8605, "Perth, WA"),),
        "🇦🇺",
    ),
    Region(
        "in",
        "IN",
        "India",
        5.5,
        2.0,
        (("en", 1.0),),
        0.05,
        (
            _c("Bengaluru", "KA", "Karnataka", 12.9716, 77.5946, "Bangalore", "Blr"),
            _c("Mumbai", "MH", "Maharashtra", 19.0760, 72.8777, "Bombay"),
            _c("New Delhi", "DL", "Delhi", 28.6139, 77.2090, "Delhi"),
            _c("Hyderabad", "TG", "Telangana", 17.3850, 78.4867),
        ),
        "🇮🇳",
    ),
)

_WHIMSICAL = (
    "somewhere over the rainbow",
    "Earth",
    "Planet Earth 🌍",
    "in my head",
    "the void",
    "Mars 🚀",
    "she/her",
    "he/him",
    "they/them",
    "wherever the wifi is",
    "Hogwarts",
    "the internet",
    "your mom's house",
    "🌎",
    "The Matrix",
    "location: vibes",
    "worldwide",
    "on the road",
    "Gotham",
    "127.0.0.1",
    "behind you",
    "moon 🌙",
    "hell",
    "Tatooine",
    "global citizen",
    "everywhere & nowhere",
)
_FLAG_FORMATS = ("{flag} {city}", "{city} {flag}", "{flag}")


def location_text(city: City, region: Region, rng: random.Random) -> str | None:
    """Return a profile ``location`` as someone in ``city`` would type it (maybe empty or null)."""
    roll = rng.random()
    if roll < 0.10:
        return None
    if roll < 0.20:
        return ""
    if roll < 0.26:
        return pick(rng, _WHIMSICAL)
    if region.country == "US":
        formats = [
            "{city}, {admin}",
            "{city}, {admin}",
            "{city}, {admin}",
            "{city}, {admin_name}",
            "{city}",
            "{admin_name}, USA",
            "{city}, {admin} USA",
            "{admin_name}",
            "{city} 📍",
        ]
    elif region.country in ("CA", "AU"):
        formats = [
            "{city}, {admin}",
            "{city}, {admin}",
            "{city}",
            "{city}, {country}",
            "{admin_name}, {country}",
        ]
    elif region.country == "JP":
        formats = ["{city}", "{admin_name}", "日本 {city}", "Japan"]
    elif region.country == "KR":
        formats = [
            "{city}, Republic of Korea",
            "{city}",
            "{city}, South Korea",
            "대한민국 {city}",
            "Korea",
        ]
    else:
        formats = ["{city}, {country}", "{city}", "{city}", "{country}"]
    if region.flag:
        formats.extend(_FLAG_FORMATS)
    fmt = pick(rng, formats)
    name = city.name
    if city.aliases and rng.random() < 0.3:
        name = pick(rng, city.aliases)
        if "," in name:
            return name
    text = fmt.format(
        city=name,
        admin=city.admin,
        admin_name=city.admin_name,
        country=region.country_name,
        flag=region.flag,
    )
    return text.strip()


def point_near(city: City, rng: random.Random) -> tuple[float, float]:
    """Return ``(lon, lat)`` within a few kilometres of ``city`` (GeoJSON order)."""
    lon = round(city.lon + rng.uniform(-0.08, 0.08), 8)
    lat = round(city.lat + rng.uniform(-0.06, 0.06), 8)
    return lon, lat


def _place_id(full_name: str) -> str:
    return hashlib.sha1(full_name.encode()).hexdigest()[:16]


def place_object(city: City, region: Region, place_type: str) -> dict[str, Any]:
    """Return a v1.1 ``place`` object for ``city`` at ``place_type`` (city, admin or country)."""
    if place_type == "city":
        name = city.name
        if region.country in ("US", "CA", "AU"):
            full_name = f"{city.name}, {city.admin}"
        else:
            full_name = f"{city.name}, {region.country_name}"
        half_lon, half_lat = 0.18, 0.14
        lon, lat = city.lon, city.lat
    elif place_type == "admin":
        name = city.admin_name
        suffix = "USA" if region.country == "US" else region.country_name
        full_name = f"{city.admin_name}, {suffix}"
        half_lon, half_lat = 2.5, 1.8
        lon, lat = city.lon, city.lat
    else:
        name = full_name = region.country_name
        half_lon, half_lat = 6.0, 4.5
        lon, lat = city.lon, city.lat
    west, east = round(lon - half_lon, 6), round(lon + half_lon, 6)
    south, north = round(lat - half_lat, 6), round(lat + half_lat, 6)
    pid = _place_id(f"{place_type}|{full_name}")
    return {
        "id": pid,
        "url": f"https://api.twitter.com/1.1/geo/id/{pid}.json",
        "place_type": place_type,
        "name": name,
        "full_name": full_name,
        "country_code": region.country,
        "country": region.country_name,
        "bounding_box": {
            "type": "Polygon",
            "coordinates": [[[west, south], [west, north], [east, north], [east, south]]],
        },
        "attributes": {},
    }
