// Package admission embeds the admission policies of config/admission, so a binary can
// install them without the source tree (as `qual dev` and the envtest suites do).
package admission

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

//go:embed apikey_*.yaml idempotency_*.yaml operator_*.yaml team_*.yaml
var files embed.FS

// Policies decodes the embedded policies and their bindings, in file-name order and, within
// a file, in document order: each policy before its binding.
func Policies() ([]client.Object, error) {
	names, err := fs.Glob(files, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("admission: list embedded files: %w", err)
	}
	var objs []client.Object
	for _, name := range names {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("admission: read %s: %w", name, err)
		}
		docs := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for i := 1; ; i++ {
			doc, err := docs.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("admission: %s: %w", name, err)
			}
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, err := decode(doc)
			if err != nil {
				return nil, fmt.Errorf("admission: %s document %d: %w", name, i, err)
			}
			objs = append(objs, obj)
		}
	}
	return objs, nil
}

// decode reads one document strictly into its typed object, so a misspelt field fails here
// rather than being dropped by the API server.
func decode(doc []byte) (client.Object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	if tm.APIVersion != admissionregistrationv1.SchemeGroupVersion.String() {
		return nil, fmt.Errorf("unexpected apiVersion %q", tm.APIVersion)
	}
	var obj client.Object
	switch tm.Kind {
	case "ValidatingAdmissionPolicy":
		obj = &admissionregistrationv1.ValidatingAdmissionPolicy{}
	case "ValidatingAdmissionPolicyBinding":
		obj = &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	case "MutatingAdmissionPolicy":
		obj = &admissionregistrationv1.MutatingAdmissionPolicy{}
	case "MutatingAdmissionPolicyBinding":
		obj = &admissionregistrationv1.MutatingAdmissionPolicyBinding{}
	default:
		return nil, fmt.Errorf("unexpected kind %q", tm.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, err
	}
	return obj, nil
}
