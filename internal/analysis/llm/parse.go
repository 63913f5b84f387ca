package llm

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	apitext "qual.cx/operator/apiserver/decode"
	"qual.cx/operator/internal/analysis"
)

// Bounds on what is kept of the model's answer: the API's own limits on a finding.
const (
	maxTitle     = 200
	maxSummary   = 2000
	maxEvidence  = 8
	maxQuote     = 2000 // runes, as a quote a client writes
	minQuoteWord = 3    // a shorter quote ("yes, that") proves nothing
)

// Tag marks the findings the model made.
const Tag = "llm"

// refs resolves the refs of a prompt to the participant messages they name.
type refs map[string]source

type source struct{ interview, message, content string }

// reply is a findings answer, as its schema asks.
type reply struct {
	Findings []struct {
		Title     string     `json:"title"`
		Summary   string     `json:"summary"`
		Type      string     `json:"type"`
		Sentiment string     `json:"sentiment"`
		Evidence  []proposal `json:"evidence"`
	} `json:"findings"`
}

// proposal is a quote as the model cites it.
type proposal struct {
	Ref   string `json:"ref"`
	Quote string `json:"quote"`
}

// groups is a merge answer, as its schema asks.
type groups struct {
	Groups []struct {
		Title     string `json:"title"`
		Summary   string `json:"summary"`
		Type      string `json:"type"`
		Sentiment string `json:"sentiment"`
		Members   []int  `json:"members"`
	} `json:"groups"`
}

// errMalformed: the answer is not the JSON the schema asks for.
var errMalformed = errors.New("answer is not the schema's JSON")

// candidate is a proposed finding with the quotes of it that hold.
type candidate struct {
	title, summary, typ, sentiment string
	evidence                       []analysis.Evidence // one per interview
	proposed                       int                 // distinct interviews the model cited
}

// newCandidate is a finding as the model words it, on one line, within the API's bounds,
// with a type and a sentiment the API knows.
func newCandidate(title, summary, typ, sentiment string) candidate {
	return candidate{title: clip(oneLine(printable(apitext.DropReorders(title))), maxTitle), summary: clip(oneLine(printable(summary)), maxSummary),
		typ: pick(typ, types, analysis.TypeTheme), sentiment: pick(sentiment, sentiments, analysis.SentimentNeutral)}
}

// findings reads a findings answer and keeps what holds, for a campaign of n interviews.
func findings(content string, r refs, n, minSupport int) ([]analysis.Finding, error) {
	cands, err := candidates(content, r)
	if err != nil {
		return nil, err
	}
	return finish(cands, n, minSupport), nil
}

// candidates reads a findings answer: each quote must be a participant's own words in the
// message it cites (or, when the ref is wrong, the one message of the batch that holds it),
// one quote per interview. The model's word is never trusted for anything checked here, so
// it cannot put words in anyone's mouth.
func candidates(content string, r refs) ([]candidate, error) {
	var rep reply
	if err := decode(content, &rep); err != nil {
		return nil, err
	}
	var out []candidate
	for _, f := range rep.Findings {
		c := newCandidate(f.Title, f.Summary, f.Type, f.Sentiment)
		c.evidence, c.proposed = r.evidence(f.Evidence)
		if !apitext.Blank(c.title) && len(c.evidence) > 0 {
			out = append(out, c)
		}
	}
	return out, nil
}

// merge joins the candidates a merge answer groups; a candidate no group names stays as it
// is, and one named twice joins its first group only.
func merge(content string, cands []candidate) ([]candidate, error) {
	var g groups
	if err := decode(content, &g); err != nil {
		return nil, err
	}
	used := make([]bool, len(cands))
	var out []candidate
	for _, grp := range g.Groups {
		m := newCandidate(grp.Title, grp.Summary, grp.Type, grp.Sentiment)
		seen := map[string]bool{}
		for _, k := range grp.Members {
			if k < 1 || k > len(cands) || used[k-1] {
				continue
			}
			used[k-1] = true
			m.proposed += cands[k-1].proposed
			for _, e := range cands[k-1].evidence {
				if !seen[e.InterviewID] {
					seen[e.InterviewID] = true
					m.evidence = append(m.evidence, e)
				}
			}
		}
		if !apitext.Blank(m.title) && len(m.evidence) > 0 {
			out = append(out, m)
		}
	}
	for i, c := range cands {
		if !used[i] {
			out = append(out, c)
		}
	}
	return out, nil
}

