package apiserver

import (
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/apiserver/scopes"
	"qual.cx/operator/internal/keys"
)

// keyTeams are the teams whose keys the caller manages: a secret key's own team, or the
// teams a session user owns or administers.
func keyTeams(p *authn.Principal) []directory.Membership {
	var out []directory.Membership
	for _, m := range p.Memberships {
		if p.Kind == authn.KindAPIKey || m.Role == qualv1alpha1.RoleOwner || m.Role == qualv1alpha1.RoleAdmin {
			out = append(out, m)
		}
	}
	return out
}

func renderKey(k *directory.Key, teamUID string) resources.APIKey {
	return resources.NewAPIKey(k.Object, teamUID, k.Scopes.Names())
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	lp, e := s.parseList(r, namedSorts, nil)
	if e != nil {
		return e
	}
	var rows []row[resources.APIKey]
	for _, m := range keyTeams(p) {
		for _, k := range s.dir.KeysIn(m.Team.Namespace) {
			rest := renderKey(k, string(m.Team.Object.UID))
			rows = append(rows, row[resources.APIKey]{value: sortValue(lp.sortBy, rest.CreatedAt, resources.UpdatedAt(&k.Object.ObjectMeta), rest.Name), id: rest.ID, item: rest})
		}
	}
	writeRows(w, s, rows, lp)
	return nil
}

// visibleKey returns a key the caller manages, else 404.
func (s *Server) visibleKey(r *http.Request, p *authn.Principal) (*directory.Key, string, *envelope.Error) {
	k, ok := s.dir.KeyByUID(r.PathValue("id"))
	if ok {
		for _, m := range keyTeams(p) {
			if m.Team.Namespace == k.Object.Namespace {
				return k, string(m.Team.Object.UID), nil
			}
		}
	}
	return nil, "", envelope.NotFound("API key")
}

func (s *Server) getKey(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	k, team, e := s.visibleKey(r, p)
	if e != nil {
		return e
	}
	envelope.WriteData(w, http.StatusOK, renderKey(k, team))
	return nil
}

type keyBody struct {
	Name           decode.Optional[string]               `json:"name"`
	Type           decode.Optional[string]               `json:"type"`
	Scopes         decode.Optional[[]qualv1alpha1.Scope] `json:"scopes"`
	ExpiresAt      decode.Optional[time.Time]            `json:"expires_at"`
	ExpiresInDays  decode.Optional[int]                  `json:"expires_in_days"`
	AllowedOrigins decode.Optional[[]string]             `json:"allowed_origins"`
}

var originPattern = regexp.MustCompile(`^https?://[^/\s?#]+$`)

// keyRequest is a validated key creation.
type keyRequest struct {
	name      string
	typ       qualv1alpha1.APIKeyType
	scopes    scopes.Set
	listed    bool // scopes were given
	expiresAt *metav1.Time
	origins   []string
	owner     string // the creator; a rotation keeps the original owner
}

func (b *keyBody) validate(now time.Time) (keyRequest, *envelope.Error) {
	req := keyRequest{name: strings.TrimSpace(b.Name.Value), typ: qualv1alpha1.KeySecret, origins: b.AllowedOrigins.Value}
	var bad []envelope.FieldError
	add := func(f, m string) { bad = append(bad, envelope.FieldError{Field: f, Message: m}) }
	if utf8.RuneCountInString(req.name) > 200 {
		add("name", "must be at most 200 characters")
	}
	if b.Type.Set {
		if !oneOf(b.Type.Value, "secret", "public", "scoped") {
			add("type", "must be secret, public or scoped")
		}
		req.typ = qualv1alpha1.APIKeyType(b.Type.Value)
	}
	set, unknown := scopes.Parse(b.Scopes.Value)
	if unknown != "" {
		add("scopes", "unknown scope "+string(unknown))
	}
	req.scopes, req.listed = set, len(b.Scopes.Value) > 0
	switch {
	case req.typ == qualv1alpha1.KeyScoped && !req.listed:
		add("scopes", "a scoped key must list its scopes")
	case req.typ == qualv1alpha1.KeyPublic && !scopes.PublicAllowed().Has(set):
		add("scopes", "a public key may hold only read scopes and interviews:write")
	}
	req.expiresAt = b.expiry(now, add)
	if len(req.origins) > 0 && req.typ != qualv1alpha1.KeyPublic {
		add("allowed_origins", "only public keys have allowed origins")
	}
	for _, o := range req.origins {
		if !originPattern.MatchString(o) || len(o) > 253 {
			add("allowed_origins", "must be origins such as https://app.example.com")
			break
		}
	}
	if len(bad) > 0 {
		return req, envelope.Validation(bad...)
	}
	return req, nil
}

