package resources

import (
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// APIKey is the REST form of an APIKey object. It never holds the plaintext.
type APIKey struct {
	ID             string               `json:"id"`
	Name           string               `json:"name"`
	Type           string               `json:"type"`
	Prefix         string               `json:"prefix"`
	LastFour       string               `json:"last_four"`
	Scopes         []qualv1alpha1.Scope `json:"scopes"`
	AllowedOrigins []string             `json:"allowed_origins"`
	TeamID         *string              `json:"team_id"` // nil: a platform admin's key, in no team
	LastUsedAt     *time.Time           `json:"last_used_at"`
	ExpiresAt      *time.Time           `json:"expires_at"`
	RevokedAt      *time.Time           `json:"revoked_at"`
	CreatedAt      time.Time            `json:"created_at"`
}

// APIKeyWithSecret is the answer to a create or a rotation: the only time the plaintext is
// shown.
type APIKeyWithSecret struct {
	APIKey
	Key string `json:"key"`
}

// NewAPIKey renders an APIKey object of the team teamID, with its effective scopes.
func NewAPIKey(k *qualv1alpha1.APIKey, teamID string, scopes []qualv1alpha1.Scope) APIKey {
	prefix, lastFour := k.Status.Prefix, k.Status.LastFour
	if c := k.Spec.Credential; c != nil {
		prefix, lastFour = c.Prefix, c.LastFour
	}
	origins := k.Spec.AllowedOrigins
	if origins == nil {
		origins = []string{}
	}
	name := k.Spec.DisplayName
	if name == "" {
		name = k.Name
	}
	out := APIKey{
		ID: string(k.UID), Name: name, Type: string(k.Spec.Type), Prefix: prefix, LastFour: lastFour,
		Scopes: scopes, AllowedOrigins: origins,
		LastUsedAt: timePtr(k.Status.LastUsedAt), ExpiresAt: timePtr(k.Spec.ExpiresAt),
		CreatedAt: kubeTime(k.CreationTimestamp.Time),
	}
	if teamID != "" {
		out.TeamID = &teamID
	}
	if k.Spec.Revoked {
		out.RevokedAt = timePtr(k.Status.RevokedAt)
		if out.RevokedAt == nil { // revoked, and the controller has not stamped it yet
			t := UpdatedAt(&k.ObjectMeta)
			out.RevokedAt = &t
		}
	}
	return out
}
