package analysis

import (
	"slices"
	"strings"
)

// The concept lexicon groups the many wordings of one idea ("price", "expensive", "bucks",
// "cheaper") under one concept, so that clauses by different people meet even when they
// share no word. It is written for general product, service, workplace and health
// research, not for one study: every concept names an aspect people commonly praise,
// complain about or ask for.
//
// Each line is: id | noun phrase for titles | what people ask for, for opportunity titles
// | terms. Terms are single words or phrases, matched on Snowball stems so that
// morphology ("skip", "skipped", "skipping") comes for free. A leading "~" marks a weak
// term: one that often carries the concept but also occurs in unrelated talk ("long",
// "option"); a weak term alone needs an evaluative clause to count. A leading "=" matches
// the word itself, not its stem ("plan" but not "planning"). A leading "!" marks a term
// that is itself a complaint ("big brother", "checked up on").
//
// Concept order is priority: a finding's key names its concepts in this order, so it is
// stable across runs however the clusters happen to be sized.
const conceptTable = `
cost | The price | a cheaper option | price, prices, pricing, priced, pricey, overpriced, cost, costs, costly, expensive, cheap, cheaper, cheapest, money, dollar, dollars, buck, bucks, afford, affordable, unaffordable, budget, fee, fees, bill, billed, billing, charge, charged, charges, overcharged, ~spend, ~spent, premium prices, ~premium, ~rent, value for money, a serving, a plate, per person, per month, a month, price tag, copay, co-pay, deductible, insurance, invoice, ~euros, ~pounds, subscription fee, rip-off, ripoff, waste of money, ~worth it, hidden fees, hidden fee, surprise charges
speed | How long things take | something quicker | slow, slower, slowly, sluggish, lag, laggy, lagging, took forever, takes forever, taking forever, take forever, forever to, took ages, takes ages, crawl, crawls, crawling, spinner, spinning wheel, timed out, times out, time out, wait, waiting, waited, delay, delays, delayed, minutes, minute, hour, hours, ~long, longer, lengthy, time-consuming, too long, took ages, loading, load, loads, ~quick, ~quicker, ~quickly, ~fast, ~faster, fastest, speed, waste of time, in an afternoon, in a morning, half an hour, an afternoon, a morning, ~seconds, each way, hours a day, an hour each way
effort | The effort involved | less effort | effort, chop, chopping, chopped, mince, mincing, prep, preparation, prepping, grate, grating, peel, peeling, ~steps, tedious, hassle, laborious, manual, manually, by hand, too much work, a lot of work, ~energy, ~too much, ~weeknight, ~weeknights, ~work night, pre-chopped, prechopped, ~juggle, ~juggling, cumbersome, fiddly, paperwork, ~forms, ~admin, ~workaround, ~workarounds, ~double entry, ~re-enter, ~retype
fatigue | Tiredness and stress | more breathing room | tired, exhausted, exhausting, exhaustion, drained, draining, wiped out, worn out, burnout, burned out, burnt out, fatigue, stress, stressed, stressful, overwhelmed, ~overwhelming, overworked, workload, hectic, ~sleep, anxious, anxiety, ~pressure
usability | Ease of use | a simpler interface | confusing, confused, confusion, unclear, complicated, ~complex, hard to find, couldn't find, can't find, hard to use, intuitive, unintuitive, counterintuitive, clunky, cluttered, navigate, navigation, ~menu, ~menus, buried, ~hidden, ~figure out, ~figure it out, jargon, user-friendly, user friendly, usability, ~interface, ~ui, ~layout, ~button, ~buttons, ~click, ~clicks, ~tap, ~settings, ~where to
access | Access, sign-in and permissions | simpler access control | sso, single sign-on, saml, okta, azure ad, active directory, permissions, permission, locked out, ~verification, ~verify, ~verified, two-step, ~roles, ~role, row-level, row level, access control, ~access, ~login, ~log in, logged in, log into, ~sign in, ~signed in, password, passwords, ~invite, ~invited, ~invites, two-factor, 2fa, ~admin rights, ~governance, ~compliance, ~approve, ~approved, ~approval
learning | Learning new skills | more to learn | learn, learned, learnt, learning, teach, taught, teaching, skill, skills, technique, techniques, ~discover, ~discovered, picked up, figured out how, ~how to, repertoire, education, educational, ~confident, ~confidence, ~mastered, graduated, ~never made, ~never tried, cuisines, ~cuisine, up to speed, ~knowledge, upskill, upskilling, ~training, ~trained, ~course, ~courses, learning curve
packaging | Packaging and waste | less packaging | packaging, packaged, plastic, plastics, baggie, baggies, pouch, pouches, sachet, sachets, liner, liners, ice pack, ice packs, cold pack, cold packs, recycle, recycling, recyclable, recycled, trash, garbage, rubbish, landfill, ~waste, wasteful, compostable, wrapper, wrappers, wrapping, ~wrapped, cardboard, styrofoam, polystyrene, little bags, little bag, tiny bags, plastic bag, plastic bags, bag for everything, bags inside, eco-friendly, ~sustainable, sustainability, ~environmental, ~environment
quality | Product quality and freshness | better quality | quality, fresh, freshness, stale, wilted, wilting, slimy, limp, mealy, bruised, rotten, rotting, rot, spoiled, spoilt, mouldy, moldy, mold, mould, soggy, rubbery, ~soft, ~brown, ~yellow, expired, smelled off, gone off, went off, were off, was off, past its best, ~produce, defective, damaged, flimsy, cheaply made, poor quality, low quality, ~hit or miss, ~inconsistent, ~standards, quality control
scheduling | Skipping, pausing and delivery schedules | more control over when things arrive | skip, skipped, skipping, skips, pause, paused, pausing, pauses, cutoff, cut-off, ~deadline, ~schedule, ~scheduled, reschedule, rescheduling, postpone, opt-in, opt-out, opt in, opt out, ~by default, kept coming, keep coming, showed up anyway, unopened, unwanted, ~frequency, cadence, every other week, every other month, monthly box, once a month, when i want, when i wanted, when i felt like it, on demand, on-demand, auto-renew, autorenew, ~renewal, ~renewed, ~recurring
plan | Plan options | a simpler, smaller or cheaper plan | =plan, =plans, tier, tiers, option, options, version, versions, ~line, bundle, ~basic, simpler, ~simple, smaller, fewer, lite, ~starter, ~student, ~how many, ~instead of, ~choose, ~customise, ~customize, ~trial, ~upgrade, ~downgrade, add-on, addon, ~feature, ~features, ~package
returning | Coming back | a reason to come back | come back, coming back, came back, go back, going back, ~return, ~returning, give it another shot, give it another go, give it another try, another shot, another go, try again, resubscribe, re-subscribe, sign up again, rejoin, ~reactivate
reliability | Bugs and reliability | a more reliable product | !crash, !crashed, !crashes, !crashing, !bug, !bugs, !buggy, !glitch, !glitches, !glitchy, !error, !errors, freeze, !froze, ~frozen, !freezes, freezing, !broken, ~break, ~breaks, !outage, !outages, !downtime, unreliable, reliability, ~reliable, !fail, !failed, !fails, !failure, !failing, doesn't work, didn't work, stopped working, not working, wasn't working, !logged out, !kicked out, !kicked us out, !kicked me out, timeout, !timed out, !cutting out, !cut out, ~drops, call drops, call dropped, ~sync, ~syncing, ~disconnect, disconnected, ~dropped, lost connection, ~update, ~updates
support | Customer support | better support | support, customer service, customer support, help desk, helpdesk, ~agent, ~agents, ~rep, representative, ticket, tickets, ~chatted, live chat, hotline, on hold, call centre, call center, ~responded, response time, ~refund, refunds, ~complaint, escalate, escalated, got back to me, heard back, ~reply, ~replied
communication | Communication and notifications | clearer communication | notification, notifications, reminder, reminders, alert, alerts, ~email, ~emails, ~emailed, ~message, ~messages, ~messaging, ~texts, ~notified, ~notify, informed, ~heads up, communication, communicate, communicated, ~newsletter, spam, ~pings, ~announcement, ~announcements, in the loop, in the dark, ~transparency, ~transparent
setup | Setup and integration | an easier setup | setup, set up, setting up, set-up, install, installed, installing, installation, configure, configured, configuring, configuration, integrate, integrated, integration, integrations, ~connect, ~connected, ~connecting, connector, connectors, data source, data sources, import, imported, importing, migrate, migrating, migration, ~api, ~credentials, ~spreadsheet, ~spreadsheets, ~csv, onboarding, database, databases, connector, connectors, tunnel, firewall, vpn, gateway, allowlist, allowlisted, whitelist, whitelisted, ip address, ip addresses, ssl, ~certificate, ssl certificate, ~port, ~server, ~servers, ~network, infra, infrastructure, data warehouse, ~warehouse, ~auth, oauth, working connection, connection refused, ~connection, hook up, get it to talk, ~key, ssh, ~agent, ~it department, ~plugin, ~extension
documentation | Documentation and guidance | better guides | documentation, docs, screenshot, screenshots, out of date, out-of-date, outdated, older version, old version, old interface, ~article, ~articles, ~renamed, tutorial, tutorials, ~guide, ~guides, walkthrough, walk-through, ~video, ~videos, ~examples, ~templates, ~template, help center, help centre, knowledge base, ~instructions, ~manual, ~faq, ~webinar, ~recipe card, ~recipe cards, how-to, ~checklist
delivery | Deliveries | more reliable delivery | ~delivery, ~deliveries, ~delivered, shipping, shipped, shipment, courier, ~driver, arrived late, ~late, doorstep, ~porch, ~stoop, ~sat outside, ~sitting out, missing items, ~tracking, ~showed up
commute | The commute | less travel | commute, commuting, commuted, commuter, round trip, ~trip, ~trips, the drive, the journey, ~travel, ~travelling, ~traveling, train, trains, ~bus, ~buses, traffic, ~driving, ~drive, parking, ~park, ~journey, rush hour, fares, ~fare, petrol, season ticket, each way, ~motorway, ~car, ~bike, ~cycle, pay cut
office | Desks and meeting rooms | more desks and rooms | ~office, desk, desks, hot-desk, hot desking, hot-desking, hotdesk, hotdesking, book a desk, meeting room, meeting rooms, ~room, ~rooms, ~booked, ~booking, ~bookings, no-shows, no-show, nowhere to sit, ~sofa, ~sofas, ~stairwell, ~stairs, ~breakout, phone booth, phone booths, ~floor, ~canteen, ~building, ~lockers, ~locker, ~monitor, ~monitors, ~chair, ~chairs, ~equipment, ~wifi, ~wi-fi, ~laptop, ~laptops, docking station, docking stations, ~screens
focus | Focus and noise | quieter space to focus | open plan, open-plan, focus, focused, concentrate, concentrating, concentration, ~flow, speakerphone, proper thought, ~silence, distraction, distractions, distracted, distracting, interrupt, interrupted, interruptions, interruption, noise, noisy, ~loud, ~quiet, ~headphones, deep work, heads down, ~productive, productivity, get work done
social | Connection with other people | more time together | ~together, ~team, ~colleagues, ~colleague, ~coworkers, ~co-workers, ~teammates, ~laugh, ~laughs, ~chatting, ~faces, see the team, see people, lonely, loneliness, isolated, isolating, isolation, ~social, socialise, socialize, ~bond, bonding, ~belonging, ~culture, watercooler, water cooler, ~catch up, ~catching up, ~in person, in-person, face to face, face-to-face, ~relationships, ~relationship, hanging out, hang out, ~community, connect with, connected with, feel connected, human connection, quality time, camaraderie, mentoring, mentor, mentorship, ~junior, ~juniors, new starters, new hires
meetings | Meetings and calls | fewer meetings | meeting, meetings, ~call, ~calls, zoom, video call, video calls, ~standup, stand-up, ~standups, ~huddle, ~agenda, back-to-back, ~calendar
caring | Childcare and caring duties | more support for carers | childcare, child care, school run, school pickup, pick-up, pick-ups, pickup, drop-off, nursery, daycare, day care, carer, carers, caregiver, caregiving, caring responsibilities, elderly parent, elderly parents, after-school club, breakfast club, childminder, ~school, ~kids, ~parents
flexibility | Flexibility over where and when to work | more say over which days to come in | flexibility, flexible, inflexible, ~hybrid, ~remote, wfh, work from home, working from home, ~mandate, mandated, ~rigid, ~rules, ~compulsory, ~autonomy, office days, days in the office, ~choose, ~pick, ~decide, their own days, own days, up to us, anchor days, ~fixed days, ~fixed day, ~exception, ~exceptions
management | Trust and monitoring | more trust and less monitoring | ~manager, ~managers, ~management, ~boss, ~leadership, micromanage, micromanaged, micromanaging, micromanagement, surveillance, ~monitoring, monitored, presenteeism, ~check-ins, performance review, ~visibility, trust, trusted, distrust, badge, badged, badges, badge reports, badge data, attendance, register, !checked up on, !checking up, !feel watched, !being watched, !big brother, being seen, benefit of the doubt, !back at school, ~tracked, ~tracking
career | Career growth | clearer career growth | career, careers, promotion, promotions, promoted, progression, ~growth, ~recognition, ~recognised, ~recognized, ~opportunities, ~development
appointments | Getting an appointment | easier booking and a waitlist | ~appointment, ~appointments, ~booking, ~book, ~booked, slot, slots, availability, same-day, same day, walk-in, waitlist, waiting list, ~reschedule, fully booked, all booked, nothing open, weeks out, days out, ~earliest, cancellations, urgent care, ~weeks later
prescriptions | Prescriptions and medication | easier refills | prescription, prescriptions, refill, refills, medication, medications, meds, medicine, medicines, pharmacy, pharmacist, ~dose, dosage, pills, repeat prescription
results | Test results | clearer test results | test results, ~results, lab, labs, blood test, blood tests, bloodwork, blood work, ~scan, ~scans, ~diagnosis, lab results
telehealth | Video consultations | better remote appointments | video consultation, video consultations, video appointment, video appointments, video visit, video visits, on video, telehealth, telemedicine, ~camera, ~audio, ~video, call quality, ~phone call
privacy | Privacy and data security | more control over personal data | privacy, ~private, security, ~secure, confidential, confidentiality, ~consent, ~personal data, ~my data, ~sharing, gdpr, hipaa, ~sold
records | Records and history | easier access to records | medical records, health records, ~records, medical history, ~history, ~notes
accessibility | Text that is hard to read | bigger, clearer text | accessibility, accessible, inaccessible, font, fonts, text size, small text, tiny text, ~eyesight, reading glasses, ~readers, ~contrast, screen reader, ~elderly, ~hearing, ~vision, large print, big print, bigger text, bigger letters, ~letters, ~writing, ~print, ~small, ~tiny, faint, squint, squinting, hard to read, can't read, magnifying glass, ~text
language | Language and translation | support for more languages | ~language, ~languages, translation, translated, translate, interpreter, ~native speaker
safety | Safety | more reassurance about safety | ~safe, safety, unsafe, ~scared, ~scary, ~risk, risky, allergy, allergies, allergen, allergens, allergic, ~label, ~labelled, ~labeled, ~labeling, ~labelling, ~dangerous, danger
taste | Taste of the food | tastier food | taste, tasty, tasted, delicious, flavor, flavour, flavors, flavours, flavorful, flavourful, bland, yummy, ~restaurant, ~portion, ~portions
variety | Variety and choice | more variety | variety, ~varied, ~choice, ~choices, ~selection, ~range, repetitive, ~repeat, boring, ~novelty, ~breadth, diverse, ~different, ~try new, ~new things, ~adventurous
health | Health and wellbeing | healthier options | healthy, healthier, ~health, ~diet, nutrition, nutritious, cholesterol, ~weight, ~calories, wellbeing, well-being, mental health, ~exercise
convenience | Convenience | more convenience | convenient, convenience, inconvenient, ~easy, ~easier, hassle-free, saves time, saved time, save time, ~handy
search | Finding things | better search and filters | ~search, searching, ~filter, ~filters, ~filtering, can't find anything, couldn't find anything, search results, ~sort, ~sorting, ~browse, ~browsing
payment | Payments and checkout | a smoother checkout | payment, payments, checkout, check-out, card declined, declined, ~transaction, ~transactions, ~transfer, ~transfers, ~wallet, direct debit, ~paypal, ~apple pay, payment method, ~billing address
returns | Returns and refunds | easier returns | returns, return policy, refund, refunds, refunded, ~exchange, send it back, sent it back, ~store credit, return label
staff | Staff and service | friendlier, better-trained staff | staff, ~employees, ~receptionist, ~reception, ~cashier, ~waiter, ~waiters, rude, rudeness, ~friendly, unfriendly, ~polite, impolite, attitude, ~helpful staff, dismissive, ~bedside manner, ~the people there, ~nurses, ~nurse, ~pharmacist, ~teacher, ~teachers, ~tutor, ~tutors, ~instructor, ~instructors
cleanliness | Cleanliness | cleaner spaces | clean, cleaner, cleanliness, dirty, filthy, grubby, hygiene, unhygienic, ~smell, smelly, ~stain, ~stains, ~mess, ~toilets, ~bathroom, ~bathrooms
crowding | Crowding and queues | shorter queues | crowded, overcrowded, packed, ~busy, ~queue, ~queues, queueing, queuing, ~line, ~lines, ~crowd, ~crowds, standing room
compensation | Pay and benefits | fairer pay | salary, salaries, wage, wages, ~pay rise, ~raise, bonus, bonuses, underpaid, compensation, ~benefits, pension, ~paid leave, ~overtime pay, payslip
workload | Workload and staffing | more realistic workload | workload, overtime, understaffed, short-staffed, short staffed, ~too many tasks, ~deadlines, ~long hours, ~covering for, ~backlog, ~burnout, ~overloaded, overloaded, ~stretched, ~capacity
feedback | Feedback and assessment | clearer feedback | feedback, ~grades, ~grade, ~grading, ~marking, ~marks, assessment, assessments, ~exams, ~exam, ~appraisal, ~appraisals, ~review cycle
advertising | Ads and upselling | fewer ads and upsells | ads, adverts, advert, advertising, advertisements, upsell, upselling, upsells, pushy, ~promotions, ~promotional, pop-up, pop-ups, popups, ~spammy
battery | Battery and data use | lighter on battery and data | battery, ~drains, ~drain, ~mobile data, ~data usage, ~storage, ~overheats, ~overheating
collaboration | Sharing and collaboration | easier sharing | collaborate, collaborating, collaboration, ~share, ~sharing, ~shared, ~comments, ~commenting, ~co-edit, ~real-time, ~teammates
cancellation | Cancelling and contracts | easier cancellation | cancellation, hard to cancel, ~unsubscribe, lock-in, locked in, ~contract, ~contracts, notice period, ~minimum term, ~auto-renewal
hours | Opening hours | longer opening hours | opening hours, ~open late, ~closed, closes, closing time, ~weekends, ~evenings, out of hours, after hours
`

