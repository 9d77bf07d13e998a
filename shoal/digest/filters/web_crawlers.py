"""Known web crawlers: drop an event whose request's `User-Agent` is a search engine, link
previewer, archiver or uptime checker — the agents Sentry's web-crawler filter lists (Relay's
`web_crawlers.rs`, reference §4.1): Google's ad, feed and index bots, Bing, Baidu, Yahoo's Slurp,
Sogou, Facebook, Alexa, Slack's previewers (but not Slackbot itself, which people use), Pingdom,
Lytics, AWS Security Scanner, HubSpot, Bytedance, Better Uptime, and any "bot" or "spider" word.
On by default, as in Sentry: a crawler hitting a broken page makes the same error for nobody.
"""

from __future__ import annotations

import re

from shoal import outcomes
from shoal.digest.filters.inbound import Inbound, user_agent
from shoal.store.inbound_filters import FilterSettings

REASON = outcomes.FILTER_WEB_CRAWLERS

_CRAWLERS = re.compile(
    "|".join(
        (
            r"Mediapartners-Google",
            r"AdsBot-Google",
            r"Googlebot",
            r"FeedFetcher-Google",
            r"BingBot",
            r"BingPreview",
            r"Baiduspider",
            r"Slurp",
            r"Sogou",
            r"facebook",
            r"ia_archiver",
            r"bots?[/\s);]",  # "Twitterbot/1.0", "(compatible; bots)"
            r"spider[/\s);]",
            r"Slack",
            r"Calypso\sAppCrawler",
            r"pingdom",
            r"lyticsbot",
            r"AWS\sSecurity\sScanner",
            r"HubSpot\sCrawler",
            r"Bytespider",
            r"Better\sUptime",
        )
    ),
    re.IGNORECASE,
)
# Slackbot proper ("Slackbot 1.0 (+https://api.slack.com/robots)") is a person's assistant.
_ALLOWED = re.compile(r"Slackbot\s1\.\d+", re.IGNORECASE)


def check(event: Inbound, settings: FilterSettings) -> str | None:
    if not settings.is_on(REASON):
        return None
    agent = user_agent(event.data)
    return REASON if agent is not None and is_crawler(agent) else None


def is_crawler(agent: str) -> bool:
    return _CRAWLERS.search(agent) is not None and _ALLOWED.search(agent) is None
