package openapi_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v3"

	"qual.cx/operator/apiserver/openapi"
	"qual.cx/operator/apiserver/openapi/openapitest"
)

// operations is every operation the document must hold, by path, and whether it needs credentials.
var operations = map[string]struct {
	methods []string
	public  bool
}{
	"/campaigns":                    {methods: []string{"GET", "POST"}},
	"/campaigns/{id}":               {methods: []string{"GET", "PATCH", "DELETE"}},
	"/campaigns/{id}/publish":       {methods: []string{"POST"}},
	"/campaigns/{id}/pause":         {methods: []string{"POST"}},
	"/campaigns/{id}/complete":      {methods: []string{"POST"}},
	"/campaigns/{id}/interviews":    {methods: []string{"GET", "POST"}},
	"/interviews":                   {methods: []string{"GET"}},
	"/interviews/{id}":              {methods: []string{"GET", "DELETE"}},
	"/interviews/{id}/messages":     {methods: []string{"GET", "POST"}},
	"/interviews/{id}/complete":     {methods: []string{"POST"}},
	"/findings":                     {methods: []string{"GET", "POST"}},
	"/findings/{id}":                {methods: []string{"GET", "PATCH", "DELETE"}},
	"/campaigns/{id}/findings":      {methods: []string{"GET"}},
	"/campaigns/{id}/analyze":       {methods: []string{"POST"}},
	"/campaigns/{id}/analyses":      {methods: []string{"GET"}},
	"/analyses/{id}":                {methods: []string{"GET"}},
	"/campaigns/{id}/graph":         {methods: []string{"GET"}},
	"/campaigns/{id}/graph/share":   {methods: []string{"GET", "POST", "DELETE"}},
	"/shared/graphs/{token}":        {methods: []string{"GET"}, public: true},
	"/teams":                        {methods: []string{"GET", "POST"}},
	"/teams/{id}":                   {methods: []string{"GET", "PATCH", "DELETE"}},
	"/teams/{id}/members":           {methods: []string{"GET", "POST"}},
	"/teams/{id}/members/{user_id}": {methods: []string{"PATCH", "DELETE"}},
	"/webhooks":                     {methods: []string{"GET", "POST"}},
	"/webhooks/{id}":                {methods: []string{"GET", "PATCH", "DELETE"}},
	"/webhooks/{id}/test":           {methods: []string{"POST"}},
	"/webhooks/{id}/rotate-secret":  {methods: []string{"POST"}},
	"/webhooks/{id}/deliveries":     {methods: []string{"GET"}},
	"/webhooks/{id}/deliveries/{delivery_id}/redeliver": {methods: []string{"POST"}},
	"/api-keys":             {methods: []string{"GET", "POST"}},
	"/api-keys/{id}":        {methods: []string{"GET", "DELETE"}},
	"/api-keys/{id}/rotate": {methods: []string{"POST"}},
	"/me":                   {methods: []string{"GET"}},
	"/usage":                {methods: []string{"GET"}},
	"/admin/stats":          {methods: []string{"GET"}},
	"/admin/teams":          {methods: []string{"GET"}},
	"/health":               {methods: []string{"GET"}, public: true},
	"/ready":                {methods: []string{"GET"}, public: true},
	"/openapi.json":         {methods: []string{"GET"}, public: true},
}

var rateLimitHeaders = []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit"}

func loadYAML(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("openapi.yaml")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return doc
}

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	doc := loadYAML(t)
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Errorf("servers = %v, want [/api/v1]", doc.Servers)
	}
	if _, ok := doc.Components.SecuritySchemes["bearerAuth"]; !ok {
		t.Error("no bearerAuth security scheme")
	}
}

