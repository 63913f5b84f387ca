package graph

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"qual.cx/operator/apiserver/openapi"
	"qual.cx/operator/internal/store"
)

const campaignID = "3f1c9a52-8e4b-4d7a-9c1e-2b5f6a7d8e90"

// iv makes a UUIDv7-shaped interview id that sorts by n.
func iv(n int) store.InterviewID {
	return store.InterviewID(fmt.Sprintf("0190a000-0000-7000-8000-%012d", n))
}

func finding(id string, typ store.FindingType, freq int, tags []string, ev ...store.Evidence) store.Finding {
	return store.Finding{ID: store.FindingID(id), CampaignID: campaignID, Type: typ, Title: "Title " + id,
		Frequency: freq, Tags: tags, Evidence: ev}
}

func quote(n int, text string) store.Evidence {
	return store.Evidence{InterviewID: iv(n), MessageID: store.MessageID(fmt.Sprintf("msg-%d", n)), Quote: text}
}

func byID(g Graph) map[string]Node {
	out := map[string]Node{}
	for _, n := range g.Nodes {
		out[n.ID] = n
	}
	return out
}

func hasEdge(g Graph, source, target string, typ EdgeType, weight int) bool {
	return slices.Contains(g.Edges, Edge{Source: source, Target: target, Type: typ, Weight: weight})
}

func TestBuildModel(t *testing.T) {
	c := Campaign{ID: campaignID, Title: "Onboarding"}
	fs := []store.Finding{
		finding("f-theme", store.FindingTheme, 3, []string{"pricing", "trust"},
			quote(2, "The pricing page hid the limits."), quote(5, "I could not tell what the plan allowed."), quote(0, "  ")),
		finding("f-pain", store.FindingPainPoint, 0, []string{"pricing"},
			quote(5, "I could not tell what the plan allowed."), quote(7, "Setup took a week.")),
		finding("f-other-campaign", store.FindingInsight, 9, nil, quote(1, "elsewhere")),
	}
	fs[2].CampaignID = "another"
	g := Build(c, fs)
	nodes := byID(g)

	if n := nodes["campaign:"+campaignID]; n.Type != NodeCampaign || n.Label != "Onboarding" || n.Weight != 2 {
		t.Fatalf("campaign node %+v", n)
	}
	if n := nodes["theme:f-theme"]; n.Type != NodeTheme || n.Label != "Title f-theme" || n.Weight != 3 {
		t.Fatalf("theme node %+v", n)
	}
	// Frequency 0 falls back to the distinct interviews cited.
	if n := nodes["finding:f-pain"]; n.Type != NodeFinding || n.Weight != 2 {
		t.Fatalf("finding node %+v", n)
	}
	if _, ok := nodes["finding:f-other-campaign"]; ok {
		t.Fatal("a finding of another campaign is drawn")
	}
	if !hasEdge(g, "campaign:"+campaignID, "theme:f-theme", EdgeContains, 3) || !hasEdge(g, "campaign:"+campaignID, "finding:f-pain", EdgeContains, 2) {
		t.Fatalf("contains edges: %+v", g.Edges)
	}
	// The shared quote is one node cited twice; the blank one is no node.
	shared := quoteID(quote(5, "I could not tell what the plan allowed."))
	if n := nodes[shared]; n.Type != NodeQuote || n.Weight != 2 || n.Label != "I could not tell what the plan allowed." {
		t.Fatalf("shared quote %+v", n)
	}
	if got := countType(g, NodeQuote); got != 3 {
		t.Fatalf("%d quotes, want 3", got)
	}
	if !hasEdge(g, "theme:f-theme", shared, EdgeEvidence, 1) || !hasEdge(g, "finding:f-pain", shared, EdgeEvidence, 1) ||
		!hasEdge(g, shared, "participant:"+string(iv(5)), EdgeSaidBy, 1) {
		t.Fatalf("quote edges: %+v", g.Edges)
	}
	// Participants are numbered over every cited interview in id order (0 has only a blank
	// quote but is cited, so it takes number 1), and never named.
	for n, want := range map[int]string{2: "Participant 2", 5: "Participant 3", 7: "Participant 4"} {
		if p := nodes["participant:"+string(iv(n))]; p.Label != want || p.Type != NodeParticipant {
			t.Errorf("participant %d: %+v, want %s", n, p, want)
		}
	}
	if p := nodes["participant:"+string(iv(5))]; p.Weight != 2 {
		t.Errorf("participant 5 supports both: %+v", p)
	}
	if _, ok := nodes["participant:"+string(iv(0))]; ok {
		t.Error("an interview with no drawn quote is a node")
	}
	if n := nodes["tag:pricing"]; n.Weight != 2 || n.Label != "pricing" || !hasEdge(g, "finding:f-pain", "tag:pricing", EdgeTagged, 1) {
		t.Fatalf("tag %+v", n)
	}
	// Both cite interview 5.
	if !hasEdge(g, "finding:f-pain", "theme:f-theme", EdgeSharesParticipants, 1) {
		t.Fatalf("shares_participants: %+v", g.Edges)
	}
	if g.Truncated {
		t.Fatal("truncated")
	}
	checkEdgesResolve(t, g)
}

