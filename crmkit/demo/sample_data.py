"""Deterministic, realistic sample data for the crmkit demo.

The demo CRM needs data that looks like a real customer base when it is browsed: people with
international names whose email addresses match their names, organizations with believable
names and web domains, addresses whose cities, regions and postal codes fit together, phone
numbers that are valid for the contact's country, and a history of interactions across all
channels.  This module produces exactly that as plain immutable objects; putting them into a
CRM is left to the caller.

Design choices:

* Everything is drawn from one :class:`random.Random` seeded by the caller, and the reference
  time defaults to a fixed instant, so the same arguments always give the same data set (the
  demo and its tests must not depend on the clock or on the global random state).
* The word lists are shipped here instead of using a data package such as Faker, which keeps
  the demo free of extra dependencies and its output stable across library upgrades.
* Contact data only uses ranges reserved for documentation or fiction where such ranges exist:
  web and email domains end in ``.example`` (RFC 2606) and phone numbers in North America, the
  United Kingdom and Australia come from the blocks set aside for drama.  Elsewhere numbers are
  random within ranges the ``phonenumbers`` library accepts as valid for that country.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple, TypeVar

import attrs

__all__ = [
    "DEFAULT_NOW",
    "HISTORY_WINDOW",
    "SampleContact",
    "SampleDataSet",
    "SampleInteraction",
    "SampleOrganization",
    "generate",
]

#: Reference instant used when :func:`generate` is called without ``now``; fixed so that the
#: generated data never depends on when it is generated.
DEFAULT_NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)

#: How far back interaction histories reach from the reference instant (two years).
HISTORY_WINDOW = dt.timedelta(days=730)

_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------


@attrs.define(frozen=True)
class SampleOrganization:
    """A company in the sample data set.

    ``key`` is stable for a given seed (``"org-001"``, ``"org-002"``, ...) so that callers can
    link contacts to organizations before any database identifiers exist.
    """

    key: str
    name: str
    domain: str
    industry: str
    size: int
    street: str
    city: str
    postal_code: str
    region: str
    country: str


@attrs.define(frozen=True)
class SampleContact:
    """A person in the sample data set.

    ``phone`` is valid for ``country`` and written as people type it (national or international
    format); ``email`` is unique in the data set and on the organization's domain when the
    contact belongs to one.  ``role`` describes the contact's part in the customer relationship
    (e.g. ``"Buyer"``) and is ``None`` for contacts without an organization.
    """

    key: str
    first_name: str
    last_name: str
    email: str
    phone: str
    street: str
    city: str
    postal_code: str
    region: str
    country: str
    birth_date: dt.date | None
    job_title: str
    tags: tuple[str, ...]
    source: str
    owner: str
    organization_key: str | None
    role: str | None


@attrs.define(frozen=True)
class SampleInteraction:
    """One touch point with a contact: an email, a call, a web visit, a meeting, ...

    ``occurred_at`` is timezone-aware UTC.  ``payload`` holds a few channel-specific details,
    e.g. ``{"subject": ...}`` for emails or ``{"duration_s": 240}`` for phone calls.
    """

    contact_key: str
    channel: str
    direction: str
    kind: str
    occurred_at: dt.datetime
    summary: str
    payload: dict[str, str | int]


@attrs.define(frozen=True)
class SampleDataSet:
    """The complete output of :func:`generate`.

    Interactions are grouped by contact (in contact order) and sorted by time within each
    contact.
    """

    organizations: tuple[SampleOrganization, ...]
    contacts: tuple[SampleContact, ...]
    interactions: tuple[SampleInteraction, ...]


# --------------------------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------------------------
#
# Pattern characters used in postal code and phone number templates:
#   "#" any digit, "%" a digit from 2 to 9, "@" a letter valid in every postal code scheme used
#   here (UK, Canada, Netherlands, Irish Eircode).  Everything else is copied literally.

_POSTAL_LETTERS = "AEHNPRTX"
_DIGITS = "0123456789"
_HIGH_DIGITS = "23456789"


class _City(NamedTuple):
    name: str
    region: str
    postal_codes: tuple[str, ...]
    phones: tuple[str, ...]
    """National-format templates for landlines in this city."""
    streets: tuple[str, ...] = ()
    """Overrides the country's street names (e.g. French streets in Montréal)."""


class _Country(NamedTuple):
    code: str
    weight: int
    locales: tuple[tuple[str, int], ...]
    calling_code: str
    trunk_prefix: str
    street_style: str
    max_house_number: int
    streets: tuple[str, ...]
    legal_suffixes: tuple[str, ...]
    mobiles: tuple[str, ...]
    """National-format templates for mobile numbers (empty: only landlines are generated)."""
    currency: str
    utc_offset: int
    """Approximate standard-time offset, used to put meetings and calls in office hours."""
    cities: tuple[_City, ...]


_NANP_STREETS = (
    "Main Street", "Market Street", "Oak Avenue", "Maple Avenue", "Washington Street",
    "Pine Street", "Cedar Lane", "Elm Street", "Lake Street", "Broadway", "Park Avenue",
    "2nd Street", "Highland Drive", "Sunset Boulevard",
)

