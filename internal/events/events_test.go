package events_test

import (
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/events"
	"qual.cx/operator/internal/store"
)

func TestIDIsDerivedFromTypeObjectAndChange(t *testing.T) {
	// printf 'campaign.created/0b7c1c4e-uid/created' | sha256sum | cut -c1-32
	if got := events.ID(events.CampaignCreated, "0b7c1c4e-uid", events.KeyCreated); got != "evt_28fff59702f379033340a532f86e1215" {
		t.Fatalf("id %s", got)
	}
	seen := map[store.EventID]string{}
	for _, in := range [][3]string{
		{events.CampaignCreated, "u1", "created"},
		{events.CampaignUpdated, "u1", "created"},
		{events.CampaignCreated, "u2", "created"},
		{events.CampaignUpdated, "u1", events.GenerationKey(2)},
		{events.CampaignUpdated, "u1", events.GenerationKey(3)},
		{events.CampaignPaused, "u1", events.TransitionKey(qualv1alpha1.StatePaused, 3)},
		{events.CampaignPaused, "u1", events.TransitionKey(qualv1alpha1.StatePaused, 5)},
	} {
		id := events.ID(in[0], in[1], in[2])
		if prev, dup := seen[id]; dup {
			t.Fatalf("%v and %s share id %s", in, prev, id)
		}
		seen[id] = strings.Join(in[:], "/")
		if len(id) != len("evt_")+32 || id != events.ID(in[0], in[1], in[2]) {
			t.Fatalf("id %s of %v is not stable or not 32 hex digits", id, in)
		}
	}
}

func TestCampaignEventsAreErasedWithTheCampaignButItsDeletion(t *testing.T) {
	c := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Name: "study", UID: "c-1"},
		Spec: qualv1alpha1.CampaignSpec{Title: "Study", State: qualv1alpha1.StateActive}}
	for typ, erased := range map[string]bool{events.CampaignCreated: true, events.CampaignPublished: true, events.CampaignDeleted: false} {
		ev, err := events.Campaign(typ, c, "team-1", "k")
		if err != nil {
			t.Fatal(err)
		}
		if ev.Subject != "c-1" || ev.Type != typ || ev.ID != events.ID(typ, "c-1", "k") || (ev.CampaignID == "c-1") != erased {
			t.Fatalf("%s: %+v", typ, ev)
		}
		var data struct{ ID, Status, TeamID string }
		if err := json.Unmarshal(ev.Payload, &data); err != nil || data.ID != "c-1" || data.Status != "active" {
			t.Fatalf("%s data %s (%v)", typ, ev.Payload, err)
		}
	}
}

// A member event is about the team, and its id names the membership (the generation it began
// at), not the team's current generation, which later edits move.
func TestMemberEventsAreAboutTheTeam(t *testing.T) {
	team := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: "acme", UID: "t-1", Generation: 9}}
	added, err := events.Added(team, qualv1alpha1.TeamMember{Email: "a@acme.example", Role: qualv1alpha1.RoleAdmin}, 4)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := events.Removed(team, "a@acme.example", 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ev   store.NewEvent
		typ  string
		data string
	}{
		{added, events.MemberAdded, `{"team_id":"t-1","user_id":null,"email":"a@acme.example","role":"admin","added_at":null}`},
		{removed, events.MemberRemoved, `{"team_id":"t-1","email":"a@acme.example"}`},
	} {
		if c.ev.Subject != "t-1" || c.ev.Type != c.typ || c.ev.ID != events.ID(c.typ, "t-1", "a@acme.example/4") || string(c.ev.Payload) != c.data {
			t.Errorf("%s: %+v %s", c.typ, c.ev, c.ev.Payload)
		}
	}
}

func TestAPIKeyEventHoldsNoKeyMaterial(t *testing.T) {
	k := &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Name: "ci", UID: "k-1"},
		Spec:   qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeyScoped, Scopes: []qualv1alpha1.Scope{"campaigns:read"}},
		Status: qualv1alpha1.APIKeyStatus{HashRef: "sha256:0123456789abcdef", Prefix: "qk_scoped_ab", LastFour: "wxyz"}}
	ev, err := events.APIKey(events.APIKeyCreated, k, "team-1", events.KeyCreated)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(ev.Payload), "0123456789abcdef") || ev.Subject != "k-1" || ev.CampaignID != "" {
		t.Fatalf("%+v %s", ev, ev.Payload)
	}
	var data struct {
		Prefix   string   `json:"prefix"`
		LastFour string   `json:"last_four"`
		Scopes   []string `json:"scopes"`
		TeamID   string   `json:"team_id"`
	}
	if err := json.Unmarshal(ev.Payload, &data); err != nil || data.Prefix != "qk_scoped_ab" || data.LastFour != "wxyz" ||
		len(data.Scopes) != 1 || data.TeamID != "team-1" {
		t.Fatalf("data %s (%v)", ev.Payload, err)
	}
}
