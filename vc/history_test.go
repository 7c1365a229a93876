package vc

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/did"
)

const histDID = "did:example:board"

// t0 is when the fake DIDs are created; day(n) is n days later.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func day(n float64) time.Time { return t0.Add(time.Duration(n * 24 * float64(time.Hour))) }

func seedKey(seed byte) ed25519.PublicKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
}

// docVersion is one version of a fake DID: fragment -> key seed, the
// fragments authorized for assertionMethod and for authentication.
type docVersion struct {
	at           time.Time
	keys         map[string]byte
	assert, auth []string
	deactivated  bool
	recovered    bool
}

func (v docVersion) document(t *testing.T) *did.Document {
	t.Helper()
	doc := &did.Document{ID: histDID}
	for frag, seed := range v.keys {
		mk, err := did.EncodeMultikey(seedKey(seed))
		if err != nil {
			t.Fatal(err)
		}
		doc.VerificationMethod = append(doc.VerificationMethod, did.VerificationMethod{ID: histDID + frag, Type: did.TypeMultikey,
			Controller: histDID, PublicKeyMultibase: mk})
	}
	for _, f := range v.assert {
		doc.AssertionMethod = append(doc.AssertionMethod, did.Relationship{Ref: histDID + f})
	}
	for _, f := range v.auth {
		doc.Authentication = append(doc.Authentication, did.Relationship{Ref: histDID + f})
	}
	return doc
}

// fakeHistory resolves a DID with versions as the did:credence method does
// (versionTime: the last version at or before it) and counts resolutions.
// unversioned answers like did:key (no versions, no versionId); ignoreOptions
// answers the current version whatever is asked; late versions are added
// after the first resolution, as ops landing meanwhile.
type fakeHistory struct {
	late                       []docVersion
	t                          *testing.T
	versions                   []docVersion
	unversioned, ignoreOptions bool
	calls                      int
}

func (f *fakeHistory) Resolve(_ context.Context, id string, o did.Options) (*did.Resolution, error) {
	f.calls++
	if f.calls == 2 {
		f.versions = append(f.versions, f.late...)
	}
	if id != histDID {
		return nil, did.ErrNotFound
	}
	n := len(f.versions)
	switch {
	case f.unversioned && (o.VersionID != "" || o.VersionTime != ""):
		return nil, did.ErrInvalidOptions
	case f.ignoreOptions:
	case o.VersionID != "":
		var err error
		if n, err = strconv.Atoi(o.VersionID); err != nil || n < 1 || n > len(f.versions) {
			return nil, did.ErrNotFound
		}
	case o.VersionTime != "":
		at, err := time.Parse(time.RFC3339, o.VersionTime)
		if err != nil {
			return nil, did.ErrInvalidOptions
		}
		for n = 0; n < len(f.versions) && !f.versions[n].at.After(at); n++ {
		}
		if n == 0 {
			return nil, did.ErrNotFound
		}
	}
	v := f.versions[n-1]
	res := &did.Resolution{Document: v.document(f.t)}
	if f.unversioned {
		return res, nil
	}
	m := &res.DocumentMetadata
	m.Created, m.VersionID, m.Deactivated, m.Recovered = t0.Format(time.RFC3339), strconv.Itoa(n), v.deactivated, v.recovered
	if n > 1 {
		m.Updated = v.at.Format(time.RFC3339)
	}
	if n < len(f.versions) && (o.VersionID != "" || o.VersionTime != "") && !f.ignoreOptions {
		m.NextVersionID, m.NextUpdate = strconv.Itoa(n+1), f.versions[n].at.Format(time.RFC3339)
	}
	return res, nil
}

var (
	v1Key1     = docVersion{at: t0, keys: map[string]byte{"#key-1": 1}, assert: []string{"#key-1"}, auth: []string{"#key-1"}}
	rotate2    = docVersion{at: day(10), keys: map[string]byte{"#key-2": 2}, assert: []string{"#key-2"}, auth: []string{"#key-2"}}
	deactivate = docVersion{at: day(20), keys: map[string]byte{"#key-2": 2}, assert: []string{"#key-2"}, deactivated: true}
)