_COUNTRIES: tuple[_Country, ...] = (
    _Country(
        "US", 18, (("en", 8), ("es", 1), ("hi", 1)), "1", "", "num_name", 9899, _NANP_STREETS,
        ("Inc.", "LLC", "Corp."), (), "USD", -5,
        (
            _City("New York", "NY", ("100%#", "101##"),
                  ("(212) 555-01##", "(646) 555-01##", "(718) 555-01##")),
            _City("San Francisco", "CA", ("9410%", "9411#", "9412#"), ("(415) 555-01##",)),
            _City("Chicago", "IL", ("6060%", "6061#", "6062#", "6064#"),
                  ("(312) 555-01##", "(773) 555-01##")),
            _City("Austin", "TX", ("7870%", "7873#", "7874#"), ("(512) 555-01##",)),
            _City("Seattle", "WA", ("981%#",), ("(206) 555-01##",)),
            _City("Boston", "MA", ("021%#",), ("(617) 555-01##",)),
            _City("Denver", "CO", ("802%#",), ("(303) 555-01##", "(720) 555-01##")),
            _City("Atlanta", "GA", ("303%#",), ("(404) 555-01##",)),
            _City("Miami", "FL", ("331%#",), ("(305) 555-01##",)),
            _City("Portland", "OR", ("972%#",), ("(503) 555-01##",)),
        ),
    ),
    _Country(
        "CA", 5, (("en", 3), ("fr", 1)), "1", "", "num_name", 4999,
        ("King Street West", "Queen Street", "Main Street", "Church Street", "Bay Street",
         "Elm Avenue", "Wellington Street", "Richmond Road"),
        ("Inc.", "Ltd."), (), "CAD", -5,
        (
            _City("Toronto", "ON", ("M%@ #@#",), ("(416) 555-01##", "(647) 555-01##")),
            _City("Vancouver", "BC", ("V5@ #@#", "V6@ #@#"), ("(604) 555-01##",)),
            _City("Montréal", "QC", ("H%@ #@#",), ("(514) 555-01##",),
                  ("rue Sainte-Catherine Ouest", "boulevard Saint-Laurent", "rue Sherbrooke",
                   "avenue du Parc", "rue Notre-Dame")),
            _City("Calgary", "AB", ("T2@ #@#", "T3@ #@#"), ("(403) 555-01##",)),
            _City("Ottawa", "ON", ("K1@ #@#", "K2@ #@#"), ("(613) 555-01##",)),
        ),
    ),
    _Country(
        "GB", 10, (("en", 9), ("hi", 1)), "44", "0", "num_name", 240,
        ("High Street", "Station Road", "Church Street", "Victoria Road", "Mill Lane",
         "Park Road", "London Road", "Queen Street", "King Street", "The Green"),
        ("Ltd", "Ltd", "plc", "LLP"), (), "GBP", 0,
        (
            _City("London", "Greater London",
                  ("SW1A #@@", "EC2M #@@", "W1D #@@", "N1 #@@", "E1 #@@", "SE1 #@@"),
                  ("020 7946 0###",)),
            _City("Manchester", "Greater Manchester", ("M1 #@@", "M2 #@@", "M4 #@@", "M15 #@@"),
                  ("0161 496 0###",)),
            _City("Birmingham", "West Midlands", ("B1 #@@", "B2 #@@", "B15 #@@"),
                  ("0121 496 0###",)),
            _City("Edinburgh", "Scotland", ("EH1 #@@", "EH3 #@@", "EH8 #@@"),
                  ("0131 496 0###",)),
            _City("Glasgow", "Scotland", ("G1 #@@", "G2 #@@", "G12 #@@"), ("0141 496 0###",)),
            _City("Bristol", "South West England", ("BS1 #@@", "BS8 #@@"), ("0117 496 0###",)),
            _City("Leeds", "West Yorkshire", ("LS1 #@@", "LS2 #@@"), ("0113 496 0###",)),
            _City("Cardiff", "Wales", ("CF10 #@@", "CF24 #@@"), ("029 2018 0###",)),
            _City("Belfast", "Northern Ireland", ("BT1 #@@", "BT7 #@@"), ("028 9018 0###",)),
        ),
    ),
    _Country(
        "IE", 2, (("ie", 4), ("en", 1)), "353", "0", "num_name", 180,
        ("Main Street", "Church Street", "O'Connell Street", "Bridge Street", "Patrick Street",
         "Castle Street", "Station Road", "Mill Road"),
        ("Ltd", "DAC"), ("085 %## ####", "087 %## ####", "086 %## ####"), "EUR", 0,
        (
            _City("Dublin", "Dublin", ("D0% @#@#", "D1% @###"), ("01 %## ####",)),
            _City("Cork", "Cork", ("T12 @#@#", "T23 @###"), ("021 %## ####",)),
            _City("Galway", "Galway", ("H91 @#@#",), ("091 %## ###",)),
            _City("Limerick", "Limerick", ("V94 @###",), ("061 %## ###",)),
        ),
    ),
    _Country(
        "DE", 10, (("de", 12), ("tr", 1)), "49", "0", "name_num", 160,
        ("Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schulstraße", "Lindenstraße",
         "Goethestraße", "Kirchweg", "Am Markt", "Friedrichstraße", "Industriestraße"),
        ("GmbH", "GmbH", "AG", "GmbH & Co. KG"),
        ("0151 %#######", "0160 %######", "0170 %######", "0176 %#######"), "EUR", 1,
        (
            _City("Berlin", "Berlin", ("10%##", "12%##"), ("030 %#######",)),
            _City("München", "Bayern", ("80%##", "81%##"), ("089 %######",)),
            _City("Hamburg", "Hamburg", ("20%##", "22%##"), ("040 %#######",)),
            _City("Köln", "Nordrhein-Westfalen", ("50%##", "51%##"), ("0221 %######",)),
            _City("Frankfurt am Main", "Hessen", ("60%##",), ("069 %#######",)),
            _City("Stuttgart", "Baden-Württemberg", ("70%##",), ("0711 %######",)),
            _City("Leipzig", "Sachsen", ("04%##",), ("0341 %######",)),
        ),
    ),
    _Country(
        "AT", 2, (("de", 1),), "43", "0", "name_num", 120,
        ("Hauptplatz", "Bahnhofstraße", "Wiener Straße", "Kirchengasse", "Schillerstraße",
         "Mozartgasse", "Industriestraße", "Linzer Straße"),
        ("GmbH", "AG", "KG"), ("0664 %######", "0676 %######", "0650 %######"), "EUR", 1,
        (
            _City("Wien", "Wien", ("10%0", "11%0", "1210", "1220"), ("01 %######",)),
            _City("Graz", "Steiermark", ("801%", "802%", "804%"), ("0316 %#####",)),
            _City("Salzburg", "Salzburg", ("5020", "5023", "5026"), ("0662 %#####",)),
            _City("Linz", "Oberösterreich", ("4020", "4030", "4040"), ("0732 %#####",)),
            _City("Innsbruck", "Tirol", ("6020",), ("0512 %#####",)),
        ),
    ),
    _Country(
        "CH", 3, (("de", 4), ("it", 1), ("fr", 1)), "41", "0", "name_num", 120,
        ("Bahnhofstrasse", "Seestrasse", "Dorfstrasse", "Hauptstrasse", "Industriestrasse",
         "Kirchgasse", "Rosenweg", "Schulhausstrasse"),
        ("AG", "GmbH", "SA"), ("079 %## ## ##", "078 %## ## ##", "076 %## ## ##"), "CHF", 1,
        (
            _City("Zürich", "Zürich", ("800%", "80%#"), ("044 %## ## ##",)),
            _City("Basel", "Basel-Stadt", ("405%",), ("061 %## ## ##",)),
            _City("Bern", "Bern", ("300%", "301%"), ("031 %## ## ##",)),
            _City("Luzern", "Luzern", ("600%",), ("041 %## ## ##",)),
            _City("St. Gallen", "St. Gallen", ("900%",), ("071 %## ## ##",)),
        ),
    ),
    _Country(
        "FR", 7, (("fr", 10), ("ar", 1)), "33", "0", "num_name", 150,
        ("rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Gambetta",
         "rue Pasteur", "avenue de la Gare", "rue du Général de Gaulle", "place de la Mairie",
         "rue des Écoles", "quai des Marchands"),
        ("SAS", "SA", "SARL"),
        ("06 1# ## ## ##", "06 4# ## ## ##", "06 7# ## ## ##", "06 8# ## ## ##", "07 6# ## ## ##",
         "07 8# ## ## ##"),
        "EUR", 1,
        (
            _City("Paris", "Île-de-France", ("7500%", "7501#"), ("01 4# ## ## ##",)),
            _City("Lyon", "Auvergne-Rhône-Alpes", ("6900%",), ("04 7# ## ## ##",)),
            _City("Marseille", "Provence-Alpes-Côte d'Azur", ("1300%", "1301#"),
                  ("04 91 ## ## ##",)),
            _City("Toulouse", "Occitanie", ("31000", "31100", "31200", "31300", "31400"),
                  ("05 61 ## ## ##",)),
            _City("Bordeaux", "Nouvelle-Aquitaine", ("33000", "33100", "33200", "33300"),
                  ("05 56 ## ## ##",)),
            _City("Lille", "Hauts-de-France", ("59000", "59160", "59260", "59800"),
                  ("03 20 ## ## ##",)),
            _City("Nantes", "Pays de la Loire", ("44000", "44100", "44200", "44300"),
                  ("02 40 ## ## ##",)),
        ),
    ),
    _Country(
        "BE", 2, (("nl", 3), ("fr", 2)), "32", "0", "name_num", 180,
        ("Kerkstraat", "Stationsstraat", "Molenstraat", "Dorpstraat", "Nieuwstraat",
         "Kapelstraat", "Schoolstraat", "Meir"),
        ("NV", "BV", "SRL"), ("0470 ## ## ##", "0475 ## ## ##", "0496 ## ## ##"), "EUR", 1,
        (
            _City("Brussel", "Brussels-Capital", ("10%0",),
                  ("02 2## ## ##", "02 5## ## ##", "02 7## ## ##"),
                  ("Rue de la Loi", "Avenue Louise", "Boulevard Anspach", "Rue Royale",
                   "Chaussée de Wavre")),
            _City("Antwerpen", "Flanders", ("2000", "2018", "2060", "2140", "2600"),
                  ("03 2## ## ##", "03 4## ## ##")),
            _City("Gent", "Flanders", ("9000", "9030", "9040", "9050"),
                  ("09 2## ## ##", "09 3## ## ##")),
            _City("Leuven", "Flanders", ("3000", "3001", "3010"), ("016 %# ## ##",)),
            _City("Liège", "Wallonia", ("4000", "4020", "4030"), ("04 2## ## ##", "04 3## ## ##"),
                  ("Rue Saint-Gilles", "Boulevard d'Avroy", "Rue de la Cathédrale",
                   "Quai de Rome")),
        ),
    ),
    _Country(
        "NL", 4, (("nl", 8), ("tr", 1)), "31", "0", "name_num", 220,
        ("Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenweg", "Schoolstraat",
         "Julianastraat", "Wilhelminastraat", "Beatrixlaan", "Industrieweg", "Marktplein"),
        ("B.V.", "B.V.", "N.V."), ("06 1#######", "06 2#######", "06 4#######"), "EUR", 1,
        (
            _City("Amsterdam", "Noord-Holland", ("10%# @@",), ("020 %## ####",)),
            _City("Rotterdam", "Zuid-Holland", ("30%# @@",), ("010 %## ####",)),
            _City("Utrecht", "Utrecht", ("35%# @@",), ("030 %## ####",)),
            _City("Den Haag", "Zuid-Holland", ("25%# @@",), ("070 %## ####",)),
            _City("Eindhoven", "Noord-Brabant", ("56%# @@",), ("040 %## ####",)),
        ),
    ),
    _Country(
        "ES", 5, (("es", 1),), "34", "", "name_comma_num", 140,
        ("Calle Mayor", "Calle Real", "Avenida de la Constitución", "Plaza de España",
         "Calle de San Francisco", "Calle del Carmen", "Avenida de la Libertad",
         "Calle Nueva"),
        ("S.L.", "S.A."), ("6%# ### ###", "6%# ## ## ##"), "EUR", 1,
        (
            _City("Madrid", "Comunidad de Madrid", ("2800%", "2801#", "2802#", "2803#"),
                  ("91 %## ## ##",)),
            _City("Barcelona", "Cataluña", ("0800%", "0801#", "0802#", "0803#"),
                  ("93 %## ## ##",),
                  ("Carrer de Mallorca", "Passeig de Gràcia", "Carrer d'Aragó",
                   "Avinguda Diagonal", "Carrer de Balmes")),
            _City("Valencia", "Comunitat Valenciana", ("4600%", "4601#", "4602#"),
                  ("96 %## ## ##",)),
            _City("Sevilla", "Andalucía", ("4100%", "4101#"), ("954 ## ## ##",)),
            _City("Bilbao", "País Vasco", ("4800%", "4801#"), ("944 ## ## ##",)),
            _City("Zaragoza", "Aragón", ("5000%", "5001#"), ("976 ## ## ##",)),
        ),
    ),
    _Country(
        "PT", 2, (("pt", 1),), "351", "", "name_comma_num", 300,
        ("Rua da Liberdade", "Avenida da República", "Rua do Comércio", "Rua 25 de Abril",
         "Praça da República", "Rua Direita", "Rua de Santo António", "Avenida Central"),
        ("Lda.", "S.A."), ("91# ### ###", "93# ### ###", "96# ### ###"), "EUR", 0,
        (
            _City("Lisboa", "Lisboa",
                  ("1000-###", "1050-###", "1100-###", "1250-###", "1600-###"),
                  ("21 %## ####",)),
            _City("Porto", "Porto", ("4000-###", "4050-###", "4100-###", "4150-###"),
                  ("22 %## ####",)),
            _City("Braga", "Braga", ("4700-###", "4710-###"), ("253 %## ###",)),
            _City("Coimbra", "Coimbra", ("3000-###", "3030-###"), ("239 %## ###",)),
        ),
    ),
    _Country(
        "IT", 4, (("it", 1),), "39", "", "name_comma_num", 150,
        ("Via Roma", "Via Giuseppe Garibaldi", "Corso Italia", "Via Giuseppe Mazzini",
         "Via Dante Alighieri", "Piazza della Repubblica", "Via Giuseppe Verdi",
         "Corso Vittorio Emanuele II", "Via Cavour"),
        ("S.r.l.", "S.p.A."), ("33% ### ####", "34% ### ####", "32% ### ####"), "EUR", 1,
        (
            _City("Roma", "Lazio", ("0011%", "0013#", "0015#", "0018#"),
                  ("06 4### ####", "06 5### ####", "06 8### ####")),
            _City("Milano", "Lombardia", ("2012%", "2013#", "2014#", "2015#"),
                  ("02 %### ####",)),
            _City("Torino", "Piemonte", ("1012%", "1013#", "1014#"), ("011 %## ####",)),
            _City("Napoli", "Campania", ("8012%", "8013#", "8014#"), ("081 %## ####",)),
            _City("Firenze", "Toscana", ("5012%", "5013#", "5014#"), ("055 %## ####",)),
            _City("Bologna", "Emilia-Romagna", ("4012%", "4013#"), ("051 %## ####",)),
        ),
    ),
    _Country(
        "PL", 3, (("pl", 1),), "48", "", "name_num", 150,
        ("ul. Długa", "ul. Kościuszki", "ul. Mickiewicza", "ul. Słowackiego",
         "ul. Piłsudskiego", "al. Jana Pawła II", "ul. Polna", "ul. Lipowa", "ul. Ogrodowa"),
        ("Sp. z o.o.", "S.A."), ("50# ### ###", "60# ### ###", "69# ### ###", "79# ### ###"),
        "PLN", 1,
        (
            _City("Warszawa", "Mazowieckie", ("00-###", "01-###", "02-###", "03-###"),
                  ("22 %## ## ##",)),
            _City("Kraków", "Małopolskie", ("30-###", "31-###"), ("12 %## ## ##",)),
            _City("Wrocław", "Dolnośląskie", ("50-###", "51-###", "53-###"),
                  ("71 %## ## ##",)),
            _City("Gdańsk", "Pomorskie", ("80-###",), ("58 %## ## ##",)),
            _City("Poznań", "Wielkopolskie", ("60-###", "61-###"), ("61 %## ## ##",)),
            _City("Łódź", "Łódzkie", ("90-###", "91-###", "93-###"), ("42 %## ## ##",)),
        ),
    ),
    _Country(
        "SE", 2, (("nordic", 1),), "46", "0", "name_num", 90,
        ("Storgatan", "Drottninggatan", "Kungsgatan", "Skolgatan", "Järnvägsgatan",
         "Kyrkogatan", "Nygatan", "Industrivägen"),
        ("AB",), ("070-%## ## ##", "073-%## ## ##", "072-%## ## ##"), "SEK", 1,
        (
            _City("Stockholm", "Stockholms län", ("11# ##", "12# ##", "16# ##"),
                  ("08-%## ## ##",)),
            _City("Göteborg", "Västra Götalands län", ("41# ##",), ("031-%## ## ##",)),
            _City("Malmö", "Skåne län", ("21# ##",), ("040-%# ## ##",)),
            _City("Uppsala", "Uppsala län", ("75# ##",), ("018-%# ## ##",)),
        ),
    ),
    _Country(
        "DK", 1, (("nordic", 1),), "45", "", "name_num", 120,
        ("Vestergade", "Østergade", "Nørregade", "Søndergade", "Algade", "Stationsvej",
         "Skolevej", "Kirkevej", "Industrivej"),
        ("A/S", "ApS"), ("20 %# ## ##", "22 %# ## ##", "26 ## ## ##", "28 ## ## ##", "30 %# ## ##",
         "40 %# ## ##", "42 %# ## ##", "53 %# ## ##", "61 %# ## ##"), "DKK", 1,
        (
            _City("København", "Hovedstaden", ("1%%#", "2100", "2200", "2300"),
                  ("33 %# ## ##", "35 %# ## ##", "38 %# ## ##")),
            _City("Aarhus", "Midtjylland", ("8000", "8200", "8210", "8220"),
                  ("86 %# ## ##", "87 %# ## ##", "89 %# ## ##")),
            _City("Odense", "Syddanmark", ("5000", "5200", "5210", "5220"),
                  ("62 %# ## ##", "63 %# ## ##", "66 %# ## ##")),
        ),
    ),
    _Country(
        "NO", 1, (("nordic", 1),), "47", "", "name_num", 120,
        ("Storgata", "Kirkegata", "Kongens gate", "Strandgata", "Skolegata", "Industriveien",
         "Dronningens gate", "Parkveien"),
        ("AS", "ASA"), ("41# ## ###", "46# ## ###", "47# ## ###", "48# ## ###", "9%# ## ###"),
        "NOK", 1,
        (
            _City("Oslo", "Oslo", ("01%#", "02%#", "04%#", "05%#", "06%#"),
                  ("21 ## ## ##", "22 ## ## ##", "23 ## ## ##")),
            _City("Bergen", "Vestland", ("50%#",), ("55 %# ## ##",)),
            _City("Trondheim", "Trøndelag", ("70%#",), ("73 %# ## ##",)),
            _City("Stavanger", "Rogaland", ("40%#",), ("51 %# ## ##",)),
        ),
    ),
    _Country(
        "AU", 4, (("en", 8), ("zh", 1), ("hi", 1)), "61", "0", "num_name", 480,
        ("George Street", "Victoria Street", "King Street", "Elizabeth Street", "High Street",
         "Church Street", "Railway Parade", "Beach Road"),
        ("Pty Ltd",), ("0491 570 ###", "0491 571 ###"), "AUD", 10,
        (
            _City("Sydney", "NSW", ("2000", "2010", "2060", "2150"),
                  ("(02) 5550 ####", "(02) 7010 ####")),
            _City("Melbourne", "VIC", ("3000", "3004", "3121", "3181"),
                  ("(03) 5550 ####", "(03) 7010 ####")),
            _City("Brisbane", "QLD", ("4000", "4006", "4101"), ("(07) 5550 ####",)),
            _City("Perth", "WA", ("6000", "6005", "6050"), ("(08) 5550 ####",)),
            _City("Adelaide", "SA", ("5000", "5006", "5067"), ("(08) 7010 ####",)),
        ),
    ),
    _Country(
        "JP", 3, (("ja", 1),), "81", "0", "jp", 1,
        ("Chuo",),
        ("K.K.", "Co., Ltd."), ("090-%###-####", "080-%###-####", "070-%###-####"), "JPY", 9,
        (
            _City("Tokyo", "Tokyo", ("100-00##", "104-00##", "105-00##", "150-00##"),
                  ("03-%###-####",),
                  ("Marunouchi", "Shibuya", "Nihonbashi", "Shinjuku", "Roppongi", "Ginza")),
            _City("Osaka", "Osaka", ("530-00##", "541-00##", "542-00##"), ("06-%###-####",),
                  ("Umeda", "Namba", "Kitahama", "Shinsaibashi")),
            _City("Yokohama", "Kanagawa", ("220-00##", "231-00##"), ("045-%##-####",),
                  ("Minatomirai", "Kannai", "Sakuragicho")),
            _City("Nagoya", "Aichi", ("450-00##", "460-00##"), ("052-%##-####",),
                  ("Sakae", "Meieki", "Marunouchi")),
            _City("Fukuoka", "Fukuoka", ("810-00##", "812-00##"), ("092-%##-####",),
                  ("Tenjin", "Hakata Ekimae", "Daimyo")),
            _City("Sapporo", "Hokkaido", ("060-00##", "064-08##"), ("011-2##-####", "011-5##-####"),
                  ("Odori Nishi", "Kita Sanjo Nishi", "Susukino")),
        ),
    ),
    _Country(
        "BR", 3, (("pt", 1),), "55", "", "name_comma_num", 2999,
        ("Rua das Flores", "Avenida Brasil", "Rua XV de Novembro", "Rua Sete de Setembro",
         "Rua Santos Dumont", "Avenida Getúlio Vargas", "Rua Tiradentes", "Rua da Consolação"),
        ("Ltda.", "S.A."), (), "BRL", -3,
        (
            _City("São Paulo", "SP", ("01%##-###", "04%##-###"),
                  ("(11) 3%##-####", "(11) 9%###-####")),
            _City("Rio de Janeiro", "RJ", ("20%##-###", "22%##-###"),
                  ("(21) 2%##-####", "(21) 9%###-####")),
            _City("Belo Horizonte", "MG", ("30%##-###",), ("(31) 3%##-####", "(31) 9%###-####")),
            _City("Porto Alegre", "RS", ("90%##-###",), ("(51) 3%##-####", "(51) 9%###-####")),
            _City("Curitiba", "PR", ("80%##-###",), ("(41) 3%##-####", "(41) 9%###-####")),
            _City("Brasília", "DF", ("70%##-###",), ("(61) 3%##-####", "(61) 9%###-####")),
        ),
    ),
    _Country(
        "MX", 2, (("es", 1),), "52", "", "name_num", 2500,
        ("Avenida Juárez", "Calle Hidalgo", "Paseo de la Reforma", "Calle Morelos",
         "Avenida Insurgentes Sur", "Calle 5 de Mayo", "Avenida Revolución", "Calle Zaragoza"),
        ("S.A. de C.V.", "S. de R.L. de C.V."), (), "MXN", -6,
        (
            _City("Ciudad de México", "CDMX", ("0%#00", "11%00"), ("55 %### ####",)),
            _City("Guadalajara", "Jalisco", ("44%#0",), ("33 %### ####",)),
            _City("Monterrey", "Nuevo León", ("64%#0",), ("81 %### ####",)),
            _City("Puebla", "Puebla", ("72%#0",), ("222 %## ####",)),
        ),
    ),
    _Country(
        "IN", 4, (("hi", 1),), "91", "0", "num_name", 240,
        ("MG Road", "Station Road", "Nehru Street", "Park Street", "Church Road", "Link Road",
         "Ring Road", "Residency Road"),
        ("Pvt. Ltd.", "Ltd."), ("98### #####", "99### #####", "97### #####", "70### #####"),
        "INR", 5,
        (
            _City("Mumbai", "Maharashtra", ("4000##",), ("022 2### ####",)),
            _City("New Delhi", "Delhi", ("1100##",), ("011 2### ####", "011 4### ####")),
            _City("Bengaluru", "Karnataka", ("5600##",), ("080 2### ####", "080 4### ####")),
            _City("Chennai", "Tamil Nadu", ("6000##",), ("044 2### ####",)),
            _City("Hyderabad", "Telangana", ("5000##",), ("040 2### ####",)),
            _City("Pune", "Maharashtra", ("4110##",), ("020 2### ####",)),
        ),
    ),
    _Country(
        "ZA", 1, (("za", 3), ("en", 1), ("hi", 1)), "27", "0", "num_name", 300,
        ("Main Road", "Church Street", "Voortrekker Road", "Station Road", "Long Street",
         "Victoria Road", "Oxford Road", "Beach Road"),
        ("(Pty) Ltd",), ("082 ### ####", "083 ### ####", "072 ### ####"), "ZAR", 2,
        (
            _City("Johannesburg", "Gauteng", ("2001", "2193", "2196", "2000"),
                  ("011 %## ####",)),
            _City("Cape Town", "Western Cape", ("8001", "8005", "7700", "7800"),
                  ("021 %## ####",)),
            _City("Durban", "KwaZulu-Natal", ("4001", "4051", "4320"), ("031 %## ####",)),
            _City("Pretoria", "Gauteng", ("0002", "0083", "0181"), ("012 %## ####",)),
        ),
    ),
)

