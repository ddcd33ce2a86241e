"""The population measures as SQL that DuckDB and Spark SQL both run unchanged.

Written in the subset the two share (CTEs, ``row_number()`` windows, ``CASE``, ``GROUP BY``),
over the views of :mod:`wb_fhir.report.tables`. Every query returns a few small rows
(counts, or a histogram of values); medians and quartiles are taken from the histograms in
Python (:mod:`wb_fhir.report.measures`), so both engines give the same figures exactly.
"""

from __future__ import annotations

from datetime import date

NEGATIVE = "('negative', 'very-negative')"
FAMILY = "('family', 'partner')"


def period_sql(since: date | None, until: date | None) -> str:
    """The WHERE clause of a period (dates are ``date`` values: no text reaches the SQL)."""
    clauses = ["1 = 1"]
    if since is not None:
        clauses.append(f"date >= '{since.isoformat()}'")
    if until is not None:
        clauses.append(f"date <= '{until.isoformat()}'")
    return " AND ".join(clauses)


def per_map_sql(since: date | None, until: date | None) -> str:
    """One row per map in the period: its place among the person's maps and its counts."""
    return f"""
    WITH m AS (SELECT * FROM maps WHERE {period_sql(since, until)}),
    ranked AS (
      SELECT map_id, person, date, time_at_home,
             row_number() OVER (PARTITION BY person ORDER BY date DESC, map_id DESC) AS newest,
             row_number() OVER (PARTITION BY person ORDER BY date ASC, map_id ASC) AS oldest,
             count(*) OVER (PARTITION BY person) AS n_maps
      FROM m)
    SELECT r.map_id, r.person, r.newest, r.oldest, r.n_maps, r.time_at_home,
      sum(CASE WHEN c.status = 'current' THEN 1 ELSE 0 END) AS size,
      sum(CASE WHEN c.status = 'current' AND c.kind = 'person' THEN 1 ELSE 0 END) AS size_person,
      sum(CASE WHEN c.status = 'current' AND c.kind = 'place' THEN 1 ELSE 0 END) AS size_place,
      sum(CASE WHEN c.status = 'current' AND c.kind = 'activity' THEN 1 ELSE 0 END) AS size_activity,
      sum(CASE WHEN c.status = 'current' AND c.ring = 1 THEN 1 ELSE 0 END) AS inner_circle,
      sum(CASE WHEN c.status = 'current' AND c.kind = 'person' AND c.category = 'practitioner' AND c.ring = 1
               THEN 1 ELSE 0 END) AS practitioner_inner,
      sum(CASE WHEN c.status = 'current' AND ((c.kind = 'person' AND c.category IN {FAMILY})
                                              OR (c.kind = 'place' AND c.category = 'home'))
               THEN 1 ELSE 0 END) AS family_or_home,
      sum(CASE WHEN c.status = 'current' AND c.impact IN {NEGATIVE} THEN 1 ELSE 0 END) AS negative,
      sum(CASE WHEN c.status = 'lost' THEN 1 ELSE 0 END) AS lost,
      sum(CASE WHEN c.status = 'wished-for' THEN 1 ELSE 0 END) AS wished_for
    FROM ranked r LEFT JOIN connections c ON c.map_id = r.map_id
    GROUP BY r.map_id, r.person, r.newest, r.oldest, r.n_maps, r.time_at_home"""


PER_MAP = "per_map"
"""The table every query reads: :func:`per_map_sql`, materialised once by the engine."""


def queries() -> dict[str, str]:
    """Every query of the report, by name, over ``per_map`` and the flat tables."""
    latest = f"(SELECT * FROM {PER_MAP} WHERE newest = 1) lt"
    current_latest = f"""(SELECT c.* FROM connections c
                          JOIN (SELECT map_id FROM {PER_MAP} WHERE newest = 1) l ON l.map_id = c.map_id
                          WHERE c.status = 'current') cl"""
    return {
        "totals": f"""SELECT count(*) AS people, coalesce(sum(n_maps), 0) AS maps,
            coalesce(sum(CASE WHEN practitioner_inner > 0 THEN 1 ELSE 0 END), 0),
            coalesce(sum(CASE WHEN time_at_home IS NOT NULL THEN 1 ELSE 0 END), 0),
            coalesce(sum(CASE WHEN time_at_home > 50 THEN 1 ELSE 0 END), 0),
            coalesce(sum(CASE WHEN size > 0 THEN 1 ELSE 0 END), 0),
            coalesce(sum(CASE WHEN 2 * family_or_home > size THEN 1 ELSE 0 END), 0),
            coalesce(sum(lost), 0), coalesce(sum(CASE WHEN lost > 0 THEN 1 ELSE 0 END), 0),
            coalesce(sum(wished_for), 0), coalesce(sum(CASE WHEN wished_for > 0 THEN 1 ELSE 0 END), 0)
            FROM {latest}""",
        "sizes": f"""SELECT 'all' AS what, size AS value, count(*) FROM {latest} GROUP BY size
            UNION ALL SELECT 'person', size_person, count(*) FROM {latest} GROUP BY size_person
            UNION ALL SELECT 'place', size_place, count(*) FROM {latest} GROUP BY size_place
            UNION ALL SELECT 'activity', size_activity, count(*) FROM {latest} GROUP BY size_activity
            UNION ALL SELECT 'time_at_home', time_at_home, count(*) FROM {latest}
                      WHERE time_at_home IS NOT NULL GROUP BY time_at_home""",
        "rings": f"SELECT ring, kind, count(*) FROM {current_latest} GROUP BY ring, kind",
        "impact": f"SELECT impact, count(*) FROM {current_latest} GROUP BY impact",
        "practitioners": f"""SELECT count(*) FROM {current_latest}
            WHERE kind = 'person' AND category = 'practitioner'""",
        "roles": f"""SELECT r.role, count(DISTINCT r.key) FROM roles r JOIN {current_latest} ON cl.key = r.key
            WHERE cl.kind = 'person' AND cl.category = 'practitioner' GROUP BY r.role""",
        "change": f"""WITH pairs AS (
              SELECT a.size AS size_a, b.size AS size_b, a.inner_circle AS inner_a, b.inner_circle AS inner_b,
                     a.time_at_home AS home_a, b.time_at_home AS home_b, a.negative AS neg_a, b.negative AS neg_b
              FROM {PER_MAP} a JOIN {PER_MAP} b ON a.person = b.person
              WHERE a.oldest = 1 AND b.newest = 1 AND a.n_maps >= 2)
            SELECT 'people', 0, count(*) FROM pairs
            UNION ALL SELECT 'network_size', size_b - size_a, count(*) FROM pairs GROUP BY size_b - size_a
            UNION ALL SELECT 'inner_circle', inner_b - inner_a, count(*) FROM pairs GROUP BY inner_b - inner_a
            UNION ALL SELECT 'time_at_home', home_b - home_a, count(*) FROM pairs
                      WHERE home_a IS NOT NULL AND home_b IS NOT NULL GROUP BY home_b - home_a
            UNION ALL SELECT 'negative_share',
                      CASE WHEN neg_b * size_a > neg_a * size_b THEN 1
                           WHEN neg_b * size_a < neg_a * size_b THEN -1 ELSE 0 END, count(*)
                      FROM pairs WHERE size_a > 0 AND size_b > 0
                      GROUP BY CASE WHEN neg_b * size_a > neg_a * size_b THEN 1
                                    WHEN neg_b * size_a < neg_a * size_b THEN -1 ELSE 0 END""",
    }
