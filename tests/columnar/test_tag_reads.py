"""Reads of ``tags`` pointed at extra tag columns (``costs.columnar.tags``)."""

from costs.columnar.tags import reads_whole_tags, rewrite_tag_reads

COLUMNS = {"Team": "vtag_t0"}


def test_reads_of_an_extra_key_go_to_its_column_with_the_map_as_fallback():
    sql = "SELECT ifNull(tags[{p0:String}], ''), tags['Team'], tags['env'] FROM x"
    assert rewrite_tag_reads(sql, {"p0": "Team"}, COLUMNS) == (
        "SELECT ifNull(if(vtag_t0 != '', CAST(vtag_t0 AS Nullable(String)), tags[{p0:String}]),"
        " ''), if(vtag_t0 != '', CAST(vtag_t0 AS Nullable(String)), tags['Team']), "
        "tags['env'] FROM x"
    )


def test_presence_and_emptiness_count_the_extra_columns():
    sql = "mapContains(tags, {p0:String}) AND notEmpty(tags) OR empty(tags)"
    assert rewrite_tag_reads(sql, {"p0": "Team"}, COLUMNS) == (
        "(vtag_t0 != '' OR mapContains(tags, {p0:String})) AND (notEmpty(tags) OR vtag_t0 != '')"
        " OR (empty(tags) AND NOT (vtag_t0 != ''))"
    )


def test_a_query_reading_tags_whole_is_not_rewritten():
    assert reads_whole_tags("SELECT tags FROM x")
    assert not reads_whole_tags("SELECT tags['a'], mapContains(tags, 'b') FROM x")
    assert rewrite_tag_reads("SELECT tags FROM x", {}, COLUMNS) is None
    # Another key, a literal with a quote: untouched.
    assert rewrite_tag_reads(r"SELECT tags['it\'s'] FROM x", {}, COLUMNS) == (
        r"SELECT tags['it\'s'] FROM x"
    )