_COUNTRY_WEIGHTS = tuple(c.weight for c in _COUNTRIES)


# --------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------

# locale -> (first names, last names)
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        ("James", "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Oliver",
         "Charlotte", "Amelia", "Harper", "Benjamin", "Zoë", "Chloe", "Daniel", "Grace",
         "Samuel", "Hannah", "Aiden", "Aisha", "Marcus", "Rebecca", "Jack", "Evelyn", "Tyler"),
        ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
         "Taylor", "Anderson", "Thomas", "Moore", "Clark", "Walker", "Young", "Campbell",
         "Stewart", "Hughes", "Evans", "Robinson", "Wright", "Nguyen", "Okafor", "Bennett",
         "Foster", "Harris"),
    ),
    "ie": (
        ("Seán", "Aoife", "Conor", "Niamh", "Cian", "Siobhán", "Darragh", "Ciara", "Oisín",
         "Róisín", "Patrick", "Sinéad", "Ciarán", "Orla"),
        ("Murphy", "Kelly", "O'Sullivan", "Walsh", "O'Brien", "Byrne", "Ryan", "O'Connor",
         "O'Neill", "Doyle", "McCarthy", "Gallagher", "Kavanagh", "Fitzgerald"),
    ),
    "de": (
        ("Lukas", "Anna", "Jonas", "Lena", "Leon", "Marie", "Felix", "Sophie", "Maximilian",
         "Laura", "Jürgen", "Sabine", "Matthias", "Katrin", "Tobias", "Jörg", "Ursula",
         "Florian", "Lea", "Niklas", "Bärbel", "Stefan"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
         "Braun", "Zimmermann", "Krüger", "Hofmann", "Gruber", "Huber", "Weiß", "Brandt"),
    ),
    "fr": (
        ("Camille", "Léa", "Louis", "Manon", "Hugo", "Chloé", "Gabriel", "Inès", "Arthur",
         "Jade", "Jules", "Élodie", "Théo", "Margaux", "François", "Amélie", "Étienne",
         "Nathalie", "Jean-Luc", "Anne-Sophie", "Hélène", "Raphaël"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
         "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Fontaine", "Rousseau",
         "Girard", "Bonnet", "Dupont", "Lambert", "Faure", "Mercier"),
    ),
    "es": (
        ("José", "María", "Javier", "Lucía", "Carlos", "Sofía", "Alejandro", "Martina", "Pablo",
         "Paula", "Diego", "Carmen", "Sergio", "Elena", "Álvaro", "Nuria", "Andrés", "Ana",
         "Jorge", "Ximena", "Guadalupe", "Mateo"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
         "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz",
         "Álvarez", "Romero", "Navarro", "Torres", "de la Cruz", "Castillo", "Ramírez"),
    ),
    "pt": (
        ("João", "Ana", "Pedro", "Beatriz", "Tiago", "Mariana", "Rafael", "Inês", "Gonçalo",
         "Carolina", "Lucas", "Gabriela", "Miguel", "Leonor", "Thiago", "Larissa", "Matheus",
         "Fernanda", "Luíza", "Vitória"),
        ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins",
         "Sousa", "Fernandes", "Gonçalves", "Gomes", "Lopes", "Marques", "Almeida", "Ribeiro",
         "Carvalho", "Araújo", "Barbosa", "Conceição"),
    ),
    "it": (
        ("Giulia", "Francesco", "Alessandro", "Sofia", "Lorenzo", "Aurora", "Matteo", "Chiara",
         "Leonardo", "Martina", "Andrea", "Federica", "Davide", "Giorgia", "Niccolò", "Elisa",
         "Simone", "Francesca", "Luca", "Beatrice"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
         "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
         "Giordano", "Rizzo", "Lombardi", "Moretti"),
    ),
    "nl": (
        ("Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Levi", "Sophie", "Finn", "Anouk",
         "Bram", "Fleur", "Thijs", "Lotte", "Jeroen", "Sanne", "Maarten", "Eline", "Joost",
         "Marloes", "Wouter", "Ilse"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser",
         "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peeters",
         "Hendriks", "van Leeuwen", "Dekker", "Janssens", "Maes", "Claes", "Willems"),
    ),
    "pl": (
        ("Łukasz", "Anna", "Piotr", "Katarzyna", "Krzysztof", "Małgorzata", "Tomasz",
         "Agnieszka", "Paweł", "Magdalena", "Michał", "Joanna", "Marcin", "Aleksandra", "Jakub",
         "Zofia", "Wojciech", "Dorota", "Grzegorz", "Ewa"),
        ("Nowak", "Wójcik", "Kowalczyk", "Woźniak", "Mazur", "Krawczyk", "Kaczmarek", "Zając",
         "Król", "Wieczorek", "Pawlak", "Michalak", "Dudek", "Walczak", "Sikora", "Baran",
         "Szewczyk", "Kołodziej"),
    ),
    "nordic": (
        ("Erik", "Anna", "Lars", "Ingrid", "Björn", "Astrid", "Søren", "Freja", "Mikael",
         "Sofie", "Magnus", "Maja", "Åsa", "Henrik", "Sigrid", "Liv", "Johanna", "Nils",
         "Kristoffer", "Signe", "Øystein", "Elin"),
        ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Lindqvist",
         "Berg", "Hansen", "Nielsen", "Jensen", "Pedersen", "Christensen", "Sørensen",
         "Johansen", "Olsen", "Lindström", "Åberg", "Holm", "Dahl", "Strand", "Bakke"),
    ),
    "ja": (
        ("Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Yuto", "Sakura", "Takumi", "Yuna",
         "Kenji", "Akiko", "Hiroshi", "Naoko", "Daiki", "Emi", "Kaito", "Mei"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
         "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Matsumoto", "Inoue", "Kimura"),
    ),
    "hi": (
        ("Aarav", "Priya", "Vihaan", "Ananya", "Arjun", "Diya", "Rohan", "Isha", "Aditya",
         "Kavya", "Rahul", "Sneha", "Vikram", "Pooja", "Sanjay", "Lakshmi", "Neha", "Karan"),
        ("Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Mehta",
         "Joshi", "Desai", "Rao", "Chatterjee", "Banerjee", "Menon", "Kapoor"),
    ),
    "zh": (
        ("Wei", "Mei", "Jun", "Xin", "Hao", "Ling", "Jia", "Yan", "Chen", "Li Na"),
        ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou"),
    ),
    "tr": (
        ("Mehmet", "Ayşe", "Emre", "Zeynep", "Can", "Elif", "Murat", "Selin", "Burak", "Derya"),
        ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Aydın",  # noqa: RUF001
         "Öztürk", "Arslan", "Doğan"),
    ),
    "ar": (
        ("Karim", "Yasmine", "Mehdi", "Leïla", "Nabil", "Samira", "Rachid", "Nadia", "Youssef",
         "Amira"),
        ("Benali", "Haddad", "Mansouri", "Bouzid", "Cherif", "Belkacem", "Amrani", "Saidi",
         "Khelifi", "Bensaïd"),
    ),
    "za": (
        ("Thabo", "Lerato", "Sipho", "Naledi", "Pieter", "Annelie", "Johan", "Nomvula",
         "Bongani", "Zanele", "Riaan", "Thandiwe"),
        ("Nkosi", "Dlamini", "Mokoena", "van der Merwe", "Botha", "Naidoo", "Khumalo",
         "Ndlovu", "Pretorius", "Venter", "Mahlangu", "du Plessis"),
    ),
}
_LOCALES = tuple(_NAMES)

