// Package openapitest checks HTTP exchanges of the Qual REST API against its OpenAPI document
// (package openapi) in tests, and reports which operations a suite never exercised; it checks
// the webhook deliveries the server sends against the document's webhooks too.
//
// kin-openapi v0.153.0 supports OpenAPI 3.1 without an opt-in: the loader reads type arrays,
// doc.Validate applies the 3.1 rules when the document says `openapi: 3.1.x`, and
// openapi3filter.ValidateResponse then validates with JSON Schema 2020-12 (santhosh-tekuri/jsonschema).
// Two gaps are filled here: the `uuid` format is not predefined, so it is registered per validation
// (RFC 9562), and neither 405 answers nor undocumented paths reach an operation, so those are checked
// against the document's shared MethodNotAllowed response and ErrorResponse schema.
package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"qual.cx/operator/apiserver/openapi"
)

// basePath is the document's server URL; aliasPath serves the same routes.
const (
	basePath  = "/api/v1"
	aliasPath = "/v1"
)

// Validator checks HTTP exchanges against the document. It is safe for concurrent use.
type Validator struct {
	*spec

	mu      sync.Mutex
	checked map[string]bool // "METHOD /template" of every operation, true once checked
}

// spec is the loaded, validated document and its router, shared by every Validator.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

var loadSpec = sync.OnceValues(func() (*spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.JSON())
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	return &spec{doc: doc, router: router}, nil
})

// New returns a Validator with no operation checked yet. The document is loaded and validated once
// per test binary; New fails t when it is invalid.
func New(t testing.TB) *Validator {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatalf("openapi document: %v", err)
		return nil
	}
	checked := make(map[string]bool)
	for path, item := range s.doc.Paths.Map() {
		for method := range item.Operations() {
			checked[method+" "+path] = false
		}
	}
	return &Validator{spec: s, checked: checked}
}

// Check validates that the response (status, headers where declared required, JSON body) matches
// what the document declares for the request's operation; fails the test with a precise message otherwise.
// The request path includes the /api/v1 prefix (or the /v1 alias); strip it to match the document.
//
// A 405 on a documented path is checked against the shared MethodNotAllowed response (with Allow),
// a 404 on an undocumented path against ErrorResponse; any other answer there fails.
func (v *Validator) Check(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := v.check(req, status, header, body); err != nil {
		t.Errorf("openapi: %s %s -> %d: %v\nresponse body: %s", req.Method, req.URL.Path, status, err, excerpt(body, 2000))
	}
}

// Unchecked returns the operations ("GET /campaigns/{id}", as in the document) that no Check has
// matched yet, sorted, so a suite can assert it exercised them all.
func (v *Validator) Unchecked() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var ops []string
	for op, done := range v.checked {
		if !done {
			ops = append(ops, op)
		}
	}
	slices.Sort(ops)
	return ops
}

func (v *Validator) check(req *http.Request, status int, header http.Header, body []byte) error {
	path, ok := documentPath(req.URL.Path)
	if !ok {
		return fmt.Errorf("path is not under %s or %s", basePath, aliasPath)
	}
	routed := req.Clone(context.Background())
	routed.URL.Path, routed.URL.RawPath = path, ""
	if req.Method == http.MethodHead {
		routed.Method = http.MethodGet // net/http answers HEAD wherever it answers GET
	}

	route, params, err := v.router.FindRoute(routed)
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		if status != http.StatusMethodNotAllowed {
			return fmt.Errorf("method %s is not documented for this path, want 405", req.Method)
		}
		return v.validate(v.sharedRoute(path, status, "MethodNotAllowed"), routed, nil, status, header, body)
	case errors.Is(err, routers.ErrPathNotFound):
		if status != http.StatusNotFound {
			return errors.New("path is not documented, want 404")
		}
		return v.validate(v.sharedRoute(path, status, "NotFound"), routed, nil, status, header, body)
	case err != nil:
		return fmt.Errorf("route: %w", err)
	}

	if route.Operation.Responses.Status(status) == nil {
		documented := slices.Sorted(maps.Keys(route.Operation.Responses.Map()))
		return fmt.Errorf("status %d is not documented for %s %s (documented: %s)",
			status, route.Method, route.Path, strings.Join(documented, ", "))
	}
	if req.Method == http.MethodHead {
		return nil // no body; not a check of the GET operation
	}
	v.mu.Lock()
	v.checked[route.Method+" "+route.Path] = true
	v.mu.Unlock()
	return v.validate(route, routed, params, status, header, body)
}

// CheckRequest returns what the document finds wrong with a request as it is sent (its path
// and query parameters, headers and JSON body; credentials aside), nil when it accepts it: a
// suite compares it with what the server refuses, so the two hold the same rules. body is the
// request's body (req.Body is not read).
func (v *Validator) CheckRequest(req *http.Request, body []byte) error {
	path, ok := documentPath(req.URL.Path)
	if !ok {
		return fmt.Errorf("path is not under %s or %s", basePath, aliasPath)
	}
	routed := req.Clone(context.Background())
	routed.URL.Path, routed.URL.RawPath = path, ""
	routed.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := v.router.FindRoute(routed)
	if err != nil {
		return fmt.Errorf("route: %w", err)
	}
	options := validationOptions()
	options.AuthenticationFunc = openapi3filter.NoopAuthenticationFunc
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: routed, PathParams: params, Route: route, Options: options})
}

