package wallet

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/credence/credence/vc"
)

// A credential record's plaintext is three parts, so the received bytes
// are kept exactly (encoding/json would compact an embedded RawMessage):
//
//	uvarint(len(meta)) meta uvarint(len(claims)) claims credential
//
// meta is the JSON of credMeta; claims is the JSON of the verified view,
// empty when the view is the received JSON object itself (Data Integrity).

// credMeta is what a listing filters and sorts on.
type credMeta struct {
	Seq          uint64     `json:"seq"`
	Format       string     `json:"format"`
	Types        []string   `json:"types"`
	Issuer       string     `json:"issuer"`
	CredentialID string     `json:"credentialId,omitempty"`
	VCT          string     `json:"vct,omitempty"`
	ValidFrom    *time.Time `json:"validFrom,omitempty"`
	ValidUntil   *time.Time `json:"validUntil,omitempty"`
	Received     time.Time  `json:"received"`
	// ClaimsAreCredential: the view is the received object.
	ClaimsAreCredential bool `json:"claimsAreCredential,omitempty"`
}

// errNoMatch is decodeCredential's answer for a record a filter excludes.
var errNoMatch = errors.New("no match")

// sameObject reports whether the verified view is the very object Verify
// was given (so it need not be stored twice).
func sameObject(claims vc.Credential, input any) bool {
	m, ok := input.(map[string]any)
	return ok && claims != nil && reflect.ValueOf(m).UnsafePointer() == reflect.ValueOf(map[string]any(claims)).UnsafePointer()
}

func encodeCredential(seq uint64, st *Stored, claimsAreCredential bool) ([]byte, error) {
	meta, err := vc.Marshal(credMeta{Seq: seq, Format: st.Format, Types: st.Types, Issuer: st.Issuer,
		CredentialID: st.CredentialID, VCT: st.VCT, ValidFrom: st.ValidFrom, ValidUntil: st.ValidUntil,
		Received: st.Received, ClaimsAreCredential: claimsAreCredential})
	if err != nil {
		return nil, err
	}
	var claims []byte
	if !claimsAreCredential {
		if claims, err = vc.Marshal(st.Claims); err != nil {
			return nil, err
		}
	}
	out := make([]byte, 0, 2*binary.MaxVarintLen64+len(meta)+len(claims)+len(st.Credential))
	out = binary.AppendUvarint(out, uint64(len(meta)))
	out = append(out, meta...)
	out = binary.AppendUvarint(out, uint64(len(claims)))
	out = append(out, claims...)
	return append(out, st.Credential...), nil
}

// decodeCredential opens a credential record; errNoMatch when f excludes
// it (its claims are then not decoded).
func decodeCredential(dk *dataKey, id string, sealed []byte, f Filter) (Stored, uint64, error) {
	pt, err := dk.open(kindCredential, id, sealed)
	if err != nil {
		return Stored{}, 0, err
	}
	meta, rest, ok := cut(pt)
	claims, cred, ok2 := cut(rest)
	var m credMeta
	if !ok || !ok2 || json.Unmarshal(meta, &m) != nil {
		return Stored{}, 0, fmt.Errorf("%w: credential %s does not decode", ErrCorrupt, id)
	}
	st := Stored{ID: id, Format: m.Format, Types: m.Types, Issuer: m.Issuer, CredentialID: m.CredentialID,
		VCT: m.VCT, ValidFrom: m.ValidFrom, ValidUntil: m.ValidUntil, Received: m.Received,
		Credential: bytes.Clone(cred)} // not a slice of pt, which holds the claims JSON too
	if !f.matches(&st) {
		return Stored{}, 0, errNoMatch
	}
	if m.ClaimsAreCredential {
		claims = cred
	}
	c, err := vc.DecodeObject(claims)
	if err != nil {
		return Stored{}, 0, fmt.Errorf("%w: credential %s: %w", ErrCorrupt, id, err)
	}
	st.Claims = c
	return st, m.Seq, nil
}

// cut splits a uvarint-length-prefixed part off b.
func cut(b []byte) (part, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}