# Letters that Unicode decomposition does not reduce to ASCII.
_TRANSLITERATION = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d",
     "œ": "oe", "\u0131": "i", "þ": "th", "ð": "d"}
)

_FREE_MAIL_DOMAINS = (
    "mail.example", "inbox.example", "postbox.example", "webpost.example", "letterbox.example",
)

_OWNERS = ("alice", "bob", "carmen", "dmitri", "emeka", "fatima")

# (job title, role at the organization, weight)
_ORG_JOBS: tuple[tuple[str, str, int], ...] = (
    ("Chief Executive Officer", "CEO", 2),
    ("Managing Director", "CEO", 2),
    ("Chief Technology Officer", "CTO", 2),
    ("Chief Financial Officer", "CFO", 2),
    ("Head of Procurement", "Buyer", 4),
    ("Procurement Manager", "Buyer", 6),
    ("Purchasing Specialist", "Buyer", 4),
    ("IT Director", "Decision Maker", 4),
    ("VP of Sales", "Decision Maker", 3),
    ("Head of Operations", "Decision Maker", 3),
    ("Marketing Manager", "Influencer", 6),
    ("Operations Manager", "Influencer", 5),
    ("Product Manager", "Champion", 5),
    ("Customer Success Lead", "Champion", 3),
    ("Software Engineer", "Technical Contact", 6),
    ("Systems Administrator", "Technical Contact", 4),
    ("Data Analyst", "User", 5),
    ("Sales Representative", "User", 5),
    ("HR Business Partner", "User", 3),
    ("Office Manager", "Admin", 3),
    ("Executive Assistant", "Gatekeeper", 2),
    ("Accounts Payable Specialist", "Billing Contact", 3),
    ("Finance Manager", "Billing Contact", 3),
)
_ORG_JOB_WEIGHTS = tuple(j[2] for j in _ORG_JOBS)
_DECISION_ROLES = frozenset({"CEO", "CTO", "CFO", "Decision Maker"})