func recovery(v docVersion, at float64) docVersion {
	v.at, v.recovered = day(at), true
	return v
}

func at(v docVersion, d float64) docVersion {
	v.at = day(d)
	return v
}

// TestDIDKeysHistory: DIDKeys finds a rotated assertion key in the version
// in effect at the proof's signing time, under the rules of its doc, and
// resolves once when the current document has the key.
func TestDIDKeysHistory(t *testing.T) {
	both := docVersion{keys: map[string]byte{"#key-1": 1, "#key-2": 2}, assert: []string{"#key-1", "#key-2"}}
	authOnly := docVersion{at: day(10), keys: map[string]byte{"#key-1": 1, "#key-2": 2}, assert: []string{"#key-2"}, auth: []string{"#key-1"}}
	sameFragment := docVersion{keys: map[string]byte{"#key-1": 3}, assert: []string{"#key-1"}}
	many := []docVersion{v1Key1, rotate2}
	for i := range MaxKeyHistory + 1 {
		many = append(many, at(rotate2, 11+float64(i)/100))
	}
	tests := []struct {
		name     string
		versions []docVersion
		fake     fakeHistory
		vm       string
		purpose  string    // default assertionMethod
		signed   time.Time // zero: no signing time in ctx
		want     byte      // seed of the key found; 0: ErrKey
		calls    int       // resolutions, when checked
		errHas   string
	}{
		{name: "current key", versions: many[:2], vm: "#key-2", want: 2, calls: 1},
		{name: "current key, signing time", versions: many[:2], vm: "#key-2", signed: day(1), want: 2, calls: 1},
		{name: "rotated key, signed before the rotation", versions: many[:2], vm: "#key-1", signed: day(9), want: 1, calls: 3},
		{name: "rotated key, signed a second before", versions: many[:2], vm: "#key-1", signed: day(10).Add(-time.Second), want: 1},
		{name: "rotated key, no signing time", versions: many[:2], vm: "#key-1", calls: 1, errHas: "has no verification method"},
		{name: "rotated key, signed in the rotation's second", versions: many[:2], vm: "#key-1", signed: day(10).Add(999 * time.Millisecond),
			want: 1, calls: 4},
		{name: "rotated key, signed a second after the rotation", versions: many[:2], vm: "#key-1", signed: day(10).Add(time.Second),
			errHas: "not authorized then"},
		{name: "a key added and removed within a second", versions: []docVersion{v1Key1, rotate2, at(v1Key1, 10)}, vm: "#key-2",
			signed: day(10), errHas: "not authorized then"},
		{name: "rotated key, signed after the rotation", versions: many[:2], vm: "#key-1", signed: day(11), errHas: "not authorized then"},
		{name: "rotated key, signed in the future", versions: many[:2], vm: "#key-1", signed: day(3650), errHas: "not authorized then"},
		{name: "rotated key, signed before the DID existed", versions: many[:2], vm: "#key-1", signed: day(-1), errHas: "resolution failed"},
		{name: "rotated key, for authentication", versions: many[:2], vm: "#key-1", purpose: PurposeAuthentication, signed: day(9), calls: 1},
		{name: "never a key", versions: many[:2], vm: "#key-9", signed: day(9), errHas: "not authorized then"},
		{name: "deactivated: the current key", versions: []docVersion{v1Key1, rotate2, deactivate}, vm: "#key-2", calls: 1, errHas: "deactivated"},
		{name: "deactivated: a rotated key", versions: []docVersion{v1Key1, rotate2, deactivate}, vm: "#key-1", signed: day(9), errHas: "deactivated"},
		{name: "deactivated while resolving", versions: many[:2], fake: fakeHistory{late: []docVersion{deactivate}}, vm: "#key-1", signed: day(9),
			errHas: "deactivated (version 3)"},
		{name: "removed by a recovery", versions: []docVersion{v1Key1, recovery(rotate2, 10)}, vm: "#key-1", signed: day(9), errHas: "a recovery"},
		{name: "rotated, then a recovery kept it out", versions: []docVersion{v1Key1, rotate2, recovery(rotate2, 12)}, vm: "#key-1", signed: day(9), want: 1},
		{name: "rotated, added back, removed by a recovery", versions: []docVersion{v1Key1, rotate2, at(both, 11), recovery(rotate2, 12)},
			vm: "#key-1", signed: day(9), errHas: "a recovery"},
		{name: "recovery replaced the key under the same id", versions: []docVersion{v1Key1, recovery(at(sameFragment, 10), 10), at(rotate2, 11)},
			vm: "#key-1", signed: day(9), errHas: "a recovery"},
		{name: "no longer an assertion method", versions: []docVersion{v1Key1, authOnly}, vm: "#key-1", signed: day(9), want: 1},
		{name: "no longer an assertion method, signed after", versions: []docVersion{v1Key1, authOnly}, vm: "#key-1", signed: day(11),
			errHas: "not authorized then"},
		{name: "too many versions since", versions: many, vm: "#key-1", signed: day(9), errHas: "more than"},
		{name: "a method without versions", versions: many[:2], fake: fakeHistory{unversioned: true}, vm: "#key-1", signed: day(9), calls: 1},
		{name: "a method that ignores versionTime", versions: many[:2], fake: fakeHistory{ignoreOptions: true}, vm: "#key-1", signed: day(9),
			errHas: "not the one in effect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fake
			f.t, f.versions = t, slices.Clone(tt.versions)
			ctx := context.Background()
			if !tt.signed.IsZero() {
				ctx = WithSigningTime(ctx, tt.signed)
			}
			got, err := DIDKeys{Resolver: &f}.PublicKey(ctx, histDID+tt.vm, cmpOr(tt.purpose, PurposeAssertion))
			switch {
			case tt.want != 0 && err != nil:
				t.Fatalf("error %v, want key %d", err, tt.want)
			case tt.want != 0 && !seedKey(tt.want).Equal(got):
				t.Fatalf("got another key than %d", tt.want)
			case tt.want == 0 && !errors.Is(err, ErrKey):
				t.Fatalf("got %v, %v; want an ErrKey", got, err)
			case tt.want == 0 && !strings.Contains(err.Error(), tt.errHas):
				t.Fatalf("error %q, want one saying %q", err, tt.errHas)
			}
			if tt.calls != 0 && f.calls != tt.calls {
				t.Errorf("%d resolutions, want %d", f.calls, tt.calls)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestSigningTimeContext: a zero time clears an inherited signing time, and
// a context without one is returned as is.
func TestSigningTimeContext(t *testing.T) {
	bg := context.Background()
	if WithSigningTime(bg, time.Time{}) != bg {
		t.Error("a zero signing time on a context without one made a new context")
	}
	if _, ok := SigningTime(bg); ok {
		t.Error("a background context has a signing time")
	}
	ctx := WithSigningTime(bg, day(1))
	if got, ok := SigningTime(ctx); !ok || !got.Equal(day(1)) {
		t.Errorf("SigningTime = %v, %v", got, ok)
	}
	if got, ok := SigningTime(WithSigningTime(ctx, time.Time{})); ok {
		t.Errorf("a cleared signing time is still %v", got)
	}
}

func ExampleWithSigningTime() {
	ctx := WithSigningTime(context.Background(), time.Date(2026, 1, 9, 8, 30, 0, 0, time.UTC))
	t, ok := SigningTime(ctx)
	fmt.Println(t.Format(time.RFC3339), ok)
	// Output: 2026-01-09T08:30:00Z true
}
