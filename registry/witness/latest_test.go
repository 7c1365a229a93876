package witness

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestLatest fetches a witness's cosigned checkpoint from the monitoring
// endpoint Handler serves, and refuses answers it must not trust.
func TestLatest(t *testing.T) {
	ctx := t.Context()
	l := newTestLog(t, "credence.test/log").grow(3, "a")
	w, _ := newWitness(t, nil, l)
	srv := httptest.NewServer(http.StripPrefix("/w", w.Handler()))
	defer srv.Close()

	if _, err := Latest(ctx, nil, srv.URL+"/w", l.origin); !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest before a cosignature = %v, want ErrNotFound", err)
	}
	if _, err := Latest(ctx, nil, srv.URL+"/w", "credence.test/other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest of an unknown log = %v, want ErrNotFound", err)
	}
	if _, err := w.AddCheckpoint(ctx, 0, nil, l.checkpoint(3)); err != nil {
		t.Fatal(err)
	}
	want, err := w.Latest(ctx, l.origin)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{srv.URL + "/w", srv.URL + "/w/"} {
		if got, err := Latest(ctx, srv.Client(), u, l.origin); err != nil || !bytes.Equal(got, want) {
			t.Errorf("Latest(%s) = %q, %v; want %q", u, got, err, want)
		}
	}

	for name, h := range map[string]http.HandlerFunc{
		"oversized": func(rw http.ResponseWriter, _ *http.Request) {
			_, _ = rw.Write(bytes.Repeat([]byte("a"), MaxRequestSize+1))
		},
		"500": func(rw http.ResponseWriter, _ *http.Request) { http.Error(rw, "boom", http.StatusInternalServerError) },
	} {
		bad := httptest.NewServer(h)
		_, err := Latest(ctx, nil, bad.URL, l.origin)
		bad.Close()
		if err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("%s: Latest = %v, want an error other than ErrNotFound", name, err)
		}
	}
	if _, err := Latest(ctx, nil, "/relative", l.origin); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("Latest of a relative URL = %v", err)
	}
}
