package witness

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func post(t *testing.T, url string, body []byte) (int, string, string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestHandlerAddCheckpoint: statuses, content types and bodies of
// POST /add-checkpoint per tlog-witness, for a witness at size 10.
func TestHandlerAddCheckpoint(t *testing.T) {
	l := newTestLog(t, "credence.test/log").grow(12, "a")
	other := newTestLog(t, "credence.test/other").grow(1, "o")
	impostor := newTestLog(t, "credence.test/log").grow(12, "a")
	req := func(old uint64, proof []tlog.Hash, signed []byte) []byte {
		return AddRequest{OldSize: old, Proof: proof, Checkpoint: signed}.Marshal()
	}
	bad := l.proof(10, 12)
	bad[1][5] ^= 1
	tests := []struct {
		name        string
		body        []byte
		status      int
		contentType string
		wantBody    string // exact, or a prefix when ending in "*"
	}{
		{"cosigned", req(10, l.proof(10, 12), l.checkpoint(12)), 200, contentTypeText, "— witness.credence.test/w1 *"},
		{"old size conflict", req(7, l.proof(7, 12), l.checkpoint(12)), 409, "text/x.tlog.size", "10\n"},
		{"bad proof", req(10, bad, l.checkpoint(12)), 422, contentTypeText, "witness: checkpoint not consistent*"},
		{"unknown origin", req(0, nil, other.checkpoint(1)), 404, contentTypeText, "witness: unknown log*"},
		{"not signed by the log key", req(10, l.proof(10, 12), impostor.checkpoint(12)), 403, contentTypeText, "witness: checkpoint not signed*"},
		{"old size above the checkpoint", req(11, nil, l.checkpoint(10)), 400, contentTypeText, "witness: malformed request*"},
		{"malformed body", []byte("old x\n\n"), 400, contentTypeText, "witness: malformed request*"},
		{"empty body", nil, 400, contentTypeText, "witness: malformed request*"},
		{"too large", make([]byte, MaxRequestSize+1), 413, contentTypeText, "request body larger*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := newWitness(t, nil, l)
			if _, err := w.AddCheckpoint(t.Context(), 0, nil, l.checkpoint(10)); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(w.Handler())
			defer srv.Close()
			status, ct, body := post(t, srv.URL+"/add-checkpoint", tt.body)
			if status != tt.status || ct != tt.contentType {
				t.Fatalf("got %d %q, want %d %q (body %q)", status, ct, tt.status, tt.contentType, body)
			}
			if p, ok := strings.CutSuffix(tt.wantBody, "*"); ok && !strings.HasPrefix(body, p) || !ok && body != tt.wantBody {
				t.Fatalf("body %q, want %q", body, tt.wantBody)
			}
			if status == 200 {
				if strings.Count(body, "\n") != 1 || !strings.HasSuffix(body, "\n") {
					t.Fatalf("body %q is not one signature line", body)
				}
				if _, err := note.Open([]byte(string(l.checkpoint(12))+body), note.VerifierList(w.Cosigner().Verifier())); err != nil {
					t.Fatalf("the returned line does not verify: %v", err)
				}
			}
		})
	}
}

func TestHandlerMethodsAndMonitoring(t *testing.T) {
	l := newTestLog(t, "credence.test/log").grow(3, "a")
	idle := newTestLog(t, "credence.test/idle")
	w, _ := newWitness(t, nil, l, idle)
	lines, err := w.AddCheckpoint(t.Context(), 0, nil, l.checkpoint(3))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	defer srv.Close()
	hash := func(origin string) string { h := sha256.Sum256([]byte(origin)); return hex.EncodeToString(h[:]) }
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/add-checkpoint", 405, ""},
		{"PUT", "/add-checkpoint", 405, ""},
		{"GET", "/" + hash(l.origin) + "/checkpoint", 200, string(cosigned(l.checkpoint(3), lines))},
		{"GET", "/" + strings.ToUpper(hash(l.origin)) + "/checkpoint", 404, ""},
		{"GET", "/" + hash(idle.origin) + "/checkpoint", 404, ""},
		{"GET", "/" + hash("credence.test/unknown") + "/checkpoint", 404, ""},
		{"POST", "/" + hash(l.origin) + "/checkpoint", 405, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || tt.body != "" && string(b) != tt.body {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, b, tt.status, tt.body)
		}
	}
}
