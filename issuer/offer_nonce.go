package issuer

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/credence/credence/internal/kv"
)

// Nonce returns a fresh c_nonce for a tenant: a timestamp, random bits and
// an HMAC under the nonce key, valid NonceTTL and accepted once.
// Nothing is stored until a proof uses it.
func (o *Offers) Nonce(ctx context.Context, tenantID string) (string, error) {
	if _, err := o.svc.Tenant(ctx, tenantID); err != nil {
		return "", err
	}
	key, err := o.key(ctx)
	if err != nil {
		return "", err
	}
	var b [40]byte
	binary.BigEndian.PutUint64(b[:8], uint64(o.svc.now().Unix()))
	_, _ = rand.Read(b[8:24])
	copy(b[24:], nonceMAC(key, tenantID, b[:24]))
	return b64.EncodeToString(b[:]), nil
}

// checkNonce verifies a c_nonce's MAC, tenant and age.
func (o *Offers) checkNonce(ctx context.Context, tenantID, nonce string, now time.Time) error {
	b, err := b64.Strict().DecodeString(nonce)
	if err != nil || len(b) != 40 {
		return refuse(CodeInvalidNonce, "the nonce is not a c_nonce of this issuer")
	}
	key, err := o.key(ctx)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(b[24:], nonceMAC(key, tenantID, b[:24])) != 1 {
		return refuse(CodeInvalidNonce, "the nonce is not a c_nonce of this issuer")
	}
	issued := nonceIssued(b)
	if now.Sub(issued) > NonceTTL || issued.After(now.Add(ProofSkew)) {
		return errNonceExpired()
	}
	return nil
}

func nonceIssued(b []byte) time.Time { return time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0) }

func errNonceExpired() error {
	return refuse(CodeInvalidNonce, "the c_nonce expired: get a new one from the nonce endpoint")
}

// useNonce marks a c_nonce (checked by checkNonce) used; a second use is
// invalid_nonce. Its age is checked again, on the clock, once the marker
// is written: Sweep may have deleted the marker of an earlier use between
// the check and the write, but only after the c_nonce expired.
func (o *Offers) useNonce(ctx context.Context, nonce string, now time.Time) error {
	exp, _ := now.Add(NonceTTL).MarshalText()
	err := o.svc.kv.Create(ctx, bucketNonces, nonce, exp)
	if errors.Is(err, kv.ErrExists) {
		return refuse(CodeInvalidNonce, "the c_nonce was already used: get a new one from the nonce endpoint")
	}
	if err != nil {
		return err
	}
	if b, err := b64.Strict().DecodeString(nonce); err != nil || len(b) != 40 || o.svc.now().Sub(nonceIssued(b)) > NonceTTL {
		return errNonceExpired()
	}
	return nil
}

func nonceMAC(key []byte, tenantID string, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("credence oid4vci c_nonce\x00" + tenantID + "\x00"))
	m.Write(msg)
	return m.Sum(nil)[:16]
}

// key is the HMAC key of c_nonces, shared by every process of a
// deployment: NewOffers' nonceKey, derived from the master key, so that it
// is not kept in the store, where whoever read a dump could mint c_nonces.
func (o *Offers) key(context.Context) ([]byte, error) {
	if len(o.nonceKey) != NonceKeyBytes {
		return nil, fmt.Errorf("issuer: the c_nonce key has %d bytes, want %d", len(o.nonceKey), NonceKeyBytes)
	}
	return o.nonceKey, nil
}

// legacyNonceKey is where versions before the derived key kept the c_nonce
// key, in plaintext.
const legacyNonceKey = "nonce-key"

// DropStoredNonceKey deletes the c_nonce key earlier versions stored in
// plaintext (none: nothing to do). c_nonces made under it are refused
// afterwards; wallets ask the nonce endpoint for a new one.
func (o *Offers) DropStoredNonceKey(ctx context.Context) error {
	err := o.svc.kv.Delete(ctx, bucketOID4VCI, legacyNonceKey)
	if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return fmt.Errorf("failed to delete the stored c_nonce key: %w", err)
	}
	return nil
}
