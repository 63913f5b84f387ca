package directory

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

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
	key := &Key{Object: k, Scopes: EffectiveScopes(k)}
	if k.Spec.ExpiresAt != nil {
		key.ExpiresAt = k.Spec.ExpiresAt.Time
	}
	d.keyByUID[string(k.UID)] = key
	if digest, ok := digestOf(keyindex.HashRef(k)); ok {
		d.keys[digest] = key
	}
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
	if digest, ok := digestOf(keyindex.HashRef(old.Object)); ok && d.keys[digest] == old {
		delete(d.keys, digest)
	}
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

// PublicOriginAllowed reports whether some usable public key accepts origin: one that lists
// it, or one that lists no origins at all.
func (d *Directory) PublicOriginAllowed(origin string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, k := range d.keyByUID {
		if k.Object.Spec.Type != qualv1alpha1.KeyPublic || k.Object.Spec.Revoked {
			continue
		}
		if len(k.Object.Spec.AllowedOrigins) == 0 {
			return true
		}
		for _, o := range k.Object.Spec.AllowedOrigins {
			if strings.EqualFold(o, origin) {
				return true
			}
		}
	}
	return false
}