func (b *keyBody) expiry(now time.Time, add func(f, m string)) *metav1.Time {
	switch {
	case b.ExpiresAt.Set && b.ExpiresInDays.Set:
		add("expires_at", "give expires_at or expires_in_days, not both")
	case b.ExpiresAt.Set && !b.ExpiresAt.Null:
		if !b.ExpiresAt.Value.After(now) {
			add("expires_at", "must be in the future")
			return nil
		}
		t := metav1.NewTime(b.ExpiresAt.Value.UTC())
		return &t
	case b.ExpiresInDays.Set:
		if b.ExpiresInDays.Value < 1 || b.ExpiresInDays.Value > 365 {
			add("expires_in_days", "must be from 1 to 365")
			return nil
		}
		t := metav1.NewTime(now.UTC().Add(time.Duration(b.ExpiresInDays.Value) * 24 * time.Hour).Truncate(time.Second))
		return &t
	}
	return nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	var body keyBody
	if e := decode.JSON(w, r, &body); e != nil {
		return e
	}
	req, e := body.validate(s.cfg.Now())
	if e != nil {
		return e
	}
	// A key never grants what its creator lacks; a session holds every scope but admin:read
	// unless the user is a platform admin.
	creator := p.Scopes
	if p.Kind == authn.KindSession && !p.Admin {
		creator = scopes.SecretDefault
	}
	if !req.listed {
		req.scopes = creator
	}
	if !creator.Has(req.scopes) {
		return envelope.New(envelope.CodeInsufficientScope, "You cannot grant the %s scope: you lack it", creator.Missing(req.scopes))
	}
	m, e := p.ActingTeam(r.Header.Get("X-Qual-Team"))
	if e != nil {
		return e
	}
	if _, ok := findMembership(keyTeams(p), string(m.Team.Object.UID)); !ok {
		return envelope.New(envelope.CodeForbidden, "Managing API keys needs the owner or admin role")
	}
	req.owner = p.Email
	if p.Kind == authn.KindAPIKey {
		req.owner = p.Key.Object.Spec.Owner
	}
	out, err := s.mintKey(r, m.Team, req)
	if err != nil {
		return err
	}
	envelope.WriteData(w, http.StatusCreated, out)
	return nil
}

// mintKey creates an APIKey holding only the new key's digest and returns the plaintext
// once, in the answer.
func (s *Server) mintKey(r *http.Request, team *directory.Team, req keyRequest) (resources.APIKeyWithSecret, error) {
	minted, err := keys.Mint(req.typ)
	if err != nil {
		return resources.APIKeyWithSecret{}, err
	}
	name := req.name
	if name == "" {
		name = string(req.typ) + " key"
	}
	obj := &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Name: teamName(name), Namespace: team.Namespace},
		Spec: qualv1alpha1.APIKeySpec{
			Type: req.typ, DisplayName: name, Scopes: req.scopes.Names(), ExpiresAt: req.expiresAt,
			Owner: req.owner, AllowedOrigins: req.origins,
			Credential: &qualv1alpha1.APIKeyCredential{HashRef: minted.HashRef, Prefix: minted.Prefix, LastFour: minted.LastFour},
		},
	}
	if err := s.cfg.Client.Create(r.Context(), obj, client.FieldOwner(FieldManager)); err != nil {
		return resources.APIKeyWithSecret{}, kubeError(err)
	}
	if err := s.await(r, string(obj.UID), obj.ResourceVersion); err != nil {
		return resources.APIKeyWithSecret{}, err
	}
	k, _ := s.dir.KeyByUID(string(obj.UID))
	return resources.APIKeyWithSecret{APIKey: renderKey(k, string(team.Object.UID)), Key: minted.Plaintext}, nil
}

func findMembership(ms []directory.Membership, teamUID string) (directory.Membership, bool) {
	for _, m := range ms {
		if string(m.Team.Object.UID) == teamUID {
			return m, true
		}
	}
	return directory.Membership{}, false
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	k, _, e := s.visibleKey(r, p)
	if e != nil {
		return e
	}
	if err := s.revoke(r, k); err != nil {
		return err
	}
	envelope.WriteNoContent(w)
	return nil
}

// revoke marks a key revoked and waits until the directory refuses it, so the very next
// request with the key is 401.
func (s *Server) revoke(r *http.Request, k *directory.Key) error {
	if k.Object.Spec.Revoked {
		return nil
	}
	u := applyObject(k.Object, "APIKey", map[string]any{"revoked": true})
	if err := s.writer().apply(r.Context(), u); err != nil {
		return err
	}
	return s.await(r, string(k.Object.UID), u.GetResourceVersion())
}

func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	k, teamUID, e := s.visibleKey(r, p)
	if e != nil {
		return e
	}
	var none struct{}
	if e := decode.JSON(w, r, &none); e != nil {
		return e
	}
	if k.Object.Spec.Revoked {
		return envelope.New(envelope.CodeInvalidState, "A revoked key cannot be rotated")
	}
	team, _ := s.dir.Team(teamUID)
	spec := k.Object.Spec
	out, err := s.mintKey(r, team, keyRequest{name: spec.DisplayName, typ: spec.Type, scopes: k.Scopes,
		listed: true, expiresAt: spec.ExpiresAt, origins: spec.AllowedOrigins, owner: spec.Owner})
	if err != nil {
		return err
	}
	if err := s.revoke(r, k); err != nil {
		return err
	}
	envelope.WriteData(w, http.StatusOK, out)
	return nil
}