// blockedPhrases are homonyms and idioms that use a concept's words for something else:
// "quality time" is not product quality, "the whole package" is not packaging, "lesson
// learned" is not learning, "skipping lunch" is not skipping a delivery. They consume
// their words so no concept sees them.
var blockedPhrases = []string{
	"whole package", "the package deal", "package deal", "lesson learned", "lessons learned", "lesson learnt",
	"skip lunch", "skipping lunch", "skipped lunch", "skip breakfast", "skipping breakfast", "skipped breakfast",
	"skip dinner", "skipping dinner", "skip meals", "skipping meals", "skipped meals", "skip a meal",
	"skipping a meal", "skip class", "skipping class", "skip the gym", "skipping the gym",
	"every time", "all the time", "at the time", "first time", "last time", "next time", "by the time",
	"some time", "any time", "each time", "one time", "this time", "that time", "free time", "long time",
	"for a while", "in line with", "line by line", "bottom line", "down the line", "on the line",
	"front line", "online", "learning the ropes", "long story short", "long run", "no longer",
	"as long as", "so long as", "how long", "a long way", "long before", "before long", "long ago",
	"quality of life", "support act", "plan b", "back to back", "back-to-back", "at least", "at most",
	"time off", "days off", "front desk", "service desk", "noise about", "hospital trust", "nhs trust", "the connection at", "fair price to pay", "price to pay", "let me", "let us", "stuck around", "half the time", "minutes away", "internet connection", "my connection", "home internet", "wifi at home", "permission before", "asked her permission", "asked his permission", "my permission", "day off", "half off", "percent off", "put me off", "put off", "off the table",
}

