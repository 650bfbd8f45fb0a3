"""A made-up day of one sector's news, labelled by event: several companies, each with unrelated news the same
day (a lease, its shares, an executive, a product), each event reported by two to four outlets in their own words,
some in Title Case. Clustering should keep one story per event: a company's name shared is not an event shared.
Used by bench/stories.py (precision beside the UCI labels, which are topics) and tests/test_stories.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.stories import StoryInput

START = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)

# (event label, outlet, minutes after START, headline)
REPORTS: tuple[tuple[str, str, int, str], ...] = (
    ("kestrel-lease", "The Harbor Ledger", 0, "Kestrel Commerce leases 600,000-square-foot fulfillment center in Kent"),
    ("kestrel-shares", "Metro Wire", 20, "Kestrel Commerce shares climb after upbeat holiday forecast"),
    ("kestrel-lease", "Metro Wire", 35, "Kestrel takes giant Kent warehouse, county filings show"),
    ("kestrel-exec", "Coastline Retail Report", 50, "Kestrel Commerce names former Lumenfield executive head of "
                                                    "marketplace"),
    ("kestrel-lease", "The Evergreen Observer", 80, "Kent warehouse lease: Kestrel Commerce signs for 600,000 "
                                                    "square feet"),
    ("kestrel-shares", "Signal Daily", 95, "Kestrel Stock Jumps As Holiday Outlook Beats Forecasts"),
    ("kestrel-delivery", "Signal Daily", 110, "Kestrel Commerce tests same-day delivery in the Bay Area"),
    ("kestrel-exec", "Pinecrest Times", 130, "Former Lumenfield executive to run Kestrel's marketplace"),
    ("kestrel-delivery", "Metro Wire", 150, "Kestrel Commerce starts same-day delivery trial around San Francisco"),
    ("quillpay-raise", "Pinecrest Times", 60, "Quillpay raises $48 million to take small-business invoicing abroad"),
    ("quillpay-raise", "Metro Wire", 100, "Invoicing start-up Quillpay lands $48 million Series B"),
    ("quillpay-outage", "Signal Daily", 170, "Quillpay outage leaves small businesses unable to send invoices"),
    ("quillpay-raise", "Coastline Retail Report", 190, "Quillpay Raises $48M To Expand Invoicing Abroad"),
    ("quillpay-outage", "The Harbor Ledger", 210, "Quillpay restores service after invoices fail for hours"),
    ("quillpay-outage", "Pinecrest Times", 240, "Hours-long Quillpay outage hits small-business invoices"),
    ("orchard-clinics", "The Evergreen Observer", 30, "Orchard Health to open urgent-care clinics across Denver "
                                                      "suburbs"),
    ("orchard-clinics", "Metro Wire", 75, "Orchard Health plans a dozen Denver-area urgent-care clinics"),
    ("orchard-ceo", "Signal Daily", 140, "Orchard Health chief executive steps down"),
    ("orchard-ceo", "Pinecrest Times", 160, "Orchard Health CEO resigns; finance chief named interim head"),
    ("orchard-clinics", "Coastline Retail Report", 200, "Orchard Health Expands Urgent Care Into Denver Suburbs"),
    ("orchard-ceo", "The Harbor Ledger", 260, "Orchard Health chief executive resigns after two years"),
    ("tidewater-fleet", "The Harbor Ledger", 40, "Tidewater Freight buys 140-truck regional fleet from Ridgeback "
                                                 "Haulers"),
    ("tidewater-fleet", "Metro Wire", 90, "Ridgeback Haulers sells its 140 trucks to Tidewater Freight"),
    ("tidewater-strike", "Signal Daily", 180, "Tidewater Freight drivers vote to strike over pay"),
    ("tidewater-strike", "The Evergreen Observer", 220, "Tidewater Freight drivers back strike in pay dispute"),
    ("tidewater-fleet", "Pinecrest Times", 230, "Tidewater Freight adds 140 trucks with Ridgeback Haulers deal"),
    ("lumenfield-stores", "Metro Wire", 45, "Lumenfield Grocers closes two Spokane stores amid lease dispute"),
    ("lumenfield-stores", "The Evergreen Observer", 120, "Lease dispute shuts two Lumenfield Grocers stores in "
                                                         "Spokane"),
    ("lumenfield-recall", "Signal Daily", 250, "Lumenfield Grocers recalls store-brand peanut butter"),
    ("lumenfield-recall", "The Harbor Ledger", 280, "Lumenfield Grocers peanut butter recall widens to three states"),
    ("fernhill-arms", "Coastline Retail Report", 55, "Fernhill Robotics ships its 1,000th picking arm, eyes West "
                                                     "Coast warehouses"),
    ("fernhill-arms", "Signal Daily", 145, "Fernhill Robotics Ships 1,000th Picking Arm"),
    ("fernhill-layoffs", "Metro Wire", 270, "Fernhill Robotics cuts 60 jobs at its Boston plant"),
    ("fernhill-layoffs", "Pinecrest Times", 300, "Fernhill Robotics lays off 60 workers in Boston"),
)


# What an outlet's text says about the company whatever the news: with `with_text`, every report's text is its
# headline and this, the worst case of boilerplate shared by a company's unrelated stories.
ABOUT = {
    "kestrel": "Kestrel Commerce, the Seattle online retailer, sells household goods and runs its own delivery "
               "network across the West Coast.",
    "quillpay": "Quillpay, based in New York, makes invoicing and payments software for small businesses.",
    "orchard": "Orchard Health runs primary-care and urgent-care clinics in Colorado and Tennessee.",
    "tidewater": "Tidewater Freight is a regional trucking company serving ports in Washington and Oregon.",
    "lumenfield": "Lumenfield Grocers operates supermarkets in eastern Washington and Idaho.",
    "fernhill": "Fernhill Robotics, of Boston, builds robotic picking arms for warehouses.",
}


def company_news(*, with_text: bool = False) -> tuple[list[StoryInput], list[str]]:
    """The reports in publication order (ties by id) and their event labels."""
    rows = sorted(enumerate(REPORTS, start=1), key=lambda r: (r[1][2], r[0]))
    items = [StoryInput(n, title, f"{title}. {ABOUT[label.split('-')[0]]}" if with_text else "", outlet,
                        START + timedelta(minutes=minutes))
             for n, (label, outlet, minutes, title) in rows]
    return items, [label for _, (label, *_) in rows]
