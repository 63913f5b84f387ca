package v1alpha1_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"qual.cx/operator/internal/egress"
	"qual.cx/operator/internal/testenv"
)

const testNamespace = "schema-test"

// object parses a YAML manifest into an unstructured object.
func object(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatalf("parse manifest: %v\n%s", err, manifest)
	}
	if u.GetNamespace() == "" && u.GetKind() != "Team" {
		u.SetNamespace(testNamespace)
	}
	return u
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8s.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

// TestSamplesApply creates the samples in the order kubectl sends them, with nothing made
// beforehand: they bring their own namespace, so one apply on a fresh cluster succeeds.
// (The controllers' suite checks that they then converge.)
func TestSamplesApply(t *testing.T) {
	ctx := context.Background()
	objs, err := testenv.Samples()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, u := range objs {
		kinds[u.GetKind()]++
		if err := k8s.Create(ctx, u); err != nil {
			t.Errorf("sample %s %s was rejected: %v", u.GetKind(), u.GetName(), err)
		}
	}
	want := map[string]int{"Namespace": 1, "Team": 1, "Campaign": 1, "Webhook": 1, "APIKey": 1}
	if !maps.Equal(kinds, want) {
		t.Errorf("samples hold %v, want one of each of %v", kinds, want)
	}
}

// invalidCase is an object the API server must reject, with the field and the message the
// rejection must name. When before is set, it is created first and the object is an update.
type invalidCase struct {
	name string
	// via, then before, are written first (via created, before as its update), when set.
	via       string
	before    string
	manifest  string
	wantField string
	wantMsg   string
}

const validTeam = `
apiVersion: qual.cx/v1alpha1
kind: Team
metadata: {name: %s}
spec:
  displayName: Valid
  namespace: team-valid
  members: [{email: a@b.example, role: owner}]`

