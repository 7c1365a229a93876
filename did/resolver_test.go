package did

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

type countingMethod struct {
	calls atomic.Int32
	err   error
}

func (m *countingMethod) Resolve(_ context.Context, d DID, _ Options) (*Resolution, error) {
	m.calls.Add(1)
	if m.err != nil {
		return nil, m.err
	}
	return &Resolution{Document: &Document{ID: d.String()}}, nil
}

func TestResolverDispatchAndErrors(t *testing.T) {
	r := NewResolver()
	ctx := context.Background()
	if _, err := r.Resolve(ctx, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, specJWKP256, Options{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		did    string
		want   error
		status int
		typ    string
	}{
		{"not-a-did", ErrInvalidDID, http.StatusBadRequest, "INVALID_DID"},
		{"did:example:123", ErrMethodNotSupported, http.StatusNotImplemented, "METHOD_NOT_SUPPORTED"},
		{"did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", ErrInvalidDID, http.StatusBadRequest, "INVALID_DID"},
	}
	for _, tt := range tests {
		_, err := r.Resolve(ctx, tt.did, Options{})
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.did, err, tt.want)
		}
		e, status := Classify(err)
		if status != tt.status || e.Type != ErrorNamespace+tt.typ {
			t.Errorf("%s: Classify = %s %d", tt.did, e.Type, status)
		}
	}
	if e, status := Classify(errors.New("disk on fire at /var/secret")); status != 500 || e.Detail == "disk on fire at /var/secret" {
		t.Errorf("unknown errors must be generic 500s: %+v", e)
	}
}

func TestResolverCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	m := &countingMethod{}
	r := NewResolver(WithMethod("example", m, time.Minute), WithClock(func() time.Time { return now }), WithCacheSize(2))
	ctx := context.Background()
	resolve := func(d string) {
		t.Helper()
		if _, err := r.Resolve(ctx, d, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	resolve("did:example:a")
	resolve("did:example:a")
	if m.calls.Load() != 1 {
		t.Fatalf("cache miss on second resolve: %d calls", m.calls.Load())
	}
	now = now.Add(2 * time.Minute)
	resolve("did:example:a")
	if m.calls.Load() != 2 {
		t.Fatalf("expired entry served: %d calls", m.calls.Load())
	}
	r.Invalidate("did:example:a")
	resolve("did:example:a")
	if m.calls.Load() != 3 {
		t.Fatalf("invalidated entry served: %d calls", m.calls.Load())
	}
	resolve("did:example:b")
	resolve("did:example:c") // evicts a (size 2)
	resolve("did:example:a")
	if m.calls.Load() != 6 {
		t.Fatalf("LRU bound not enforced: %d calls", m.calls.Load())
	}
	failing := &countingMethod{err: ErrNotFound}
	r2 := NewResolver(WithMethod("example", failing, time.Minute))
	for i := 0; i < 2; i++ {
		if _, err := r2.Resolve(ctx, "did:example:x", Options{}); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	}
	if failing.calls.Load() != 2 {
		t.Errorf("errors must not be cached: %d calls", failing.calls.Load())
	}
}

func BenchmarkResolveDIDKey(b *testing.B) {
	ctx := context.Background()
	b.Run("cached", func(b *testing.B) {
		r := NewResolver()
		for b.Loop() {
			_, _ = r.Resolve(ctx, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", Options{})
		}
	})
	b.Run("uncached", func(b *testing.B) {
		d := MustParse("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
		for b.Loop() {
			_, _ = KeyDocument(d, "", false)
		}
	})
}
