package apiserver

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/apiserver/scopes"
	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/egress"
)

// webhooksManage is the scope of every webhook endpoint.
var webhooksManage = scopes.Of("webhooks:manage")

// webhookManagers are the team roles that may manage webhooks: an endpoint receives every
// event of its team, so, like API keys, webhooks are for owners and admins.
var webhookManagers = []qualv1alpha1.TeamRole{qualv1alpha1.RoleOwner, qualv1alpha1.RoleAdmin}

// webhookEvents are the events an endpoint may subscribe to, besides "*" (the Webhook CRD's
// enum; webhook.test is sent on demand only).
var webhookEvents = []string{
	"campaign.created", "campaign.updated", "campaign.published", "campaign.paused", "campaign.completed",
	"campaign.deleted", "interview.started", "interview.completed", "finding.created", "finding.updated",
	"analysis.completed", "graph.shared", "team.member_added", "team.member_removed", "api_key.created",
	"api_key.revoked",
}

// eventReads is the scope that reads what each family of events carries: an endpoint
// receives the REST object of each event, so subscribing is reading it (a key holding only
// webhooks:manage must not learn participants from interview.started). api_key events
// describe every key of the team, so they need a caller who may read every one
// (readsEveryKey), not a scope.
var eventReads = []struct {
	prefix string
	read   scopes.Set
}{
	{"campaign.", scopes.CampaignsRead}, {"interview.", scopes.InterviewsRead}, {"finding.", findingsRead},
	{"analysis.", findingsRead}, {"graph.", scopeGraphRead}, {"team.", scopes.TeamsRead},
}

// mayReceive refuses a subscription to events whose data the caller may not read.
func mayReceive(p *authn.Principal, events []string) *envelope.Error {
	for _, e := range events {
		all := e == string(qualv1alpha1.EventAll)
		for _, er := range eventReads {
			if (all || strings.HasPrefix(e, er.prefix)) && p.Require(er.read) != nil {
				return envelope.New(envelope.CodeInsufficientScope, "Receiving %s needs the %s scope: its events carry what that scope reads", e, p.Scopes.Missing(er.read))
			}
		}
		if (all || strings.HasPrefix(e, "api_key.")) && !readsEveryKey(p) {
			// A key is listed only to a caller that could have created it; these events would
			// show the rest (name, scopes, prefix, last four, expiry) to one that could not.
			return &envelope.Error{Code: envelope.CodeForbidden,
				Message: fmt.Sprintf("Receiving %s needs a session, or a secret key holding every team scope with no expiry: its events describe every API key of the team, and a key is shown only to a caller that could have created it", e),
				Details: []envelope.FieldError{{Field: "events", Message: e + " needs a caller that may read every API key of the team"}}}
		}
	}
	return nil
}

var webhookSorts = []string{"created_at", "updated_at"}

// webhookRoutes registers the webhook endpoints: Webhook objects in the acting team's
// namespace, their signing Secrets and their delivery log in the store. A replayed create
// or rotation answers secret: null; the idempotency record never holds a secret.
func (s *Server) webhookRoutes() {
	s.authed("GET /webhooks", webhooksManage, s.byHeader, s.listWebhooks)
	s.authed("POST /webhooks", webhooksManage, s.byHeader, s.idempotent(s.createWebhook, "secret"))
	s.authed("GET /webhooks/{id}", webhooksManage, s.byWebhook, s.getWebhook)
	s.authed("PATCH /webhooks/{id}", webhooksManage, s.byWebhook, s.patchWebhook)
	s.authed("DELETE /webhooks/{id}", webhooksManage, s.byWebhook, s.deleteWebhook)
	s.authed("POST /webhooks/{id}/test", webhooksManage, s.byWebhook, s.idempotent(s.testWebhook))
	s.authed("POST /webhooks/{id}/rotate-secret", webhooksManage, s.byWebhook, s.idempotent(s.rotateWebhookSecret, "secret"))
	s.authed("GET /webhooks/{id}/deliveries", webhooksManage, s.byWebhook, s.listDeliveries)
	s.authed("POST /webhooks/{id}/deliveries/{delivery_id}/redeliver", webhooksManage, s.byWebhook, s.idempotent(s.redeliver))
}

// teamInNamespace is the caller's membership of the team that has claimed ns.
func teamInNamespace(p *authn.Principal, ns string) (directory.Membership, bool) {
	for _, m := range p.Memberships {
		if m.Team.Namespace != "" && m.Team.Namespace == ns {
			return m, true
		}
	}
	return directory.Membership{}, false
}

// byWebhook is the team of the webhook in the path.
func (s *Server) byWebhook(r *http.Request, p *authn.Principal) *directory.Team {
	if wh, ok := s.dir.Webhook(r.PathValue("id")); ok {
		if m, ok := teamInNamespace(p, wh.Namespace); ok {
			return m.Team
		}
	}
	return s.byHeader(r, p)
}

