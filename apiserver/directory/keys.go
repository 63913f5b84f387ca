package directory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/scopes"
	"qual.cx/operator/internal/keyindex"
	"qual.cx/operator/internal/keys"
)

// Key is an APIKey object as the directory holds it, with what authentication needs
// precomputed. Treat it as read-only.
type Key struct {
	Object    *qualv1alpha1.APIKey
	Scopes    scopes.Set
	ExpiresAt time.Time // zero: never
	// inOriginIndex records whether the key was counted in the origin index when observed,
	// so dropping it undoes exactly that.
	inOriginIndex bool
}

// Usable reports whether the key may authenticate a request at now.
func (k *Key) Usable(now time.Time) bool {
	return !k.Object.Spec.Revoked && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// EffectiveScopes is what a key may do: its listed scopes, or every scope but admin:read
// for a secret key that lists none.
func EffectiveScopes(k *qualv1alpha1.APIKey) scopes.Set {
	set, _ := scopes.Parse(k.Spec.Scopes) // the schema allows only known scopes
	if len(k.Spec.Scopes) == 0 && k.Spec.Type == qualv1alpha1.KeySecret {
		return scopes.SecretDefault
	}
	return set
}

// NewKey is a key as the directory holds it.
func NewKey(k *qualv1alpha1.APIKey) *Key {
	key := &Key{Object: k, Scopes: EffectiveScopes(k)}
	if k.Spec.ExpiresAt != nil {
		key.ExpiresAt = k.Spec.ExpiresAt.Time
	}
	return key
}

func digestOf(hashRef string) ([sha256.Size]byte, bool) {
	var d [sha256.Size]byte
	raw, ok := strings.CutPrefix(hashRef, keys.HashRefPrefix)
	if !ok || hex.DecodedLen(len(raw)) != sha256.Size {
		return d, false
	}
	if _, err := hex.Decode(d[:], []byte(raw)); err != nil {
		return d, false
	}
	return d, true
}

func (d *Directory) onKey(obj any) {
	k, ok := obj.(*qualv1alpha1.APIKey)
	if !ok {
		return
	}
	if !k.DeletionTimestamp.IsZero() {
		d.onKeyDelete(obj) // on its way out: the API no longer shows it
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dropKey(string(k.UID))
	key := NewKey(k)
	d.keyByUID[string(k.UID)] = key
	if digest, ok := digestOf(keyindex.HashRef(k)); ok {
		d.claim(digest, key, nil)
	}
	key.inOriginIndex = acceptsOrigins(key, time.Now())
	d.origins.add(key, 1)
	d.notify()
}

func (d *Directory) onKeyDelete(obj any) {
	if k, ok := obj.(*qualv1alpha1.APIKey); ok {
		d.mu.Lock()
		d.dropKey(string(k.UID))
		d.notify()
		d.mu.Unlock()
	}
}

func (d *Directory) dropKey(uid string) {
	old, ok := d.keyByUID[uid]
	if !ok {
		return
	}
	delete(d.keyByUID, uid)
	d.origins.add(old, -1)
	if digest, ok := digestOf(keyindex.HashRef(old.Object)); ok {
		d.claim(digest, nil, old)
	}
}

// claim adds key to (or drops old from) the keys naming digest, and lets the oldest of them
// answer for it. A digest is no secret (whoever reads a team's APIKeys sees it), so another
// object naming it (an APIKey whose spec.credential copies it) must not take over the key,
// revive it once revoked, or leave its token unknown when deleted: the oldest key naming a
// digest answers for it (a copy is always newer, since the hash is known only after the
// original exists), and a key the controller marked CredentialConflict never does. Only the
// keys that exist now are compared here: a copy made once the original is deleted is the
// oldest left, and KeyForToken refuses it, as the ledger remembers the original.
func (d *Directory) claim(digest [sha256.Size]byte, key, old *Key) {
	claims := slices.DeleteFunc(d.claims[digest], func(k *Key) bool { return k == old })
	if key != nil {
		claims = append(claims, key)
	}
	if len(claims) == 0 {
		delete(d.claims, digest)
		delete(d.keys, digest)
		return
	}
	d.claims[digest] = claims
	// A key the controller found conflicting never answers, not even once alone. Of two made
	// in the same second, neither does until the controller marks the one the store does not
	// record as the hash's first holder; then the other answers (and authentication checks
	// the store's record in any case).
	var holder *Key
	tied := false
	for _, k := range claims {
		switch {
		case keyindex.Conflicting(k.Object):
		case holder == nil || keyindex.Older(k.Object, holder.Object):
			holder, tied = k, false
		case !keyindex.Older(holder.Object, k.Object):
			tied = true
		}
	}
	if holder == nil || tied {
		delete(d.keys, digest)
		return
	}
	d.keys[digest] = holder
}

// KeyByToken finds the key whose plaintext is token: one SHA-256 and one map read, no
// allocation. The map is keyed by the digest, so no comparison of secrets happens here.
func (d *Directory) KeyByToken(token string) (*Key, bool) {
	digest := keys.Digest(token)
	d.mu.RLock()
	k, ok := d.keys[digest]
	d.mu.RUnlock()
	return k, ok
}

// KeyForToken is KeyByToken held to the ledger: the key found authenticates (ok) only if it
// is the first key that ever held its credential. The keys naming a hash now cannot tell
// that: once the key holding it is deleted (revoked, say), an APIKey re-created naming the
// same hash would be the only one left, and its old plaintext would work again. The first
// request with a hash asks the ledger (claiming the hash for the key found when nothing
// holds it, as after an upgrade) and remembers the answer, which never changes; every later
// one is the same map read as KeyByToken, with no allocation. err is the ledger's failure:
// the caller cannot be told apart from a copy's then, so it is refused as unavailable.
func (d *Directory) KeyForToken(ctx context.Context, token string) (key *Key, ok bool, err error) {
	digest := keys.Digest(token)
	d.mu.RLock()
	k, found := d.keys[digest]
	first, known := d.firsts[digest]
	d.mu.RUnlock()
	if !found {
		return nil, false, nil
	}
	if !known {
		if first, err = d.firstHolder(ctx, digest, k); err != nil {
			return nil, false, err
		}
	}
	return k, first == k.Object.UID, nil
}

// firstHolder asks the ledger which key first held digest, claiming it for k if none did,
// and caches the answer.
func (d *Directory) firstHolder(ctx context.Context, digest [sha256.Size]byte, k *Key) (types.UID, error) {
	if d.ledger == nil {
		return k.Object.UID, nil
	}
	uid, err := d.ledger.ClaimCredential(ctx, keyindex.HashRef(k.Object), string(k.Object.UID))
	if err != nil {
		return "", fmt.Errorf("directory: first holder of the credential of key %s/%s: %w", k.Object.Namespace, k.Object.Name, err)
	}
	d.mu.Lock()
	d.firsts[digest] = types.UID(uid)
	d.mu.Unlock()
	return types.UID(uid), nil
}

// HoldsCredential reports whether k answers for the credential it names. An APIKey whose
// spec.credential copies another key's hash (newer than the key it copies, made in the same
// second, or marked CredentialConflict) never does and never authenticates, nor does one the
// ledger was seen to record another key for; a key whose credential is not known yet (the
// controller is minting it) copies nothing.
func (d *Directory) HoldsCredential(k *Key) bool {
	digest, ok := digestOf(keyindex.HashRef(k.Object))
	if !ok {
		return true
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	holder, ok := d.keys[digest]
	first, known := d.firsts[digest]
	return ok && holder.Object.UID == k.Object.UID && (!known || first == k.Object.UID)
}

// KeyByUID returns a key by UID.
func (d *Directory) KeyByUID(uid string) (*Key, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	k, ok := d.keyByUID[uid]
	return k, ok
}

// KeysIn returns the keys of a namespace.
func (d *Directory) KeysIn(ns string) []*Key {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []*Key
	for _, k := range d.keyByUID {
		if k.Object.Namespace == ns {
			out = append(out, k)
		}
	}
	return out
}

// PublicOriginAllowed reports whether some public key that is neither revoked nor expired
// accepts origin: one that lists it (in any case), or one that lists no origins at all. It
// reads an index kept by the informer events, so its cost does not grow with the number of
// keys; it allocates only for an origin with upper-case letters, which browsers never send.
func (d *Directory) PublicOriginAllowed(origin string) bool {
	lower := strings.ToLower(origin) // no copy when already lower-case
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.origins.anyOrigin > 0 || d.origins.byOrigin[lower] > 0
}

// originIndex counts, for CORS preflights, the public keys that accept each origin. A key is
// added in onKey and removed in dropKey, both from the Key the directory holds, so an update
// (revocation, a new origin list, expiry) or a delete moves the counts by exactly what that
// key contributed. The zero value is empty and ready.
type originIndex struct {
	anyOrigin int            // indexed keys that list no origins: they accept any
	byOrigin  map[string]int // lower-cased origin -> how often indexed keys list it
}

// add adds (delta 1) or removes (delta -1) what key contributes, if it was indexed.
func (x *originIndex) add(key *Key, delta int) {
	if !key.inOriginIndex {
		return
	}
	origins := key.Object.Spec.AllowedOrigins
	if len(origins) == 0 {
		x.anyOrigin += delta
		return
	}
	if x.byOrigin == nil {
		x.byOrigin = map[string]int{}
	}
	for _, o := range origins {
		o = strings.ToLower(o)
		if n := x.byOrigin[o] + delta; n > 0 {
			x.byOrigin[o] = n
		} else {
			delete(x.byOrigin, o)
		}
	}
}

// acceptsOrigins reports whether a key counts in the origin index: a public key, not revoked,
// not marked Expired by the controller, and not past its expiresAt when observed. A key that
// expires later keeps counting until the controller marks it (an update event), which is
// soon enough for a preflight: the request that follows is checked against its own key.
func acceptsOrigins(k *Key, now time.Time) bool {
	return k.Object.Spec.Type == qualv1alpha1.KeyPublic && k.Usable(now) &&
		!meta.IsStatusConditionTrue(k.Object.Status.Conditions, qualv1alpha1.ConditionExpired)
}
