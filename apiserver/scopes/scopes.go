// Package scopes is the set of API scopes as a bitmask, so a scope check on the request path
// is one AND and no allocation.
package scopes

import (
	"strings"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// Set is a set of scopes.
type Set uint16

// The scopes of the API, in the order of the contract.
var scopeNames = []qualv1alpha1.Scope{
	"campaigns:read", "campaigns:write", "campaigns:delete", "campaigns:publish",
	"interviews:read", "interviews:write", "findings:read", "findings:write",
	"graph:read", "graph:share", "teams:read", "teams:write", "webhooks:manage", "admin:read",
}

// Scope bits, one per scope.
var (
	CampaignsRead    = Of("campaigns:read")
	CampaignsWrite   = Of("campaigns:write")
	CampaignsDelete  = Of("campaigns:delete")
	CampaignsPublish = Of("campaigns:publish")
	InterviewsRead   = Of("interviews:read")
	InterviewsWrite  = Of("interviews:write")
	TeamsRead        = Of("teams:read")
	TeamsWrite       = Of("teams:write")
	AdminRead        = Of("admin:read")
	// All is every scope.
	All = Set(1<<len(scopeNames) - 1)
	// SecretDefault is what a secret key without explicit scopes holds: all but admin:read.
	SecretDefault = All &^ AdminRead
)

// Of returns the bit of a scope name, and 0 for an unknown one.
func Of(name qualv1alpha1.Scope) Set {
	for i, n := range scopeNames {
		if n == name {
			return 1 << i
		}
	}
	return 0
}

// Parse returns the set of names and the first unknown name, if any.
func Parse(names []qualv1alpha1.Scope) (Set, qualv1alpha1.Scope) {
	var s Set
	for _, n := range names {
		bit := Of(n)
		if bit == 0 {
			return 0, n
		}
		s |= bit
	}
	return s, ""
}

// Has reports whether every scope of want is in s.
func (s Set) Has(want Set) bool { return s&want == want }

// Names lists the scopes of s in the contract's order.
func (s Set) Names() []qualv1alpha1.Scope {
	names := []qualv1alpha1.Scope{}
	for i, n := range scopeNames {
		if s&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return names
}

// Missing returns the first scope of want that s lacks, for the error message.
func (s Set) Missing(want Set) qualv1alpha1.Scope {
	for i, n := range scopeNames {
		if want&(1<<i) != 0 && s&(1<<i) == 0 {
			return n
		}
	}
	return ""
}

// PublicAllowed is what a public key may hold: read scopes and interviews:write.
func PublicAllowed() Set {
	var s Set
	for i, n := range scopeNames {
		if strings.HasSuffix(string(n), ":read") || n == "interviews:write" {
			s |= 1 << i
		}
	}
	return s
}
