// Package openapi holds the OpenAPI definitions of the data.qual.cx aggregated API, generated
// by `make openapi` (kube-openapi's openapi-gen) from api/data/v1alpha1 and the meta types.
package openapi
