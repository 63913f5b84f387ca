// Package openapi holds the OpenAPI 3.1 document of the Qual REST API (openapi.yaml) and serves it
// as JSON. The document is the contract the apiserver is tested against: see package openapitest.
package openapi

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // for the document
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/yaml"
)

//go:embed openapi.yaml
var source []byte

// document is the document as JSON with its ETag, converted from YAML on first use.
var document = sync.OnceValues(func() ([]byte, string) {
	doc, err := yaml.YAMLToJSON(source)
	if err != nil {
		// The embedded file is fixed at build time and the package's tests load it.
		panic("openapi: openapi.yaml is not valid YAML: " + err.Error())
	}
	sum := sha256.Sum256(doc)
	return doc, `"` + hex.EncodeToString(sum[:16]) + `"`
})

// JSON returns the OpenAPI document as JSON. Each call returns a fresh copy.
func JSON() []byte {
	doc, _ := document()
	return bytes.Clone(doc)
}

// Handler serves the document as JSON (GET and HEAD) with a strong ETag, answering a matching
// If-None-Match with 304. Clients may cache it but revalidate each time (Cache-Control: no-cache),
// which costs a 304 until the server is upgraded. Other methods get 405 with the API's error body.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte(`{"error":{"code":"METHOD_NOT_ALLOWED","message":"Method not allowed"}}`))
			return
		}
		doc, etag := document()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("ETag", etag)
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(doc))
	})
}

// QueryParams returns, for every operation of the document, the names of the query
// parameters it takes, keyed by "METHOD /path" as the document spells the path
// ("GET /campaigns/{id}/findings"). Parameters are read from the operation and its path item,
// following $refs into components.
func QueryParams() (map[string][]string, error) {
	doc, _ := document()
	var d struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]parameter `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("openapi: reading the document: %w", err)
	}
	resolve := func(ps []parameter) ([]string, error) {
		var names []string
		for _, p := range ps {
			if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
				c, found := d.Components.Parameters[name]
				if !found {
					return nil, fmt.Errorf("openapi: no parameter %q in components", name)
				}
				p = c
			}
			if p.In == "query" {
				names = append(names, p.Name)
			}
		}
		return names, nil
	}
	out := map[string][]string{}
	for path, item := range d.Paths {
		var shared []parameter
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				return nil, fmt.Errorf("openapi: parameters of %s: %w", path, err)
			}
		}
		for method, raw := range item {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			var op struct {
				Parameters []parameter `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("openapi: %s %s: %w", method, path, err)
			}
			names, err := resolve(append(slices.Clone(shared), op.Parameters...))
			if err != nil {
				return nil, err
			}
			out[strings.ToUpper(method)+" "+path] = names
		}
	}
	return out, nil
}

// parameter is an OpenAPI parameter object, or a reference to one.
type parameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}