func TestDocumentOperations(t *testing.T) {
	doc := loadYAML(t)
	if got, want := slices.Sorted(maps.Keys(doc.Paths.Map())), slices.Sorted(maps.Keys(operations)); !slices.Equal(got, want) {
		t.Fatalf("paths = %v\nwant %v", got, want)
	}
	for path, want := range operations {
		ops := doc.Paths.Value(path).Operations()
		if got := slices.Sorted(maps.Keys(ops)); !slices.Equal(got, slices.Sorted(slices.Values(want.methods))) {
			t.Errorf("%s: methods = %v, want %v", path, got, want.methods)
		}
		for method, op := range ops {
			name := method + " " + path
			if op.OperationID == "" || op.Summary == "" || op.Description == "" || len(op.Tags) == 0 {
				t.Errorf("%s: needs operationId, summary, description and tags", name)
			}
			if public := op.Security != nil && len(*op.Security) == 0; public != want.public {
				t.Errorf("%s: public = %v, want %v", name, public, want.public)
			}
			checkResponses(t, name, op, want.public)
			if method == http.MethodPost && op.Parameters.GetByInAndName("header", "Idempotency-Key") == nil {
				t.Errorf("%s: no Idempotency-Key parameter", name)
			}
		}
	}
}

// checkResponses checks the statuses and headers every operation of its kind must document.
func checkResponses(t *testing.T, name string, op *openapi3.Operation, public bool) {
	t.Helper()
	want := []int{500}
	if !public {
		want = append(want, 401, 429, 503)
	}
	for _, status := range want {
		if op.Responses.Status(status) == nil {
			t.Errorf("%s: no %d response", name, status)
		}
	}
	for code, ref := range op.Responses.Map() {
		response := ref.Value
		if h := response.Headers["X-Request-Id"]; h == nil || !h.Value.Required {
			t.Errorf("%s %s: X-Request-Id not required", name, code)
		}
		required := func(header string) bool {
			h := response.Headers[header]
			return h != nil && h.Value.Required
		}
		if !public && (code[0] == '2' || code == "429") {
			for _, header := range rateLimitHeaders {
				if !required(header) {
					t.Errorf("%s %s: %s not required", name, code, header)
				}
			}
		}
		if (code == "429" || code == "503") && !required("Retry-After") {
			t.Errorf("%s %s: Retry-After not required", name, code)
		}
		if code[0] == '4' || code[0] == '5' {
			if mt := response.Content.Get("application/json"); mt == nil || mt.Schema.Ref != "#/components/schemas/ErrorResponse" {
				t.Errorf("%s %s: body is not ErrorResponse", name, code)
			}
		}
	}
}

func TestJSONEqualsYAML(t *testing.T) {
	doc := openapi.JSON()
	var fromJSON any
	if err := json.Unmarshal(doc, &fromJSON); err != nil {
		t.Fatalf("JSON() is not JSON: %v", err)
	}
	source, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Decode the YAML with another decoder than JSON() uses, then normalise through JSON.
	var fromYAML any
	if err := yaml.Unmarshal(source, &fromYAML); err != nil {
		t.Fatal(err)
	}
	normalised, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	fromYAML = nil
	if err := json.Unmarshal(normalised, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Error("JSON() differs from openapi.yaml")
	}
	doc[0] = 'x'
	if openapi.JSON()[0] != '{' {
		t.Error("JSON() returns shared memory")
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(withRequestID(openapi.Handler()))
	defer srv.Close()
	v := openapitest.New(t)

	// get answers the status, header and body, having closed the response.
	get := func(method, ifNoneMatch string) (*http.Request, int, http.Header, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/api/v1/openapi.json", http.NoBody)
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return req, resp.StatusCode, resp.Header, body
	}

	req, status, header, body := get(http.MethodGet, "")
	v.Check(t, req, status, header, body)
	if status != http.StatusOK || header.Get("Content-Type") != "application/json" || string(body) != string(openapi.JSON()) {
		t.Fatalf("GET: %d %q, body of %d bytes", status, header.Get("Content-Type"), len(body))
	}
	etag := header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || header.Get("Cache-Control") == "" {
		t.Errorf("ETag %q, Cache-Control %q", etag, header.Get("Cache-Control"))
	}
	if got := v.Unchecked(); slices.Contains(got, "GET /openapi.json") || len(got) != len(operationsList())-1 {
		t.Errorf("unchecked = %v", got)
	}

	req, status, header, body = get(http.MethodGet, etag)
	if status != http.StatusNotModified || len(body) != 0 || header.Get("ETag") != etag {
		t.Errorf("If-None-Match: %d with %d bytes, want 304", status, len(body))
	}
	v.Check(t, req, status, header, body)
	if req, status, header, body = get(http.MethodHead, ""); status != http.StatusOK || len(body) != 0 {
		t.Errorf("HEAD: %d with %d bytes", status, len(body))
	}
	v.Check(t, req, status, header, body)
	req, status, header, body = get(http.MethodPost, "")
	if status != http.StatusMethodNotAllowed || header.Get("Allow") == "" {
		t.Errorf("POST: %d, Allow %q", status, header.Get("Allow"))
	}
	v.Check(t, req, status, header, body)
}

// withRequestID sets X-Request-Id as the apiserver's middleware does.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-1")
		next.ServeHTTP(w, r)
	})
}

