package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier"
)

// BenchmarkVerifyThroughput is issue 6's throughput benchmark: VC-API
// POST /credentials/verify over HTTP (keep-alive, 32 concurrent clients,
// the embedded store) for a vc+jwt and an eddsa-rdfc-2022 license with warm
// caches, next to the library-level verification of the same credential in
// the same run (the same pipeline: proof, validity, status, schema; without
// HTTP, JSON request decoding and the audit append). It reports
// verifications/s and, over HTTP, p50/p99 latency; overhead-% is how much
// more each verification costs over HTTP than in the library.
//
//	go test -run '^$' -bench VerifyThroughput -benchtime 20000x ./internal/server
func BenchmarkVerifyThroughput(b *testing.B) {
	cfg := testConfig(b)
	s, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer func() { ts.Close(); s.Close() }()
	resp, out := do(b, "POST", ts.URL+"/admin/issuers", adminToken, `{"name":"Texas Medical Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("issuer: %d %s", resp.StatusCode, out)
	}
	var tx tenantOut
	_ = json.Unmarshal(out, &tx)
	g := synth.New(3)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, f := range []secure.Format{secure.JWT, secure.DataIntegrity} {
		resp, out := do(b, "POST", ts.URL+"/issuers/"+tx.Issuer.ID+"/credentials/issue", tx.Token, licenseBody(b, activeLicense(g), string(f)))
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("issue %s: %d %s", f, resp.StatusCode, out)
		}
		var issued struct{ VerifiableCredential json.RawMessage }
		_ = json.Unmarshal(out, &issued)
		body, _ := json.Marshal(map[string]any{"verifiableCredential": issued.VerifiableCredential})
		var lib, web float64
		b.Run(string(f)+"/library", func(b *testing.B) {
			b.SetParallelism(1)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					in, err := secure.ParseInput(issued.VerifiableCredential)
					if err != nil {
						b.Fatal(err)
					}
					if r := s.verifier.VerifyCredential(context.Background(), in, verifier.Options{}); !r.Verified {
						b.Fatalf("%+v", r.Errors)
					}
				}
			})
			lib = float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(lib, "verif/s")
		})
		b.Run(string(f)+"/http", func(b *testing.B) {
			b.SetParallelism(16) // 32 clients on 2 cores
			var mu sync.Mutex
			lat := make([]time.Duration, 0, b.N)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				mine := make([]time.Duration, 0, 1024)
				for pb.Next() {
					t0 := time.Now()
					resp, err := client.Post(ts.URL+"/credentials/verify", "application/json", bytes.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("verify: %d", resp.StatusCode)
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			web = float64(b.N) / time.Since(start).Seconds()
			slices.Sort(lat)
			b.ReportMetric(web, "verif/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			if lib > 0 {
				b.ReportMetric(100*(lib/web-1), "overhead-%")
			}
		})
	}
}
