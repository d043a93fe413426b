"""Realistic memories and questions for the benchmarks, generated deterministically from a seed.

About 3,000 distinct words (people, places, projects, tools, foods, hobbies, dates) in templates of
very different lengths: short facts, preferences, decisions, instructions, notes of 3 to 8
sentences, and one memory in five a turn of a ten-turn conversation thread.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

THREAD_EVERY, THREAD_TURNS = 50, 10  # the first 10 of every 50 memories are the turns of one thread
START, SPAN = datetime(2023, 1, 1, tzinfo=UTC), timedelta(days=730)
HOSTS = ["claude-desktop", "claude-code", "cursor", "vscode", "codex"]

# ----------------------------------------------------------------------------------------------------------
# Vocabulary: a few thousand distinct words, so that texts and questions vary as a person's would.


def _words(text: str) -> list[str]:
    return text.split()


def _phrases(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


FIRST = _words("""
Aaliyah Aarav Abebe Ada Adaeze Adrian Afua Ahmed Aiko Aisha Akira Alba Aleksander Alejandro Alice Amara Amir
Ana Anders Andrea Anika Anton Arjun Astrid Ayesha Babajide Beatriz Bela Ben Bianca Bilal Bjorn Bruno Camila
Carlos Carmen Cecilia Chen Chidi Chloe Chiara Dana Daniel Darius Dev Diego Dimitri Divya Elena Elif Elijah
Emeka Emil Emma Esther Ezra Fatima Farah Felix Femi Fern Fiona Florian Freya Gabriel Gaurav Goran Grace Greta
Hana Hannah Haruto Hassan Helga Hiro Ibrahim Ida Ines Ingrid Irene Isaac Isabel Ivan Jamal Jana Javier Jin Joao
Jonas Jorge Joseph Julia Jun Kai Kamala Karim Kasia Kateryna Kavya Keanu Kenji Khadija Kiran Klaus Kofi Laila
Lars Laura Leila Lena Leo Liam Lila Lin Lucia Luis Luka Lupita Magnus Mai Malik Marco Maria Marta Mateo Maya
Mehmet Mei Mila Milan Ming Miriam Mohammed Nadia Naledi Nam Naomi Nia Nico Nikhil Nina Noah Noor Obi Olga
Oliver Olu Omar Oscar Paolo Pavel Pedro Priya Quentin Rafael Rahul Rania Ravi Reza Rhea Rosa Ruth Sakura Salma
Sami Sanjay Sara Sasha Sebastian Selin Shira Simone Siddharth Sofia Soren Sunita Tamar Tariq Teodor Thabo Theo
Tomas Uma Valentina Vera Viktor Wanjiru Wei Xavier Yara Yasmin Yuki Yusuf Zainab Zara Zeynep Zoltan
Abigail Adebayo Agnes Alexei Alina Amelia Aurelio Axel Benedikt Brigitte Callum Cyrus Dalia Dariusz Declan
Eamon Eero Eitan Esme Fabian Fleur Folake Gideon Gwen Harriet Henrik Hugo Imani Isolde Jakub Jasmine Jude
Kalani Kemal Kwame Lachlan Lorenzo Mads Marisol Matteo Nanami Nils Odile Orla Pilar Rasmus Renata Ronan Rui
Saoirse Seun Stellan Tove Ulrich Valeria Wiktor Xiomara Yohannes Yosef Zuri Aditi Bongani Catalina Dagny Efua
""")
LAST = _words("""
Abara Adeyemi Agarwal Ahmadi Alvarez Andersen Araujo Bakker Banerjee Barros Becker Bianchi Borges Brennan
Castillo Chandra Chowdhury Costa Dahl Dubois Duarte Eriksson Esposito Farouk Ferreira Fischer Fontaine Garcia
Ghosh Gonzalez Gruber Haddad Hansen Hartmann Hayashi Herrera Horvath Hughes Ibekwe Ivanova Jansen Jensen Kaplan
Kapoor Kariuki Kato Kaur Khan Kim Kowalski Kruger Kumar Lamberti Larsen Laurent Lee Lindqvist Lopez Lund
Macharia Madsen Mahlangu Marino Martins Mendes Meyer Mishra Molina Moreau Moreno Mukherjee Murphy Nakamura
Navarro Ndlovu Nguyen Nielsen Novak Nowak Nunez Ochieng Okafor Okonkwo Olsen Ortiz Osei Otieno Ozturk Park
Patel Pereira Petrov Pham Popescu Quispe Rahman Ramos Reddy Reyes Ricci Rocha Romero Rossi Sahin Santos Sato
Schmidt Schneider Shah Silva Singh Sokolov Suzuki Svensson Tanaka Tran Varga Vasquez Verma Vogel Wagner Walsh
Watanabe Weber Wojcik Yamamoto Yilmaz Zhang Zhou Zimmermann
Achterberg Alonso Amadi Asante Bauer Bergstrom Boateng Caruso Cohen Correia Dlamini Eze Falk Ferrante
Gallagher Gomes Halvorsen Holm Iyer Jablonski Jovanovic Karlsson Keller Koch Kovacs Lemaire Levi Lindgren
Lombardi Mbeki Mensah Mwangi Nascimento Nilsson Oyelaran Pacheco Petersen Quinn Richter Salazar Sandoval
Sorensen Steiner Takahashi Teixeira Toure Ueda Valdez Vidal Volkov Wilson Yoshida Zapata Zielinski
""")
CITY = _phrases("""
Accra, Addis Ababa, Amsterdam, Antwerp, Athens, Auckland, Austin, Bangalore, Bangkok, Barcelona, Belgrade,
Berlin, Bilbao, Bogota, Bologna, Bordeaux, Boston, Bratislava, Brisbane, Bristol, Brussels, Bucharest, Budapest,
Buenos Aires, Busan, Cairo, Calgary, Cape Town, Cardiff, Cartagena, Casablanca, Chennai, Chicago, Cluj,
Copenhagen, Cork, Curitiba, Dakar, Delhi, Denver, Dhaka, Dublin, Durban, Edinburgh, Eindhoven, Florence,
Fukuoka, Gdansk, Geneva, Genoa, Ghent, Glasgow, Gothenburg, Granada, Graz, Guadalajara, Hamburg, Hanoi,
Helsinki, Ho Chi Minh City, Hong Kong, Honolulu, Hyderabad, Istanbul, Izmir, Jakarta, Johannesburg, Kampala,
Kigali, Kolkata, Krakow, Kuala Lumpur, Kyoto, Lagos, Leeds, Leipzig, Lille, Lima, Linz, Lisbon, Ljubljana,
Lyon, Madrid, Malaga, Manchester, Manila, Marrakesh, Marseille, Medellin, Melbourne, Mexico City, Milan,
Minneapolis, Montevideo, Montreal, Mumbai, Munich, Nairobi, Nantes, Naples, Nice, Oaxaca, Osaka, Oslo, Ottawa,
Oxford, Palermo, Paris, Perth, Philadelphia, Phoenix, Pittsburgh, Porto, Portland, Prague, Pune, Quito,
Reykjavik, Riga, Rio de Janeiro, Rome, Rotterdam, Salzburg, San Diego, San Francisco, Santiago, Sao Paulo,
Sapporo, Sarajevo, Seattle, Seoul, Seville, Shanghai, Singapore, Split, Stockholm, Strasbourg, Stuttgart,
Sydney, Taipei, Tallinn, Tampere, Tbilisi, Tel Aviv, Thessaloniki, Tokyo, Toronto, Toulouse, Trieste, Tunis,
Turin, Utrecht, Valencia, Vancouver, Venice, Vienna, Vilnius, Warsaw, Wellington, Wroclaw, Yokohama, Zagreb,
Zanzibar, Zurich, Aarhus, Adelaide, Almaty, Baku, Basel, Bergen, Bern, Bruges, Cusco, Da Nang, Dresden,
Dubrovnik, Galway, Hobart, Innsbruck, Jaipur, Kathmandu, Kochi, Lausanne, Luxembourg, Lucerne, Lviv, Malmo,
Maputo, Mombasa, Montpellier, Muscat, Nagoya, Odesa, Ostrava, Plovdiv, Puebla, Rabat, Recife, Salvador,
Siena, Tartu, Trondheim, Ulaanbaatar, Valparaiso, Verona, Windhoek, Yerevan, Zaragoza
""")
VENUE = _phrases("""
farmers market, climbing gym, public library, train station, night market, co-working space, old harbour,
botanical garden, jazz bar, noodle shop, corner bakery, city museum, football stadium, community garden,
rooftop terrace, bookshop, swimming pool, concert hall, ferry terminal, ski lodge, beach cafe, vineyard,
food hall, hostel, conference centre, recording studio, pottery studio, dog park, tea house, flea market,
observatory, brewery, cinema, art gallery, university campus, hospital, airport lounge, bike shop,
lake house, camp site, wine bar, chess club, fish market, sauna, bowling alley, ice rink, karaoke bar,
town hall, car park, laundrette, hardware store, bus depot, skate park,
post office, allotment, spice market, dive shop, yoga studio, running track, marina, village pub, fire station
""")
PROJECT = _words("""
Albatross Alder Amber Anvil Apex Aquila Arrow Aspen Atlas Aurora Avalanche Basalt Beacon Birch Blackbird
Bluefin Bonsai Boulder Bramble Breeze Bristlecone Canary Canyon Cascade Cedar Comet Compass Condor Copper Coral
Cormorant Cricket Crimson Cypress Delta Dune Ember Falcon Fathom Fennel Fjord Flint Foxglove Gale Garnet
Glacier Granite Harbor Hawthorn Helix Heron Horizon Indigo Iris Ivy Jasper Juniper Kestrel Kiln Lagoon Lantern
Larkspur Lichen Lighthouse Lotus Lynx Magnolia Mako Maple Marigold Meadow Meridian Mistral Monsoon Nebula
Nectar Nimbus Nova Obsidian Onyx Orca Orchid Osprey Pebble Pelican Pinecone Prism Quartz Quill Raven Redwood
Reef Ridge Saffron Sequoia Sierra Sparrow Spruce Summit Tamarind Thistle Tundra Umbra Vantage Willow Yarrow
Zephyr Zinnia
""")
SYSTEM = _phrases("""
billing service, mobile app, data pipeline, search index, docs site, payments API, onboarding flow,
analytics dashboard, recommendation engine, checkout page, admin console, notification service, design system,
auth gateway, database migration, command-line tool, browser extension, inventory system, booking platform,
support chatbot, fraud model, reporting job, mapping service, firmware update, support portal, pricing page,
warehouse scanner, video player, translation pipeline, backup service
""")
TOOL = _phrases("""
Ansible, Airflow, Angular, Arduino, Bazel, Blender, BigQuery, Bitbucket, Bootstrap, Cassandra, CircleCI,
ClickHouse, Cloudflare, CockroachDB, Confluence, Consul, Cypress, Dagster, Datadog, Deno, Django, Docker, DuckDB,
Elasticsearch, Emacs, Envoy, esbuild, FastAPI, Figma, Firebase, Flask, Flutter, GitHub Actions, GitLab, Go,
Gradle, Grafana, GraphQL, gRPC, Hadoop, Helm, Heroku, htmx, Hugo, InfluxDB, IntelliJ, Istio, Java, Jenkins,
Jest, Jira, Jupyter, Kafka, Keycloak, Kibana, Kotlin, Kubernetes, Laravel, Linear, LaTeX, Logstash, Lua,
MariaDB, Matplotlib, Maven, Memcached, Metabase, MinIO, MongoDB, MySQL, Neo4j, Neovim, Netlify, Next.js, Nginx,
Nix, Node.js, Notion, NumPy, Obsidian, OCaml, OpenTelemetry, Pandas, Perl, PHP, Playwright, Podman, Polars,
PostgreSQL, Postman, Prometheus, Protobuf, Pulumi, PyTorch, Python, RabbitMQ, Rails, React, Redis, Redux,
Remix, Ruby, Rust, SQLAlchemy, SQLite, Sass, Scala, scikit-learn, Selenium, Sentry, Slack, Snowflake, SolidJS,
Spark, Spring Boot, Storybook, Svelte, Swift, Tableau, Tailwind, TensorFlow, Terraform, TypeScript, Ubuntu,
Unity, Vagrant, Vault, Vercel, Vim, Vite, VS Code, Vue, Webpack, WordPress, Xcode, Zig, Excel, Trello, Miro,
Zoom, Redshift, dbt, Hasura, Supabase, Prisma, Traefik, HAProxy, Caddy, Nomad, Packer, Argo CD, Buildkite,
Renovate, Dependabot, pytest, mypy, ruff, Poetry, uv, pnpm, Yarn, Bun, Electron, Tauri, Qt, GTK, Elixir,
Phoenix LiveView, Haskell, Clojure, Erlang, Fortran, COBOL, Julia, R, MATLAB, Power BI, Looker, Airtable,
Ollama, LangChain, Chroma, Qdrant, Weaviate, Pinecone,
Sphinx, MkDocs, Docusaurus, Astro, Gatsby, Ember, Backbone, jQuery, Knative, Linkerd, Fluentd, Loki, Tempo,
Jaeger, Celery, Sidekiq, Temporal, NATS, Pulsar, Flink, Beam, Trino, Presto, Iceberg, Delta Lake, Parquet,
Avro, Kustomize, Skaffold, Tilt, k3s, OpenShift
""")
FOOD = _phrases("""
ramen, sushi, tacos al pastor, pad thai, pho, biryani, falafel, hummus, shakshuka, paella, risotto, lasagne,
pierogi, goulash, borscht, khachapuri, dumplings, bibimbap, kimchi, bulgogi, tonkatsu, okonomiyaki, takoyaki,
udon, soba, tempura, laksa, rendang, satay, nasi goreng, adobo, lumpia, ceviche, empanadas, arepas, feijoada,
moqueca, pastel de nata, bacalhau, croissants, ratatouille, bouillabaisse, crepes, fondue, raclette, schnitzel,
pretzels, bratwurst, sauerkraut, smorrebrod, gravlax, pickled herring, meatballs, cardamom buns, haggis,
fish and chips, shepherd's pie, scones, jollof rice, suya, injera, doro wat, bobotie, biltong, tagine, couscous,
harira, baklava, kebab, lahmacun, dolma, moussaka, souvlaki, tzatziki, spanakopita, halloumi, tabbouleh,
fattoush, kofta, butter chicken, dal, dosa, idli, samosas, paneer, chana masala, naan, momos, mapo tofu,
kung pao chicken, peking duck, xiaolongbao, congee, hot pot, banh mi, bun cha, tom yum, green curry,
massaman curry, mango sticky rice, poke, burritos, enchiladas, mole, tamales, pozole, quesadillas, nachos,
guacamole, brisket, mac and cheese, pancakes, waffles, bagels, pizza, focaccia, carbonara, pesto, gnocchi,
tiramisu, gelato, cannoli, panna cotta, churros, flan, cheesecake, brownies, apple pie, granola, porridge,
avocado toast, sourdough, rye bread, oat milk, espresso, matcha, chai, kombucha, green tea, oolong, mint tea,
cold brew, lemonade, peanuts, shellfish, gluten, lactose, sesame, cashews, strawberries, mushrooms, olives,
cilantro, blue cheese, anchovies, aubergine, okra, tofu, tempeh, lentils, chickpeas, quinoa, kale, beetroot,
pumpkin soup, miso soup, arancini, burrata, bruschetta, polenta, osso buco, cacio e pepe, cevapi,
burek, kimchi stew, japchae, gimbap, yakitori, onigiri, katsu curry, char siu, wonton soup, roti canai,
chicken rice, nasi lemak, pani puri, vada pav, pav bhaji, rogan josh, kulfi, halva, kunafa, manakish, shawarma,
pupusas, chilaquiles, elote, coxinha, pao de queijo, brigadeiros, alfajores, chimichurri, asado, lomo saltado
""")
HOBBY = _phrases("""
bouldering, rock climbing, trail running, marathon training, cycling, mountain biking, swimming,
open water swimming, surfing, kitesurfing, sailing, kayaking, rowing, skiing, snowboarding, ice skating, hiking,
birdwatching, foraging, gardening, beekeeping, woodworking, pottery, knitting, crochet, sewing, quilting,
embroidery, watercolour painting, oil painting, sketching, calligraphy, photography, film photography,
astronomy, chess, go, bridge, poker, board games, jigsaw puzzles, crosswords, sudoku, origami, juggling,
stand-up comedy, improv theatre, choir singing, piano, guitar, the cello, violin, drums, the ukulele,
jazz saxophone, DJing, salsa dancing, tango, ballet, yoga, pilates, tai chi, karate, judo, boxing, fencing,
archery, tennis, badminton, squash, table tennis, padel, volleyball, basketball, football, cricket, rugby, golf,
disc golf, skateboarding, parkour, fly fishing, camping, geocaching, stamp collecting, vinyl records, baking,
bread making, fermentation, home brewing, cocktail making, wine tasting, language exchange, volunteering,
podcasting, blogging, video editing, 3D printing, electronics, robotics, amateur radio, model trains,
drone flying, genealogy, science fiction, poetry, bonsai, aquascaping, letterpress printing, bookbinding,
leathercraft, glassblowing, metalsmithing, urban sketching, mushroom hunting, stargazing, orienteering,
triathlon, canyoning, paragliding, scuba diving, freediving, snorkelling, capoeira, flamenco, lindy hop
""")
TEAM = _phrases("""
platform, payments, growth, infrastructure, security, data science, mobile, frontend, backend, design, research,
marketing, sales, support, finance, legal, recruiting, operations, analytics, machine learning,
developer experience, SRE, QA, localisation, partnerships, product, procurement, facilities, communications,
compliance, customer success, billing, search, identity, observability, release engineering, documentation,
accessibility, privacy, firmware
""")
LANGUAGE = _words("""
Portuguese Spanish French German Italian Dutch Swedish Norwegian Danish Finnish Polish Czech Hungarian Romanian
Greek Turkish Arabic Hebrew Persian Hindi Bengali Tamil Urdu Swahili Yoruba Igbo Amharic Zulu Japanese Korean
Mandarin Cantonese Vietnamese Thai Indonesian Tagalog Russian Ukrainian Georgian Icelandic Welsh Irish Catalan
Basque
""")
RELATION = _phrases("""
sister, brother, mother, father, partner, wife, husband, daughter, son, cousin, aunt, uncle, grandmother,
grandfather, best friend, flatmate, neighbour, manager, mentor, colleague, landlord, doctor, dentist,
accountant, lawyer, coach, teacher
""")
PET = _phrases("""
cat, dog, greyhound, beagle, labrador, border collie, dachshund, poodle, husky, corgi, rabbit, hamster,
guinea pig, parrot, budgie, tortoise, goldfish, gecko, ferret, horse, hedgehog, cockatiel, tabby cat, ragdoll cat
""")
NOUN = _phrases("""
invoice, roadmap, dashboard, contract, budget, proposal, deadline, release, sprint, retrospective, incident,
outage, postmortem, schema, cache, queue, backlog, ticket, pull request, code review, test suite, benchmark,
prototype, design doc, spec, endpoint, webhook, cron job, dependency, licence, audit, report, slide deck, demo,
workshop, offsite, hiring plan, interview loop, onboarding, handbook, policy, checklist, runbook, alert,
on-call rotation, rollback, feature flag, experiment, survey, user study, persona, wireframe, mockup, logo,
font, colour palette, icon set, landing page, newsletter, blog post, press release, conference talk,
podcast episode, webinar, customer call, renewal, discount, refund, quote, purchase order, vendor, supplier,
shipment, warehouse, inventory, forecast, quarterly plan, OKR, metric, funnel, churn, retention, pricing,
subscription, trial, signup flow, password reset, login page, permissions model, data model, query,
migration script, backup, snapshot, cluster, container, volume, bucket, certificate, domain, DNS record,
firewall, VPN, laptop, monitor, keyboard, headset, standing desk, office chair, printer, router, phone, tablet,
calendar, agenda, minutes, memo, email thread, spreadsheet, wiki page, diagram, whiteboard, notebook, passport,
visa, flight, hotel, train ticket, rental car, apartment, lease, mortgage, insurance, tax return, receipt,
pension, savings account, gym membership, prescription, vaccine, blood test, physio session, birthday party,
wedding, anniversary, dinner reservation, gift, holiday, weekend trip, road trip, concert tickets, book club,
recipe, shopping list, grocery order, meal plan, garden bed, balcony, kitchen, bathroom renovation,
roof repair, boiler, washing machine, bicycle, car service, parking permit, library card, school run,
parent evening, homework, exam, thesis, paper, grant application, reference letter, portfolio, CV, job offer,
salary review, promotion, performance review, feedback, side project, open source library, plugin, theme,
app store listing, screenshot, changelog, version bump, hotfix, regression, flaky test, memory leak,
latency spike, timeout, race condition, deadlock, crash report, stack trace, log file, error budget, SLA,
capacity plan, cost report, cloud bill, retirement party, leaving card, team lunch, hackathon,
design review, architecture review, security patch, penetration test, compliance report, privacy notice,
cookie banner, data export, usage report, invoice template, expense claim, travel policy, visa letter,
conference badge, keynote, poster session, lab notebook, field trip, sample size, control group, A/B test,
style guide, tone of voice, brand refresh, media kit, sponsorship deal, partnership agreement, term sheet,
board meeting, investor update, all-hands, town hall, fire drill, first aid kit, spare key, smoke alarm,
dishwasher, radiator, window frame, fence, hedge, compost bin, rain barrel, greenhouse, shed, attic, cellar,
guest room, sofa bed, bookshelf, lamp, rug, curtains, duvet, pillow, kettle, coffee grinder, rice cooker,
blender, oven, freezer, pantry, spice rack, lunchbox, water bottle, umbrella, raincoat, hiking boots,
running shoes, swimsuit, ski pass, tent, sleeping bag, backpack, suitcase, camera, tripod, drone
""")
ADJECTIVE = _words("""
urgent minor critical optional expensive cheap slow fast fragile robust confusing clear messy tidy risky safe
brilliant awkward tedious exciting boring overdue early late huge tiny noisy quiet stable flaky outdated modern
legacy experimental mature popular obscure reliable unreliable simple complicated elegant clunky polished rough
verbose concise generous strict lenient friendly relaxed stressful productive chaotic calm surprising
predictable promising disappointing impressive mediocre solid shaky secure public private internal external
temporary permanent manual automated weekly monthly quarterly annual spicy sweet sour salty bitter crunchy
creamy fresh stale healthy greasy vegetarian vegan homemade seasonal local remote hybrid crowded empty sunny
rainy windy freezing humid cosy spacious cramped affordable pricey accessible hidden famous ancient brand-new
second-hand portable heavy lightweight colourful minimal detailed vague honest candid cautious ambitious
realistic optimistic sceptical
abrupt adventurous affectionate agile alarming anxious breezy bumpy
busy careful casual cheerful clever clumsy cluttered comfortable curious daring delicate dense dependable
dreamy dusty eager earnest easy fancy faint fierce flimsy fragrant frantic gentle gloomy glossy graceful gritty
hasty hearty hilarious humble icy idle intense jolly juicy keen lavish lively lonely loyal lucky lush mellow
mild modest muddy narrow neat nervous nimble odd patient peaceful plain plucky proud quirky rapid rare rustic
""")
VERB = _words("""
review refactor migrate document benchmark deploy test draft schedule cancel postpone approve reject merge split
rename archive delete restore monitor debug profile optimise simplify rewrite translate summarise present record
publish announce share invite book order pay refund renew sign negotiate estimate prioritise triage escalate
investigate reproduce patch upgrade downgrade pin audit encrypt rotate revoke provision scale shard replicate
index tune measure compare prototype sketch design plan outline interview hire onboard mentor coach thank call
email visit meet collect deliver ship pack unpack clean repair paint water prune plant harvest bake cook taste
buy sell return borrow lend print scan sort label organise tidy update check confirm verify validate sync export
import configure install uninstall automate retire celebrate
pitch forecast reconcile invoice
rebook reschedule refill replace recycle donate frame hang assemble dismantle fix mend iron fold wrap decorate
rehearse practise memorise photograph film edit upload stream host moderate facilitate chair defend submit
""")
REASON = _phrases("""
the licence changed, it was too slow under load, the team already knows it, the costs kept growing,
support for the old version ends soon, nobody could debug it, it needs fewer moving parts,
the security review asked for it, it halves the build time, the vendor raised prices,
customers kept asking for it, the old setup kept paging people at night, it is easier to hire for,
the benchmark numbers were better, it runs on a laptop, the docs are much better, it fits the budget,
legal approved it, it scales without sharding, the migration path is simpler, we had three outages in a month,
it removes a whole service, the data stays in the EU, the mobile team needs offline support,
it was a pain to upgrade
""")
MONTH = _words("January February March April May June July August September October November December")
WEEKDAY = _words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
SEASON = _words("spring summer autumn winter")
DURATION = _phrases("three days, a long weekend, ten days, two weeks, three weeks, a month, six weeks, half a year")
SLOTS: dict[str, list[str]] = {
    "first": FIRST, "last": LAST, "city": CITY, "venue": VENUE, "project": PROJECT, "system": SYSTEM,
    "tool": TOOL, "food": FOOD, "hobby": HOBBY, "team": TEAM, "language": LANGUAGE, "relation": RELATION,
    "pet": PET, "noun": NOUN, "adj": ADJECTIVE, "verb": VERB, "reason": REASON, "month": MONTH,
    "weekday": WEEKDAY, "season": SEASON, "duration": DURATION,
}  # fmt: skip

# ----------------------------------------------------------------------------------------------------------
# Templates. {who}, {place} and {project} are the subject of one memory, note or thread; every other slot
# is a fresh pick. Each template carries the tag its memories get (and the project's, when it names one).

FACTS = [
    ("people", "{who} lives in {place}."),
    ("people", "{who}'s {relation} is called {first}."),
    ("people", "{who} has a {pet} named {first}."),
    ("people", "{who} speaks {language} at home and is learning {language}."),
    ("people", "{who}'s birthday is on {date}."),
    ("work", "{who} joined the {team} team on {date}."),
    ("work", "{who} leads the {project} {system}."),
    ("work", "The {project} {system} runs on {tool} and {tool}."),
    ("work", "The {project} launch is planned for {date}."),
    ("health", "{who} is allergic to {food}."),
    ("health", "{who} has a {noun} with the {relation} every {weekday} at {time}."),
    ("travel", "{who} flies to {place} on {date} and stays for {duration}."),
    ("travel", "The {noun} for the {place} trip is booked under {who}'s name."),
    ("hobbies", "{who} took up {hobby} in {year}."),
    ("hobbies", "{who}'s {hobby} class is on {weekday}s at {time} near the {venue}."),
    ("home", "The {noun} at {who}'s flat in {place} needs a {adj} {noun}."),
    ("home", "{who} pays {number} euros a month for the {noun}."),
]
PREFERENCES = [
    ("work", "{who} prefers {tool} over {tool} for anything involving the {noun}."),
    ("work", "{who} wants meetings after {time} and never on {weekday}s."),
    ("work", "{who} likes {adj}, {adj} code reviews with the {noun} linked."),
    ("food", "{who} loves {food} but cannot stand {food}."),
    ("food", "{who}'s favourite place for {food} in {place} is the stall by the {venue}."),
    ("food", "{who} drinks {food} in the morning, never {food}."),
    ("hobbies", "{who} would rather go {hobby} with {first} than alone."),
    ("travel", "{who} prefers window seats and {adj} hotels close to the {venue}."),
    ("home", "{who} wants a {adj} {noun} in the living room, not another {noun}."),
    ("work", "I prefer {tool} for the {project} {system}, and {tool} for side projects."),
]
DECISIONS = [
    ("work", "Decided on {date}: the {project} {system} moves from {tool} to {tool}, because {reason}."),
    ("work", "We agreed with the {team} team that {project} ships without the {noun} until {month}."),
    ("work", "Decision: {who} owns the {noun} for {project} from {date}; {first} reviews it."),
    ("work", "We dropped {tool} from the {project} {system} on {date} because {reason}."),
    ("home", "{who} and {first} decided to {verb} the {noun} before {season}."),
    ("travel", "We chose {place} over {city} for the {noun}, because it is {adj} and {adj}."),
]
INSTRUCTIONS = [
    ("work", "When writing about {project}, always mention the {noun} first."),
    ("work", "Always ask {who} before changing the {team} team's {tool} setup."),
    ("work", "Reply to {who} in {language}, and keep it {adj}."),
    ("work", "Never {verb} the {noun} on a {weekday}; {who} needs a day to {verb} it."),
    ("work", "Use {tool} for examples in the {project} docs, not {tool}."),
]
NOTE_SENTENCES = [
    "Met {who} at the {venue} in {place} on {date}.",
    "{who} is worried that the {project} {noun} is too {adj}.",
    "We talked about {hobby} and the {food} place near the {venue}.",
    "{who} suggested trying {tool} for the {noun} instead of {tool}.",
    "The next step is to {verb} the {noun} before {weekday}.",
    "{first} will {verb} the {noun} and send it to the {team} team.",
    "The budget for {project} is about {number} thousand, mostly for the {noun}.",
    "Open question: should we {verb} the {noun} now or wait until {month}?",
    "{who} mentioned that their {relation} is moving to {city} in {month}.",
    "Lunch was {food} with {first}, who recommended a {adj} {food} place in {place}.",
    "It rained all afternoon, so the {hobby} plan moved to {weekday}.",
    "Remember to book the {noun} for {place} for {duration} around {date}.",
    "The {adj} part was the {noun}; everything else went smoothly.",
    "{who} thinks {tool} is {adj} but hard to {verb}.",
    "We need a {adj} {noun} for the {team} team by {date}.",
    "Action items: {first} to {verb} the {noun}, {first} to {verb} the {noun}.",
    "Overall the meeting was {adj}, and {who} seemed {adj} about {project}.",
    "{who} has been learning {language} for {duration} now.",
    "Next time in {place}, try the {food} at the {venue}.",
    "The {project} {system} had a {adj} {noun} last {weekday}, caused by a {noun}.",
    "{first} {last} from {team} offered to help with the {noun}.",
]
USER_TURNS = [
    "I'm planning a trip to {place} with {who} in {month}; any ideas?",
    "Can you remind me what we decided about the {project} {noun}?",
    "{who} said the {noun} is {adj} again, and I have to {verb} it by {weekday}.",
    "I want to get back into {hobby}; {who} might join me on {weekday}s.",
    "What was the {food} place in {place} that {who} liked?",
    "I think we should switch the {project} {system} to {tool}, because {reason}.",
    "My {relation} is visiting {place} for {duration}; where should we eat?",
    "Can you draft a note to the {team} team about the {noun}?",
    "I forgot to {verb} the {noun} for {project} again.",
    "Tell me again why {who} prefers {tool}?",
]
ASSISTANT_TURNS = [
    "You mentioned {who} loves {food}; the {venue} in {place} has a {adj} one.",
    "Last time you decided to {verb} the {noun} first, then ask {who} about {project}.",
    "For {hobby} near {place}, the {venue} is {adj} on {weekday} evenings.",
    "I drafted it: the {noun} for {project} is {adj}, and {first} will {verb} it by {date}.",
    "{who} said {tool} was {adj} for the {noun}, which is why you kept it.",
    "Noted: {who} arrives in {place} on {date} and stays for {duration}.",
    "Sure. You also asked me to remind you to {verb} the {noun} before {month}.",
    "The {project} {system} moved to {tool} in {year} because {reason}.",
]
QUESTIONS = [
    "Where does {who} live?",
    "What is the name of {who}'s {pet}?",
    "Who is {who}'s {relation}?",
    "What languages does {who} speak?",
    "When is {who}'s birthday?",
    "Which team did {who} join?",
    "Who leads the {project} {system}?",
    "What does the {project} {system} run on?",
    "When is the {project} launch?",
    "Is {who} allergic to anything?",
    "When is {who} flying to {place}?",
    "Since when does {who} do {hobby}?",
    "Does {who} prefer {tool} or {tool}?",
    "When does {who} like to have meetings?",
    "What food does {who} dislike?",
    "Where is the best {food} in {place}?",
    "Why did we move {project} to {tool}?",
    "What did we agree with the {team} team about {project}?",
    "Who owns the {noun} for {project}?",
    "How should I write about {project}?",
    "What should I check before changing the {tool} setup?",
    "What happened at the {venue} in {place}?",
    "What are the open questions about the {project} {noun}?",
    "Notes from meeting {who} in {month} {year}",
    "{hobby} plans with {who}",
    "Where should we eat in {place}?",
    "What is the budget for {project}?",
    "Why does {who} like {tool}?",
    "Which {noun} problems did the {project} {system} have?",
    "trip to {place} in {month}",
    "What did {who} say about the {noun}?",
    "Who is learning {language}?",
]
TAG_FILTERS = ["work", "people", "food", "travel", "hobbies", "health", "home", "chat", "notes"]


class Writer:
    """Texts from the vocabulary, deterministic for a seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def subject(self) -> dict[str, str]:
        return {"who": self.person(), "place": self.rng.choice(CITY), "project": self.rng.choice(PROJECT)}

    def person(self) -> str:
        first = self.rng.choice(FIRST)
        return f"{first} {self.rng.choice(LAST)}" if self.rng.random() < 0.5 else first

    def slot(self, name: str, subject: dict[str, str]) -> str:
        if name in subject:
            return subject[name]
        if name in SLOTS:
            return self.rng.choice(SLOTS[name])
        rng = self.rng
        return {
            "date": lambda: f"{rng.randint(1, 28)} {rng.choice(MONTH)} {rng.randint(2023, 2025)}",
            "year": lambda: str(rng.randint(2015, 2025)),
            "time": lambda: f"{rng.randint(7, 20)}:{rng.choice(['00', '15', '30', '45'])}",
            "number": lambda: str(rng.randint(2, 90) * 10),
        }[name]()

    def fill(self, template: str, subject: dict[str, str]) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: self.slot(m.group(1), subject), template)

    def memory(self) -> dict[str, Any]:
        """A short memory or a note of 3 to 8 sentences."""
        subject = self.subject()
        kind = self.rng.choices(["fact", "preference", "event", "instruction", "note"], [35, 20, 12, 8, 25])[0]
        if kind == "note":
            sentences = self.rng.sample(NOTE_SENTENCES, self.rng.randint(3, 8))
            return _memory(" ".join(self.fill(s, subject) for s in sentences), "note", "notes", subject)
        templates = {"fact": FACTS, "preference": PREFERENCES, "event": DECISIONS, "instruction": INSTRUCTIONS}[kind]
        tag, template = self.rng.choice(templates)
        return _memory(self.fill(template, subject), kind, tag, subject if "{project}" in template else None)

    def turn(self, turn: int, subject: dict[str, str]) -> dict[str, Any]:
        """A turn of a conversation about one subject: the user's, then the assistant's."""
        speaker, turns = ("User", USER_TURNS) if turn % 2 == 0 else ("Assistant", ASSISTANT_TURNS)
        return _memory(f"{speaker}: {self.fill(self.rng.choice(turns), subject)}", "note", "chat", None)

    def question(self) -> str:
        return self.fill(self.rng.choice(QUESTIONS), self.subject())