func operationsList() []string {
	var ops []string
	for path, o := range operations {
		for _, method := range o.methods {
			ops = append(ops, method+" "+path)
		}
	}
	return ops
}

// deliveryHeaders are the headers every delivery carries (Standard Webhooks, and ours).
var deliveryHeaders = []string{"webhook-id", "webhook-timestamp", "webhook-signature", "User-Agent"}

// The document describes what the server sends as well as what it serves: its webhooks list
// exactly the event types an endpoint can receive, the WebhookEvent enum (the Webhook CRD's
// own, `*` aside) and webhook.test, sent on demand. Each is a POST signed with the delivery
// headers, of the envelope with its own type, answered as every delivery is.
func TestWebhooksAreTheEventTypes(t *testing.T) {
	doc := loadYAML(t)
	var enum []string
	for _, v := range doc.Components.Schemas["WebhookEvent"].Value.Enum {
		enum = append(enum, v.(string))
	}
	if crd := crdEvents(t); !slices.Equal(enum, crd) {
		t.Fatalf("WebhookEvent enum %v\nWebhook CRD's %v", enum, crd)
	}
	want := append(slices.DeleteFunc(slices.Clone(enum), func(e string) bool { return e == "*" }), "webhook.test")
	if got := slices.Sorted(maps.Keys(doc.Webhooks)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Fatalf("webhooks %v\nwant %v", got, want)
	}
	for name, item := range doc.Webhooks {
		if ops := item.Operations(); len(ops) != 1 || item.Post == nil {
			t.Errorf("%s: operations %v, want POST alone", name, slices.Collect(maps.Keys(ops)))
			continue
		}
		op := item.Post
		if op.OperationID == "" || op.Summary == "" || op.Description == "" || op.Security == nil || len(*op.Security) != 0 {
			t.Errorf("%s: needs operationId, summary, description and no bearer security (a delivery is signed)", name)
		}
		for _, h := range deliveryHeaders {
			if p := op.Parameters.GetByInAndName("header", h); p == nil || !p.Required {
				t.Errorf("%s: header %s not required", name, h)
			}
		}
		body := op.RequestBody.Value.Content.Get("application/json").Schema.Value
		if len(body.AllOf) != 2 || body.AllOf[0].Ref != "#/components/schemas/WebhookEventEnvelope" {
			t.Errorf("%s: the body is not the envelope", name)
			continue
		}
		own := body.AllOf[1].Value.Properties
		if own["type"] == nil || own["type"].Value.Const != name {
			t.Errorf("%s: the envelope's type is not %s", name, name)
		}
		if own["data"] == nil || !strings.HasPrefix(own["data"].Ref, "#/components/schemas/") || own["data"].Value == nil {
			t.Errorf("%s: data is no component schema", name)
		}
		for _, status := range []string{"2XX", "410", "default"} {
			if op.Responses.Value(status) == nil {
				t.Errorf("%s: the receiver's %s answer is not described", name, status)
			}
		}
	}
}

// crdEvents is the enum of the Webhook CRD's events.
func crdEvents(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../config/crd/bases/qual.cx_webhooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Schema struct {
					OpenAPIV3Schema struct {
						Properties struct {
							Spec struct {
								Properties struct {
									Events struct {
										Items struct {
											Enum []string `yaml:"enum"`
										} `yaml:"items"`
									} `yaml:"events"`
								} `yaml:"properties"`
							} `yaml:"spec"`
						} `yaml:"properties"`
					} `yaml:"openAPIV3Schema"`
				} `yaml:"schema"`
			} `yaml:"versions"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(raw, &crd); err != nil || len(crd.Spec.Versions) == 0 {
		t.Fatalf("the Webhook CRD: %v", err)
	}
	return crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties.Spec.Properties.Events.Items.Enum
}