_INDIVIDUAL_JOBS = (
    "Freelance Designer", "Independent Consultant", "Photographer", "Architect",
    "Physiotherapist", "Software Developer", "Teacher", "Student", "Retired",
    "Small Business Owner", "Accountant", "Journalist", "Nurse", "Translator",
)

_TAGS = (
    "vip", "trial", "churn-risk", "beta-tester", "event-lead", "renewal-due", "high-intent",
    "webinar-attendee", "upsell", "needs-follow-up", "gdpr-consent",
)

# (source, weight for contacts of organizations, weight for individuals)
_SOURCES: tuple[tuple[str, int, int], ...] = (
    ("website", 5, 10),
    ("referral", 4, 4),
    ("trade_show", 4, 1),
    ("webinar", 3, 2),
    ("cold_outreach", 3, 1),
    ("partner", 3, 1),
    ("social_media", 2, 5),
    ("paid_search", 2, 5),
    ("import", 2, 1),
)


# --------------------------------------------------------------------------------------------
# Organizations
# --------------------------------------------------------------------------------------------

_ORG_PREFIXES = (
    "Northwind", "Bluepeak", "Silverline", "Brightwater", "Ironbridge", "Redwood", "Oakridge",
    "Harbor", "Summit", "Lumen", "Vertex", "Cedar", "Falcon", "Meridian", "Granite", "Pioneer",
    "Orbit", "Atlas", "Beacon", "Evergreen", "Crescent", "Kestrel", "Maple", "Tidewater",
    "Copperfield", "Starling", "Halcyon", "Nordlicht", "Alpenblick", "Solaris", "Aurora",
    "Fjord", "Sierra", "Mistral", "Polaris", "Riverbend", "Stonegate", "Wildflower", "Bluebird",
    "Greenleaf", "Highland", "Lighthouse", "Keystone", "Cobalt", "Juniper", "Sakura", "Terra",
    "Vela", "Blackthorn", "Clearwater",
)

# industry -> words that end a company name in that industry
_INDUSTRIES: dict[str, tuple[str, ...]] = {
    "Software": ("Software", "Systems", "Labs", "Cloud", "Digital", "Technologies"),
    "Manufacturing": ("Manufacturing", "Industries", "Works", "Components", "Engineering"),
    "Retail": ("Outfitters", "Market", "Stores", "Supply", "Traders"),
    "Healthcare": ("Health", "Medical", "Care", "Clinics", "Diagnostics"),
    "Financial Services": ("Capital", "Finance", "Advisors", "Insurance", "Wealth"),
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport", "Cargo"),
    "Education": ("Academy", "Learning", "Institute", "Education"),
    "Hospitality": ("Hotels", "Hospitality", "Resorts", "Catering"),
    "Energy": ("Energy", "Power", "Solar", "Renewables", "Utilities"),
    "Media": ("Media", "Studios", "Publishing", "Creative"),
    "Construction": ("Construction", "Builders", "Architects", "Developments"),
    "Food & Beverage": ("Foods", "Bakery", "Coffee Roasters", "Brewing", "Traders"),
    "Telecommunications": ("Telecom", "Networks", "Communications"),
    "Consulting": ("Consulting", "Advisory", "Partners", "Group"),
    "Automotive": ("Motors", "Automotive", "Mobility"),
    "Pharmaceuticals": ("Pharma", "Biosciences", "Therapeutics"),
}
_INDUSTRY_NAMES = tuple(_INDUSTRIES)

# (smallest, largest, weight) employee-count brackets
_SIZE_BRACKETS = ((2, 49, 35), (50, 249, 30), (250, 999, 18), (1000, 9999, 12), (10000, 60000, 5))

_ORG_EMAIL_PATTERNS = ("{first}.{last}", "{first}.{last}", "{f}{last}", "{f}.{last}",
                       "{first}_{last}", "{first}")
_FREE_EMAIL_PATTERNS = ("{first}.{last}", "{first}{last}", "{first}.{last}{yy}", "{f}{last}{nn}",
                        "{first}_{last}", "{last}.{first}", "{first}{nn}")


# --------------------------------------------------------------------------------------------
# Interactions
# --------------------------------------------------------------------------------------------


class _Kind(NamedTuple):
    channel: str
    direction: str
    kind: str
    b2b_weight: int
    b2c_weight: int
    summaries: tuple[str, ...]
    subjects: tuple[str, ...] = ()
    """Email subject lines, one per summary (same position), so both tell the same story."""


