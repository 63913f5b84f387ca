package apiserver

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// keyHome is a namespace where a caller manages keys: a team's, or the operator's own
// namespace for platform admins' keys, which belong to no team.
type keyHome struct {
	namespace string
	teamUID   string // empty in the operator's namespace
}

// keyHomes are the namespaces whose keys the caller manages: a team key's own team, the
// teams a session user owns or administers, and the operator's namespace for platform admins;
// only the named team's when named is not empty (X-Qual-Team narrows the list).
func (s *Server) keyHomes(p *authn.Principal, named string) []keyHome {
	var out []keyHome
	for _, m := range p.Memberships {
		if named != "" && string(m.Team.Object.UID) != named {
			continue
		}
		if m.Team.Namespace != "" && (p.Kind == authn.KindAPIKey || m.Role == qualv1alpha1.RoleOwner || m.Role == qualv1alpha1.RoleAdmin) {
			out = append(out, keyHome{namespace: m.Team.Namespace, teamUID: string(m.Team.Object.UID)})
		}
	}
	if p.Admin && named == "" {
		out = append(out, keyHome{namespace: s.cfg.AdminNamespace})
	}
	return out
}

// creatorScopes are the most a key made by the caller may hold: a key's own scopes, or for
// a session every scope but admin:read, which a platform admin may add by listing it.
func creatorScopes(p *authn.Principal) scopes.Set {
	switch {
	case p.Kind == authn.KindAPIKey:
		return p.Scopes
	case p.Admin:
		return scopes.All
	}
	return scopes.SecretDefault
}

// creatorExpiry is the latest a key made by the caller may expire: its own key's expiry
// (zero: never), so a key never outlives the key that made it.
func creatorExpiry(p *authn.Principal) time.Time {
	if p.Key != nil {
		return p.Key.ExpiresAt
	}
	return time.Time{}
}

// readsEveryKey reports whether the caller could have created, and so may read, every key of
// a team it manages keys in: a session, or a secret key holding every team scope with no
// expiry (a team's keys never hold admin:read). Anything less is shown only some of them.
func readsEveryKey(p *authn.Principal) bool {
	if p.Kind == authn.KindAPIKey && p.Key.Object.Spec.Type != qualv1alpha1.KeySecret {
		return false
	}
	return creatorScopes(p).Has(scopes.SecretDefault) && creatorExpiry(p).IsZero()
}

// managedKey returns k's home when the caller could have created k: k lives where the caller
// manages keys, holds no scope the caller lacks and does not outlive the caller's key. Every
// operation on an existing key (list, read, revoke, rotate) obeys the rule creation obeys.
// A key made with kubectl whose credential copies another key's is no one's: REST never makes
// one, it never authenticates, and it would show the other key's prefix and last four.
func (s *Server) managedKey(p *authn.Principal, k *directory.Key) (keyHome, bool) {
	if !creatorScopes(p).Has(k.Scopes) || !within(k.ExpiresAt, creatorExpiry(p)) || !s.dir.HoldsCredential(k) {
		return keyHome{}, false
	}
	for _, h := range s.keyHomes(p, "") {
		if h.namespace == k.Object.Namespace {
			return h, true
		}
	}
	return keyHome{}, false
}

// within reports whether an expiry (zero: never) is no later than limit (zero: unbounded).
func within(expiry, limit time.Time) bool {
	return limit.IsZero() || (!expiry.IsZero() && !expiry.After(limit))
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
	for _, h := range s.keyHomes(p, r.Header.Get("X-Qual-Team")) {
		for _, k := range s.dir.KeysIn(h.namespace) {
			if _, ok := s.managedKey(p, k); !ok {
				continue
			}
			rest := renderKey(k, h.teamUID)
			rows = append(rows, row[resources.APIKey]{value: sortValue(lp.sortBy, rest.CreatedAt, resources.UpdatedAt(&k.Object.ObjectMeta), rest.Name), id: rest.ID, item: rest})
		}
	}
	writeRows(w, s, rows, lp)
	return nil
}

