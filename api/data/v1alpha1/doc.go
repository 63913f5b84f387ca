// Package v1alpha1 holds the data.qual.cx/v1alpha1 API: the store's interviews, messages,
// findings and analyses as read-only Kubernetes resources, served by the aggregated API
// server (package dataapi), never stored in etcd.
//
// +kubebuilder:object:generate=true
// +kubebuilder:skip
// +k8s:openapi-gen=true
// +groupName=data.qual.cx
// +k8s:openapi-model-package=cx.qual.data.v1alpha1
package v1alpha1
