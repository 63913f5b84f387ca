// Package events names the webhook events of changes to Kubernetes-backed objects (campaigns,
// team members, API keys), derives their ids, renders their payloads as the REST API shows
// the objects, and writes them to the outbox of the team the object belongs to.
//
// The controllers emit these events, so a change made with kubectl, GitOps or REST is
// announced alike. An event's id is derived from what changed, not drawn at random: a
// retried reconcile, or a second manager racing for the lease, writes the same id, and the
// store keeps the first.
package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/internal/store"
)

// The event types of CR-backed changes (the REST contract's names).
const (
	CampaignCreated   = "campaign.created"
	CampaignUpdated   = "campaign.updated"
	CampaignPublished = "campaign.published"
	CampaignPaused    = "campaign.paused"
	CampaignCompleted = "campaign.completed"
	CampaignDeleted   = "campaign.deleted"
	MemberAdded       = "team.member_added"
	MemberRemoved     = "team.member_removed"
	APIKeyCreated     = "api_key.created"
	APIKeyRevoked     = "api_key.revoked"
)

// The change keys of changes that happen once in an object's life.
const (
	KeyCreated = "created"
	KeyDeleted = "deleted"
	KeyRevoked = "revoked"
)

// ID is the id of the event of one change: "evt_" and the first 32 hex digits of the SHA-256
// of "<type>/<uid>/<changeKey>".
func ID(typ, uid, changeKey string) store.EventID {
	sum := sha256.Sum256([]byte(typ + "/" + uid + "/" + changeKey))
	return store.EventID("evt_" + hex.EncodeToString(sum[:16]))
}

// GenerationKey is the change key of a spec change: the generation it produced.
func GenerationKey(generation int64) string {
	return strconv.FormatInt(generation, 10)
}

// TransitionKey is the change key of a publish-state move: the state moved to and the
// generation that asked for it, so a campaign paused twice announces each pause.
func TransitionKey(to qualv1alpha1.CampaignState, generation int64) string {
	return string(to) + "/" + GenerationKey(generation)
}

// MemberKey is the change key of a member joining or leaving: the e-mail and the generation
// the membership began at (the Team's status.memberships), not the team's current one, which
// any later member edit moves: every pass announcing the change writes the same id, however
// many edits landed since, while someone removed and added again is a new membership and is
// announced again.
func MemberKey(email string, since int64) string {
	return email + "/" + GenerationKey(since)
}

// TransitionType is the event type of a move to a publish state, and false for a state whose
// arrival is no event of its own (Draft).
func TransitionType(to qualv1alpha1.CampaignState) (string, bool) {
	switch to {
	case qualv1alpha1.StateActive:
		return CampaignPublished, true
	case qualv1alpha1.StatePaused:
		return CampaignPaused, true
	case qualv1alpha1.StateCompleted:
		return CampaignCompleted, true
	}
	return "", false
}

// Campaign is the event of a change to a campaign of the team teamUID; its data is the REST
// campaign. Erasing a campaign's data keeps these events (store.TeamStore.DeleteCampaignData);
// campaign.deleted names no campaign all the same, so no erasure can ever take it.
func Campaign(typ string, c *qualv1alpha1.Campaign, teamUID, changeKey string) (store.NewEvent, error) {
	ev, err := build(typ, string(c.UID), changeKey, resources.NewCampaign(c, teamUID))
	if typ != CampaignDeleted {
		ev.CampaignID = store.CampaignID(c.UID)
	}
	return ev, err
}

// Member is the data of team.member_added: the REST member and its team.
type Member struct {
	TeamID string `json:"team_id"`
	resources.Member
}

// RemovedMember is the data of team.member_removed: who left which team.
type RemovedMember struct {
	TeamID string `json:"team_id"`
	Email  string `json:"email"`
}

// Added is the event of a member joining a team in the membership that began at generation
// since; its subject is the team.
func Added(team *qualv1alpha1.Team, m qualv1alpha1.TeamMember, since int64) (store.NewEvent, error) {
	data := Member{TeamID: string(team.UID), Member: resources.NewMember(m)}
	return build(MemberAdded, string(team.UID), MemberKey(m.Email, since), data)
}

// Removed is the event of a member leaving a team, ending the membership that began at
// generation since; its subject is the team.
func Removed(team *qualv1alpha1.Team, email string, since int64) (store.NewEvent, error) {
	data := RemovedMember{TeamID: string(team.UID), Email: email}
	return build(MemberRemoved, string(team.UID), MemberKey(email, since), data)
}

// APIKey is the event of a change to an API key of the team teamUID; its data is the REST key,
// which holds neither the plaintext nor the hash.
func APIKey(typ string, k *qualv1alpha1.APIKey, teamUID, changeKey string) (store.NewEvent, error) {
	data := resources.NewAPIKey(k, teamUID, directory.EffectiveScopes(k).Names())
	return build(typ, string(k.UID), changeKey, data)
}

// build renders an event about the object subject.
func build(typ, subject, changeKey string, data any) (store.NewEvent, error) {
	payload, err := json.Marshal(data)
	if err != nil {
		return store.NewEvent{}, fmt.Errorf("events: render %s of %s: %w", typ, subject, err)
	}
	return store.NewEvent{ID: ID(typ, subject, changeKey), Type: typ, Subject: subject, Payload: payload}, nil
}
