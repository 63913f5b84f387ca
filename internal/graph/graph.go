// Package graph derives a campaign's knowledge graph from its findings and their evidence.
//
// # The model
//
//   - One campaign node, "campaign:<campaign id>", labelled with the campaign's title; its
//     weight is the number of findings the campaign has.
//   - Themes and findings. A finding of type theme is a theme node, "theme:<finding id>": it
//     is what analysis calls a recurring theme. Pain points, opportunities and insights are
//     finding nodes, "finding:<finding id>". Both are labelled with the finding's title and
//     weighted by its frequency (the interviews that support it; a finding that records none
//     counts the distinct interviews its evidence cites). The campaign links to each
//     ("contains", weighted the same but at least 1, as every edge is, so a finding nothing
//     supports, of weight 0, stays linked to its campaign).
//   - Quotes, "quote:<hash>", where the hash covers the interview, the message and the quoted
//     words, so the same quote cited by two findings is one node. A theme or finding links to
//     its first MaxQuotesPerFinding non-blank quotes in evidence order ("evidence", weight 1);
//     a quote's weight is the number of drawn themes and findings that cite it.
//   - Participants, "participant:<interview id>", one per interview a drawn quote comes from,
//     linked from the quote ("said_by", weight 1) and weighted by the drawn themes and
//     findings whose evidence cites the interview. A participant is never labelled with
//     personal data, in any graph: the label is "Participant N", N numbering every interview
//     the campaign's findings cite in the order the interviews started (interview ids are
//     UUIDv7, time-ordered), so a number stays the same while the set of cited interviews does.
//   - Tags, "tag:<tag>", labelled with the tag and weighted by the drawn themes and findings
//     that carry it; each carrier links to it ("tagged", weight 1).
//   - Themes and findings that cite the same interviews are linked ("shares_participants",
//     weighted by the number of interviews both cite, from the lesser node id to the greater).
//
// Ids depend only on ids and text, never on the order rows were read in, so a node keeps its
// id across re-analyses that update the same finding; the output is sorted, so the same
// findings always give the same bytes.
//
// # Bounds
//
// A graph holds at most MaxFindings themes and findings (the most frequent; ties by id),
// MaxQuotesPerFinding quotes each, MaxTagsPerFinding tags each out of the MaxTags most used,
// and the MaxRelated strongest "shares_participants" edges. Quotes are cut to MaxQuoteRunes
// characters. Truncated reports that a bound left something out.
package graph

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"qual.cx/operator/internal/store"
)

// Bounds of one graph.
const (
	MaxFindings         = 100
	MaxQuotesPerFinding = 5
	MaxTagsPerFinding   = 20 // as many as the API lets a finding carry
	MaxTags             = 50
	MaxRelated          = 300
	MaxQuoteRunes       = 500
)

// NodeType is the kind of a node.
type NodeType string

// Node types.
const (
	NodeCampaign    NodeType = "campaign"
	NodeTheme       NodeType = "theme"
	NodeFinding     NodeType = "finding"
	NodeParticipant NodeType = "participant"
	NodeQuote       NodeType = "quote"
	NodeTag         NodeType = "tag"
)

// EdgeType is the kind of an edge.
type EdgeType string

// Edge types.
const (
	EdgeContains           EdgeType = "contains"            // campaign → theme or finding
	EdgeEvidence           EdgeType = "evidence"            // theme or finding → quote
	EdgeSaidBy             EdgeType = "said_by"             // quote → participant
	EdgeTagged             EdgeType = "tagged"              // theme or finding → tag
	EdgeSharesParticipants EdgeType = "shares_participants" // theme or finding ↔ theme or finding
)

// Node is one node of the graph.
type Node struct {
	ID     string   `json:"id"`
	Type   NodeType `json:"type"`
	Label  string   `json:"label"`
	Weight int      `json:"weight"`
}

// Edge is one weighted edge of the graph.
type Edge struct {
	Source string   `json:"source"`
	Target string   `json:"target"`
	Type   EdgeType `json:"type"`
	Weight int      `json:"weight"`
}

// Graph is a campaign's knowledge graph.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
	// Truncated reports that a bound (see the package documentation) left something out.
	Truncated bool `json:"truncated"`
}

// Campaign is what the graph shows of a campaign.
type Campaign struct {
	ID    string
	Title string
}

// drawn is a theme or finding in the graph, with what the graph needs of it.
type drawn struct {
	f          store.Finding
	id         string
	weight     int
	interviews []store.InterviewID // distinct, sorted, over all its evidence
}

