package analysis

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// token is one word of a participant message, with its byte span in the message so that
// evidence quotes can be cut out of the original text exactly.
type token struct {
	low   string // lower case, curly apostrophes made straight
	stem  string // Snowball (Porter2) stem of low
	start int
	end   int
	// upper says the word began with a capital letter; a capitalised word that does not
	// open a sentence is taken for a name when looking for second-hand reports.
	upper bool
}

// tokenize splits text[from:to] into words. A word is a run of letters and digits with
// inner apostrophes ("didn't", "I'd"); hyphens split ("pre-chopped" is "pre" "chopped")
// so that each half meets the lexicon on its own.
func tokenize(text string, from, to int, st *stemmer) []token {
	var out []token
	i := from
	for i < to {
		r, size := utf8.DecodeRuneInString(text[i:to])
		if !isWordRune(r) {
			i += size
			continue
		}
		start := i
		for i < to {
			r, size = utf8.DecodeRuneInString(text[i:to])
			if isWordRune(r) {
				i += size
				continue
			}
			if isApostrophe(r) && i+size < to {
				next, _ := utf8.DecodeRuneInString(text[i+size : to])
				if unicode.IsLetter(next) {
					i += size
					continue
				}
			}
			break
		}
		word := text[start:i]
		low := normalizeWord(word)
		first, _ := utf8.DecodeRuneInString(word)
		out = append(out, token{low: low, stem: st.stem(low), start: start, end: i, upper: unicode.IsUpper(first)})
	}
	return out
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func isApostrophe(r rune) bool { return r == '\'' || r == '’' || r == 'ʼ' }

// normalizeWord lower-cases a word and straightens its apostrophes, so that "Didn’t" and
// "didn't" are the same word.
func normalizeWord(w string) string {
	w = strings.ToLower(w)
	if strings.ContainsAny(w, "’ʼ") {
		w = strings.NewReplacer("’", "'", "ʼ", "'").Replace(w)
	}
	if c, ok := bareContractions[w]; ok {
		return c
	}
	return w
}

// bareContractions restore the apostrophe people leave out when they type fast ("dont",
// "ive"), so negation and the speaker's own voice read as they do with it. Only words
// that are nothing else are here: "its", "ill", "were", "id" and "well" are words too.
var bareContractions = func() map[string]string {
	m := map[string]string{}
	for _, c := range strings.Fields(`don't didn't doesn't can't isn't wasn't aren't weren't haven't
hasn't hadn't couldn't wouldn't shouldn't won't ain't i'm i've you're they're that's there's
what's he's we've they've you've it'll that'll`) {
		m[strings.ReplaceAll(c, "'", "")] = c
	}
	return m
}()

// stemmer memoises Snowball stems: interview text repeats a small vocabulary, and the
// cache makes stemming a map look-up after the first few hundred messages.
type stemmer struct {
	cache map[string]string
}

func newStemmer() *stemmer { return &stemmer{cache: make(map[string]string, 4096)} }

func (s *stemmer) stem(low string) string {
	if v, ok := s.cache[low]; ok {
		return v
	}
	w := low
	// Contractions stem as their base word: "didn't" is a negator and is recognised by
	// its surface form, but "kids'" or "it's" should meet the lexicon as "kid", "it".
	// A negated auxiliary keeps its surface form: "couldn't find" must not stem to
	// "could find".
	if strings.HasSuffix(w, "n't") {
		s.cache[low] = w
		return w
	}
	if i := strings.IndexByte(w, '\''); i > 0 {
		w = w[:i]
	}
	v := english.Stem(w, true)
	if len(s.cache) < 1<<16 {
		s.cache[low] = v
	}
	return v
}

// stopStems are function words and the fillers of spoken answers ("um", "like", "you
// know", "honestly"): they never carry a theme.
var stopWords = wordSet(`a about above after again against all am an and any are as at be because been before
being below between both but by can did do does doing don down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own s same she should
so some such t than that the their theirs them themselves then there these they this those through to
too under until up very was we were what when where which while who whom why will with you your yours
yourself yourselves would could might must shall may also even still yet ever really actually basically
literally honestly totally pretty quite rather kind sort lot lots bit thing things stuff something
anything everything nothing someone anyone everyone one ones um uh umm uhh er erm hmm hm ah oh okay ok
yeah yes yep nope well like know mean guess think thought say said says get got gets getting go goes
going gone went make made makes come came comes let lets gonna wanna gotta maybe probably definitely
sure right just way ways much many lol haha gosh wow man dude anyway anyways again already always often
sometimes usually mostly generally fine i'm i'd i've i'll it's that's there's we're we'd we've they're
they'd you're you'd don't didn't doesn't isn't wasn't weren't aren't can't couldn't wouldn't won't
haven't hasn't hadn't shouldn't what's let's he's she's who's here's`)

func wordSet(s string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// isContent says whether a token can carry meaning for clustering.
func isContent(t token) bool {
	if stopWords[t.low] || len(t.low) < 3 {
		return false
	}
	for _, r := range t.low {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// genericStems are everyday words of spoken answers that recur in any study without
// being a topic: time words, people, quantities, light verbs.
var genericStems = func() map[string]bool {
	st := newStemmer()
	m := map[string]bool{}
	for w := range wordSet(`time times day days week weeks month months year years hour hours minute minutes
morning evening night today tomorrow yesterday monday tuesday wednesday thursday friday saturday sunday
people person guy guys thing things stuff lot bit kind sort part place way ways point case fact reason
everyone someone anyone nobody home house first second third last next other another whole every each
much many more less most least little big small good bad great nice fine real really actually honestly
want wanted need needed use used using try tried trying feel felt seem seemed look looked find found take
took taken give gave work worked working start started keep kept end ended back away still even also
just probably maybe pretty quite rather enough though although because since while again already
always never sometimes usually often ever definitely totally literally basically anyway mean meant say
said tell told call called thank thanks sorry right sure okay yeah yes well know knew think thought get
got make made come came going gone stay left put show let lets help`) {
		m[st.stem(w)] = true
	}
	return m
}()