func TestInvalidObjectsAreRejected(t *testing.T) {
	ensureNamespace(t, testNamespace)
	long := strings.Repeat("x", 201)
	cases := []invalidCase{
		// Team
		{name: "team without displayName", manifest: team(`plan: pro`), wantField: "spec.displayName", wantMsg: "Required value"},
		{name: "team displayName too long", manifest: team(`displayName: ` + long), wantField: "spec.displayName", wantMsg: "more than 200"},
		{name: "team with unknown plan", manifest: team("displayName: T\n  plan: free"), wantField: "spec.plan", wantMsg: "Unsupported value"},
		{name: "member with unknown role", manifest: team("displayName: T\n  members: [{email: a@b.example, role: boss}]"), wantField: "spec.members[0].role", wantMsg: "Unsupported value"},
		{name: "member without email", manifest: team("displayName: T\n  members: [{userID: u1, role: owner}]"), wantField: "spec.members[0].email", wantMsg: "Required value"},
		{name: "members without owner", manifest: team("displayName: T\n  members: [{email: a@b.example, role: admin}]"), wantField: "spec.members", wantMsg: "at least one owner"},
		{name: "duplicate member email", manifest: team("displayName: T\n  members: [{email: a@b.example, role: owner}, {email: a@b.example, role: viewer}]"), wantField: "spec.members[1]", wantMsg: "Duplicate value"},
		{name: "duplicate member userID", manifest: team("displayName: T\n  members: [{userID: u1, email: a@b.example, role: owner}, {userID: u1, email: c@d.example, role: viewer}]"), wantField: "spec.members", wantMsg: "member userIDs must be unique"},
		{name: "team namespace not a DNS label", manifest: team("displayName: T\n  namespace: Team_NS"), wantField: "spec.namespace", wantMsg: "should match"},
		{name: "team namespace added later", before: team("displayName: T"), manifest: team("displayName: T\n  namespace: elsewhere"), wantField: "spec.namespace", wantMsg: "namespace is set at creation"},
		{name: "team name over 63 characters", manifest: strings.Replace(team("displayName: T\n  namespace: long-team"), "%s", strings.Repeat("t", 64), 1), wantField: "metadata.name", wantMsg: "a team's name is at most 63 characters"},
		{name: "team namespace changed", before: validTeam, manifest: strings.Replace(validTeam, "team-valid", "team-other", 1), wantField: "spec.namespace", wantMsg: "namespace cannot be changed once set"},
		{name: "team in namespace default", manifest: team("displayName: T\n  namespace: default"), wantField: "spec.namespace", wantMsg: "namespace cannot be default or start with kube-"},
		{name: "team in namespace kube-system", manifest: team("displayName: T\n  namespace: kube-system"), wantField: "spec.namespace", wantMsg: "namespace cannot be default or start with kube-"},
		{name: "team in a kube- namespace", manifest: team("displayName: T\n  namespace: kube-tenants"), wantField: "spec.namespace", wantMsg: "namespace cannot be default or start with kube-"},
		{name: "member e-mails equal but for case", manifest: team("displayName: T\n  members: [{email: boss@b.example, role: owner}, {email: Boss@B.example, role: viewer}]"), wantField: "spec.members", wantMsg: "ignoring letter case"},
		{name: "member userID a system identity", manifest: team("displayName: T\n  members: [{userID: 'system:anonymous', email: a@b.example, role: owner}]"), wantField: "spec.members[0].userID", wantMsg: "cannot name a Kubernetes identity"},
		{name: "team displayName blank", manifest: team(`displayName: "   "`), wantField: "spec.displayName", wantMsg: "displayName must not be blank"},
		{name: "dotted team name without namespace", manifest: strings.Replace(team("displayName: T"), "'%s'", "'dot.team'", 1), wantField: "spec.namespace", wantMsg: "not a DNS label"},
		{name: "long team name without namespace", manifest: strings.Replace(team("displayName: T"), "'%s'", "'"+strings.Repeat("t", 59)+"'", 1), wantField: "spec.namespace", wantMsg: "must set spec.namespace"},
		// Campaign
		{name: "campaign without title", manifest: campaign(`mode: research`), wantField: "spec.title", wantMsg: "Required value"},
		{name: "campaign title empty", manifest: campaign(`title: ""`), wantField: "spec.title", wantMsg: "at least 1"},
		{name: "campaign title too long", manifest: campaign(`title: ` + long), wantField: "spec.title", wantMsg: "more than 200"},
		{name: "campaign name with a dot", manifest: strings.Replace(campaign(`title: T`), "'%s'", "'dot.name'", 1), wantField: "metadata.name", wantMsg: "the campaign's slug"},
		{name: "campaign name with a double hyphen", manifest: strings.Replace(campaign(`title: T`), "'%s'", "'name--x'", 1), wantField: "metadata.name", wantMsg: "the campaign's slug"},
		{name: "campaign title blank", manifest: campaign(`title: "   "`), wantField: "spec.title", wantMsg: "title cannot be blank"},
		{name: "campaign title with an override", manifest: campaign(`title: "invoice\u202Efdp.exe"`), wantField: "spec.title", wantMsg: "title must not hold direction overrides"},
		{name: "team displayName with an isolate", manifest: team(`displayName: "a\u2067b\u2069"`), wantField: "spec.displayName", wantMsg: "displayName must not hold direction overrides"},
		{name: "key displayName with an embedding", manifest: apiKey("type: secret\n  displayName: \"\\u202Ax\""), wantField: "spec.displayName", wantMsg: "displayName must not hold direction overrides"},
		{name: "campaign title invisible", manifest: campaign(`title: "\u200B\u00A0\u2060"`), wantField: "spec.title", wantMsg: "title cannot be blank"},
		{name: "campaign title a soft hyphen and a letter mark", manifest: campaign(`title: "\u00AD\u061C\u034F"`), wantField: "spec.title", wantMsg: "title cannot be blank"},
		{name: "team displayName invisible", manifest: team(`displayName: "\uFEFF\u200D"`), wantField: "spec.displayName", wantMsg: "displayName must not be blank"},
		{name: "team displayName a direction override", manifest: team(`displayName: "\u202E"`), wantField: "spec.displayName", wantMsg: "displayName must not be blank"},
		{name: "campaign title tag characters", manifest: campaign(`title: "\U000E0020\U000E0041\u2064"`), wantField: "spec.title", wantMsg: "title cannot be blank"},
		{name: "team displayName musical format controls", manifest: team(`displayName: "\U0001D173\uFFF9"`), wantField: "spec.displayName", wantMsg: "displayName must not be blank"},
		{name: "team displayName a filler letter", manifest: team(`displayName: "\u3164\u2800"`), wantField: "spec.displayName", wantMsg: "displayName must not be blank"},
		{name: "key displayName invisible", manifest: apiKey("type: secret\n  displayName: \"\\u200B\\u2063\""), wantField: "spec.displayName", wantMsg: "displayName must not be blank"},
		{name: "key displayName blank", manifest: apiKey("type: secret\n  displayName: \"   \""), wantField: "spec.displayName", wantMsg: "displayName must not be blank"},
		{name: "campaign with unknown mode", manifest: campaign("title: T\n  mode: sales"), wantField: "spec.mode", wantMsg: "Unsupported value"},
		{name: "maxQuestions below 1", manifest: campaign("title: T\n  maxQuestions: 0"), wantField: "spec.maxQuestions", wantMsg: "greater than or equal to 1"},
		{name: "maxQuestions above 50", manifest: campaign("title: T\n  maxQuestions: 51"), wantField: "spec.maxQuestions", wantMsg: "less than or equal to 50"},
		{name: "campaign with unknown state", manifest: campaign("title: T\n  state: Archived"), wantField: "spec.state", wantMsg: "Unsupported value"},
		{name: "more questions than maxQuestions", manifest: campaign("title: T\n  maxQuestions: 1\n  questions: [a, b]"), wantField: "spec.questions", wantMsg: "questions cannot outnumber maxQuestions"},
		{name: "empty question", manifest: campaign("title: T\n  questions: ['']"), wantField: "spec.questions[0]", wantMsg: "at least 1"},
		{name: "blank question", manifest: campaign("title: T\n  questions: ['Why now', '   ']"), wantField: "spec.questions", wantMsg: "a question cannot be blank"},
		{name: "bad language tag", manifest: campaign("title: T\n  settings: {language: 'english!'}"), wantField: "spec.settings.language", wantMsg: "should match"},
		{name: "campaign with unknown analyzer", manifest: campaign("title: T\n  settings: {analyzer: gpt}"), wantField: "spec.settings.analyzer", wantMsg: "Unsupported value"},
		{name: "completed campaign changes state", via: campaign("title: T\n  state: Active"), before: campaign("title: T\n  state: Completed"), manifest: campaign("title: T\n  state: Active"), wantField: "spec.state", wantMsg: "a Completed campaign cannot change state"},
		{name: "completed campaign edited", via: campaign("title: T\n  state: Active"), before: campaign("title: T\n  state: Completed"), manifest: campaign("title: Renamed\n  state: Completed"), wantField: "spec", wantMsg: "a Completed campaign is read-only"},
		// A campaign starts as Draft or Active and moves only as the publish rules allow, so
		// no state is left that the controller refuses and nobody can undo.
		{name: "campaign created completed", manifest: campaign("title: T\n  state: Completed"), wantField: "spec.state", wantMsg: "a campaign starts as Draft or Active"},
		{name: "campaign created paused", manifest: campaign("title: T\n  state: Paused"), wantField: "spec.state", wantMsg: "a campaign starts as Draft or Active"},
		{name: "draft campaign completed", before: campaign("title: T"), manifest: campaign("title: T\n  state: Completed"), wantField: "spec.state", wantMsg: "a campaign moves from Draft to Active"},
		{name: "draft campaign paused", before: campaign("title: T"), manifest: campaign("title: T\n  state: Paused"), wantField: "spec.state", wantMsg: "a campaign moves from Draft to Active"},
		{name: "active campaign back to draft", before: campaign("title: T\n  state: Active"), manifest: campaign("title: T\n  state: Draft"), wantField: "spec.state", wantMsg: "a campaign moves from Draft to Active"},
		// Text is text: no control character but newline and tab, in every free-text field.
		{name: "campaign title with NUL", manifest: campaign(`title: "a\0b"`), wantField: "spec.title", wantMsg: "should match"},
		{name: "campaign description with escape", manifest: campaign("title: T\n  description: \"bell \\a\""), wantField: "spec.description", wantMsg: "should match"},
		{name: "campaign objectives with C1 control", manifest: campaign("title: T\n  objectives: \"next \\N line\""), wantField: "spec.objectives", wantMsg: "should match"},
		{name: "question with carriage return", manifest: campaign("title: T\n  questions: [\"why\\r?\"]"), wantField: "spec.questions[0]", wantMsg: "should match"},
		{name: "team displayName with NUL", manifest: team(`displayName: "a\0b"`), wantField: "spec.displayName", wantMsg: "should match"},
		{name: "member email with control", manifest: team("displayName: T\n  members: [{email: \"a\\x01@b.example\", role: owner}]"), wantField: "spec.members[0].email", wantMsg: "should match"},
		{name: "member email with a zero-width space", manifest: team("displayName: T\n  members: [{email: \"a\\u200b@b.example\", role: owner}]"), wantField: "spec.members[0].email", wantMsg: "should match"},
		{name: "member email with a direction override", manifest: team("displayName: T\n  members: [{email: \"a@b\\u202e.example\", role: owner}]"), wantField: "spec.members[0].email", wantMsg: "should match"},
		{name: "member email with a no-break space", manifest: team("displayName: T\n  members: [{email: \"a\\u00a0@b.example\", role: owner}]"), wantField: "spec.members[0].email", wantMsg: "should match"},
		// Webhook
		{name: "webhook without url", manifest: webhook(`events: ["*"]`), wantField: "spec.url", wantMsg: "Required value"},
		{name: "webhook with ftp url", manifest: webhook("url: ftp://files.example/in\n  events: ['*']"), wantField: "spec.url", wantMsg: "absolute http or https URL"},
		{name: "webhook url with a fragment", manifest: webhook("url: 'https://x.example/h#part'\n  events: ['*']"), wantField: "spec.url", wantMsg: "url must not carry a #fragment"},
		{name: "webhook url with an empty fragment", manifest: webhook("url: 'https://x.example/h?a=1#'\n  events: ['*']"), wantField: "spec.url", wantMsg: "url must not carry a #fragment"},
		// Written as sent, as REST asks: a client would encode these itself.
		{name: "webhook url with a space", manifest: webhook("url: 'https://x.example/a b'\n  events: ['*']"), wantField: "spec.url", wantMsg: "url must be an ASCII URI with no spaces"},
		{name: "webhook url with a tab", manifest: webhook("url: \"https://x.example/a\\tb\"\n  events: ['*']"), wantField: "spec.url", wantMsg: "url must be an ASCII URI with no spaces"},
		{name: "webhook url with a non-ASCII host", manifest: webhook("url: 'https://b\u00fccher.example/h'\n  events: ['*']"), wantField: "spec.url", wantMsg: "url must be an ASCII URI with no spaces"},
		{name: "webhook url with a broken escape", manifest: webhook("url: 'https://x.example/h?a=%zz'\n  events: ['*']"), wantField: "spec.url", wantMsg: "url has a % that does not start an escape of two hex digits"},
		{name: "webhook url moved to a space", before: webhook("url: https://x.example/h\n  events: ['*']"), manifest: webhook("url: 'https://x.example/a b'\n  events: ['*']"), wantField: "spec.url", wantMsg: "url must be an ASCII URI with no spaces"},
		{name: "webhook without events", manifest: webhook("url: https://x.example/h\n  events: []"), wantField: "spec.events", wantMsg: "at least 1"},
		{name: "webhook subscribes webhook.test", manifest: webhook("url: https://x.example/h\n  events: [webhook.test]"), wantField: "spec.events[0]", wantMsg: "Unsupported value"},
		{name: "webhook mixes * with events", manifest: webhook("url: https://x.example/h\n  events: ['*', finding.created]"), wantField: "spec.events", wantMsg: "cannot be combined"},
		{name: "webhook name over 63 characters", manifest: strings.Replace(webhook("url: https://x.example/h\n  events: ['*']"), "'%s'", "'"+strings.Repeat("w", 64)+"'", 1), wantField: "metadata.name", wantMsg: "at most 63 characters"},
		{name: "webhook repeats an event", manifest: webhook("url: https://x.example/h\n  events: [finding.created, finding.created]"), wantField: "spec.events[1]", wantMsg: "Duplicate value"},
		// APIKey
		{name: "key without type", manifest: apiKey(`displayName: k`), wantField: "spec.type", wantMsg: "Required value"},
		{name: "key with unknown type", manifest: apiKey(`type: admin`), wantField: "spec.type", wantMsg: "Unsupported value"},
		{name: "key with unknown scope", manifest: apiKey("type: scoped\n  scopes: [campaigns:destroy]"), wantField: "spec.scopes[0]", wantMsg: "Unsupported value"},
		{name: "scoped key without scopes", manifest: apiKey(`type: scoped`), wantField: "spec.scopes", wantMsg: "a scoped key must list its scopes"},
		// REST makes no public key without scopes: one could do nothing (403 everywhere).
		{name: "public key without scopes", manifest: apiKey(`type: public`), wantField: "spec.scopes", wantMsg: "a public key must list its scopes"},
		{name: "public key with an empty scope list", manifest: apiKey("type: public\n  scopes: []"), wantField: "spec.scopes", wantMsg: "a public key must list its scopes"},
		{name: "public key with write scope", manifest: apiKey("type: public\n  scopes: [campaigns:read, campaigns:write]"), wantField: "spec.scopes", wantMsg: "a public key may only hold read scopes and interviews:write"},
		{name: "origins on a secret key", manifest: apiKey("type: secret\n  allowedOrigins: ['https://app.example']"), wantField: "spec.allowedOrigins", wantMsg: "allowedOrigins is only for public keys"},
		{name: "origin with a path", manifest: apiKey("type: public\n  allowedOrigins: ['https://app.example/x']"), wantField: "spec.allowedOrigins[0]", wantMsg: "should match"},
		{name: "malformed credential hash", manifest: apiKey("type: secret\n  credential: {hashRef: 'md5:abc', prefix: qual_sk_abcd, lastFour: wxyz}"), wantField: "spec.credential.hashRef", wantMsg: "should"},
		{name: "revoked key unrevoked", before: apiKey("type: secret\n  revoked: true"), manifest: apiKey("type: secret\n  revoked: false"), wantField: "spec.revoked", wantMsg: "a revoked key stays revoked"},
		{name: "revoked key unrevoked by omission", before: apiKey("type: secret\n  revoked: true"), manifest: apiKey("type: secret"), wantField: "spec.revoked", wantMsg: "a revoked key stays revoked"},
		{name: "key type changed", before: apiKey(`type: secret`), manifest: apiKey(`type: public`), wantField: "spec.type", wantMsg: "type cannot be changed"},
		{name: "key owner changed", before: apiKey("type: secret\n  owner: dana@acme.example"), manifest: apiKey("type: secret\n  owner: mallory@acme.example"), wantField: "spec.owner", wantMsg: "owner cannot be added, removed or changed after creation"},
		{name: "key owner added", before: apiKey(`type: secret`), manifest: apiKey("type: secret\n  owner: mallory@acme.example"), wantField: "spec.owner", wantMsg: "owner cannot be added, removed or changed after creation"},
		{name: "key owner removed", before: apiKey("type: secret\n  owner: dana@acme.example"), manifest: apiKey(`type: secret`), wantField: "spec.owner", wantMsg: "owner cannot be added, removed or changed after creation"},
		{name: "key name over 63 characters", manifest: strings.Replace(apiKey(`type: secret`), "'%s'", "'"+strings.Repeat("k", 64)+"'", 1), wantField: "metadata.name", wantMsg: "at most 63 characters"},
		{name: "credential added later", before: apiKey(`type: secret`), manifest: apiKey("type: secret\n  credential: {hashRef: 'sha256:" + strings.Repeat("a", 64) + "', prefix: qual_sk_abcd, lastFour: wxyz}"), wantField: "spec.credential", wantMsg: "credential can only be set at creation"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "invalid-" + strings.ReplaceAll(strings.ToLower(tc.name), " ", "-")
			name = strings.NewReplacer("*", "x", ".", "-").Replace(name)
			err := submit(t, name, tc)
			if err == nil {
				t.Fatalf("case %d: the API server accepted an invalid object", i)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want 422 Invalid, got %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantField+":") || !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("rejection must name %q and say %q, got: %s", tc.wantField, tc.wantMsg, msg)
			}
			if tc.wantField == "metadata.name" {
				nameCause(t, err)
			}
		})
	}
}

