package analysis

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
)

// The thesaurus (thesaurus.txt) groups the words of everyday experience into families
// ("she remembered my name", "went out of her way", "so welcoming" are all kindness), so
// that clauses which share no word can still meet. The concept lexicon (lexicon.go)
// names what a finding is about and decides stance; the thesaurus only says that two
// clauses are about the same kind of thing, for the co-occurrence clusters (cooccur.go).

//go:embed thesaurus.txt
var thesaurusText string

// family is one thesaurus family.
type family struct {
	name   string
	word   string   // "@kindness", its topic word among a clause's words
	stance polClass // classNeg or classPos when the family is a complaint or praise in itself
}

// famTerm is one way of saying a family, as a sequence of surface words.
type famTerm struct {
	words  []string
	family int16 // -1 for an idiom that means none of them ("kind of")
}

// thesaurus is the compiled table: terms indexed by their first stem, longest first.
type thesaurus struct {
	families []family
	byFirst  map[string][]famTerm
	byWord   map[string]int16 // a family's own word ("@gestures"), and its kin's if it heads them
}

// compileThesaurus parses the embedded table; a malformed line is a programming error
// in the table, reported with its line number.
func compileThesaurus(text string, st *stemmer) (*thesaurus, error) {
	th := &thesaurus{byFirst: map[string][]famTerm{}, byWord: map[string]int16{}}
	var kin []string
	addTerm := func(term string, id int16) {
		toks := tokenize(term, 0, len(term), st)
		if len(toks) == 0 {
			return
		}
		ft := famTerm{family: id}
		for _, t := range toks {
			ft.words = append(ft.words, t.low)
		}
		th.byFirst[ft.words[0]] = append(th.byFirst[ft.words[0]], ft)
	}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) == 2 && strings.TrimSpace(parts[0]) == "idioms" {
			for _, term := range strings.Split(parts[1], ",") {
				addTerm(strings.TrimSpace(term), -1)
			}
			continue
		}
		if len(parts) == 2 && strings.TrimSpace(parts[0]) == "kin" {
			kin = append(kin, parts[1])
			continue
		}
		if len(parts) != 3 {
			return nil, fmt.Errorf("thesaurus line %d: want 3 fields, got %d", n+1, len(parts))
		}
		f := family{name: strings.TrimSpace(parts[0])}
		f.word = "@" + f.name
		switch strings.TrimSpace(parts[1]) {
		case "-":
			f.stance = classNeg
		case "+":
			f.stance = classPos
		case ".":
		default:
			return nil, fmt.Errorf("thesaurus line %d: stance %q is not one of \"-\", \"+\", \".\" (complaint, praise, topic)", n+1, parts[1])
		}
		id := int16(len(th.families))
		th.families = append(th.families, f)
		th.byWord[f.word] = id
		for _, term := range strings.Split(parts[2], ",") {
			addTerm(strings.TrimSpace(term), id)
		}
	}
	// Kin families are one dimension told in two vocabularies (kindness and its
	// gestures): their clauses meet under the first one's word.
	for _, line := range kin {
		names := strings.Split(line, ",")
		head, ok := th.byWord["@"+strings.TrimSpace(names[0])]
		if !ok {
			return nil, fmt.Errorf("thesaurus kin %q: no family %q", line, names[0])
		}
		for _, n := range names[1:] {
			id, ok := th.byWord["@"+strings.TrimSpace(n)]
			if !ok || th.families[id].stance != th.families[head].stance {
				return nil, fmt.Errorf("thesaurus kin %q: no family %q of the same stance", line, n)
			}
			th.families[id].word = th.families[head].word
		}
	}
	for k, terms := range th.byFirst {
		slices.SortStableFunc(terms, func(a, b famTerm) int { return len(b.words) - len(a.words) })
		th.byFirst[k] = terms
	}
	return th, nil
}

// familiesOf returns the families a clause names, ascending: the longest term at each
// word, and every family that term belongs to. Words are matched as written, since the
// table lists its inflections and a stem would merge "personal" with "person". A term
// no negation reaches counts ("it wasn't dirty" names no dirt; "it didn't hurt" names
// gentleness as a whole), unless it is part of a lexicon phrase blocked as a homonym or
// an idiom ("kind of").
func (th *thesaurus) familiesOf(toks []token, negated, blocked []bool) []int16 {
	var out []int16
	for i := 0; i < len(toks); {
		longest := 0
		for _, t := range th.byFirst[toks[i].low] {
			if len(t.words) < longest || i+len(t.words) > len(toks) || !matchWords(toks[i+1:], t.words[1:]) {
				continue
			}
			longest = len(t.words)
			if t.family >= 0 && !negated[i] && !blocked[i] && !slices.Contains(out, t.family) {
				out = append(out, t.family)
			}
		}
		i += max(1, longest)
	}
	slices.Sort(out)
	return out
}

func matchWords(toks []token, words []string) bool {
	for j, w := range words {
		if toks[j].low != w {
			return false
		}
	}
	return true
}

// stanceOf is the stance a clause's families give it: the one stance all its families
// of praise or complaint share, or none.
func (th *thesaurus) stanceOf(fams []int16) polClass {
	out := classNone
	for _, f := range fams {
		switch s := th.families[f].stance; {
		case s == classNone:
		case out == classNone:
			out = s
		case out != s:
			return classNone
		}
	}
	return out
}

// family looks up a family by its topic word ("@dirt").
func (th *thesaurus) family(word string) (family, bool) {
	id, ok := th.byWord[word]
	if !ok {
		return family{}, false
	}
	return th.families[id], true
}