def _memory(content: str, kind: str, tag: str, subject: dict[str, str] | None) -> dict[str, Any]:
    tags = [tag, subject["project"].lower()] if subject else [tag]
    return {"content": content, "kind": kind, "tags": tags}


def distinct_records(seed: int = 0) -> Iterator[dict[str, Any]]:
    """Memories without a time, each new (none is skipped as a duplicate); the first ten of every 50 a thread."""
    writer = Writer(seed)
    seen: set[str] = set()
    subject: dict[str, str] = {}
    for i in itertools.count():
        turn = i % THREAD_EVERY
        if turn == 0:
            subject = writer.subject()
        record = writer.turn(turn, subject) if turn < THREAD_TURNS else writer.memory()
        while record["content"] in seen:
            record = writer.turn(turn, subject) if turn < THREAD_TURNS else writer.memory()
        seen.add(record["content"])
        record["thread"] = f"chat-{i // THREAD_EVERY}" if turn < THREAD_TURNS else None
        record["source"] = HOSTS[i % len(HOSTS)]
        yield record


def stamped(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records spread over two years, in order; the turns of a thread three minutes apart."""
    for index, record in enumerate(records):
        turn = index % THREAD_EVERY if record["thread"] else 0
        when = START + SPAN * ((index - turn) / len(records)) + timedelta(minutes=3 * turn)
        record["created_at"] = when.isoformat()
    return records


def synthetic_records(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """`count` distinct memories as `import_memories` takes them."""
    return stamped(list(itertools.islice(distinct_records(seed), count)))


def synthetic_memories(count: int, seed: int = 0) -> list[str]:
    return [record["content"] for record in synthetic_records(count, seed)]


def synthetic_queries(count: int, seed: int = 1) -> list[str]:
    """`count` distinct questions a person might ask of such memories."""
    writer = Writer(seed)
    queries: dict[str, None] = {}
    while len(queries) < count:
        queries[writer.question()] = None
    return list(queries)


def recall_filters(count: int, seed: int = 2) -> list[dict[str, Any]]:
    """Alternately a tag filter and a time window of about three months within the memories' two years."""
    rng = random.Random(seed)
    filters: list[dict[str, Any]] = []
    for i in range(count):
        if i % 2 == 0:
            filters.append({"tags": [rng.choice(TAG_FILTERS)]})
        else:
            since = START + timedelta(days=rng.randint(0, SPAN.days - 90))
            filters.append(
                {"since": since.date().isoformat(), "until": (since + timedelta(days=90)).date().isoformat()}
            )
    return filters