// nameCause fails unless err's cause names metadata.name: the API server refuses a CEL
// rule's fieldPath into metadata, so a rule on the name reports the field as <nil> and must
// name it where a client reads it, at the start of its message.
func nameCause(t *testing.T, err error) {
	t.Helper()
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		t.Fatalf("no status details in %v", err)
	}
	for _, c := range status.Status().Details.Causes {
		if c.Field == "metadata.name" || strings.HasPrefix(strings.TrimPrefix(c.Message, "Invalid value: "), "metadata.name: ") {
			return
		}
	}
	t.Fatalf("no cause names metadata.name: %+v", status.Status().Details.Causes)
}

// submit creates tc.before (if any) then creates or updates the object under test, returning
// the API server's answer to the invalid write.
func submit(t *testing.T, name string, tc invalidCase) error {
	t.Helper()
	ctx := context.Background()
	obj := object(t, withName(tc.manifest, name))
	if tc.before == "" {
		return k8s.Create(ctx, obj)
	}
	prev := object(t, withName(tc.before, name))
	if tc.via != "" {
		first := object(t, withName(tc.via, name))
		if err := k8s.Create(ctx, first); err != nil {
			t.Fatalf("create the first valid object: %v", err)
		}
		prev.SetResourceVersion(first.GetResourceVersion())
		if err := k8s.Update(ctx, prev); err != nil {
			t.Fatalf("move to the valid object before the case: %v", err)
		}
	} else if err := k8s.Create(ctx, prev); err != nil {
		t.Fatalf("create the valid object first: %v", err)
	}
	obj.SetResourceVersion(prev.GetResourceVersion())
	return k8s.Update(ctx, obj)
}