// finish turns the candidates into findings: a finding needs minSupport interviews, its
// frequency and confidence come from the quotes that held, never from the model, and a
// near-duplicate of a kept finding is dropped.
func finish(cands []candidate, n, minSupport int) []analysis.Finding {
	var out []analysis.Finding
	keys := map[string]bool{}
	for _, c := range cands {
		support := len(c.evidence)
		if support < minSupport {
			continue
		}
		found := analysis.Finding{
			Key:       uniqueKey(keys, c.typ, c.evidence),
			Title:     c.title,
			Summary:   c.summary,
			Type:      c.typ,
			Frequency: support,
			Sentiment: c.sentiment,
			// The share of interviews that support it, lowered by the share of proposed
			// quotes that did not hold.
			Confidence: math.Round(100*float64(support)/float64(max(n, 1))*float64(support)/float64(max(c.proposed, support))) / 100,
			Evidence:   c.evidence[:min(support, maxEvidence)],
			// Tagged as the model's, so a reader (and the tag filter) can tell its findings
			// from the built-in analyzer's, which it falls back to.
			Tags: []string{c.typ, Tag},
		}
		if !duplicate(out, found) {
			out = append(out, found)
		}
	}
	slices.SortStableFunc(out, func(a, b analysis.Finding) int { return cmp.Compare(b.Frequency, a.Frequency) })
	return out
}

// answer is a reply or a groups answer: it knows whether its one required member was there.
type answer interface{ complete() bool }

func (r *reply) complete() bool  { return r.Findings != nil }
func (g *groups) complete() bool { return g.Groups != nil }

// decode reads a JSON answer into v, as strictly as its schema: a member the schema does
// not name, or its list missing or null ("{}" is JSON, but no answer), is malformed, so the
// built-in analyzer runs instead of an empty answer deleting the campaign's findings.
func decode(content string, v answer) error {
	body := stripFence(content)
	// Whole-answer validity first: json.Decoder.More takes a stray closing bracket after the
	// value (`{"findings":[]}]`) for the end of the input.
	if !json.Valid([]byte(body)) {
		return fmt.Errorf("%w: not one JSON value", errMalformed)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", errMalformed, err)
	}
	if !v.complete() {
		return fmt.Errorf("%w: the required list is missing or null", errMalformed)
	}
	return nil
}

// evidence keeps the quotes that hold, one per interview (the first that holds), and says
// how many distinct interviews the model proposed.
func (r refs) evidence(proposed []proposal) ([]analysis.Evidence, int) {
	var out []analysis.Evidence
	seen, asked := map[string]bool{}, map[string]bool{}
	for _, p := range proposed {
		asked[strings.SplitN(strings.TrimSpace(p.Ref), ".", 2)[0]] = true
		src, quote, ok := r.locate(strings.TrimSpace(p.Ref), p.Quote)
		if !ok || seen[src.interview] {
			continue
		}
		seen[src.interview] = true
		if utf8.RuneCountInString(quote) > maxQuote {
			quote = string([]rune(quote)[:maxQuote]) // its start is still the participant's words
		}
		out = append(out, analysis.Evidence{InterviewID: src.interview, MessageID: src.message, Quote: quote})
	}
	return out, max(len(asked), len(out), 1)
}

// locate finds quote in the message ref names, else in the one participant message of the
// campaign that holds it, and returns the exact text there. Case, curly quotes and runs of
// spaces may differ from the message, as models retype them; the words may not.
func (r refs) locate(ref, quote string) (source, string, bool) {
	quote = unquote(strings.TrimSpace(quote))
	if len(strings.Fields(quote)) < minQuoteWord {
		return source{}, "", false
	}
	if src, ok := r[ref]; ok {
		if exact, ok := find(src.content, quote); ok {
			return src, exact, true
		}
	}
	var hit source
	var text string
	hits := 0
	for _, src := range r {
		if exact, ok := find(src.content, quote); ok {
			hit, text, hits = src, exact, hits+1
		}
	}
	return hit, text, hits == 1
}

