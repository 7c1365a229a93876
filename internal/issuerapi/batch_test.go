package issuerapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/issuer"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/gin-gonic/gin"
)

// gatedDIDs holds every signing-key lookup (one at the start of each batch)
// until release is closed, announcing it on entered.
type gatedDIDs struct {
	*didKeys
	entered chan struct{}
	release chan struct{}
}

func (d *gatedDIDs) AssertionKey(ctx context.Context, id string) (string, string, error) {
	if d.release != nil {
		d.entered <- struct{}{}
		<-d.release
	}
	return d.didKeys.AssertionKey(ctx, id)
}

// newBatchServer serves the issuer routes (without authentication) for one
// Arizona board, whose batches are at dids' mercy.
func newBatchServer(t *testing.T, dids *gatedDIDs) (*httptest.Server, string) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	dids.didKeys = &didKeys{keys: map[string]ed25519.PrivateKey{}}
	svc := issuer.New(memkv.New(), dids, dids, noTokens{}, engine, nil, issuer.WithClock(func() time.Time { return testNow }))
	tn, _, err := svc.CreateTenant(context.Background(), issuer.TenantInput{Name: "Arizona Medical Board",
		Jurisdictions: []string{"AZ"}, Types: []string{healthcare.MedicalLicense}})
	if err != nil {
		t.Fatal(err)
	}
	e := gin.New()
	(&API{Issuer: svc, Log: slog.New(slog.DiscardHandler)}).Routes(e, e)
	s := httptest.NewServer(e)
	t.Cleanup(s.Close)
	return s, s.URL + "/issuers/" + tn.ID + "/credentials/batch?format=jwt"
}

// postBatch sends body and returns the answer and its lines (it may run
// outside the test's goroutine: it reports failures with Error).
func postBatch(t *testing.T, u string, body io.Reader) (*http.Response, []batchLine) {
	t.Helper()
	res, err := http.Post(u, MediaNDJSON, body)
	if err != nil {
		t.Error(err)
		return &http.Response{}, nil
	}
	defer res.Body.Close()
	var lines []batchLine
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l batchLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Errorf("answer line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Error(err)
	}
	return res, lines
}

// licenseLine is an issue request for the sample license (Arizona, valid at
// testNow), on one line.
func licenseLine(t *testing.T) string {
	t.Helper()
	c := sampleLicense(t)
	line, _ := json.Marshal(map[string]any{"credential": map[string]any{
		"@context": []any{vc.ContextV2, healthcare.ContextURL}, "type": []any{vc.TypeCredential, healthcare.MedicalLicense},
		"credentialSubject": c["credentialSubject"]}})
	return string(line)
}

// padded is a valid issue request line of exactly n bytes (whitespace pads it).
func padded(t *testing.T, n int) string {
	t.Helper()
	line := licenseLine(t)
	if len(line) > n {
		t.Fatalf("a request is %d bytes, more than %d", len(line), n)
	}
	return line[:len(line)-1] + strings.Repeat(" ", n-len(line)) + "}"
}

// TestBatchLineLimit: a line over MaxBatchLineBytes fails its item only,
// whether it is a valid request or garbage, however long, and last without
// a newline; a line of exactly the limit is issued.
func TestBatchLineLimit(t *testing.T) {
	_, u := newBatchServer(t, &gatedDIDs{})
	ok := licenseLine(t)
	in := []string{
		ok,
		padded(t, MaxBatchLineBytes+1),
		padded(t, MaxBatchLineBytes),
		strings.Repeat("x", 2<<20+MaxBatchLineBytes/3), // over the old 1 MiB limit too
		ok,
		strings.Repeat("y", MaxBatchLineBytes+1), // the last line, without a newline
	}
	tooLong := map[int]bool{1: true, 3: true, 5: true}
	res, lines := postBatch(t, u, strings.NewReader(strings.Join(in, "\n")))
	if res.StatusCode != http.StatusOK || len(lines) != len(in)+1 {
		t.Fatalf("%d, %d lines: %+v", res.StatusCode, len(lines), lines)
	}
	for i, l := range lines[:len(in)] {
		switch {
		case l.Index == nil || *l.Index != i:
			t.Errorf("line %d: index %v", i, l.Index)
		case tooLong[i] && (l.Error == nil || l.Error.Type != httpx.ProblemBase+"line-too-large" || l.Error.Status != http.StatusRequestEntityTooLarge):
			t.Errorf("line %d: %+v, want a line-too-large error", i, l.Error)
		case !tooLong[i] && (l.Error != nil || l.VerifiableCredential == nil):
			t.Errorf("line %d: %+v, want a credential", i, l.Error)
		}
	}
	if s := lines[len(in)].Summary; s == nil || s.Total != len(in) || s.Issued != 3 || s.Failed != 3 {
		t.Errorf("summary %+v", s)
	}
}

// TestBatchConcurrencyLimit: while MaxBatches batches run, another is
// refused at once with 503 and Retry-After, before it starts; once they end,
// a batch runs again.
func TestBatchConcurrencyLimit(t *testing.T) {
	dids := &gatedDIDs{entered: make(chan struct{}, MaxBatches+2), release: make(chan struct{})}
	_, u := newBatchServer(t, dids)
	body := licenseLine(t) + "\n"
	done := make(chan []batchLine, MaxBatches)
	for range MaxBatches {
		go func() {
			_, lines := postBatch(t, u, strings.NewReader(body))
			done <- lines
		}()
		<-dids.entered
	}
	refused := make(chan *http.Response, 1)
	go func() {
		res, err := http.Post(u, MediaNDJSON, strings.NewReader(body))
		if err != nil {
			t.Error(err)
			close(refused)
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(b))
		refused <- res
	}()
	var res *http.Response
	select {
	case <-dids.entered:
		close(dids.release)
		t.Fatalf("batch %d started while %d ran", MaxBatches+1, MaxBatches)
	case res = <-refused:
	}
	close(dids.release)
	if res == nil {
		t.FailNow()
	}
	var p httpx.Problem
	_ = json.NewDecoder(res.Body).Decode(&p)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" ||
		res.Header.Get("Content-Type") != httpx.MediaProblem || p.Type != httpx.ProblemBase+"batch-busy" {
		t.Errorf("refused batch: %d %v %+v", res.StatusCode, res.Header, p)
	}
	for range MaxBatches {
		if lines := <-done; len(lines) != 2 || lines[0].VerifiableCredential == nil {
			t.Errorf("a running batch answered %+v", lines)
		}
	}
	if res, lines := postBatch(t, u, strings.NewReader(body)); res.StatusCode != http.StatusOK || len(lines) != 2 || lines[1].Summary == nil {
		t.Errorf("a batch after the others ended: %d %+v", res.StatusCode, lines)
	}
}