// visibleWebhook returns a webhook of one of the caller's teams, else 404; a session
// without the owner or admin role there is 403.
func (s *Server) visibleWebhook(r *http.Request, p *authn.Principal) (*qualv1alpha1.Webhook, directory.Membership, *envelope.Error) {
	wh, ok := s.dir.Webhook(r.PathValue("id"))
	if !ok {
		return nil, directory.Membership{}, envelope.NotFound("Webhook")
	}
	m, ok := teamInNamespace(p, wh.Namespace)
	if !ok {
		return nil, directory.Membership{}, envelope.NotFound("Webhook")
	}
	if !p.HasRole(string(m.Team.Object.UID), webhookManagers...) {
		return nil, directory.Membership{}, envelope.New(envelope.CodeForbidden, "Managing webhooks needs the owner or admin role")
	}
	return wh, m, nil
}

func renderWebhook(wh *qualv1alpha1.Webhook, m directory.Membership) resources.Webhook {
	return resources.NewWebhook(wh, string(m.Team.Object.UID))
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	lp, e := s.parseList(r, webhookSorts, nil)
	if e != nil {
		return e
	}
	var rows []row[resources.Webhook]
	for _, m := range p.Memberships {
		if m.Team.Namespace == "" || !p.HasRole(string(m.Team.Object.UID), webhookManagers...) {
			continue
		}
		for _, wh := range s.dir.WebhooksIn(m.Team.Namespace) {
			rest := renderWebhook(wh, m)
			rows = append(rows, row[resources.Webhook]{value: sortValue(lp.sortBy, rest.CreatedAt, rest.UpdatedAt, ""), id: rest.ID, item: rest})
		}
	}
	writeRows(w, s, rows, lp)
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	wh, m, e := s.visibleWebhook(r, p)
	if e != nil {
		return e
	}
	envelope.WriteData(w, http.StatusOK, renderWebhook(wh, m))
	return nil
}

// webhookBody is the body of POST and PATCH /webhooks. Every field is Optional so PATCH can
// tell "leave it" from "set it".
type webhookBody struct {
	URL         decode.Optional[string]   `json:"url"`
	Events      decode.Optional[[]string] `json:"events"`
	Description decode.Optional[string]   `json:"description"`
	Enabled     decode.Optional[bool]     `json:"enabled"`
}

// validate checks each field given; create also requires url and events. Each fault is named.
func (b *webhookBody) validate(create bool, policy egress.Policy) *envelope.Error {
	var bad []envelope.FieldError
	add := func(field, msg string) { bad = append(bad, envelope.FieldError{Field: field, Message: msg}) }
	switch {
	case create && !b.URL.Set:
		add("url", "Required")
	case b.URL.Set:
		if msg := checkWebhookURL(b.URL.Value, b.URL.Null, policy); msg != "" {
			add("url", msg)
		}
	}
	switch {
	case create && !b.Events.Set:
		add("events", "Required")
	case b.Events.Set:
		if msg := checkEvents(b.Events.Value); msg != "" {
			add("events", msg)
		}
	}
	if utf8.RuneCountInString(b.Description.Value) > 500 {
		add("description", "must be at most 500 characters")
	}
	if b.Enabled.Set && b.Enabled.Null {
		add("enabled", "must be true or false")
	}
	if len(bad) > 0 {
		return envelope.Validation(bad...)
	}
	return nil
}

// checkWebhookURL says what is wrong with a webhook URL, or "" when the egress policy takes it.
func checkWebhookURL(raw string, null bool, policy egress.Policy) string {
	switch {
	case null || decode.Blank(raw):
		return "must not be blank"
	case len(raw) > 2048:
		return "must be at most 2048 characters"
	}
	// The characters first, in the shared rule's words without its subject ("must be an
	// ASCII URI …"), as the field is named beside them.
	for _, check := range []func(string) error{egress.CheckURLCharacters, policy.CheckURL} {
		if err := check(raw); err != nil {
			return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "egress: "), "the URL ")
		}
	}
	return ""
}

// checkEvents says what is wrong with a subscription, or "" when it is valid.
func checkEvents(events []string) string {
	if len(events) == 0 {
		return "must list at least one event"
	}
	for i, e := range events {
		switch {
		case e == "":
			return "lists an empty event; each must be * or an event name"
		case e == delivery.EventTest:
			return "webhook.test is sent on demand (POST /webhooks/{id}/test) and cannot be subscribed"
		case e == string(qualv1alpha1.EventAll) && len(events) > 1:
			return "* subscribes to every event and cannot be combined with others"
		case e != string(qualv1alpha1.EventAll) && !slices.Contains(webhookEvents, e):
			return "unknown event " + e + "; must be * or one of " + strings.Join(webhookEvents, ", ")
		case slices.Contains(events[:i], e):
			return "lists " + e + " twice"
		}
	}
	return ""
}