// validate checks one response against route's operation.
func (v *Validator) validate(route *routers.Route, req *http.Request, params map[string]string,
	status int, header http.Header, body []byte,
) error {
	options := validationOptions()
	options.IncludeResponseStatus = true // an undocumented status is a failure
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: options,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return err
	}
	// ValidateResponse accepts any body where the document declares none (204, 304).
	if response := route.Operation.Responses.Status(status); response != nil &&
		len(response.Value.Content) == 0 && len(bytes.TrimSpace(body)) != 0 {
		return errors.New("the document declares no body for this status, but one was sent")
	}
	return nil
}

// CheckDelivery validates a webhook delivery the server sent, its headers and body, against
// the document's webhooks entry of the body's event type: the Standard Webhooks headers, the
// envelope and the schema of its data. A type the document has no entry for fails.
func (v *Validator) CheckDelivery(t testing.TB, header http.Header, body []byte) {
	t.Helper()
	if err := v.checkDelivery(header, body); err != nil {
		t.Errorf("openapi: webhook delivery: %v\nbody: %s", err, excerpt(body, 2000))
	}
}

// CheckEventBody validates the body a delivery of an event carries against the document's
// webhooks entry of its type, headers aside: for events a suite reads from the outbox rather
// than receives.
func (v *Validator) CheckEventBody(t testing.TB, body []byte) {
	t.Helper()
	if err := v.checkDelivery(nil, body); err != nil {
		t.Errorf("openapi: webhook event: %v\nbody: %s", err, excerpt(body, 2000))
	}
}

// checkDelivery validates a delivery as a request to its webhooks entry; without header, the
// body alone.
func (v *Validator) checkDelivery(header http.Header, body []byte) error {
	var env struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("the body is no event: %w", err)
	}
	item := v.doc.Webhooks[env.Type]
	if item == nil || item.Post == nil {
		return fmt.Errorf("the document's webhooks have no POST entry for %q", env.Type)
	}
	req, err := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	if header != nil {
		req.Header = header.Clone()
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	input := &openapi3filter.RequestValidationInput{
		Request: req,
		Route:   &routers.Route{Spec: v.doc, Path: env.Type, PathItem: item, Method: http.MethodPost, Operation: item.Post},
		Options: validationOptions(),
	}
	if header == nil {
		return openapi3filter.ValidateRequestBody(context.Background(), input, item.Post.RequestBody.Value)
	}
	return openapi3filter.ValidateRequest(context.Background(), input)
}

// validationOptions are what every check validates with: each failure reported, named by
// where it is (schemaErrorMessage), and the uuid format kin-openapi does not predefine.
func validationOptions() *openapi3filter.Options {
	options := &openapi3filter.Options{
		MultiError: true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid",
				openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
		},
	}
	options.WithCustomSchemaErrorFunc(schemaErrorMessage)
	return options
}

// sharedRoute is a route whose only response is the document's components.responses[name] for status.
func (v *Validator) sharedRoute(path string, status int, name string) *routers.Route {
	responses := openapi3.NewResponses(openapi3.WithStatus(status, v.doc.Components.Responses[name]))
	return &routers.Route{
		Spec:      v.doc,
		Path:      path,
		PathItem:  &openapi3.PathItem{},
		Operation: &openapi3.Operation{Responses: responses},
	}
}

// documentPath maps a request path under the base path or its alias onto the base path, which is the
// document's server URL the router matches.
func documentPath(p string) (string, bool) {
	for _, prefix := range []string{basePath, aliasPath} {
		if rest, ok := strings.CutPrefix(p, prefix); ok && (rest == "" || rest[0] == '/') {
			return basePath + rest, true
		}
	}
	return "", false
}

// schemaErrorMessage is err as the JSON pointer of the failing value, the reason and the value,
// instead of kin-openapi's default, which dumps the whole schema and value.
func schemaErrorMessage(err *openapi3.SchemaError) string {
	var group openapi3.MultiError
	if errors.As(err.Origin, &group) {
		// Groups (JSON Schema 2020-12 causes, oneOf…): their leaves carry the message.
		return strings.TrimPrefix(err.Origin.Error(), "validation failed due to: ")
	}
	reason := err.Reason
	switch {
	case err.Origin != nil: // a format validator's error
		reason = err.Origin.Error()
	case reason == "":
		reason = fmt.Sprintf("does not match %q", err.SchemaField)
	}
	// The JSON Schema 2020-12 validator's reasons name the path twice: `error at "/a": at '/a': …`.
	if rest, ok := strings.CutPrefix(reason, `error at "`); ok {
		_, reason, _ = strings.Cut(rest, `": `)
		if rest, ok := strings.CutPrefix(reason, "at '"); ok {
			_, reason, _ = strings.Cut(rest, "': ")
		}
	}
	msg := fmt.Sprintf("at %q: %s", "/"+strings.Join(err.JSONPointer(), "/"), reason)
	if value, jerr := json.Marshal(err.Value); jerr == nil {
		msg += " (value " + excerpt(value, 200) + ")"
	}
	return msg
}

// excerpt is body shortened for a failure message.
func excerpt(body []byte, limit int) string {
	if len(body) > limit {
		return string(body[:limit]) + "…"
	}
	return string(body)
}
