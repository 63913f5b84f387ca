package analysis

import (
	"slices"
	"strings"
)

// A small polarity lexicon: enough to tell a complaint from praise in spoken answers. It
// is matched on surface words with their regular inflections, not on stems: stems merge
// too much for polarity ("grateful" and "grating" share one, "useful" and "use" another),
// and "missed", a complaint, must differ from "miss", a longing.
var positiveWords = wordSet(`good great love loved loving loves enjoy enjoyed enjoying enjoyable nice nicest
fine okay easy clear helpful useful happy proud best excellent amazing awesome perfect win worth glad fun
favorite favourite smooth smoothly convenient reliable decent comfortable relief relieved appreciate
appreciated valuable impressive impressed intuitive fantastic brilliant wonderful lovely delicious tasty
pleased satisfied grateful thrilled excited exciting calm fair reasonable affordable sustainable
realistic trust trusted recommend recommended solid handy straightforward painless seamless
effortless loved favourite godsend lifesaver save saves saved chill motivating hopeful reassuring empowering
peace better`)

var negativeWords = wordSet(`bad worse worst terrible awful horrible hate hated hates annoying annoyed annoy annoys
frustrating frustrated frustration frustrates confusing confused confusion difficult hard harder slow
slower expensive pricey overpriced problem problems issue issues trouble nightmare fiasco mess messy
broken crash crashed crashes bug buggy fail failed failing failure fails waste wasted wasteful guilty
guilt shame ashamed scared scary worried worry worrying anxious stress stressed stressful overwhelmed
overwhelming exhausted exhausting tired drained rough sad upset angry irritating irritates irritated
irritation disappointed disappointing disappointment poor lacking missed forgot forget forgetting forgets
stuck painful limp slimy wilted bruised mealy rotten stale soggy spoiled mouldy moldy gross soured lose
loses losing drowning struggle struggled struggling hassle tedious cumbersome clunky unclear complicated
unreliable late delayed glitchy wrong hurt hurts lonely isolated noisy distracting burnout unfair nuts
ridiculous absurd sucks sucked useless pointless mediocre regret unfortunately sadly complain complained
complaining ugh skeptical burned burnt nightmare inconvenient unusable impossible unhappy awkward
embarrassing embarrassed inconsistent unacceptable terrible sloppy careless lousy miserable dreading
dread resent resented tough stressing panic panicked idiot stupid complaints froze glitched lagged choppy garbage presenteeism surveillance micromanaged micromanage
micromanaging policing policed spying distrust mistrust stalled stall killed blocker blocked blocking
hurdle hurdles obstacle painful pain fuss fiddly mess suspicious refused outdated behind dropping
hopeless silly fuming drag watched interrupted noisy loud cramped crammed packed chaos chaotic drama
lost flaky duplicates duplicated drop drops dropped grumble grumbled grumbling steep wince winced wincing
choked ironic gripe gripes demoralizing demoralising demotivating salty freeze freezes buffering buffers
expired trash kills shrug shrugged crickets argument arguments fights fought awkwardness tension tensions
judged scolded scolding screwup avoid avoided avoiding cried weird`)

// generalNegative and generalPositive widen the lists above with general English
// evaluative vocabulary, grouped by the kind of trouble or good it names rather than by
// any study's domain: physical damage, decay and death, failure and unreliability,
// deception, danger, lack and strong feeling. A study met for the first time is told in
// words like these ("it arrived cracked", "the numbers are fake", "it died in a week"),
// whatever it is about.
var (
	generalNegative = wordSet(`damaged damage damages broke breaking cracked cracks crushed squashed
smashed shattered dented scratched torn tore ripped snapped bashed battered mangled chipped ruined ruins
wrecked destroyed leaking leaked leaky spilled spilt soaked dead die died dies dying rot rotted rotting
withered wilting drooping droopy mushy mouldy frozen frostbitten scorched shrivelled shriveled drowned
faulty defective malfunction malfunctioned glitch glitches error errors outage outages disappeared
disappears vanished vanishes unresponsive inaccurate incorrect misleading bogus
worthless dud toxic poisonous dangerous unsafe hazardous insufficient inadequate useless stranded
furious livid gutted devastated heartbroken dreadful appalling disgusting horrendous shocking infuriating
maddening exasperating exasperated fed-up unbearable intolerable hopeless clueless rude disrespectful
ignored ignores neglected abandoned unanswered cramped
overcrowded rammed jammed faff faffing palaver rigmarole kerfuffle headache headaches shambles shambolic
disaster disastrous letdown minefield runaround rubbish naff dire downside downsides drawback drawbacks
niggle niggles bugbear rejected rejects penalty penalties penalised penalized punished punishing insane killer`)
	generalPositive = wordSet(`accurate dependable consistent thriving thrive thrives flourishing healthy
lifeline freedom confident confidence empowered independent independence friendly
knowledgeable responsive prompt clever
beautiful beautifully gorgeous lovely superb spot-on sorted resolved solved rescued revived
welcoming attentive generous cheerful bargain calmer delighted blessing thoughtful respectful kinder
satisfying improvement winner adores appreciates`)
)

