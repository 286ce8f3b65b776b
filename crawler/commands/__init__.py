"""Scrapy commands of the project (``COMMANDS_MODULE``, set by ``crawler/settings.py``)."""