_KINDS: tuple[_Kind, ...] = (
    # email
    _Kind("email", "inbound", "inquiry", 6, 5, (
        "Asked about {topic} for the {product}.",
        "Requested a quote for {seats} seats of the {product}.",
        "Wants to know whether the {product} supports {feature}.",
    ), ("Question about {topic}", "Quote request: {product}",
        "Does the {product} support {feature}?")),
    _Kind("email", "inbound", "support_request", 4, 4, (
        "Reported a problem with {issue}.",
        "Needs help with {topic}; sent screenshots.",
    ), ("Problem with {issue}", "Help needed: {topic}")),
    _Kind("email", "inbound", "complaint", 1, 2, (
        "Complained about {complaint}.",
        "Unhappy with {complaint} and asked for a call back.",
    ), ("Complaint: {complaint}", "Not happy with {complaint}")),
    _Kind("email", "outbound", "follow_up", 6, 2, (
        "Followed up on the {product} proposal.",
        "Sent a recap and next steps after the last conversation about {topic}.",
    ), ("Following up: {product}", "Next steps on {topic}")),
    _Kind("email", "outbound", "quote", 3, 1, (
        "Sent a quote for {seats} seats of the {product}.",
    ), ("Your quote for the {product}",)),
    _Kind("email", "outbound", "newsletter_open", 4, 6, (
        "Opened the {month} newsletter.",
        "Opened the {month} product update and clicked the {product} link.",
    ), ("Your {month} newsletter", "What's new in {month}")),
    # phone
    _Kind("phone", "inbound", "inquiry", 3, 3, (
        "Called to ask about {topic}.",
        "Called about pricing for the {product}.",
    )),
    _Kind("phone", "inbound", "support_request", 2, 3, (
        "Called support about {issue}.",
    )),
    _Kind("phone", "inbound", "complaint", 1, 1, (
        "Called to complain about {complaint}.",
    )),
    _Kind("phone", "outbound", "call", 6, 1, (
        "Discovery call about {topic}.",
        "Walked through the {product} pricing tiers.",
        "Checked in on the rollout; discussed {topic}.",
    )),
    _Kind("phone", "outbound", "voicemail", 3, 1, (
        "Left a voicemail about the {product} trial.",
        "No answer; left a voicemail asking for a call back about {topic}.",
    )),
    _Kind("phone", "outbound", "renewal_call", 2, 0, (
        "Discussed the contract renewal due in {days} days.",
    )),
    # chat
    _Kind("chat", "inbound", "inquiry", 2, 5, (
        "Chatted about {topic} on the pricing page.",
        "Asked in chat whether the {product} supports {feature}.",
    )),
    _Kind("chat", "inbound", "support_request", 2, 5, (
        "Asked in chat how to {howto}.",
        "Chat about {issue}; resolved by the agent.",
    )),
    _Kind("chat", "inbound", "complaint", 0, 1, (
        "Complained in chat about {complaint}.",
    )),
    # social
    _Kind("social", "inbound", "mention", 1, 3, (
        "Mentioned us in a post about {topic}.",
    )),
    _Kind("social", "inbound", "review", 1, 3, (
        "Left a {stars}-star review of the {product}.",
    )),
    _Kind("social", "inbound", "direct_message", 1, 2, (
        "Sent a direct message asking about {topic}.",
    )),
    _Kind("social", "outbound", "direct_message", 1, 1, (
        "Replied to their post about {topic}.",
    )),
    # in person
    _Kind("in_person", "outbound", "meeting", 5, 0, (
        "Met at their office in {city} to review {topic}.",
        "Quarterly business review in {city}.",
    )),
    _Kind("in_person", "outbound", "demo", 4, 0, (
        "Gave an on-site demo of the {product}.",
    )),
    _Kind("in_person", "outbound", "workshop", 2, 0, (
        "Ran an onboarding workshop for {seats} users.",
    )),
    _Kind("in_person", "inbound", "event_visit", 2, 1, (
        "Visited our booth at {event}.",
        "Stopped by at {event} and asked about the {product}.",
    )),
    # partner
    _Kind("partner", "inbound", "referral", 2, 1, (
        "Referred by {partner} for the {product}.",
    )),
    _Kind("partner", "outbound", "co_sell_meeting", 2, 0, (
        "Joint call with {partner} about {topic}.",
    )),
    _Kind("partner", "inbound", "purchase", 2, 1, (
        "Bought {seats} seats of the {product} through {partner}.",
    )),
    # web
    _Kind("web", "inbound", "form_submission", 3, 4, (
        "Filled in the contact form asking about {topic}.",
    )),
    _Kind("web", "inbound", "download", 3, 2, (
        "Downloaded the whitepaper \u201c{whitepaper}\u201d.",
    )),
    _Kind("web", "inbound", "webinar_signup", 2, 2, (
        "Registered for the webinar \u201c{webinar}\u201d.",
    )),
    _Kind("web", "inbound", "trial_signup", 2, 3, (
        "Started a 14-day trial of the {product}.",
    )),
    _Kind("web", "inbound", "purchase", 2, 5, (
        "Ordered {seats} seats of the {product} online.",
        "Upgraded to the {plan} online.",
    )),
)
# Cumulative weights, precomputed because a kind is drawn for every interaction.
_B2B_CUM_WEIGHTS = tuple(itertools.accumulate(k.b2b_weight for k in _KINDS))
_B2C_CUM_WEIGHTS = tuple(itertools.accumulate(k.b2c_weight for k in _KINDS))
_BUSINESS_HOURS_CHANNELS = frozenset({"phone", "in_person", "partner"})

_PLANS = ("Starter plan", "Team plan", "Business plan", "Enterprise plan")
_PRODUCTS = (
    *_PLANS, "Analytics add-on", "Automation add-on", "Mobile add-on", "API add-on",
    "Premium Support add-on",
)
# Monthly price per seat.
_PRODUCT_PRICES_CENTS = {
    "Starter plan": 900, "Team plan": 1900, "Business plan": 3900, "Enterprise plan": 7900,
    "Analytics add-on": 1200, "Automation add-on": 1500, "Mobile add-on": 500,
    "API add-on": 2500, "Premium Support add-on": 2000,
}
_TOPICS = (
    "pricing", "the latest invoice", "onboarding", "data migration", "single sign-on",
    "the contract renewal", "delivery times", "an ERP integration", "user permissions",
    "volume discounts", "data export", "the product roadmap", "GDPR compliance",
)
_FEATURES = (
    "single sign-on", "two-factor authentication", "custom fields", "a REST API",
    "offline mode", "CSV import", "EU data residency", "role-based access",
)
_ISSUES = (
    "logging in", "the CSV import", "a failed payment", "slow dashboards",
    "missing email notifications", "the mobile app crashing", "duplicate records",
    "an expired password reset link",
)
_COMPLAINTS = (
    "a late delivery", "an unexpected charge on the invoice", "slow support response times",
    "a billing error", "downtime last week", "a damaged shipment",
)
_HOWTOS = (
    "reset a password", "export contacts", "add a new user", "change the billing address",
    "set up email sync", "merge duplicate records",
)
_EVENTS = (
    "the SaaS Growth Expo", "RetailTech Europe", "the Customer Experience Summit",
    "the Future of Work conference", "our spring roadshow", "the Digital Commerce Forum",
)
_PARTNERS = (
    "Brightpath Solutions", "Nordic IT Partners", "Keystone Resellers",
    "Apex Integration Group", "Bluebird Consulting", "Summit Channel Partners",
)
_WHITEPAPERS = (
    "Customer Retention in 2025", "A Practical Guide to CRM Data Quality",
    "Ten Metrics Every Sales Team Should Track", "Automating the Sales Pipeline",
)
_WEBINARS = (
    "Getting Started with Automation", "Reporting Deep Dive", "Scaling Customer Success",
    "What's New This Quarter",
)
_PLATFORMS = ("LinkedIn", "X", "Instagram", "Facebook", "Mastodon")
_WEB_PAGES = ("/pricing", "/features", "/contact", "/blog", "/integrations", "/customers")
_CONTEXT_POOLS: dict[str, tuple[str, ...]] = {
    "product": _PRODUCTS, "plan": _PLANS, "topic": _TOPICS, "feature": _FEATURES,
    "issue": _ISSUES, "complaint": _COMPLAINTS, "howto": _HOWTOS, "event": _EVENTS,
    "partner": _PARTNERS, "whitepaper": _WHITEPAPERS, "webinar": _WEBINARS,
}
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _weighted(rng: random.Random, items: Sequence[_T], weights: Sequence[int]) -> _T:
    """Pick one item with the given relative weights."""
    return rng.choices(items, weights=weights)[0]


def _fill(rng: random.Random, pattern: str) -> str:
    """Replace the placeholder characters of a postal code or phone template."""
    out: list[str] = []
    for char in pattern:
        if char == "#":
            out.append(rng.choice(_DIGITS))
        elif char == "%":
            out.append(rng.choice(_HIGH_DIGITS))
        elif char == "@":
            out.append(rng.choice(_POSTAL_LETTERS))
        else:
            out.append(char)
    return "".join(out)