func withName(manifest, name string) string { return strings.Replace(manifest, "%s", name, 1) }

func team(spec string) string {
	return "apiVersion: qual.cx/v1alpha1\nkind: Team\nmetadata: {name: '%s'}\nspec:\n  " + spec
}

func campaign(spec string) string {
	return "apiVersion: qual.cx/v1alpha1\nkind: Campaign\nmetadata: {name: '%s'}\nspec:\n  " + spec
}

func webhook(spec string) string {
	return "apiVersion: qual.cx/v1alpha1\nkind: Webhook\nmetadata: {name: '%s'}\nspec:\n  " + spec
}

func apiKey(spec string) string {
	return "apiVersion: qual.cx/v1alpha1\nkind: APIKey\nmetadata: {name: '%s'}\nspec:\n  " + spec
}

func TestDiscoveryServesShortNamesAndCategory(t *testing.T) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	list, err := dc.ServerResourcesForGroupVersion("qual.cx/v1alpha1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		short      string
		namespaced bool
	}{
		"teams": {"qteam", false}, "campaigns": {"cmp", true}, "webhooks": {"qwh", true}, "apikeys": {"qkey", true},
	}
	seen := 0
	for _, r := range list.APIResources {
		w, ok := want[r.Name]
		if !ok {
			continue
		}
		seen++
		if !slices.Contains(r.ShortNames, w.short) || !slices.Contains(r.Categories, "qual") || r.Namespaced != w.namespaced {
			t.Errorf("%s: shortNames %v categories %v namespaced %v; want %q, qual, %v",
				r.Name, r.ShortNames, r.Categories, r.Namespaced, w.short, w.namespaced)
		}
	}
	if seen != len(want) {
		t.Fatalf("discovery served %d of the %d kinds: %+v", seen, len(want), list.APIResources)
	}
}

