package dataapi

import (
	"fmt"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// Page sizes. kubectl asks for 500 a chunk; a response carries at most maxListLimit items,
// filled from store pages of up to store.MaxPageLimit, and says where to continue. The API
// conventions let a server return fewer items than the limit, with a continue token.
const (
	maxListLimit = 500
)

// query is a list request's filters, from its field selector, which the store's indexes serve.
type query struct {
	name        string // metadata.name: a get, as a list of zero or one
	namespace   string // metadata.namespace: a list across namespaces narrowed to one
	campaign    string // a Campaign's name, resolved to its UID in each namespace
	campaignUID string
	phase       string
	findingType string
	tag         string
	interview   string
	// participantEmail and externalID name a participant, as the store compares them: the
	// address with its ASCII letters folded (qualv1alpha1.EmailKey), both trimmed.
	participantEmail string
	externalID       string
	// matchesNothing is set when a label selector can match no object (the store's objects
	// carry no labels, so only a selector an empty label set satisfies matches them), or a
	// field selector asks for an empty name or namespace, which no object has.
	matchesNothing bool
}

// filters is the query in canonical form, which a continue token is bound to.
func (q query) filters() map[string]string {
	return map[string]string{
		"name": q.name, "namespace": q.namespace, datav1alpha1.FieldCampaign: q.campaign, datav1alpha1.FieldCampaignUID: q.campaignUID,
		datav1alpha1.FieldPhase: q.phase, datav1alpha1.FieldType: q.findingType, datav1alpha1.FieldTag: q.tag,
		datav1alpha1.FieldInterview: q.interview, datav1alpha1.FieldParticipantEmail: q.participantEmail,
		datav1alpha1.FieldParticipantExternalID: q.externalID, "labels": strconv.FormatBool(q.matchesNothing),
	}
}

// parseQuery reads the field and label selectors. Field labels were checked by the scheme
// (see fieldLabels); only equality is served, since the store's indexes answer equality.
func parseQuery(opts *metainternalversion.ListOptions) (query, error) {
	var q query
	if opts == nil {
		return q, nil
	}
	if opts.LabelSelector != nil && !opts.LabelSelector.Empty() && !opts.LabelSelector.Matches(labels.Set{}) {
		q.matchesNothing = true
	}
	if opts.FieldSelector == nil {
		return q, nil
	}
	for _, r := range opts.FieldSelector.Requirements() {
		if r.Operator != selection.Equals && r.Operator != selection.DoubleEquals {
			return q, apierrors.NewBadRequest(fmt.Sprintf("field selector %s: only = is supported", r.Field))
		}
		if err := q.set(r.Field, r.Value); err != nil {
			return q, err
		}
	}
	return q, nil
}

func (q *query) set(field, value string) error {
	var dst *string
	switch field {
	case "metadata.name", "metadata.namespace":
		if value == "" {
			q.matchesNothing = true
			return nil
		}
		dst = &q.name
		if field == "metadata.namespace" {
			dst = &q.namespace
		}
	case datav1alpha1.FieldCampaign:
		dst = &q.campaign
	case datav1alpha1.FieldCampaignUID:
		dst = &q.campaignUID
	case datav1alpha1.FieldPhase:
		dst = &q.phase
	case datav1alpha1.FieldType:
		dst = &q.findingType
	case datav1alpha1.FieldTag:
		dst = &q.tag
	case datav1alpha1.FieldInterview:
		dst = &q.interview
	case datav1alpha1.FieldParticipantEmail:
		dst, value = &q.participantEmail, qualv1alpha1.EmailKey(strings.TrimSpace(value))
	case datav1alpha1.FieldParticipantExternalID:
		dst, value = &q.externalID, strings.TrimSpace(value)
	default:
		return apierrors.NewBadRequest(fmt.Sprintf("field selector %s is not supported", field))
	}
	if strings.TrimSpace(value) == "" {
		// Read as absent, it would select every row: a participant lookup run with an unset
		// variable would list everyone's interviews, for whatever erases them next.
		return apierrors.NewBadRequest(fmt.Sprintf("field selector %s: a value is required (leave the field out to list without it)", field))
	}
	if *dst != "" && *dst != value {
		// The terms of a field selector all hold: a field cannot equal two values, though a
		// finding may carry two tags, which the store's index cannot look up at once.
		if field == datav1alpha1.FieldTag {
			return apierrors.NewBadRequest(fmt.Sprintf("field selector %s: one value at a time", field))
		}
		q.matchesNothing = true
		return nil
	}
	*dst = value
	return nil
}

// listLimit is the number of items one response may carry.
func listLimit(opts *metainternalversion.ListOptions) int {
	if opts == nil || opts.Limit <= 0 || opts.Limit > maxListLimit {
		return maxListLimit
	}
	return int(opts.Limit)
}
