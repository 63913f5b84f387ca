package dataapi

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
)

// newScheme registers the data.qual.cx kinds, their field selectors, and the meta types the
// generic server encodes (Status, discovery, Table). There is no internal version: the
// server only reads, so nothing is ever converted between versions.
func newScheme() (*runtime.Scheme, serializer.CodecFactory, error) {
	s := runtime.NewScheme()
	if err := datav1alpha1.AddToScheme(s); err != nil {
		return nil, serializer.CodecFactory{}, fmt.Errorf("dataapi: scheme: %w", err)
	}
	// The generic server decodes list and get options as meta v1 of the empty group.
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	if err := metav1.AddMetaToScheme(s); err != nil {
		return nil, serializer.CodecFactory{}, fmt.Errorf("dataapi: scheme: %w", err)
	}
	s.AddUnversionedTypes(schema.GroupVersion{Version: "v1"},
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})
	for _, r := range resourceInfos() {
		gvk := datav1alpha1.SchemeGroupVersion.WithKind(r.kind)
		if err := s.AddFieldLabelConversionFunc(gvk, fieldLabels(r.fields)); err != nil {
			return nil, serializer.CodecFactory{}, fmt.Errorf("dataapi: field labels of %s: %w", r.kind, err)
		}
	}
	return s, serializer.NewCodecFactory(s), nil
}

// fieldLabels accepts metadata.name, metadata.namespace and the listed field labels: the
// ones a store index serves. The generic server refuses any other with 400 before List runs.
func fieldLabels(allowed []string) runtime.FieldLabelConversionFunc {
	return func(label, value string) (string, string, error) {
		switch label {
		case "metadata.name", "metadata.namespace":
			return label, value, nil
		}
		for _, a := range allowed {
			if label == a {
				return label, value, nil
			}
		}
		return "", "", fmt.Errorf("field label %q is not supported: use one of metadata.name, metadata.namespace, %v", label, allowed)
	}
}
