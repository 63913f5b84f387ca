package apiserver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/apiserver/scopes"
	"qual.cx/operator/apiserver/sharepage"
	"qual.cx/operator/internal/graph"
	"qual.cx/operator/internal/store"
)

// The graph's scopes.
var (
	scopeGraphRead  = scopes.Of("graph:read")
	scopeGraphShare = scopes.Of("graph:share")
)

// Share links.
const (
	// EventGraphShared announces a new share link. Its payload is the link without its token
	// and URL (see sharedEvent): a webhook payload never carries a live bearer token.
	EventGraphShared = "graph.shared"
	// defaultShareDays is a link's lifetime when the request names none.
	defaultShareDays = 30
	maxShareDays     = 365
	// shareTokenBytes of randomness make a token: 43 base64url characters.
	shareTokenBytes = 32
	// sharePagePath is where a link's HTML page lives, outside /api/v1.
	sharePagePath = "/share/graphs/"
)

// shareLink is the REST form of a share link. Token and URL are shown when the link is made
// and never again: a replay of the creation by its Idempotency-Key answers them as null, since
// the store keeps only the token's hash.
type shareLink struct {
	sharedEvent
	Token *string `json:"token"`
	URL   *string `json:"url"`
}

// sharedEvent is the payload of graph.shared: the link without its token or URL. The REST
// form embeds it, so the two cannot drift apart.
type sharedEvent struct {
	CampaignID string    `json:"campaign_id"`
	ExpiresAt  time.Time `json:"expires_at"`
	CreatedAt  time.Time `json:"created_at"`
}

func newSharedEvent(link store.ShareLink) sharedEvent {
	return sharedEvent{CampaignID: string(link.CampaignID), ExpiresAt: link.ExpiresAt.UTC(), CreatedAt: link.CreatedAt.UTC()}
}

// sharedGraph is what a share link shows: the graph without interview ids, and the link's expiry.
type sharedGraph struct {
	graph.Graph
	ExpiresAt time.Time `json:"expires_at"`
}

func graphCampaign(c *directory.Campaign) graph.Campaign {
	return graph.Campaign{ID: string(c.Object.UID), Title: c.Object.Spec.Title}
}

// getGraph answers a campaign's knowledge graph, built from its findings in the store.
func (s *Server) getGraph(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	c, m, e := s.visibleCampaign(r, p)
	if e != nil {
		return e
	}
	g, err := graph.Load(r.Context(), s.rows(m), graphCampaign(c))
	if err != nil {
		return err
	}
	envelope.WriteData(w, http.StatusOK, g)
	return nil
}

// shareBody is the body of POST /campaigns/{id}/graph/share.
type shareBody struct {
	ExpiresInDays decode.Optional[int] `json:"expires_in_days"`
}

// shareGraph makes the campaign's share link, replacing the live one, with its graph.shared
// event in the same transaction.
func (s *Server) shareGraph(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	c, m, e := s.visibleCampaign(r, p)
	if e != nil {
		return e
	}
	var body shareBody
	if e := decode.JSON(w, r, &body); e != nil {
		return e
	}
	days := defaultShareDays
	if body.ExpiresInDays.Set {
		days = body.ExpiresInDays.Value
		if body.ExpiresInDays.Null || days < 1 || days > maxShareDays {
			return envelope.Field("expires_in_days", "must be from 1 to %d", maxShareDays)
		}
	}
	if !p.HasRole(string(m.Team.Object.UID), campaignWriters...) {
		return envelope.New(envelope.CodeForbidden, "Your role in this team cannot share graphs")
	}
	token, err := newShareToken()
	if err != nil {
		return err
	}
	link, err := s.createShareLink(r.Context(), s.rows(m), store.NewShareLink{CampaignID: store.CampaignID(c.Object.UID),
		TokenHash: store.HashToken(token), ExpiresAt: shareExpiry(s.cfg.Now(), days, creatorExpiry(p)), CreatedBy: shareCreator(p)})
	if errors.Is(err, store.ErrConflict) {
		// Other links of the campaign kept being made at the same moment (one live link per
		// campaign, a unique index): each retry lost to one of them.
		return envelope.New(envelope.CodeConflict, "Other share links of this campaign were made at the same time; retry")
	}
	if err != nil {
		return err
	}
	url := s.shareURL(r, token)
	envelope.WriteData(w, http.StatusCreated, shareLink{sharedEvent: newSharedEvent(link), Token: &token, URL: &url})
	return nil
}