// visibleKey returns a key the caller could have created, else 404.
func (s *Server) visibleKey(r *http.Request, p *authn.Principal) (*directory.Key, keyHome, *envelope.Error) {
	if k, ok := s.dir.KeyByUID(r.PathValue("id")); ok {
		if h, ok := s.managedKey(p, k); ok {
			return k, h, nil
		}
	}
	return nil, keyHome{}, envelope.NotFound("API key")
}

func (s *Server) getKey(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	k, h, e := s.visibleKey(r, p)
	if e != nil {
		return e
	}
	envelope.WriteData(w, http.StatusOK, renderKey(k, h.teamUID))
	return nil
}

type keyBody struct {
	Name           decode.Optional[string]               `json:"name"`
	Type           decode.Optional[string]               `json:"type"`
	Scopes         decode.Optional[[]qualv1alpha1.Scope] `json:"scopes"`
	ExpiresAt      decode.Optional[string]               `json:"expires_at"` // RFC 3339, parsed by expiry so a bad one names the field
	ExpiresInDays  decode.Optional[int]                  `json:"expires_in_days"`
	AllowedOrigins decode.Optional[[]string]             `json:"allowed_origins"`
}

// originPattern is an Origin header as browsers send it: scheme, a host name or IP
// address, and a port only when it is not the scheme's default.
var originPattern = regexp.MustCompile(`^(https?)://([a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:.]+\])(:([0-9]{1,5}))?$`)

// browserOrigin says o can equal an Origin a browser sends, which CORS compares exactly:
// "https://*.example.com" or "https://app.example.com:443" never would.
func browserOrigin(o string) bool {
	m := originPattern.FindStringSubmatch(o)
	if m == nil || len(o) > 253 {
		return false
	}
	scheme, port := m[1], m[5]
	if port == "" {
		return true
	}
	n, err := strconv.Atoi(port)
	defaultPort := map[string]int{"https": 443, "http": 80}[scheme]
	return err == nil && n >= 1 && n <= 65535 && n != defaultPort
}

// keyRequest is a validated key creation.
type keyRequest struct {
	name      string
	typ       qualv1alpha1.APIKeyType
	scopes    scopes.Set
	listed    bool // scopes were given
	expiresAt *metav1.Time
	origins   []string
	owner     string // who receives the plaintext: the creator, or the rotating caller
	mintedBy  string // the UID of the key the request was made with, if it was
}

// maxOrigins is the most allowed origins the APIKey schema keeps.
const maxOrigins = 20