func countType(g Graph, typ NodeType) int {
	n := 0
	for _, node := range g.Nodes {
		if node.Type == typ {
			n++
		}
	}
	return n
}

func checkEdgesResolve(t *testing.T, g Graph) {
	t.Helper()
	nodes := byID(g)
	if len(nodes) != len(g.Nodes) {
		t.Fatalf("duplicate node ids")
	}
	for _, e := range g.Edges {
		if _, ok := nodes[e.Source]; !ok {
			t.Fatalf("edge from a missing node: %+v", e)
		}
		if _, ok := nodes[e.Target]; !ok {
			t.Fatalf("edge to a missing node: %+v", e)
		}
	}
}

// The same findings in any order give the same bytes; re-analysis keeps ids.
func TestBuildIsDeterministic(t *testing.T) {
	c := Campaign{ID: campaignID, Title: "C"}
	var fs []store.Finding
	for i := range 30 {
		fs = append(fs, finding(fmt.Sprintf("f%02d", i), []store.FindingType{store.FindingTheme, store.FindingInsight}[i%2], i%4,
			[]string{fmt.Sprintf("t%d", i%5), "common"}, quote(i%7, fmt.Sprintf("quote %d", i%7)), quote(i%3+10, fmt.Sprintf("q %d", i))))
	}
	want, _ := json.Marshal(Build(c, fs))
	for range 5 {
		shuffled := slices.Clone(fs)
		rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, _ := json.Marshal(Build(c, shuffled))
		if string(got) != string(want) {
			t.Fatal("the order of the findings changes the graph")
		}
	}
	// A re-analysis that changes a finding's title and frequency keeps every id.
	changed := slices.Clone(fs)
	changed[3].Title, changed[3].Frequency = "Renamed", 2
	ids := func(g Graph) []string {
		var out []string
		for _, n := range g.Nodes {
			out = append(out, n.ID)
		}
		slices.Sort(out)
		return out
	}
	if !reflect.DeepEqual(ids(Build(c, fs)), ids(Build(c, changed))) {
		t.Fatal("ids changed with a title")
	}
}

// A finding without evidence (manual, or its interviews deleted) is still in the campaign,
// by an edge that weighs at least 1 like every edge.
func TestFindingWithoutEvidence(t *testing.T) {
	g := Build(Campaign{ID: campaignID, Title: "C"}, []store.Finding{finding("bare", store.FindingInsight, 0, []string{"a"})})
	for _, e := range g.Edges {
		if e.Weight < 1 {
			t.Fatalf("edge %+v weighs %d", e, e.Weight)
		}
	}
	if n := byID(g)["finding:bare"]; n.Weight != 0 {
		t.Fatalf("the finding's node: %+v", n)
	}
	checkEdgesResolve(t, g)
}

