"""Benchmarks: the service beside a bare aiohttp handler (`make bench`)."""