// shareExpiry is when a link made at now for days expires: never later than limit, the
// expiry of the key that makes it (zero: none), as a key never outlives the key that made it
// (creatorExpiry). Whole seconds, rounded down, so the bound holds.
func shareExpiry(now time.Time, days int, limit time.Time) time.Time {
	expires := now.UTC().Add(time.Duration(days) * 24 * time.Hour)
	if !limit.IsZero() && limit.Before(expires) {
		expires = limit.UTC()
	}
	return expires.Truncate(time.Second)
}

// shareCreator is who makes a link: the caller's key, or its session user. The link is
// checked against it at every read (makerMayShare).
func shareCreator(p *authn.Principal) store.ShareCreator {
	if p.Key != nil {
		return store.ShareCreator{KeyID: string(p.Key.Object.UID)}
	}
	return store.ShareCreator{UserID: p.UserID}
}

// makerMayShare reports whether whoever made the link could still make it: a key that is
// neither revoked, expired nor deleted and still holds the scopes, or a user still in the
// link's team in a role that shares. Otherwise the link is gone, as a revoked one is: a
// link is a bearer credential, and must not outlive the right it was made with. It reads
// only the directory (maps in memory), as the public read path calls it on every request;
// a revocation, a deletion or a member's removal is seen as soon as the cache has it. A link
// made before makers were recorded names none and keeps its expiry and revocation alone.
func (s *Server) makerMayShare(link store.ShareLink) bool {
	switch by := link.CreatedBy; {
	case by.KeyID != "":
		k, ok := s.dir.KeyByUID(by.KeyID)
		return ok && k.Usable(s.cfg.Now()) && k.Scopes.Has(scopeGraphShare|scopeGraphRead)
	case by.UserID != "":
		t, ok := s.dir.Team(string(link.TeamID))
		if !ok {
			return false
		}
		m, ok := directory.MemberIn(t.Object.Spec.Members, by.UserID, "")
		return ok && slices.Contains(campaignWriters, m.Role)
	}
	return true
}

