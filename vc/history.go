package vc

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/credence/credence/did"
)

// MaxKeyHistory bounds the versions DIDKeys reads after the one in effect
// at a signing time; a DID changed more often since is refused (ErrKey).
const MaxKeyHistory = 64

type signingTimeKey struct{}

// WithSigningTime returns a context carrying t, the time the proof being
// verified says it was made: a Data Integrity proof's created, a JWT's iat.
// DIDKeys resolves an assertion key as of that time when the current DID
// document no longer authorizes it. Mechanisms set it around each assertion
// proof they verify, and clear it (a zero t) around every other proof, so
// that a presentation's holder proof is never verified with a key of the
// past. It travels in ctx to keep KeyResolver unchanged.
func WithSigningTime(ctx context.Context, t time.Time) context.Context {
	if t.IsZero() {
		if _, ok := SigningTime(ctx); !ok {
			return ctx
		}
	}
	return context.WithValue(ctx, signingTimeKey{}, t)
}

// SigningTime returns the signing time ctx carries; ok is false if none.
func SigningTime(ctx context.Context) (t time.Time, ok bool) {
	t, _ = ctx.Value(signingTimeKey{}).(time.Time)
	return t, !t.IsZero()
}

// versioned reports whether a resolved document has earlier versions to
// consult: did:key, did:jwk and did:web report no versionId, a DID never
// updated no updated time.
func versioned(m did.DocumentMetadata) bool { return m.VersionID != "" && m.Updated != "" }

// asOf finds vm in the version of id in effect at signed, under the rules
// of DIDKeys.PublicKey; current is why the current document missed.
func (k DIDKeys) asOf(ctx context.Context, id, vm, purpose string, signed time.Time, current error) (crypto.PublicKey, error) {
	at := signed.UTC().Truncate(time.Second)
	pub, err := k.keyAt(ctx, id, vm, purpose, at)
	if err != nil {
		return nil, fmt.Errorf("%w; as of the proof's signing time %s: %v", current, at.Format(time.RFC3339), err)
	}
	return pub, nil
}

// keyAt returns vm's key in the version in effect at at (a whole second)
// or, when that version was made within that second, in the one before it:
// a proof of the same second as the change is not after it. No later
// version may deactivate the DID or remove the key by a recovery.
func (k DIDKeys) keyAt(ctx context.Context, id, vm, purpose string, at time.Time) (crypto.PublicKey, error) {
	meta, pub, err := k.versionKey(ctx, id, vm, purpose, at)
	if errors.Is(err, errNotThen) && startOf(meta).Equal(at) {
		if m, p, err2 := k.versionKey(ctx, id, vm, purpose, at.Add(-time.Second)); err2 == nil {
			meta, pub, err = m, p, nil
		}
	}
	if err != nil {
		return nil, err
	}
	if err := k.checkRemovals(ctx, id, vm, purpose, pub, meta.NextVersionID); err != nil {
		return nil, err
	}
	return pub, nil
}

// errNotThen: the version in effect did not authorize the method.
var errNotThen = errors.New("it was not authorized then")

// versionKey returns vm's key in the version of id in effect at at, with
// the version's metadata.
func (k DIDKeys) versionKey(ctx context.Context, id, vm, purpose string, at time.Time) (did.DocumentMetadata, crypto.PublicKey, error) {
	res, err := k.Resolver.Resolve(ctx, id, did.Options{VersionTime: at.Format(time.RFC3339)})
	if err != nil {
		return did.DocumentMetadata{}, nil, fmt.Errorf("resolution failed: %w", err)
	}
	meta := res.DocumentMetadata
	switch {
	case res.Document == nil || meta.Deactivated:
		return meta, nil, fmt.Errorf("%s was deactivated", id)
	case !inEffect(meta, at):
		return meta, nil, fmt.Errorf("the resolver answered version %q, not the one in effect then", meta.VersionID)
	}
	pub, listed, err := methodKey(res.Document, id, vm, purpose)
	switch {
	case !listed:
		return meta, nil, fmt.Errorf("%w (version %s of %s does not authorize it for %s)", errNotThen, meta.VersionID, id, purpose)
	case err != nil:
		return meta, nil, fmt.Errorf("its key then is unusable: %w", err)
	}
	return meta, pub, nil
}

// startOf is when a version took effect (updated, else created); zero if
// the metadata does not say.
func startOf(m did.DocumentMetadata) time.Time {
	from := m.Updated
	if from == "" {
		from = m.Created
	}
	t, _ := time.Parse(time.RFC3339, from)
	return t
}

// inEffect reports whether a version took effect at or before at and was
// replaced after it (or not at all).
func inEffect(m did.DocumentMetadata, at time.Time) bool {
	if start := startOf(m); start.IsZero() || start.After(at) {
		return false
	}
	if m.NextUpdate == "" {
		return true
	}
	end, err := time.Parse(time.RFC3339, m.NextUpdate)
	return err == nil && end.After(at)
}

// checkRemovals walks the versions from next to the current one: none may
// be deactivated, and none that takes pub (under vm, for purpose) away may
// be a recovery.
func (k DIDKeys) checkRemovals(ctx context.Context, id, vm, purpose string, pub crypto.PublicKey, next string) error {
	held := true
	for n := 0; next != ""; n++ {
		if n == MaxKeyHistory {
			return fmt.Errorf("%s has more than %d versions since", id, MaxKeyHistory)
		}
		res, err := k.Resolver.Resolve(ctx, id, did.Options{VersionID: next})
		if err != nil {
			return fmt.Errorf("resolving version %s failed: %w", next, err)
		}
		m := res.DocumentMetadata
		if res.Document == nil || m.Deactivated {
			return fmt.Errorf("%s was deactivated (version %s)", id, next)
		}
		has := hasKey(res.Document, id, vm, purpose, pub)
		if held && !has && m.Recovered {
			return fmt.Errorf("version %s, a recovery, removed %s: it is not trusted as of an earlier time", next, vm)
		}
		held, next = has, m.NextVersionID
	}
	return nil
}

// hasKey reports whether doc authorizes vm for purpose with key pub.
func hasKey(doc *did.Document, id, vm, purpose string, pub crypto.PublicKey) bool {
	k, listed, err := methodKey(doc, id, vm, purpose)
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	return listed && err == nil && ok && eq.Equal(k)
}