def _ascii(text: str) -> str:
    """Transliterate to lowercase ASCII letters, digits and hyphens ("Łukasz" -> "lukasz")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9-]", "", plain.replace(" ", ""))


def _domain_label(text: str) -> str:
    """Turn a company name into a DNS label ("Northwind Traders" -> "northwind-traders")."""
    words = (_ascii(word) for word in re.split(r"[\s&]+", text))
    return "-".join(word for word in words if word)


def _international(country: _Country, national: str) -> str:
    """Rewrite a nationally formatted number in the international "+CC ..." form."""
    digits = national.replace("(", "").replace(")", "")
    if country.trunk_prefix and digits.startswith(country.trunk_prefix):
        digits = digits[len(country.trunk_prefix):]
    digits = re.sub(r"^(\d+)-", r"\1 ", digits)
    return f"+{country.calling_code} {digits}"


def _street_address(rng: random.Random, country: _Country, city: _City) -> str:
    """A street address in the country's usual order (number first or last)."""
    street = rng.choice(city.streets or country.streets)
    if country.street_style == "jp":
        return f"{rng.randint(1, 5)}-{rng.randint(1, 20)}-{rng.randint(1, 30)} {street}"
    high = country.max_house_number
    if high >= 1000:
        # Long streets numbered by block, as in the Americas.
        number = rng.randint(1, high // 100) * 100 + rng.randint(0, 99)
    else:
        # Low house numbers are far more common than high ones.
        number = min(high, int(rng.paretovariate(0.9)) + rng.randint(0, 9))
    if country.street_style == "num_name":
        return f"{number} {street}"
    if country.street_style == "name_comma_num":
        return f"{street}, {number}"
    return f"{street} {number}"


class _Address(NamedTuple):
    country: _Country
    city: _City
    street: str
    postal_code: str


def _address(rng: random.Random, country: _Country) -> _Address:
    """A random address in ``country``."""
    city = rng.choice(country.cities)
    return _Address(
        country,
        city,
        _street_address(rng, country, city),
        _fill(rng, rng.choice(city.postal_codes)),
    )


def _random_country(rng: random.Random) -> _Country:
    """A country, weighted so that big markets appear more often."""
    return _weighted(rng, _COUNTRIES, _COUNTRY_WEIGHTS)


def _name(rng: random.Random, country: _Country) -> tuple[str, str]:
    """A (first, last) name typical for the country, occasionally from anywhere."""
    if rng.random() < 0.08:
        locale = rng.choice(_LOCALES)
    else:
        locale = _weighted(rng, [loc for loc, _ in country.locales],
                           [w for _, w in country.locales])
    firsts, lasts = _NAMES[locale]
    return rng.choice(firsts), rng.choice(lasts)


class _Context(dict[str, str]):
    """Values for summary and subject templates, drawn lazily and then kept.

    Keeping drawn values means an email's subject and summary talk about the same product or
    topic.
    """

    def __init__(self, rng: random.Random, city: str, month: str) -> None:
        super().__init__(city=city, month=month)
        self._rng = rng

    def __missing__(self, key: str) -> str:
        rng = self._rng
        value: str
        if key == "seats":
            value = str(rng.choice((3, 5, 10, 12, 20, 25, 40, 50, 100, 250)))
        elif key == "days":
            value = str(rng.choice((14, 30, 45, 60, 90)))
        elif key == "stars":
            value = str(_weighted(rng, (1, 2, 3, 4, 5), (1, 1, 2, 4, 5)))
        else:
            value = rng.choice(_CONTEXT_POOLS[key])
        self[key] = value
        return value


def _capitalize_first(text: str) -> str:
    """Upper-case the first letter only (``str.capitalize`` would lower-case the rest)."""
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------


class _Generator:
    """Holds the random source and the uniqueness bookkeeping of one :func:`generate` call."""

    def __init__(self, seed: int, now: dt.datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.org_names: set[str] = set()
        self.order_number = 0

    # -- organizations ----------------------------------------------------------------------

    def organization(self, index: int) -> tuple[SampleOrganization, _Country, _City]:
        """The ``index``-th organization, plus its country and city for placing its people."""
        rng = self.rng
        country = _random_country(rng)
        address = _address(rng, country)
        industry = rng.choice(_INDUSTRY_NAMES)
        base = self._org_base_name(country, industry, address.city)
        suffix = rng.choice(country.legal_suffixes)
        low, high, _ = _weighted(rng, _SIZE_BRACKETS, [b[2] for b in _SIZE_BRACKETS])
        org = SampleOrganization(
            key=f"org-{index:03d}",
            name=f"{base} {suffix}",
            domain=f"{_domain_label(base)}.example",
            industry=industry,
            size=rng.randint(low, high),
            street=address.street,
            city=address.city.name,
            postal_code=address.postal_code,
            region=address.city.region,
            country=country.code,
        )
        return org, country, address.city

    def _org_base_name(self, country: _Country, industry: str, city: _City) -> str:
        """A company name without legal suffix whose domain label is not taken yet."""
        rng = self.rng
        nouns = _INDUSTRIES[industry]
        candidate = ""
        for _ in range(40):
            style = rng.random()
            if style < 0.7:
                candidate = f"{rng.choice(_ORG_PREFIXES)} {rng.choice(nouns)}"
            elif style < 0.9:
                candidate = f"{_name(rng, country)[1]} {rng.choice(nouns)}"
            else:
                candidate = f"{_name(rng, country)[1]} & {_name(rng, country)[1]}"
            if self._claim_org_name(candidate):
                return candidate
        # The name space is exhausted (only with very many organizations): add the city,
        # then a counter.
        with_city = f"{candidate} {city.name}"
        if self._claim_org_name(with_city):
            return with_city
        counter = 2
        while not self._claim_org_name(f"{with_city} {counter}"):
            counter += 1
        return f"{with_city} {counter}"

    def _claim_org_name(self, name: str) -> bool:
        label = _domain_label(name)
        if label in self.org_names:
            return False
        self.org_names.add(label)
        return True

    # -- contacts ---------------------------------------------------------------------------

    def email(self, first: str, last: str, domain: str, patterns: Sequence[str],
              birth_date: dt.date | None) -> str:
        """A unique address built from the person's name; adds digits on collisions."""
        rng = self.rng
        parts = {
            "first": _ascii(first) or "contact",
            "last": _ascii(last) or "contact",
            "f": (_ascii(first) or "c")[0],
            "yy": f"{birth_date.year % 100:02d}" if birth_date else str(rng.randint(10, 99)),
            "nn": str(rng.randint(1, 99)),
        }
        for pattern in patterns:
            address = f"{pattern.format(**parts)}@{domain}"
            if address not in self.emails:
                self.emails.add(address)
                return address
        base = "{first}.{last}".format(**parts)
        counter = 2
        while f"{base}{counter}@{domain}" in self.emails:
            counter += 1
        address = f"{base}{counter}@{domain}"
        self.emails.add(address)
        return address

    def phone(self, country: _Country, city: _City) -> str:
        """A valid number for the country, preferably one not handed out before."""
        rng = self.rng
        templates = city.phones + (country.mobiles if rng.random() < 0.5 else ())
        number = ""
        for _ in range(20):
            national = _fill(rng, rng.choice(templates))
            number = _international(country, national) if rng.random() < 0.35 else national
            if number not in self.phones:
                break
        self.phones.add(number)
        return number

    def birth_date(self) -> dt.date | None:
        """A working-age birth date; sometimes unknown, as in real CRMs."""
        rng = self.rng
        if rng.random() < 0.12:
            return None
        today = self.now.date()
        year = today.year - rng.randint(21, 68)
        return dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 364))

    # -- interactions -----------------------------------------------------------------------

    def occurred_at(self, first_day: int, business_hours: bool, utc_offset: int) -> dt.datetime:
        """A UTC instant at most ``first_day`` days ago and strictly before ``now``.

        Calls, meetings and partner activity fall on weekdays during local office hours;
        everything else happens at any waking hour.
        """
        rng = self.rng
        earliest = self.now - HISTORY_WINDOW
        for _ in range(10):
            day = self.now.date() - dt.timedelta(days=rng.randint(0, first_day))
            if business_hours:
                if day.weekday() >= 5:
                    day -= dt.timedelta(days=day.weekday() - 4)
                hour = rng.randint(8, 17)
            else:
                hour = rng.randint(7, 22)
            local = dt.datetime(day.year, day.month, day.day, hour, rng.randint(0, 59),
                                rng.randint(0, 59), tzinfo=dt.UTC)
            moment = local - dt.timedelta(hours=utc_offset)
            if earliest <= moment < self.now:
                return moment
        window = int(HISTORY_WINDOW.total_seconds())
        return self.now - dt.timedelta(seconds=rng.randint(1, window))

    def interactions(self, contact_key: str, b2b: bool, country: _Country, city: _City,
                     owner: str, count: int) -> list[SampleInteraction]:
        """``count`` interactions for one contact, sorted by time.

        Contacts of organizations get more meetings, calls and quotes; individuals more web,
        chat and social activity.
        """
        rng = self.rng
        cum_weights = _B2B_CUM_WEIGHTS if b2b else _B2C_CUM_WEIGHTS
        # Each contact's history starts at some point within the window.
        first_day = rng.randint(min(30, HISTORY_WINDOW.days - 1), HISTORY_WINDOW.days - 1)
        result: list[SampleInteraction] = []
        for _ in range(count):
            spec = rng.choices(_KINDS, cum_weights=cum_weights)[0]
            business = spec.channel in _BUSINESS_HOURS_CHANNELS or (
                spec.channel == "email" and spec.direction == "outbound"
                and spec.kind != "newsletter_open"
            )
            moment = self.occurred_at(first_day, business, country.utc_offset)
            context = _Context(rng, city.name, _MONTHS[moment.month - 1])
            variant = rng.randrange(len(spec.summaries))
            summary = spec.summaries[variant].format_map(context)
            payload = self._payload(spec, variant, context, country, owner, moment)
            result.append(SampleInteraction(
                contact_key=contact_key,
                channel=spec.channel,
                direction=spec.direction,
                kind=spec.kind,
                occurred_at=moment,
                summary=summary,
                payload=payload,
            ))
        result.sort(key=lambda interaction: interaction.occurred_at)
        return result

    def _payload(self, spec: _Kind, variant: int, context: _Context, country: _Country,
                 owner: str, moment: dt.datetime) -> dict[str, str | int]:
        """Channel-specific details consistent with the interaction's summary.

        ``variant`` is the position of the chosen summary; ``context`` holds the values it used.
        """
        rng = self.rng
        payload: dict[str, str | int] = {}
        if spec.channel == "email":
            subject = spec.subjects[variant].format_map(context)
            payload["subject"] = _capitalize_first(subject)
            payload["thread_length"] = 1 if spec.kind == "newsletter_open" else rng.randint(1, 6)
        elif spec.channel == "phone":
            voicemail = spec.kind == "voicemail"
            payload["duration_s"] = rng.randint(15, 60) if voicemail else rng.randint(90, 2700)
            payload["outcome"] = "voicemail" if voicemail else "connected"
        elif spec.channel == "chat":
            payload["messages"] = rng.randint(3, 40)
            payload["agent"] = owner
        elif spec.channel == "social":
            payload["platform"] = rng.choice(_PLATFORMS)
            if spec.kind == "review":
                payload["stars"] = int(context["stars"])
            else:
                payload["reactions"] = rng.randint(0, 120)
        elif spec.channel == "in_person":
            payload["location"] = context["event"] if spec.kind == "event_visit" else (
                context["city"]
            )
            payload["duration_min"] = rng.choice((15, 30, 45, 60, 90, 120))
            payload["attendees"] = rng.randint(2, 8)
        elif spec.channel == "partner":
            payload["partner"] = context["partner"]
        elif spec.channel == "web":
            page = {
                "download": "/resources", "webinar_signup": "/webinars", "trial_signup": "/signup",
                "purchase": "/checkout",
            }.get(spec.kind) or rng.choice(_WEB_PAGES)
            payload["page"] = page
            payload["session_s"] = rng.randint(20, 1500)
        if spec.kind == "purchase":
            self.order_number += 1
            seats = int(context["seats"]) if "seats" in context else 1
            product = context["plan"] if "plan" in context else context["product"]
            # Dated order numbers read in time order even though contacts are generated one
            # after another; the running counter keeps them unique.
            payload["order_id"] = f"SO-{moment:%Y%m%d}-{self.order_number:05d}"
            payload["amount_cents"] = _PRODUCT_PRICES_CENTS[product] * seats
            payload["currency"] = country.currency
        return payload