// unquote strips quotation marks that wrap the whole quote.
func unquote(q string) string {
	first, _ := utf8.DecodeRuneInString(q)
	last, _ := utf8.DecodeLastRuneInString(q)
	if len(q) > 1 && strings.ContainsRune(`"'“”‘’`, first) && strings.ContainsRune(`"'“”‘’`, last) {
		return strings.TrimSpace(q[utf8.RuneLen(first) : len(q)-utf8.RuneLen(last)])
	}
	return q
}

// find returns the span of content that says quote, compared with folded case, straight
// quotes and single spaces.
func find(content, quote string) (string, bool) {
	if strings.Contains(content, quote) {
		return quote, true
	}
	folded, starts := fold(content)
	q, _ := fold(quote)
	at := strings.Index(folded, q)
	if at < 0 || q == "" {
		return "", false
	}
	// starts maps each rune of folded to its byte offset in content.
	begin, end := runeIndex(folded, at), runeIndex(folded, at+len(q))
	last := starts[end-1]
	_, size := utf8.DecodeRuneInString(content[last:])
	return content[starts[begin] : last+size], true
}

// fold lowercases s, straightens quotes and collapses whitespace, and returns for each rune
// of the result the byte offset in s of the rune it came from.
func fold(s string) (string, []int) {
	var b strings.Builder
	var starts []int
	space := false
	for i, c := range s {
		if unicode.IsSpace(c) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteRune(' ')
			starts = append(starts, i)
		}
		space = false
		switch c {
		case '“', '”':
			c = '"'
		case '‘', '’':
			c = '\''
		}
		b.WriteRune(unicode.ToLower(c))
		starts = append(starts, i)
	}
	return b.String(), starts
}

// runeIndex is the rune index of byte offset at in s.
func runeIndex(s string, at int) int { return utf8.RuneCountInString(s[:at]) }

// duplicate reports whether found repeats a kept finding of its type: most of the
// interviews it quotes are quoted there too.
func duplicate(kept []analysis.Finding, found analysis.Finding) bool {
	for _, k := range kept {
		if k.Type != found.Type {
			continue
		}
		in := map[string]bool{}
		for _, e := range k.Evidence {
			in[e.InterviewID] = true
		}
		shared := 0
		for _, e := range found.Evidence {
			if in[e.InterviewID] {
				shared++
			}
		}
		if 4*shared >= 3*min(len(found.Evidence), len(k.Evidence)) {
			return true
		}
	}
	return false
}

// uniqueKey names a finding by its type and the messages it quotes. The findings runner
// carries a stored finding's key over to the finding that quotes the same answers, so the
// model's wording of a theme may change from run to run while its finding stays.
func uniqueKey(taken map[string]bool, typ string, ev []analysis.Evidence) string {
	ids := make([]string, len(ev))
	for i, e := range ev {
		ids[i] = e.MessageID
	}
	slices.Sort(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	key := "llm:" + typ + ":" + hex.EncodeToString(sum[:6])
	for i := 2; taken[key]; i++ {
		key = fmt.Sprintf("llm:%s:%s-%d", typ, hex.EncodeToString(sum[:6]), i)
	}
	taken[key] = true
	return key
}

// pick is v, normalised, when it is one of allowed, else def.
func pick(v string, allowed []string, def string) string {
	v = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(v)), " ", "_")
	if slices.Contains(allowed, v) {
		return v
	}
	return def
}

// printable turns the control characters a model may write (a NUL, a terminal escape) into
// spaces: a finding's text follows the API's rule for text, which refuses them, and reaches
// terminals through kubectl.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// clip cuts s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// stripFence removes a Markdown code fence some models put around JSON.
func stripFence(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "```") {
		return s
	}
	s = strings.TrimPrefix(s, "```")
	if nl := strings.IndexByte(s, '\n'); nl >= 0 {
		s = s[nl+1:]
	}
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "```"))
}
