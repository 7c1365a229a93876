package di

import (
	"context"
	"crypto"
	"slices"
	"testing"
	"time"

	"github.com/credence/credence/vc"
)

// timeKeys records the signing time (vc.SigningTime) of each key lookup.
type timeKeys struct {
	vc.StaticKeys
	got []time.Time
}

func (k *timeKeys) PublicKey(ctx context.Context, vm, purpose string) (crypto.PublicKey, error) {
	t, _ := vc.SigningTime(ctx)
	k.got = append(k.got, t)
	return k.StaticKeys.PublicKey(ctx, vm, purpose)
}

// TestSigningTimeOfProofs: each assertion proof's key is looked up with
// that proof's created as the signing time; an authentication proof's, or
// one without created, with none, even under a context that carries one.
func TestSigningTimeOfProofs(t *testing.T) {
	e := testEngine(t)
	signer, static := vectorKey(t)
	later := vectorTime.Add(time.Hour)
	outer := vc.WithSigningTime(bg, vectorTime.Add(-time.Hour))
	sign := func(o Options) map[string]any {
		t.Helper()
		doc, err := e.Sign(bg, readJSON(t, "unsigned.json"), signer, o)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	noCreated := sign(Options{Created: vectorTime})
	delete(noCreated["proof"].(map[string]any), "created")
	tests := []struct {
		name string
		ctx  context.Context
		doc  map[string]any
		o    VerifyOptions
		want []time.Time
		fail bool // the proof does not verify (after the lookup)
	}{
		{"assertion", bg, sign(Options{Created: vectorTime}), verifyAt, []time.Time{vectorTime}, false},
		{"assertion under an outer time", outer, sign(Options{Created: vectorTime}), verifyAt, []time.Time{vectorTime}, false},
		{"proof set", bg, func() map[string]any {
			doc, err := e.Sign(bg, sign(Options{Created: vectorTime}), signer, Options{Created: later})
			if err != nil {
				t.Fatal(err)
			}
			return doc
		}(), verifyAt, []time.Time{vectorTime, later}, false},
		{"authentication", outer, sign(Options{Created: vectorTime, Purpose: vc.PurposeAuthentication}),
			VerifyOptions{Now: verifyAt.Now, Purpose: vc.PurposeAuthentication}, []time.Time{{}}, false},
		{"no created", outer, noCreated, verifyAt, []time.Time{{}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := &timeKeys{StaticKeys: static}
			if _, err := e.Verify(tt.ctx, tt.doc, keys, tt.o); (err != nil) != tt.fail {
				t.Errorf("Verify: %v", err)
			}
			if !slices.EqualFunc(keys.got, tt.want, time.Time.Equal) {
				t.Errorf("signing times %v, want %v", keys.got, tt.want)
			}
		})
	}
}