func (b *keyBody) validate(now time.Time) (keyRequest, *envelope.Error) {
	req := keyRequest{name: strings.TrimSpace(b.Name.Value), typ: qualv1alpha1.KeySecret, origins: b.AllowedOrigins.Value}
	var bad []envelope.FieldError
	add := func(f, m string) { bad = append(bad, envelope.FieldError{Field: f, Message: m}) }
	switch {
	case utf8.RuneCountInString(req.name) > 200:
		add("name", "must be at most 200 characters")
	case unseen(req.name):
		add("name", unseenMessage)
	case decode.Reorders(req.name):
		add("name", decode.ReordersMessage)
	}
	if b.Type.Set {
		if !keyTypesEnum.has(b.Type.Value) {
			add("type", keyTypesEnum.must())
		}
		req.typ = qualv1alpha1.APIKeyType(b.Type.Value)
	}
	set, unknown := scopes.Parse(b.Scopes.Value)
	if unknown != "" {
		add("scopes", "unknown scope "+string(unknown))
	}
	req.scopes, req.listed = set, len(b.Scopes.Value) > 0
	switch {
	case b.Scopes.Set && !req.listed:
		// Leaving scopes out means the creator's; an empty list is a filter that matched
		// nothing, and must not become the widest key.
		add("scopes", "must name at least one scope; leave it out for the creator's scopes")
	case req.typ == qualv1alpha1.KeyScoped && !req.listed:
		add("scopes", "a scoped key must list its scopes")
	case req.typ == qualv1alpha1.KeyPublic && !req.listed:
		add("scopes", "a public key must list its scopes: read scopes and interviews:write")
	case req.typ == qualv1alpha1.KeyPublic && !scopes.PublicAllowed().Has(set):
		add("scopes", "a public key may hold only read scopes and interviews:write")
	}
	req.expiresAt = b.expiry(now, add)
	if len(req.origins) > 0 && req.typ != qualv1alpha1.KeyPublic {
		add("allowed_origins", "only public keys have allowed origins")
	}
	for i, o := range req.origins {
		if !browserOrigin(o) {
			add("allowed_origins", "must be origins as a browser sends them, such as https://app.example.com (no wildcard, path or default port)")
			break
		}
		if slices.Contains(req.origins[:i], o) {
			add("allowed_origins", "must not list an origin twice: "+o)
			break
		}
	}
	if len(req.origins) > maxOrigins {
		add("allowed_origins", "must list at most "+strconv.Itoa(maxOrigins)+" origins")
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
		at, err := time.Parse(time.RFC3339, b.ExpiresAt.Value)
		switch {
		case err != nil:
			add("expires_at", "must be an RFC 3339 time with its zone, e.g. 2030-01-31T18:00:00Z")
			return nil
		case !at.After(now):
			add("expires_at", "must be in the future")
			return nil
		}
		t := metav1.NewTime(at.UTC())
		return &t
	case b.ExpiresInDays.Set && !b.ExpiresInDays.Null: // null, like expires_at null, is never
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
	if e := decode.Object(w, r, &body); e != nil {
		return e
	}
	req, e := body.validate(s.cfg.Now())
	if e != nil {
		return e
	}
	// A key never grants what its creator lacks, nor outlives the key that makes it.
	creator := creatorScopes(p)
	if !req.listed {
		req.scopes = creator &^ scopes.AdminRead // admin:read only when asked for by name
	}
	if !creator.Has(req.scopes) {
		return envelope.New(envelope.CodeInsufficientScope, "You cannot grant the %s scope: you lack it", creator.Missing(req.scopes))
	}
	if limit := creatorExpiry(p); !limit.IsZero() {
		if req.expiresAt == nil {
			req.expiresAt = &metav1.Time{Time: limit.UTC()}
		}
		if req.expiresAt.After(limit) {
			return envelope.Field(body.expiryField(), "must not be later than %s, when the key making this request expires", limit.UTC().Format(time.RFC3339))
		}
	}
	home, e := s.newKeyHome(r, p, req)
	if e != nil {
		return e
	}
	if k, ok := madeByClaim(r.Context(), s.dir.KeysIn(home.namespace), keyObject); ok {
		return answerFound(w, r, http.StatusCreated, resources.APIKeyWithSecret{APIKey: renderKey(k, home.teamUID)})
	}
	req.owner, req.mintedBy = personOf(p), mintingKey(p)
	out, err := s.mintKey(r, home, req)
	if err != nil {
		return err
	}
	envelope.WriteData(w, http.StatusCreated, out)
	return nil
}

// expiryField names the field that set the expiry, for errors.
func (b *keyBody) expiryField() string {
	if b.ExpiresInDays.Set {
		return "expires_in_days"
	}
	return "expires_at"
}

// newKeyHome is where a new key lives: a key holding admin:read in the operator's namespace
// (only a platform admin gets that far), any other in the acting team, which the caller
// must manage keys of.
func (s *Server) newKeyHome(r *http.Request, p *authn.Principal, req keyRequest) (keyHome, *envelope.Error) {
	if req.scopes.Has(scopes.AdminRead) {
		return keyHome{namespace: s.cfg.AdminNamespace}, nil
	}
	m, e := p.ActingTeam(r.Header.Get("X-Qual-Team"))
	if e != nil {
		return keyHome{}, e
	}
	for _, h := range s.keyHomes(p, "") {
		if h.teamUID == string(m.Team.Object.UID) {
			return h, nil
		}
	}
	if m.Team.Namespace == "" {
		return keyHome{}, teamNotReady()
	}
	return keyHome{}, envelope.New(envelope.CodeForbidden, "Managing API keys needs the owner or admin role")
}

// keyName is a new key's object name: its name's slug and a suffix, random, or the request's
// claim's when it holds one. Two runs of one request then cannot both create a key, as the
// second create is AlreadyExists: a rotation's repeat finishing a revocation whose first run
// seemed to fail (its write released unanswered while the Kubernetes API hung, say) would
// otherwise mint a successor beside the one that first run's create makes when it lands late.
// 12 hex digits keep the name within the 63 characters of its Secret's label.
func keyName(ctx context.Context, display string) string {
	if c, ok := claimOf(ctx); ok {
		return suffixedName(display, c.stamp[:12])
	}
	return teamName(display)
}

// keyObject is a directory key's APIKey (its plaintext, never kept, is null in a replay: the
// caller may rotate the key for one).
func keyObject(k *directory.Key) metav1.Object { return k.Object }

// mintKey creates an APIKey holding only the new key's digest, stamped with the request's
// Idempotency-Key claim if it holds one, and returns the plaintext once, in the answer.
func (s *Server) mintKey(r *http.Request, home keyHome, req keyRequest) (resources.APIKeyWithSecret, error) {
	minted, err := keys.Mint(req.typ)
	if err != nil {
		return resources.APIKeyWithSecret{}, err
	}
	name := req.name
	if decode.Blank(name) {
		// REST takes no such name now, but a key stored before the APIKey schema refused one
		// may be rotated: its successor must pass that schema, as its old key is revoked first.
		name = string(req.typ) + " key"
	}
	obj := &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Name: keyName(r.Context(), name), Namespace: home.namespace},
		Spec: qualv1alpha1.APIKeySpec{
			Type: req.typ, DisplayName: name, Scopes: req.scopes.Names(), ExpiresAt: req.expiresAt,
			Owner: req.owner, AllowedOrigins: req.origins,
			Credential: &qualv1alpha1.APIKeyCredential{HashRef: minted.HashRef, Prefix: minted.Prefix, LastFour: minted.LastFour},
		},
	}
	if req.mintedBy != "" {
		obj.Annotations = map[string]string{qualv1alpha1.AnnotationMintedBy: req.mintedBy}
	}
	stampClaim(r.Context(), obj)
	err = s.cfg.Client.Create(r.Context(), obj, client.FieldOwner(FieldManager))
	switch {
	case apierrors.IsAlreadyExists(err):
		// Under a claim, another run of this request made it (keyName): its retry answers it.
		return resources.APIKeyWithSecret{}, envelope.New(envelope.CodeConflict, "A key of this name was made a moment ago; retry").WithRetry(time.Second)
	case err != nil:
		return resources.APIKeyWithSecret{}, kubeError(err)
	}
	k, _ := readBack(s, r.Context(), string(obj.UID), obj.ResourceVersion, s.dir.KeyByUID,
		func() (*directory.Key, error) { return directory.NewKey(obj), nil })
	return resources.APIKeyWithSecret{APIKey: renderKey(k, home.teamUID), Key: minted.Plaintext}, nil
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
// request with the key is 401 (unless the cache lags more than Config.WriteWait).
func (s *Server) revoke(r *http.Request, k *directory.Key) error {
	if k.Object.Spec.Revoked {
		return nil
	}
	u := applyObject(k.Object, "APIKey", map[string]any{"revoked": true})
	if err := s.writer().apply(r.Context(), u); err != nil {
		return err
	}
	s.await(r.Context(), string(k.Object.UID), u.GetResourceVersion())
	return nil
}