// Build derives the graph from the campaign's findings (all of them: participants are
// numbered over every finding's evidence). Findings of other campaigns are ignored.
func Build(c Campaign, findings []store.Finding) Graph {
	var all []drawn
	for _, f := range findings {
		if string(f.CampaignID) != c.ID {
			continue
		}
		d := drawn{f: f, id: findingNodeID(f), interviews: citedInterviews(f)}
		d.weight = f.Frequency
		if d.weight <= 0 {
			d.weight = len(d.interviews)
		}
		all = append(all, d)
	}
	g := Graph{Nodes: []Node{}, Edges: []Edge{}}
	campaignID := "campaign:" + c.ID
	g.Nodes = append(g.Nodes, Node{ID: campaignID, Type: NodeCampaign, Label: c.Title, Weight: len(all)})

	number := participantNumbers(all)
	slices.SortFunc(all, func(a, b drawn) int {
		return cmp.Or(cmp.Compare(b.weight, a.weight), strings.Compare(string(a.f.ID), string(b.f.ID)))
	})
	if len(all) > MaxFindings {
		all, g.Truncated = all[:MaxFindings], true
	}

	quotes := map[string]*Node{}
	participants := map[store.InterviewID]*Node{}
	for _, d := range all {
		typ := NodeFinding
		if d.f.Type == store.FindingTheme {
			typ = NodeTheme
		}
		g.Nodes = append(g.Nodes, Node{ID: d.id, Type: typ, Label: d.f.Title, Weight: d.weight})
		// A finding without evidence (a manual one, or one whose interviews were deleted)
		// still belongs to the campaign: an edge weighs at least 1.
		g.Edges = append(g.Edges, Edge{Source: campaignID, Target: d.id, Type: EdgeContains, Weight: max(d.weight, 1)})
		kept := map[string]bool{}
		for _, ev := range d.f.Evidence {
			text := strings.TrimSpace(ev.Quote)
			if text == "" {
				continue
			}
			qid := quoteID(ev)
			if kept[qid] {
				continue
			}
			if len(kept) == MaxQuotesPerFinding {
				g.Truncated = true
				break
			}
			kept[qid] = true
			g.Edges = append(g.Edges, Edge{Source: d.id, Target: qid, Type: EdgeEvidence, Weight: 1})
			if q := quotes[qid]; q != nil {
				q.Weight++
				continue
			}
			quotes[qid] = &Node{ID: qid, Type: NodeQuote, Label: cut(text, MaxQuoteRunes), Weight: 1}
			pid := "participant:" + string(ev.InterviewID)
			g.Edges = append(g.Edges, Edge{Source: qid, Target: pid, Type: EdgeSaidBy, Weight: 1})
			if participants[ev.InterviewID] == nil {
				participants[ev.InterviewID] = &Node{ID: pid, Type: NodeParticipant,
					Label: "Participant " + strconv.Itoa(number[ev.InterviewID]), Weight: supporters(all, ev.InterviewID)}
			}
		}
	}
	for _, q := range quotes {
		g.Nodes = append(g.Nodes, *q)
	}
	for _, p := range participants {
		g.Nodes = append(g.Nodes, *p)
	}
	g.addTags(all)
	g.addRelated(all)
	sortGraph(&g)
	return g
}

// supporters counts the drawn themes and findings whose evidence cites the interview.
func supporters(all []drawn, iv store.InterviewID) int {
	n := 0
	for _, d := range all {
		if _, ok := slices.BinarySearch(d.interviews, iv); ok {
			n++
		}
	}
	return n
}

// addTags adds the most used tags of the drawn findings and their "tagged" edges: each
// finding links to its MaxTagsPerFinding most used tags among the MaxTags most used of all,
// and a tag node weighs the findings that link to it, so no tag node is left without one.
func (g *Graph) addTags(all []drawn) {
	count := map[string]int{}
	owned := make([][]string, len(all))
	for i, d := range all {
		for _, tag := range d.f.Tags {
			if tag = strings.TrimSpace(tag); tag != "" && !slices.Contains(owned[i], tag) {
				owned[i] = append(owned[i], tag)
				count[tag]++
			}
		}
	}
	byUse := func(a, b string) int { return cmp.Or(cmp.Compare(count[b], count[a]), strings.Compare(a, b)) }
	tags := make([]string, 0, len(count))
	for tag := range count {
		tags = append(tags, tag)
	}
	slices.SortFunc(tags, byUse)
	if len(tags) > MaxTags {
		tags, g.Truncated = tags[:MaxTags], true
	}
	linked := map[string]int{}
	for _, tag := range tags {
		linked[tag] = 0
	}
	for i, d := range all {
		own := slices.DeleteFunc(owned[i], func(tag string) bool { _, ok := linked[tag]; return !ok })
		slices.SortFunc(own, byUse)
		if len(own) > MaxTagsPerFinding {
			own, g.Truncated = own[:MaxTagsPerFinding], true
		}
		slices.Sort(own)
		for _, tag := range own {
			linked[tag]++
			g.Edges = append(g.Edges, Edge{Source: d.id, Target: "tag:" + tag, Type: EdgeTagged, Weight: 1})
		}
	}
	for _, tag := range tags {
		if linked[tag] > 0 {
			g.Nodes = append(g.Nodes, Node{ID: "tag:" + tag, Type: NodeTag, Label: tag, Weight: linked[tag]})
		}
	}
}

