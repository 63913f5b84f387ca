package controllers_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// schemaRules are CEL rules of a CRD: those on the field at path (from the object's root)
// whose message starts with one of messages.
type schemaRules struct {
	crd      string
	path     []string
	messages []string
}

// matches says a rule (an x-kubernetes-validations entry) is one of these.
func (r schemaRules) matches(rule any) bool {
	msg, _ := rule.(map[string]any)["message"].(string)
	return slices.ContainsFunc(r.messages, func(m string) bool { return strings.HasPrefix(msg, m) })
}

// liftRules takes the rules out of their CRD until restore (or the test's end) puts them
// back, so a test can store what a cluster holds from before them: such an object stays,
// unchanged, when they come (validation ratcheting). probe is an object they refuse; restore
// returns once a dry-run create of it is refused again. Nothing else in this suite writes
// what they refuse meanwhile.
func liftRules(t *testing.T, r schemaRules, probe client.Object) (restore func()) {
	t.Helper()
	var all []any
	setRules(t, r, func(rules []any) []any {
		all = rules
		return slices.DeleteFunc(slices.Clone(rules), r.matches)
	})
	done := false
	restore = func() {
		if done {
			return
		}
		done = true
		setRules(t, r, func([]any) []any { return all })
		eventually(t, "the rules of "+r.crd+" are back", func() error {
			err := k8s.Create(context.Background(), probe.DeepCopyObject().(client.Object), client.DryRunAll)
			if err == nil || !slices.ContainsFunc(r.messages, func(m string) bool { return strings.Contains(err.Error(), m) }) {
				return fmt.Errorf("the probe: %w", err)
			}
			return nil
		})
	}
	t.Cleanup(restore)
	return restore
}

// setRules rewrites the x-kubernetes-validations of the field r names.
func setRules(t *testing.T, r schemaRules, change func([]any) []any) {
	t.Helper()
	path := []string{"schema", "openAPIV3Schema"}
	for _, f := range r.path {
		path = append(path, "properties", f)
	}
	path = append(path, "x-kubernetes-validations")
	eventually(t, "the CRD "+r.crd+" is updated", func() error {
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
		if err := k8s.Get(context.Background(), client.ObjectKey{Name: r.crd}, crd); err != nil {
			return err
		}
		versions, _, err := unstructured.NestedSlice(crd.Object, "spec", "versions")
		if err != nil || len(versions) != 1 {
			return fmt.Errorf("versions %v: %w", versions, err)
		}
		version, _ := versions[0].(map[string]any)
		rules, _, err := unstructured.NestedSlice(version, path...)
		if err != nil {
			return err
		}
		if err := unstructured.SetNestedSlice(version, change(rules), path...); err != nil {
			return err
		}
		if err := unstructured.SetNestedSlice(crd.Object, versions, "spec", "versions"); err != nil {
			return err
		}
		return k8s.Update(context.Background(), crd)
	})
}