func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	k, home, e := s.visibleKey(r, p)
	if e != nil {
		return e
	}
	var none struct{}
	if e := decode.JSON(w, r, &none); e != nil {
		return e
	}
	// A repeat of a rotation that died before answering finds the key revoked: it answers the
	// successor that run minted, before the revoked key is refused, so the caller learns which
	// key replaced it (its plaintext, never kept, is null: rotating the successor gives one).
	if next, ok := madeByClaim(r.Context(), s.dir.KeysIn(home.namespace), keyObject); ok {
		return answerFound(w, r, http.StatusOK, resources.APIKeyWithSecret{APIKey: renderKey(next, home.teamUID)})
	}
	// One that died after revoking the key and before minting its successor finds the key
	// revoked by its own claim and goes on to mint it. Any other request is refused a revoked
	// key: a key revoked with DELETE, by the Team controller, or by another caller's rotation
	// or one under another Idempotency-Key bears no mark of its claim.
	if k.Object.Spec.Revoked && !revokedByClaim(r.Context(), k.Object) {
		return envelope.New(envelope.CodeInvalidState, "A revoked key cannot be rotated")
	}
	// Its successor would keep the expiry, so it would be born expired: make a new key.
	if exp := k.Object.Spec.ExpiresAt; exp != nil && !exp.After(s.cfg.Now()) {
		return envelope.New(envelope.CodeInvalidState, "An expired key cannot be rotated; create a new one")
	}
	// The old key is revoked first, and only as it was read: of rotations (or a rotation and
	// a revocation) racing on one key, one revokes it and the rest are refused, so a key never
	// has two live successors and a revoked key never gets one. A mint that then fails leaves
	// the key revoked, never both alive, and marked with the request's claim, so a repeat
	// that runs again (with the same Idempotency-Key) can still mint the successor.
	if err := s.revokeAsRead(r, k); err != nil {
		return err
	}
	// The successor belongs to whoever receives its plaintext: an admin who rotates the
	// owner's key holds the new one, and must lose it when they leave the team (removing a
	// member revokes the keys they own).
	spec := k.Object.Spec
	out, err := s.mintKey(r, home, keyRequest{name: spec.DisplayName, typ: spec.Type, scopes: k.Scopes,
		listed: true, expiresAt: spec.ExpiresAt, origins: spec.AllowedOrigins, owner: personOf(p), mintedBy: mintingKey(p)})
	if err != nil {
		return err
	}
	envelope.WriteData(w, http.StatusOK, out)
	return nil
}

