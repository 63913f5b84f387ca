package apiserver

import (
	"slices"
	"strings"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// enum is the REST spelling of one of the API types' enums: the values of api/v1alpha1,
// lowercased (campaign states are capitalised in Kubernetes, lowercase in REST).
type enum []string

func enumOf[T ~string](values []T) enum {
	out := make(enum, len(values))
	for i, v := range values {
		out[i] = strings.ToLower(string(v))
	}
	return out
}

// The REST enums, built from the API types.
var (
	plansEnum    = enumOf(qualv1alpha1.Plans())
	rolesEnum    = enumOf(qualv1alpha1.TeamRoles())
	modesEnum    = enumOf(qualv1alpha1.CampaignModes())
	statesEnum   = enumOf(qualv1alpha1.CampaignStates())
	keyTypesEnum = enumOf(qualv1alpha1.APIKeyTypes())
	interviewers = enumOf(qualv1alpha1.InterviewerKinds())
	analyzers    = enumOf(qualv1alpha1.AnalyzerKinds())
)

// has reports whether v is one of the values.
func (e enum) has(v string) bool { return slices.Contains(e, v) }

// must is the validation message naming the values: "must be a, b or c".
func (e enum) must() string {
	if len(e) == 1 {
		return "must be " + e[0]
	}
	return "must be " + strings.Join(e[:len(e)-1], ", ") + " or " + e[len(e)-1]
}