// concept is one entry of the lexicon.
type concept struct {
	id   string
	noun string // "The price", used to write titles
	wish string // "a cheaper option", used for opportunity titles
}

// lexTerm is one way of saying a concept, as a sequence of stems.
type lexTerm struct {
	stems   []string
	concept int // index into lexicon.concepts; -1 for a blocked phrase
	weak    bool
	exact   string // for "=" terms: the surface word that must match
	neg     bool   // the term is a complaint in itself
}

// lexicon is the compiled concept table: terms indexed by their first stem, longest
// first, so matching a clause is one map look-up per word.
type lexicon struct {
	concepts []concept
	byFirst  map[string][]lexTerm
}

// lexiconIDs names the concepts by index, for debugging output.
var lexiconIDs []string

func compileLexicon(st *stemmer) *lexicon {
	lx := &lexicon{byFirst: make(map[string][]lexTerm)}
	add := func(term string, c int, weak bool) {
		lt := lexTerm{concept: c, weak: weak}
		for {
			switch {
			case strings.HasPrefix(term, "="):
				term = term[1:]
				lt.exact = term
				continue
			case strings.HasPrefix(term, "!"):
				term = term[1:]
				lt.neg = true
				continue
			}
			break
		}
		toks := tokenize(term, 0, len(term), st)
		if len(toks) == 0 {
			return
		}
		for _, t := range toks {
			lt.stems = append(lt.stems, t.stem)
		}
		lx.byFirst[lt.stems[0]] = append(lx.byFirst[lt.stems[0]], lt)
	}
	for _, line := range strings.Split(conceptTable, "\n") {
		parts := strings.Split(line, "|")
		if len(parts) != 4 {
			continue
		}
		c := len(lx.concepts)
		lx.concepts = append(lx.concepts, concept{
			id:   strings.TrimSpace(parts[0]),
			noun: strings.TrimSpace(parts[1]),
			wish: strings.TrimSpace(parts[2]),
		})
		for _, term := range strings.Split(parts[3], ",") {
			term = strings.TrimSpace(term)
			weak := strings.HasPrefix(term, "~")
			add(strings.TrimPrefix(term, "~"), c, weak)
		}
	}
	for _, p := range blockedPhrases {
		add(p, -1, false)
	}
	if lexiconIDs == nil {
		for _, c := range lx.concepts {
			lexiconIDs = append(lexiconIDs, c.id)
			conceptWords = append(conceptWords, "#"+c.id)
		}
	}
	// Longest terms first, so "ice pack" wins over "pack" and "quality time" over "quality";
	// ties keep table order, which is deterministic.
	for k, terms := range lx.byFirst {
		slices.SortStableFunc(terms, func(a, b lexTerm) int { return len(b.stems) - len(a.stems) })
		lx.byFirst[k] = terms
	}
	return lx
}

// match returns the longest lexicon term that starts at toks[i], if any.
func (lx *lexicon) match(toks []token, i int) (lexTerm, bool) {
	for _, t := range lx.byFirst[toks[i].stem] {
		if i+len(t.stems) > len(toks) || (t.exact != "" && toks[i].low != t.exact) {
			continue
		}
		ok := true
		for j := 1; j < len(t.stems); j++ {
			if toks[i+j].stem != t.stems[j] {
				ok = false
				break
			}
		}
		if ok {
			return t, true
		}
	}
	return lexTerm{}, false
}