// addRelated links drawn themes and findings that cite the same interviews.
func (g *Graph) addRelated(all []drawn) {
	var related []Edge
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			shared := sharedCount(all[i].interviews, all[j].interviews)
			if shared == 0 {
				continue
			}
			a, b := all[i].id, all[j].id
			if b < a {
				a, b = b, a
			}
			related = append(related, Edge{Source: a, Target: b, Type: EdgeSharesParticipants, Weight: shared})
		}
	}
	slices.SortFunc(related, func(x, y Edge) int {
		return cmp.Or(cmp.Compare(y.Weight, x.Weight), strings.Compare(x.Source, y.Source), strings.Compare(x.Target, y.Target))
	})
	if len(related) > MaxRelated {
		related, g.Truncated = related[:MaxRelated], true
	}
	g.Edges = append(g.Edges, related...)
}

// sharedCount counts the elements two sorted lists share.
func sharedCount(a, b []store.InterviewID) int {
	n := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return n
}

var nodeOrder = map[NodeType]int{NodeCampaign: 0, NodeTheme: 1, NodeFinding: 2, NodeTag: 3, NodeQuote: 4, NodeParticipant: 5}

var edgeOrder = map[EdgeType]int{EdgeContains: 0, EdgeSharesParticipants: 1, EdgeTagged: 2, EdgeEvidence: 3, EdgeSaidBy: 4}

// sortGraph puts nodes and edges in their one deterministic order.
func sortGraph(g *Graph) {
	slices.SortFunc(g.Nodes, func(a, b Node) int {
		return cmp.Or(cmp.Compare(nodeOrder[a.Type], nodeOrder[b.Type]), strings.Compare(a.ID, b.ID))
	})
	slices.SortFunc(g.Edges, func(a, b Edge) int {
		return cmp.Or(cmp.Compare(edgeOrder[a.Type], edgeOrder[b.Type]), strings.Compare(a.Source, b.Source), strings.Compare(a.Target, b.Target))
	})
}

func findingNodeID(f store.Finding) string {
	if f.Type == store.FindingTheme {
		return "theme:" + string(f.ID)
	}
	return "finding:" + string(f.ID)
}

// quoteID names a quote by where it was said and what it says.
func quoteID(ev store.Evidence) string {
	h := sha256.New()
	for _, part := range []string{string(ev.InterviewID), string(ev.MessageID), strings.TrimSpace(ev.Quote)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "quote:" + hex.EncodeToString(h.Sum(nil)[:10])
}

// citedInterviews is the distinct interviews a finding's evidence cites, sorted.
func citedInterviews(f store.Finding) []store.InterviewID {
	ids := make([]store.InterviewID, 0, len(f.Evidence))
	for _, ev := range f.Evidence {
		ids = append(ids, ev.InterviewID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// participantNumbers numbers every interview the findings cite, 1…, by interview id: ids are
// UUIDv7, so this is the order the interviews started in.
func participantNumbers(all []drawn) map[store.InterviewID]int {
	var ids []store.InterviewID
	for _, d := range all {
		ids = append(ids, d.interviews...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make(map[store.InterviewID]int, len(ids))
	for i, id := range ids {
		out[id] = i + 1
	}
	return out
}

// cut shortens s to at most n characters, ending it with an ellipsis when it was longer.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// Shared is the graph as a share link shows it: participant nodes get ids that name no
// interview ("participant:<N>", N as in their label), so nothing in it points back to the
// people interviewed. Labels hold no personal data in any graph, so they stay.
func Shared(g Graph) Graph {
	out := Graph{Nodes: slices.Clone(g.Nodes), Edges: slices.Clone(g.Edges), Truncated: g.Truncated}
	rename := map[string]string{}
	for i, n := range out.Nodes {
		if n.Type != NodeParticipant {
			continue
		}
		id := "participant:" + strings.TrimPrefix(n.Label, "Participant ")
		rename[n.ID] = id
		out.Nodes[i].ID = id
	}
	for i, e := range out.Edges {
		if id, ok := rename[e.Source]; ok {
			out.Edges[i].Source = id
		}
		if id, ok := rename[e.Target]; ok {
			out.Edges[i].Target = id
		}
	}
	return out
}