func TestPrinterColumns(t *testing.T) {
	ctx := context.Background()
	ensureNamespace(t, "printer-test")
	cmp := object(t, withName(campaign("title: Pricing Interviews\n  state: Active\n  maxQuestions: 5"), "pricing"))
	cmp.SetNamespace("printer-test")
	if err := k8s.Create(ctx, cmp); err != nil {
		t.Fatal(err)
	}
	names, rows := table(t, "campaigns")
	if got, want := names, "Name,Title,State,Phase,Interviews,Completed,Age"; got != want {
		t.Fatalf("kubectl get campaigns columns: got %s, want %s", got, want)
	}
	if len(rows) != 1 || rows[0].Cells[1] != "Pricing Interviews" || rows[0].Cells[2] != "Active" {
		t.Fatalf("unexpected rows: %+v", rows)
	}

	// A key expiring in the future shows when, not <invalid> (what a date column makes of a
	// future time).
	expires := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	key := object(t, withName(apiKey("type: secret\n  expiresAt: '"+expires+"'"), "expiring"))
	key.SetNamespace("printer-test")
	if err := k8s.Create(ctx, key); err != nil {
		t.Fatal(err)
	}
	names, rows = table(t, "apikeys")
	if got, want := names, "Name,Type,Prefix,Ready,Expires,Age"; got != want {
		t.Fatalf("kubectl get apikeys columns: got %s, want %s", got, want)
	}
	if len(rows) != 1 || rows[0].Cells[4] != expires {
		var cells [][]any
		for _, r := range rows {
			cells = append(cells, r.Cells)
		}
		t.Fatalf("Expires of a key expiring at %s: rows %v", expires, cells)
	}
}