// flipOnly words carry no polarity on their own, but negated they do: "didn't mind",
// "didn't notice", "doesn't matter" dismiss a problem, "can't fault" and "can't beat" are
// praise; "didn't remember" is forgetting.
var flipOnly = map[string]float64{
	"mind": 1, "bother": 1, "bothered": 1, "bothers": 1, "notice": 1, "noticed": 1, "care": 1, "cared": 1, "matter": 1, "matters": 1,
	"fault": 1, "beat": 1, // "I can't fault them", "you can't beat the price"
	"remember": -1, "remembered": -1, "work": -1, "worked": -1, "works": -1, "working": -1,
	"last": -1, "help": -1, "helped": -1, "show": -1, "arrive": -1, "arrived": -1, "apply": -1,
	"applied": -1, "respond": -1, "responded": -1, "load": -1, "loaded": -1, "cheap": -1, "cheaper": -1,
}

// polarityTable is the word lists with their inflections.
type polarityTable struct {
	surface map[string]float64
}

func compilePolarity() *polarityTable {
	p := &polarityTable{surface: map[string]float64{}}
	inflect := func(w string, v float64) {
		forms := []string{w + "s", w + "ed", w + "d", w + "ing"}
		if strings.HasSuffix(w, "e") {
			forms = append(forms, w[:len(w)-1]+"ing")
		}
		for _, f := range forms {
			if _, ok := p.surface[f]; !ok && !positiveWords[f] && !negativeWords[f] && f != "missing" {
				p.surface[f] = v
			}
		}
	}
	for w := range positiveWords {
		p.surface[w] = 1
	}
	for w := range negativeWords {
		p.surface[w] = -1
	}
	for w := range generalPositive {
		if _, ok := p.surface[w]; !ok {
			p.surface[w] = 1
		}
	}
	for w := range generalNegative {
		if _, ok := p.surface[w]; !ok {
			p.surface[w] = -1
		}
	}
	// Inflections are added in sorted order so that a form two entries could produce
	// gets the same polarity every run.
	words := make([]string, 0, len(positiveWords)+len(negativeWords))
	for w := range positiveWords {
		words = append(words, w)
	}
	for w := range negativeWords {
		words = append(words, w)
	}
	slices.Sort(words)
	for _, w := range words {
		if positiveWords[w] {
			inflect(w, 1)
		} else {
			inflect(w, -1)
		}
	}
	return p
}

func (p *polarityTable) of(t token) float64 { return p.surface[t.low] }

// polarityWord says whether a word carries polarity in the shared table.
func polarityWord(low string) bool {
	_, pol, _, _ := compiledTables()
	_, ok := pol.surface[low]
	_, flip := flipOnly[low]
	return ok || flip || isNegator(low)
}

var numberWords = wordSet(`zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred
thousand million half quarter double triple once twice`)

// negators open a negation scope. Contractions are recognised by their "n't"; the typed
// forms without the apostrophe ("couldnt") are listed.
var negators = wordSet(`not no never nothing nobody none neither nor without hardly barely cannot dont didnt
doesnt isnt wasnt werent arent cant couldnt wouldnt wont shouldnt havent hasnt hadnt aint nowhere`)

func isNegator(low string) bool {
	if negators[low] {
		return true
	}
	return len(low) > 3 && low[len(low)-3:] == "n't"
}

// negIdioms are negators that do not negate: "nothing but time" means only time, "no
// doubt" and "not only" affirm, "no-brainer" is an easy call.
var negIdioms = map[string]string{"nothing": "but", "no": "doubt", "not": "only", "without": "a"}

// Question cues give each protocol question a prior stance, so that a bare answer to
// "What frustrated you?" ("The skipping thing.") reads as a complaint.
var (
	questionNegative = wordSet(`frustrat annoy difficult hard problem issu challeng cancel leav quit stop worst dislik
pain struggl wrong complain wors disappoint hate least downsid drawback obstacl hurdl barrier fail`)
	questionPositive = wordSet(`enjoy love best favourit favorit good happi`)
)

// questionPositivePhrases: "like" alone is too often "things like" to count.
var questionPositivePhrases = []string{"like most", "like best", "liked", "like about", "went well", "worked well", "value most", "valued"}

// questionWishPhrases mark questions that ask what would change someone's mind or what
// they want: answers to them are read as wishes when they are conditional.
var questionWishPhrases = []string{
	"would make you", "what would", "anything that would", "improve", "wish", "ideal",
	"if you could", "magic wand", "suggest", "coming back", "come back", "win you back", "want to see",
	"would you want", "would help", "would you add", "would it take", "what could",
}

// degreeAdverbs are words of harm that also intensify the word after them ("dead quiet",
// "terribly good", "ridiculously cheap"), and gradable the plain adjectives they
// intensify that carry no polarity of their own.
var (
	degreeAdverbs = wordSet(`dead terribly awfully stupidly ridiculously crazy insanely wicked scary stupid damn
damned bloody freaking frigging`)
	gradable = wordSet(`quiet cheap quick fast simple clean comfy warm friendly busy long short early`)
)