// applyTo writes the fields given into spec.
func (b *webhookBody) applyTo(spec *qualv1alpha1.WebhookSpec) {
	if b.URL.Set {
		spec.URL = b.URL.Value
	}
	if b.Events.Set {
		spec.Events = make([]qualv1alpha1.WebhookEvent, len(b.Events.Value))
		for i, e := range b.Events.Value {
			spec.Events[i] = qualv1alpha1.WebhookEvent(e)
		}
	}
	if b.Description.Set {
		spec.Description = b.Description.Value
	}
	if b.Enabled.Set {
		spec.Enabled = ptr.To(b.Enabled.Value)
	}
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	var body webhookBody
	if e := decode.Object(w, r, &body); e != nil {
		return e
	}
	if e := body.validate(true, s.cfg.Egress); e != nil {
		return e
	}
	if e := mayReceive(p, body.Events.Value); e != nil {
		return e
	}
	m, e := p.ActingTeam(r.Header.Get("X-Qual-Team"))
	if e != nil {
		return e
	}
	if !p.HasRole(string(m.Team.Object.UID), webhookManagers...) {
		return envelope.New(envelope.CodeForbidden, "Managing webhooks needs the owner or admin role")
	}
	if m.Team.Namespace == "" {
		return teamNotReady()
	}
	if wh, ok := madeByClaim(r.Context(), s.dir.WebhooksIn(m.Team.Namespace), webhookObject); ok {
		return answerFound(w, r, http.StatusCreated, resources.WebhookWithSecret{Webhook: renderWebhook(wh, m)})
	}
	spec := qualv1alpha1.WebhookSpec{Enabled: ptr.To(true)}
	body.applyTo(&spec)
	host := ""
	if u, err := url.Parse(spec.URL); err == nil { // checked by validate
		host = u.Hostname()
	}
	obj := &qualv1alpha1.Webhook{ObjectMeta: metav1.ObjectMeta{Name: teamName("webhook " + host), Namespace: m.Team.Namespace}, Spec: spec}
	stampClaim(r.Context(), obj)
	if err := s.cfg.Client.Create(r.Context(), obj, client.FieldOwner(FieldManager)); err != nil {
		return kubeError(err)
	}
	wh, _ := readBack(s, r.Context(), string(obj.UID), obj.ResourceVersion, s.dir.Webhook,
		func() (*qualv1alpha1.Webhook, error) { return obj, nil })
	envelope.WriteData(w, http.StatusCreated, resources.WebhookWithSecret{
		Webhook: renderWebhook(wh, m), Secret: s.awaitSigningSecret(r.Context(), wh),
	})
	return nil
}

// webhookObject is a webhook as an object (its secret is null in a replay; rotate-secret
// shows a new one).
func webhookObject(wh *qualv1alpha1.Webhook) metav1.Object { return wh }

func (s *Server) patchWebhook(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	wh, m, e := s.visibleWebhook(r, p)
	if e != nil {
		return e
	}
	var body webhookBody
	if e := decode.Object(w, r, &body); e != nil {
		return e
	}
	if e := body.validate(false, s.cfg.Egress); e != nil {
		return e
	}
	updated := wh.DeepCopy()
	body.applyTo(&updated.Spec)
	// What the endpoint will receive, under the URL it will have: moving a "*" subscription
	// to one's own URL is subscribing to it. Turning it off or describing it reveals nothing.
	if body.URL.Set || body.Events.Set {
		if e := mayReceive(p, updated.Spec.EventNames()); e != nil {
			return e
		}
	}
	// A merge patch of the fields the body changes, not an apply: events is a set, and apply
	// would keep the items another manager (the create, kubectl) owns beside the new ones. As
	// with apply, the last write of a field wins; the controllers' status writes never conflict.
	if err := s.cfg.Client.Patch(r.Context(), updated, client.MergeFrom(wh), client.FieldOwner(FieldManager)); err != nil {
		return kubeError(err)
	}
	uid := string(wh.UID)
	updated, _ = readBack(s, r.Context(), uid, updated.ResourceVersion, s.dir.Webhook,
		func() (*qualv1alpha1.Webhook, error) { return updated, nil })
	// A re-enable answers once the controller has cleared the automatic disable (bounded by
	// Config.WriteWait), so the answer does not say enabled and disabled at once.
	rv := updated.ResourceVersion
	if s.awaitUntil(r.Context(), func(d *directory.Directory) bool { return d.WebhookSettled(uid, rv) }) {
		if settled, ok := s.dir.Webhook(uid); ok {
			updated = settled
		}
	}
	envelope.WriteData(w, http.StatusOK, renderWebhook(updated, m))
	return nil
}

// deleteWebhook deletes the Webhook; Kubernetes removes its signing Secret with it, and the
// dispatcher its deliveries.
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	wh, _, e := s.visibleWebhook(r, p)
	if e != nil {
		return e
	}
	if err := s.writer().delete(r.Context(), wh); err != nil {
		return err
	}
	s.await(r.Context(), string(wh.UID), "")
	envelope.WriteNoContent(w)
	return nil
}
