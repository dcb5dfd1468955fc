"""core.cache.PooledRedisCache: Django's Redis cache with one client object per pool."""

from django.core.cache import cache, caches

from core.cache import PooledRedisCache


def test_the_cache_is_redis_with_one_client_per_pool_and_still_reads_and_writes():
    assert isinstance(caches["default"], PooledRedisCache)  # make test runs against Redis, as production does
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client and cache._cache.get_client() is client
    cache.set("core-cache-test", {"n": 1}, 30)
    assert cache.get("core-cache-test") == {"n": 1}
    assert cache.add("core-cache-test-count", 1, 30) and cache.incr("core-cache-test-count") == 2
    cache.delete("core-cache-test")
    assert cache.get("core-cache-test") is None