// A contains edge weighs its theme's or finding's frequency, its node's weight, but at least 1,
// as the document says: a finding nothing supports (weight 0) stays linked to its campaign.
func TestContainsWeighsTheFindingAtLeastOne(t *testing.T) {
	g := Build(Campaign{ID: campaignID, Title: "C"}, []store.Finding{
		finding("bare", store.FindingInsight, 0, nil),
		finding("one", store.FindingPainPoint, 1, nil, quote(1, "slow")),
		finding("three", store.FindingTheme, 3, nil, quote(1, "slow"), quote(2, "slow too")),
	})
	nodes := byID(g)
	contains := 0
	for _, e := range g.Edges {
		if e.Type != EdgeContains {
			continue
		}
		contains++
		if w := nodes[e.Target].Weight; e.Source != "campaign:"+campaignID || e.Weight != max(w, 1) {
			t.Errorf("contains edge %+v for a node of weight %d", e, w)
		}
	}
	if contains != 3 || nodes["finding:bare"].Weight != 0 || nodes["theme:three"].Weight != 3 {
		t.Fatalf("%d contains edges, nodes %+v", contains, nodes)
	}
	var doc struct {
		Components struct {
			Schemas struct {
				GraphEdge struct {
					Description string `json:"description"`
					Properties  struct {
						Weight struct {
							Minimum     int    `json:"minimum"`
							Description string `json:"description"`
						} `json:"weight"`
					} `json:"properties"`
				} `json:"GraphEdge"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapi.JSON(), &doc); err != nil {
		t.Fatal(err)
	}
	edge := doc.Components.Schemas.GraphEdge
	if edge.Properties.Weight.Minimum != 1 || !strings.Contains(edge.Properties.Weight.Description, "`contains`") ||
		!strings.Contains(edge.Properties.Weight.Description, "at least 1") || !strings.Contains(edge.Description, "at least 1") {
		t.Errorf("the document's GraphEdge does not say a contains edge weighs at least 1: %+v", edge)
	}
}

// A finding linked to more tags than a finding may show keeps its most used ones, and no tag
// node is made for the others.
func TestTagsPastTheCapLeaveNoLoneNodes(t *testing.T) {
	var tags []string
	for k := range MaxTagsPerFinding + 2 {
		tags = append(tags, fmt.Sprintf("t%02d", k))
	}
	common := finding("b", store.FindingTheme, 4, []string{"t11"}, quote(9, "also"))
	g := Build(Campaign{ID: campaignID, Title: "C"}, []store.Finding{finding("a", store.FindingTheme, 5, tags, quote(1, "q")), common})
	if !g.Truncated {
		t.Fatal("not marked truncated")
	}
	nodes := byID(g)
	if n, ok := nodes["tag:t11"]; !ok || n.Weight != 2 {
		t.Fatalf("the tag both findings carry: %+v %v", n, ok)
	}
	if n := countType(g, NodeTag); n != MaxTagsPerFinding {
		t.Fatalf("%d tag nodes, want %d", n, MaxTagsPerFinding)
	}
	checkEdgesResolve(t, g)
}

func TestBuildBounds(t *testing.T) {
	c := Campaign{ID: campaignID, Title: "Big"}
	var fs []store.Finding
	for i := range MaxFindings + 20 {
		var ev []store.Evidence
		for q := range MaxQuotesPerFinding + 3 {
			ev = append(ev, quote(i*10+q, strings.Repeat("long words ", 100)+fmt.Sprint(i, q)))
		}
		var tags []string
		for k := range MaxTagsPerFinding + 5 {
			tags = append(tags, fmt.Sprintf("tag-%03d", (i+k)%(MaxTags+30)))
		}
		fs = append(fs, finding(fmt.Sprintf("f%03d", i), store.FindingPainPoint, i, tags, ev...))
	}
	g := Build(c, fs)
	if !g.Truncated {
		t.Fatal("not marked truncated")
	}
	if n := countType(g, NodeFinding); n != MaxFindings {
		t.Fatalf("%d findings", n)
	}
	// The most frequent are kept.
	if _, ok := byID(g)["finding:f000"]; ok {
		t.Fatal("the least frequent finding was kept")
	}
	if n := countType(g, NodeQuote); n != MaxFindings*MaxQuotesPerFinding {
		t.Fatalf("%d quotes", n)
	}
	if n := countType(g, NodeTag); n != MaxTags {
		t.Fatalf("%d tags", n)
	}
	perFinding, perTag := map[string]int{}, map[string]int{}
	related := 0
	for _, e := range g.Edges {
		switch e.Type {
		case EdgeTagged:
			perFinding[e.Source]++
			perTag[e.Target]++
		case EdgeSharesParticipants:
			related++
		}
	}
	for f, n := range perFinding {
		if n > MaxTagsPerFinding {
			t.Fatalf("%s has %d tags", f, n)
		}
	}
	if related > MaxRelated {
		t.Fatalf("%d related edges", related)
	}
	// A tag node weighs the findings linked to it, and none is left without one.
	for _, n := range g.Nodes {
		if n.Type == NodeTag && (perTag[n.ID] == 0 || perTag[n.ID] != n.Weight) {
			t.Fatalf("tag %s weighs %d with %d edges", n.ID, n.Weight, perTag[n.ID])
		}
	}
	for _, n := range g.Nodes {
		if len([]rune(n.Label)) > MaxQuoteRunes {
			t.Fatalf("label of %d characters", len([]rune(n.Label)))
		}
	}
	checkEdgesResolve(t, g)
}

func TestSharedNamesNoInterview(t *testing.T) {
	c := Campaign{ID: campaignID, Title: "C"}
	g := Build(c, []store.Finding{
		finding("a", store.FindingTheme, 2, nil, quote(3, "one"), quote(4, "two")),
		finding("b", store.FindingInsight, 1, nil, quote(4, "three")),
	})
	s := Shared(g)
	raw, _ := json.Marshal(s)
	for _, n := range []int{3, 4} {
		if strings.Contains(string(raw), string(iv(n))) {
			t.Fatalf("shared graph names interview %d: %s", n, raw)
		}
	}
	nodes := byID(s)
	if p := nodes["participant:2"]; p.Label != "Participant 2" || p.Weight != 2 {
		t.Fatalf("participant 2: %+v", p)
	}
	checkEdgesResolve(t, s)
	if len(s.Nodes) != len(g.Nodes) || len(s.Edges) != len(g.Edges) {
		t.Fatal("shared graph differs in size")
	}
	if !strings.Contains(g.Nodes[len(g.Nodes)-1].ID, string(iv(4))) {
		t.Fatal("Shared changed the graph it was given")
	}
}

func TestEmptyCampaign(t *testing.T) {
	g := Build(Campaign{ID: campaignID, Title: "Nothing yet"}, nil)
	raw, _ := json.Marshal(g)
	want := `{"nodes":[{"id":"campaign:` + campaignID + `","type":"campaign","label":"Nothing yet","weight":0}],"edges":[],"truncated":false}`
	if string(raw) != want {
		t.Fatalf("got %s", raw)
	}
}
