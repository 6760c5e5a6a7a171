"""Words the simulated people use: names, companies, products, descriptions, notes.

Some entries hold non-ASCII letters, quotes and markup on purpose: real customers type them,
and the bridge must carry and escape them correctly.
"""

FIRST_NAMES = (
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "John",
    "Katherine",
    "Donald",
    "Zoë",
    "José",
    "Søren",
    "Ngozi",
    "Priya",
    "Wei",
    "Fatima",
    "Olusegun",
    "Anaïs",
    "Mateus",
    "Yuki",
    "Kofi",
    "Ingrid",
    "Omar",
)
LAST_NAMES = (
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "McCarthy",
    "Johnson",
    "Knuth",
    "Müller",
    "García",
    "Kierkegaard",
    "Okafor",
    "Raman",
    "Zhang",
    "Haddad",
    "Adeyemi",
    "Dubois",
    "Silva",
    "Tanaka",
    "Mensah",
    "Lindqvist",
    "O'Brien",
)
COMPANY_STEMS = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Aperture",
    "Wonka",
    "Gringotts",
    "Oceanic",
    "Monarch",
    "Nakatomi",
    "Prestige",
    "Dunder",
    "Pied Piper",
    "Bluth",
    "Sirius",
    "Oscorp",
    "Massive",
    "Nordwind",
)
COMPANY_SUFFIXES = ("Corp", "Ltd", "GmbH", "Group", "Holdings", "& Co", "Industries", "S.A.")
BRANCH_NAMES = ("North", "South", "East", "West", "EMEA", "APAC", "Americas", "Retail", "Labs")
PARTNER_NAMES = (
    "FixIt Partners",
    "ServiceNow Field Co",
    "Rapid Repair",
    "TechOnSite",
    "Blue Van Services",
    "Prime Maintenance",
    "Gearhead Logistics",
    "Northern Field Ops",
    "CoolAir Installers",
)
CITIES = (
    "London",
    "Paris",
    "Berlin",
    "Madrid",
    "Lagos",
    "Nairobi",
    "Tokyo",
    "São Paulo",
    "Austin",
    "Toronto",
    "Sydney",
    "Mumbai",
    "Zürich",
    "Oslo",
    "Kraków",
    "Dublin",
)
SITES = ("HQ", "Warehouse", "Plant", "Branch Office", "Data Center", "Store")
#: Configuration item name prefixes (printers, HVAC units, UPSs, boilers, routers, …)
CI_CLASSES = ("PRN", "HVAC", "UPS", "BLR", "RTR", "FRZ", "KSK", "INV", "ELV")
PRODUCTS = (
    "LaserJet 9000",
    "AirFlow HVAC 300",
    "PowerCell UPS",
    "ThermoSense Boiler",
    "NetEdge Router",
    "CoolStore Freezer",
    "VendMax Kiosk",
    "Solar Inverter S5",
    "Elevator Drive E2",
)
CATEGORIES = ("hardware", "software", "network", "billing", "installation", "maintenance")
CHANNELS = ("web", "phone", "email", "chat", "social")
CASE_PROBLEMS = (
    "Printer jams on every print job",
    "Unit makes a grinding noise",
    "Device will not power on",
    "Error E42 after firmware update",
    "Installation request for new site",
    "Intermittent network drops",
    'Display shows "Service required"',
    "Leaking coolant under the unit",
    "Invoice does not match the <b>order</b>",
    "Replacement part needed",
    "Scheduled maintenance overdue",
)
CASE_DETAILS = (
    "Started on Monday, happens several times a day.",
    "Customer says the issue began after the power cut.",
    "Second report this month; previous fix did not hold.",
    "Urgent: production line stopped.",
    "Reported by the site manager, photos attached in the portal.",
)
WORK_NOTES = (
    "Called the customer",
    "Escalated after second call",
    "Waiting for parts",
    "Technician on site",
    "Replaced the fuser unit",
    "Firmware rolled back to 4.1",
    "Customer confirmed the fix",
    "Parts ordered, ETA 2 days",
)
COMMENTS = (
    "Thanks, we will be on site tomorrow.",
    "Can you confirm the serial number?",
    "The issue is back since this morning.",
    "Please call me on my mobile instead.",
    "We've applied a temporary workaround.",
)
TASK_DESCRIPTIONS = (
    "Replace fuser unit",
    "Diagnose fault",
    "Install replacement part",
    "Collect old unit",
    "Safety inspection",
    "Firmware update",
    "Customer sign-off",
)
CAT_ITEMS = ("Replacement toner", "New laptop", "Spare parts kit", "Site access badge", "Loaner device")
CHANGE_TEMPLATES = ("Printer firmware update", "Router config backup", "Standard part swap")
INCIDENT_HOLD_REASONS = ("Awaiting Caller", "Awaiting Change", "Awaiting Problem", "Awaiting Vendor")
INCIDENT_CLOSE_CODES = (
    "Solved (Permanently)",
    "Solved (Work Around)",
    "Solved Remotely (Permanently)",
    "Not Solved (Not Reproducible)",
    "Closed/Resolved by Caller",
)
CHANGE_HOLD_REASONS = ("Awaiting vendor window", "Awaiting customer approval", "Parts delayed")
AGENTS = ("agent.jones", "agent.patel", "agent.kim", "agent.nowak", "agent.ibrahim")
TECHNICIANS = ("tech.smith", "tech.garcia", "tech.okafor", "tech.lind", "tech.sato")
ITIL_USERS = ("itil.user", "itil.chen", "itil.moreau")
PROBLEM_MANAGERS = ("problem.mgr", "problem.ross")
CHANGE_MANAGERS = ("change.mgr", "change.fox")
FULFILLERS = ("fulfiller", "fulfiller.ng")
GROUPS = ("Field Support", "Customer Care", "Billing Desk", "Network Ops", "Installations")
