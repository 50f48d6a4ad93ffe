"""The inbox answers with a fixed number of queries, whatever the page size.

The count is what keeps the list fast with 100,000 cases (``bench/bench_case_list.py`` measures
the time on PostgreSQL): one COUNT, one page of cases joined with their registration and
officer, one for the page's norm tags. No query per row.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case
from cases.tagging import tags_store_suggestions
from cases.workflow.handling import case_assign
from cases.workspace.forms import ASSIGNED_ME, DEADLINE_SOON, SORT_DEADLINE, SORT_NEWEST
from cases.workspace.inbox import FULLTEXT_VECTOR, case_list_page, search_condition
from tests.conftest import requires_postgres
from tests.factories import CaseFactory, officer

pytestmark = pytest.mark.django_db

SELECTOR_QUERIES = 3  # COUNT, the page of cases, the page's norm tags
CASES = 30


@pytest.fixture
def many_cases(harlingen):
    handler = officer("a.zijlstra")
    cases = [CaseFactory(subject="Klacht over de wachttijd", actor=handler) for _ in range(CASES)]
    for index, case in enumerate(cases):
        tags_store_suggestions(case_id=case.pk, scores={"TEL-25SEC": 0.8, "TEL-GROET": 0.5}, suggested=["TEL-25SEC", "TEL-GROET"], model_version="t")
        if index % 2:
            case_assign(case_id=case.pk, officer_id=handler.pk, actor=handler)
    return handler


def render_rows(page) -> list[tuple]:
    """What the inbox template reads of each row: registration, officer, tags and their norms."""
    return [
        (case.registration.number, case.registration.sender_name, getattr(case.assigned_to, "username", None), [t.norm.code for t in case.visible_tags])
        for case in page.object_list
    ]


@pytest.mark.parametrize("per_page", [10, 25])
def test_case_list_page_takes_the_same_queries_for_any_page_size(many_cases, django_assert_num_queries, per_page):
    filters = {"per_page": per_page, "sort": SORT_DEADLINE, "q": ""}
    with django_assert_num_queries(SELECTOR_QUERIES):
        page, _paginator = case_list_page(filters=filters, user=many_cases, page_number=1)
        rows = render_rows(page)
    assert len(rows) == per_page
    assert all(codes == ["TEL-25SEC", "TEL-GROET"] for *_, codes in rows)


@pytest.mark.parametrize("per_page", [10, 25])
def test_filtered_and_searched_list_takes_the_same_queries(many_cases, django_assert_num_queries, per_page):
    filters = {"per_page": per_page, "sort": SORT_NEWEST, "q": "wachttijd", "norm": "TEL-25SEC", "assigned": ASSIGNED_ME, "deadline": DEADLINE_SOON}
    with django_assert_num_queries(SELECTOR_QUERIES):
        page, _paginator = case_list_page(filters=filters, user=many_cases, page_number=1)
        rows = render_rows(page)
    assert 0 < len(rows) <= per_page


def test_the_inbox_page_takes_the_same_queries_for_10_and_100_rows(client, many_cases):
    client.force_login(many_cases)
    client.get(reverse("handvest_workspace:inbox"))  # warm up: session, permissions cache, Wagtail's menu
    counts = {}
    for per_page in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("handvest_workspace:inbox"), {"per_page": per_page, "state": ""})
        assert response.status_code == 200
        assert len(response.context["rows"]) == min(per_page, CASES)
        counts[per_page] = len(queries)
    assert counts[10] == counts[100], counts


@requires_postgres()
@pytest.mark.postgres
def test_on_postgresql_the_text_is_searched_word_by_word_through_the_index(municipality):
    waited = CaseFactory(text="Ik heb urenlang moeten wachten aan de balie.", subject="Balie", name="Sietske Zijlstra", email="x@example.nl")
    other = CaseFactory(text="De website was niet bereikbaar.", subject="Parkeervergunning", name="Jan Bakker", email="x@example.nl")
    # Dutch stemming: 'wachtte' is not a part of the text, but the same word as 'wachten'.
    assert list(Case.objects.filter(search_condition("wachtte"))) == [waited]
    assert list(Case.objects.filter(search_condition("parkeer"))) == [other]  # the start of a word
    assert list(Case.objects.filter(search_condition("Zijl"))) == [waited]
    assert list(Case.objects.filter(search_condition(waited.registration.number.lower()))) == [waited]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'cases_registration_fulltext_nl'")
        (definition,) = cursor.fetchone()
        cursor.execute(f"EXPLAIN SELECT id FROM cases_registration WHERE {FULLTEXT_VECTOR} @@ to_tsquery('dutch', 'balie')")
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "to_tsvector('dutch'" in definition
    assert "cases_registration_fulltext_nl" in plan or "Seq Scan" in plan  # the index fits the expression (tiny tables may still be scanned)
