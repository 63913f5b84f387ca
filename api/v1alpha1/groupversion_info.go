// Package v1alpha1 holds the qual.cx/v1alpha1 API: Team, Campaign, Webhook and APIKey.
//
// +kubebuilder:object:generate=true
// +groupName=qual.cx
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "qual.cx", Version: "v1alpha1"}

	// SchemeBuilder registers this package's kinds with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds this package's kinds to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&Team{}, &TeamList{},
		&Campaign{}, &CampaignList{},
		&Webhook{}, &WebhookList{},
		&APIKey{}, &APIKeyList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