// createShareLink writes the link, the revocation of the campaign's live one and the
// graph.shared event in one transaction, retried a few times when a concurrent creation for
// the same campaign wins the race for its one live link.
func (s *Server) createShareLink(ctx context.Context, rows store.TeamStore, in store.NewShareLink) (store.ShareLink, error) {
	var link store.ShareLink
	var err error
	for range 3 {
		err = rows.InTx(ctx, func(tx store.TeamStore) error {
			var err error
			link, err = tx.CreateShareLink(ctx, in)
			if err != nil {
				return err
			}
			payload, err := json.Marshal(newSharedEvent(link))
			if err != nil {
				return err
			}
			_, err = tx.AddEvent(ctx, store.NewEvent{Type: EventGraphShared, Subject: string(in.CampaignID), CampaignID: in.CampaignID, Payload: payload})
			return err
		})
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	return link, err
}

// liveShare is a campaign's live link as GET .../graph/share shows it: when it expires, when
// and by whom it was made (a key's id or a user's, both null for a link made before makers
// were recorded), and neither token nor url, which holds the token: the store keeps only its
// hash.
type liveShare struct {
	sharedEvent
	CreatedByKeyID  *string `json:"created_by_key_id"`
	CreatedByUserID *string `json:"created_by_user_id"`
}

func newLiveShare(link store.ShareLink) liveShare {
	return liveShare{sharedEvent: newSharedEvent(link),
		CreatedByKeyID: resources.OrNil(link.CreatedBy.KeyID), CreatedByUserID: resources.OrNil(link.CreatedBy.UserID)}
}

// getShare answers whether the campaign has a live link, so an owner sees what to revoke
// (when offboarding someone, say); 404 when it has none, or none whose maker could still
// make it, as the public routes answer for such a link.
func (s *Server) getShare(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	c, m, e := s.visibleCampaign(r, p)
	if e != nil {
		return e
	}
	// Who made the link, and which key, is for those who manage links: a viewer lists no key.
	if !p.HasRole(string(m.Team.Object.UID), campaignWriters...) {
		return envelope.New(envelope.CodeForbidden, "Your role in this team cannot manage share links")
	}
	link, err := s.rows(m).GetShareLink(r.Context(), store.CampaignID(c.Object.UID))
	if errors.Is(err, store.ErrNotFound) || err == nil && !s.makerMayShare(link) {
		return envelope.NotFound("Share link")
	}
	if err != nil {
		return err
	}
	envelope.WriteData(w, http.StatusOK, newLiveShare(link))
	return nil
}

// unshareGraph revokes the campaign's share link: its token stops working at once.
func (s *Server) unshareGraph(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	c, m, e := s.visibleCampaign(r, p)
	if e != nil {
		return e
	}
	if !p.HasRole(string(m.Team.Object.UID), campaignWriters...) {
		return envelope.New(envelope.CodeForbidden, "Your role in this team cannot revoke share links")
	}
	err := s.rows(m).RevokeShareLink(r.Context(), store.CampaignID(c.Object.UID))
	if errors.Is(err, store.ErrNotFound) {
		return envelope.NotFound("Share link")
	}
	if err != nil {
		return err
	}
	envelope.WriteNoContent(w)
	return nil
}

// newShareToken is 32 random bytes, base64url without padding.
func newShareToken() (string, error) {
	b := make([]byte, shareTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// wellFormedToken reports whether s could be a token newShareToken made; anything else is
// refused before the store is asked.
func wellFormedToken(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(shareTokenBytes) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenByte(s[i]) {
			return false
		}
	}
	return true
}

// tokenByte reports whether c is in the base64url alphabet.
func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// shareURL is the absolute address of a link's page: under Config.PublicURL when set, else
// the address the request came to (https when it came over TLS, or through a trusted proxy
// that says so).
func (s *Server) shareURL(r *http.Request, token string) string {
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil || (inAny(s.cfg.TrustedProxies, peerAddr(r.RemoteAddr)) &&
			strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")) {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + sharePagePath + token
}

// errGone is a share token that is unknown, revoked or expired, whose campaign is gone, or
// whose maker could no longer make it.
var errGone = errors.New("share link not found")

// resolveShare finds the live link of a token and its campaign.
func (s *Server) resolveShare(ctx context.Context, token string) (store.ShareLink, *directory.Campaign, error) {
	if !wellFormedToken(token) {
		return store.ShareLink{}, nil, errGone
	}
	link, err := s.cfg.Store.ResolveShareLink(ctx, store.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.ShareLink{}, nil, errGone
	}
	if err != nil {
		return store.ShareLink{}, nil, err
	}
	c, ok := s.dir.Campaign(string(link.CampaignID))
	if !ok || c.TeamUID != string(link.TeamID) || !s.makerMayShare(link) {
		return store.ShareLink{}, nil, errGone
	}
	return link, c, nil
}

// sharedGraphJSON answers GET /shared/graphs/{token}: no credentials, so every request spends
// from its client address's unauthenticated budget, found or not (which also bounds guessing).
// The token is never logged.
func (s *Server) sharedGraphJSON(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	if e := s.limitAnonymous(w, r); e != nil {
		envelope.WriteError(w, e)
		return
	}
	link, c, err := s.resolveShare(r.Context(), r.PathValue("token"))
	var g graph.Graph
	if err == nil {
		g, err = graph.Load(r.Context(), s.cfg.Store.Team(link.TeamID), graphCampaign(c))
	}
	switch {
	case errors.Is(err, errGone):
		envelope.WriteError(w, envelope.NotFound("Shared graph"))
	case err != nil:
		envelope.WriteError(w, s.publicFailure(w, r, err))
	default:
		envelope.WriteData(w, http.StatusOK, sharedGraph{Graph: graph.Shared(g), ExpiresAt: link.ExpiresAt.UTC()})
	}
}

// publicFailure logs a failure of a public share route without its path (it holds the
// token) and returns the error to answer.
func (s *Server) publicFailure(w http.ResponseWriter, r *http.Request, err error) *envelope.Error {
	if unreachable(err) {
		s.cfg.Logger.Info("dependency unavailable", "route", r.Pattern, "error", err.Error(), "request_id", w.Header().Get("X-Request-Id"))
		return envelope.Unavailable("The database", 5*time.Second)
	}
	s.cfg.Logger.Error(err, "request failed", "route", r.Pattern, "request_id", w.Header().Get("X-Request-Id"))
	return envelope.Internal()
}

// sharePage answers a link's HTML page, or a 404 page once the link is revoked or expired.
// It spends from the unauthenticated budget as the JSON does.
func (s *Server) sharePage(w http.ResponseWriter, r *http.Request) {
	if e := s.limitAnonymous(w, r); e != nil {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
		sharepage.Busy.Write(w)
		return
	}
	_, _, err := s.resolveShare(r.Context(), r.PathValue("token"))
	switch {
	case errors.Is(err, errGone):
		sharepage.Gone.Write(w)
	case err != nil:
		if s.publicFailure(w, r, err).Code == envelope.CodeUnavailable {
			w.Header().Set("Retry-After", "5")
		}
		sharepage.Unavailable.Write(w)
	default:
		sharepage.WritePage(w)
	}
}

// shareAsset answers the page's script and stylesheet.
func (s *Server) shareAsset(w http.ResponseWriter, r *http.Request) {
	sharepage.WriteAsset(w, r.PathValue("name"))
}