def generate(
    *,
    seed: int = 7,
    contacts: int = 500,
    organizations: int = 80,
    interactions_per_contact: tuple[int, int] = (2, 14),
    now: dt.datetime | None = None,
) -> SampleDataSet:
    """Generate a reproducible, realistic CRM data set.

    The same arguments always produce the same data: all randomness comes from
    ``random.Random(seed)`` and ``now`` defaults to the fixed :data:`DEFAULT_NOW` rather than
    the current time.  About three quarters of the contacts belong to one of the
    organizations (when there are any).  Each contact gets between
    ``interactions_per_contact[0]`` and ``interactions_per_contact[1]`` interactions (inclusive),
    all in the two years (:data:`HISTORY_WINDOW`) before ``now`` and sorted by time.

    :raises ValueError: for negative counts, an empty or negative interaction range, or a naive
        ``now``.
    """
    if contacts < 0 or organizations < 0:
        raise ValueError("contacts and organizations must not be negative")
    low, high = interactions_per_contact
    if low < 0 or high < low:
        raise ValueError("interactions_per_contact must be (low, high) with 0 <= low <= high")
    if now is None:
        now = DEFAULT_NOW
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(dt.UTC)

    gen = _Generator(seed, now)
    rng = gen.rng

    orgs: list[SampleOrganization] = []
    org_places: list[tuple[_Country, _City]] = []
    org_email_patterns: list[tuple[str, ...]] = []
    org_owners: list[str] = []
    for index in range(1, organizations + 1):
        org, country, city = gen.organization(index)
        orgs.append(org)
        org_places.append((country, city))
        preferred = rng.choice(_ORG_EMAIL_PATTERNS)
        org_email_patterns.append((preferred, "{first}.{last}", "{f}.{last}", "{first}{last}"))
        org_owners.append(rng.choice(_OWNERS))
    # Bigger companies tend to have more people in the CRM.  Cumulative weights are computed
    # once; passing plain weights would redo that for every contact.
    org_cum_weights = list(itertools.accumulate(org.size ** 0.3 for org in orgs))
    org_indexes = range(len(orgs))

    people: list[SampleContact] = []
    history: list[SampleInteraction] = []
    for index in range(1, contacts + 1):
        key = f"contact-{index:04d}"
        org_index = (
            rng.choices(org_indexes, cum_weights=org_cum_weights)[0]
            if orgs and rng.random() < 0.75 else None
        )
        if org_index is not None:
            org = orgs[org_index]
            org_country, org_city = org_places[org_index]
            place = rng.random()
            if place < 0.5:  # reachable at the office
                address = _Address(org_country, org_city, org.street, org.postal_code)
            elif place < 0.9:  # lives in the same country
                address = _address(rng, org_country)
            else:  # works remotely from abroad
                address = _address(rng, _random_country(rng))
            first, last = _name(rng, address.country)
            birth_date = gen.birth_date()
            email = gen.email(first, last, org.domain, org_email_patterns[org_index],
                              birth_date)
            job_title, role, _ = _weighted(rng, _ORG_JOBS, _ORG_JOB_WEIGHTS)
            owner = org_owners[org_index] if rng.random() < 0.85 else rng.choice(_OWNERS)
            source = _weighted(rng, [s[0] for s in _SOURCES], [s[1] for s in _SOURCES])
            org_key: str | None = org.key
            role_at_org: str | None = role
        else:
            address = _address(rng, _random_country(rng))
            first, last = _name(rng, address.country)
            birth_date = gen.birth_date()
            patterns = (rng.choice(_FREE_EMAIL_PATTERNS), "{first}.{last}", "{first}{last}{nn}")
            email = gen.email(first, last, rng.choice(_FREE_MAIL_DOMAINS), patterns, birth_date)
            job_title = rng.choice(_INDIVIDUAL_JOBS)
            owner = rng.choice(_OWNERS)
            source = _weighted(rng, [s[0] for s in _SOURCES], [s[2] for s in _SOURCES])
            org_key = None
            role_at_org = None

        phone = gen.phone(address.country, address.city)
        count = rng.randint(low, high)
        contact_history = gen.interactions(
            key, org_key is not None, address.country, address.city, owner, count
        )
        history.extend(contact_history)

        tags = set(rng.sample(_TAGS, k=_weighted(rng, (0, 1, 2, 3), (3, 4, 2, 1))))
        if rng.random() < 0.4 or any(i.kind == "newsletter_open" for i in contact_history):
            tags.add("newsletter")
        if any(i.kind == "purchase" for i in contact_history):
            tags.add("customer")
        if role_at_org in _DECISION_ROLES:
            tags.add("decision-maker")
        if source == "partner":
            tags.add("partner-referral")

        people.append(SampleContact(
            key=key,
            first_name=first,
            last_name=last,
            email=email,
            phone=phone,
            street=address.street,
            city=address.city.name,
            postal_code=address.postal_code,
            region=address.city.region,
            country=address.country.code,
            birth_date=birth_date,
            job_title=job_title,
            tags=tuple(sorted(tags)),
            source=source,
            owner=owner,
            organization_key=org_key,
            role=role_at_org,
        ))

    return SampleDataSet(tuple(orgs), tuple(people), tuple(history))