// TestNoPrinterColumnNamedNamespace: kubectl get -A (as kubectl get qual -A) adds its own
// NAMESPACE column to every kind, so a printer column of that name shows a second one.
func TestNoPrinterColumnNamedNamespace(t *testing.T) {
	files, err := filepath.Glob("../../config/crd/bases/qual.cx_*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		crd := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(b, &crd.Object); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			columns, _, _ := unstructured.NestedSlice(v.(map[string]any), "additionalPrinterColumns")
			for _, c := range columns {
				if name, _ := c.(map[string]any)["name"].(string); strings.EqualFold(name, "namespace") {
					t.Errorf("%s: printer column %q repeats the NAMESPACE column of kubectl get -A", filepath.Base(file), name)
				}
			}
		}
	}
}

// table lists a kind in printer-test as kubectl get does, returning the names of the
// default columns and the rows.
func table(t *testing.T, resource string) (string, []metav1.TableRow) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cs.RESTClient().Get().AbsPath("/apis/qual.cx/v1alpha1/namespaces/printer-test/"+resource).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var tbl metav1.Table
	if err := yaml.Unmarshal(raw, &tbl); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range tbl.ColumnDefinitions {
		if c.Priority == 0 {
			names = append(names, c.Name)
		}
	}
	return strings.Join(names, ","), tbl.Rows
}

