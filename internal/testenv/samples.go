package testenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"qual.cx/operator/internal/controlplane"
)

// Samples reads the objects of config/samples in the order its kustomization lists them:
// the namespace first, as `kubectl apply -k config/samples` sends it, then the Team and the
// objects in its namespace.
func Samples() ([]*unstructured.Unstructured, error) {
	root, err := controlplane.ModuleRoot()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "config", "samples")
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml")) //nolint:gosec // the module's own file
	if err != nil {
		return nil, fmt.Errorf("testenv: samples: %w", err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(raw, &k); err != nil {
		return nil, fmt.Errorf("testenv: samples kustomization: %w", err)
	}
	var objs []*unstructured.Unstructured
	for _, name := range k.Resources {
		data, err := os.ReadFile(filepath.Join(dir, name)) //nolint:gosec // listed by the module's kustomization
		if err != nil {
			return nil, fmt.Errorf("testenv: samples: %w", err)
		}
		docs := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := docs.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("testenv: sample %s: %w", name, err)
			}
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(doc, &u.Object); err != nil {
				return nil, fmt.Errorf("testenv: sample %s: %w", name, err)
			}
			if len(u.Object) > 0 {
				objs = append(objs, u)
			}
		}
	}
	return objs, nil
}
