from rest_framework.pagination import PageNumberPagination


class CountedPagination(PageNumberPagination):
    """`?page=N&page_size=M` with `count`, `next`, `previous` and `results`."""

    page_size_query_param = "page_size"
    max_page_size = 200