// A team that took the default namespace may write it down later: it names the namespace the
// team already owns.
func TestTeamMayWriteDownItsDefaultNamespace(t *testing.T) {
	ctx := context.Background()
	obj := object(t, withName(team("displayName: T\n  members: [{email: a@b.example, role: owner}]"), "writes-down"))
	if err := k8s.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(obj.Object, "team-writes-down", "spec", "namespace"); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Update(ctx, obj); err != nil {
		t.Fatalf("writing down the default namespace was refused: %v", err)
	}
}

// A key's displayName is optional: one written empty, like one left out, is taken (REST
// names such a key after its type), as is one that shows beside format characters.
func TestKeyDisplayNameMayBeEmpty(t *testing.T) {
	ensureNamespace(t, testNamespace)
	ctx := context.Background()
	for name, displayName := range map[string]string{"empty-name": `""`, "marked-name": `"CI\u200B"`} {
		if err := k8s.Create(ctx, object(t, withName(apiKey("type: secret\n  displayName: "+displayName), name))); err != nil {
			t.Errorf("displayName %s was refused: %v", displayName, err)
		}
	}
}

// The Webhook schema refuses a URL for its characters exactly when REST's rule
// (egress.CheckURLCharacters) does, so kubectl cannot apply a URL REST refuses, nor is one
// refused that REST takes.
func TestWebhookURLCharactersAreREST(t *testing.T) {
	ensureNamespace(t, testNamespace)
	ctx := context.Background()
	for i, u := range []string{
		"https://x.example/h", "https://x.example/a%20b?c=%E2%9C%93&d=%2f", "https://x.example/~u/!$&'()*+,;=:@-._",
		"https://x.example/{a}|^`[b]", "https://x.example/a b", "https://x.example/a\tb", "https://x.example/a\x7f",
		"https://x.example/a\x01", "https://x.example/caf\u00e9", "https://x.example/a\u00a0b", "https://x.example/%",
		"https://x.example/%4", "https://x.example/%4g", "https://x.example/?q=%zz", "https://x.example/100%25",
	} {
		obj := object(t, withName(webhook("events: ['*']"), fmt.Sprintf("chars-%d", i)))
		if err := unstructured.SetNestedField(obj.Object, u, "spec", "url"); err != nil {
			t.Fatal(err)
		}
		err := k8s.Create(ctx, obj, client.DryRunAll)
		schemaRefuses := err != nil && (strings.Contains(err.Error(), "url must be an ASCII URI") ||
			strings.Contains(err.Error(), "url has a % that does not start an escape"))
		if err != nil && !schemaRefuses && !apierrors.IsInvalid(err) {
			t.Fatalf("%q: %v", u, err)
		}
		if restRefuses := egress.CheckURLCharacters(u) != nil; schemaRefuses != restRefuses {
			t.Errorf("%q: the schema refuses it %v (%v), REST %v", u, schemaRefuses, err, restRefuses)
		}
	}
}