// mintingKey is the UID of the key a request was made with, "" for a session: a key minted
// with a key is revoked with it when its maker leaves (keys.Departed).
func mintingKey(p *authn.Principal) string {
	if p.Kind == authn.KindAPIKey {
		return string(p.Key.Object.UID)
	}
	return ""
}

// personOf is the person a request acts for, as a key's owner records them: a session's
// e-mail (else its user id), or the owner of the key making the request.
func personOf(p *authn.Principal) string {
	switch {
	case p.Kind == authn.KindAPIKey:
		return p.Key.Object.Spec.Owner
	case p.Email != "":
		return p.Email
	}
	return p.UserID
}

// revokeAsRead revokes a key only if nothing revoked it since it was read, in one write with
// the request's claim (markRevokedByClaim). The cached copy may lag a write that changed
// something else (its status, which every use of the key touches), so a conflict is checked
// against the key as it is now, and retried while it is still live: racing rotations must not
// all lose to the status writes their own requests make. A key an earlier run of this request
// revoked is done: only the run holding the request's claim gets here, and the claim is held
// by one run at a time (idempotent), so its repeat is no second revoker racing the first.
func (s *Server) revokeAsRead(r *http.Request, k *directory.Key) error {
	if revokedByClaim(r.Context(), k.Object) {
		return nil
	}
	u := applyObject(k.Object, "APIKey", map[string]any{"revoked": true})
	markRevokedByClaim(r.Context(), u)
	err := s.writer().applyAt(r.Context(), u, k.Object.ResourceVersion)
	for try := 0; apierrors.IsConflict(err) && try < maxRevokeRetries; try++ {
		now := &qualv1alpha1.APIKey{}
		if gerr := s.liveReader().Get(r.Context(), client.ObjectKeyFromObject(k.Object), now); gerr != nil {
			return kubeError(gerr)
		}
		if now.UID == k.Object.UID && revokedByClaim(r.Context(), now) {
			return nil // an earlier run's revocation the cache did not show yet
		}
		if now.Spec.Revoked || now.UID != k.Object.UID {
			return envelope.New(envelope.CodeInvalidState, "A revoked key cannot be rotated")
		}
		err = s.writer().applyAt(r.Context(), u, now.ResourceVersion)
	}
	if err != nil {
		return kubeError(err)
	}
	s.await(r.Context(), string(k.Object.UID), u.GetResourceVersion())
	return nil
}

// maxRevokeRetries bounds revokeAsRead's tries after a conflict with a write that left the key
// live.
const maxRevokeRetries = 5
