//go:build unix

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/credence/credence/internal/loadgen"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier"
)

// BenchmarkVerifyThroughput is issue 6's throughput benchmark: VC-API
// POST /credentials/verify over HTTP (keep-alive, 32 concurrent clients,
// the embedded store, every decision audited) for a vc+jwt and an
// eddsa-rdfc-2022 license with warm caches, next to the library-level
// verification of the same credential in the same run (the same pipeline:
// proof, validity, status, schema; without HTTP, JSON request decoding and
// the audit append). Four sub-benchmarks per format:
//
//   - library: Verifier.VerifyCredential on GOMAXPROCS goroutines.
//   - http: the clients are goroutines of this process, so the server
//     shares its CPU with them (a lower bound on throughput).
//   - http-floor: the same requests, from `credence bench verify` in
//     another process, answered by a bare net/http handler that reads the
//     body and writes a captured verify response: the floor any Go HTTP
//     server costs on this machine before it does any work.
//   - http-external: the clients are `credence bench verify` in another
//     process (built here), as wrk would be; this process is then only the
//     server, and its CPU time per request is measured.
//
// Every sub-benchmark reports verif/s and cpu-us/op, the CPU time this
// process spent per verification (getrusage: user + system, GC and
// background work included; for http it includes the clients). overhead-%
// is the server's CPU per HTTP verification over the library's CPU per
// verification, minus one: what HTTP, request decoding and the audit add to
// the cost of a verification, measured without the load generator's CPU.
// above-floor-% leaves out the floor: what Credence's own request handling
// (routing, middleware, decoding, the audit append, encoding) adds.
// http-external also reports audit-entries/write: how many decisions
// shared each audit store write (group commit; an fsync each on bbolt).
//
//	go test -run '^$' -bench VerifyThroughput -benchtime 20000x ./internal/server
func BenchmarkVerifyThroughput(b *testing.B) {
	b.Logf("GOGC=%s, as credence serve runs", TuneGC(os.Getenv))
	cfg := testConfig(b)
	cfg.AnonymousRate = 0 // every request comes from one address, without a token
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
		var lib, libCPU float64
		b.Run(string(f)+"/library", func(b *testing.B) {
			b.SetParallelism(1)
			cpu0 := cpuTime()
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
			libCPU = (cpuTime() - cpu0).Seconds() * 1e6 / float64(b.N)
			b.ReportMetric(lib, "verif/s")
			b.ReportMetric(libCPU, "cpu-us/op")
		})
		b.Run(string(f)+"/http", func(b *testing.B) {
			b.SetParallelism(16) // 32 clients on 2 cores
			var mu sync.Mutex
			lat := make([]time.Duration, 0, b.N)
			cpu0 := cpuTime()
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
			web := float64(b.N) / time.Since(start).Seconds()
			slices.Sort(lat)
			b.ReportMetric(web, "verif/s")
			b.ReportMetric((cpuTime()-cpu0).Seconds()*1e6/float64(b.N), "cpu-us/op")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
		file := filepath.Join(b.TempDir(), string(f)+".json")
		if err := os.WriteFile(file, issued.VerifiableCredential, 0o600); err != nil {
			b.Fatal(err)
		}
		var floorCPU float64
		b.Run(string(f)+"/http-floor", func(b *testing.B) {
			// The same requests answered by a bare net/http handler that
			// reads the body and writes a verify response captured from the
			// service: what any Go HTTP server costs here, before it verifies
			// or records anything.
			resp, answer := do(b, "POST", ts.URL+"/credentials/verify", "", string(body))
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("verify: %d %s", resp.StatusCode, answer)
			}
			floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := io.Copy(io.Discard, r.Body); err != nil {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(answer)
			}))
			defer floor.Close()
			floorCPU = external(b, floor.URL, file, libCPU)
		})
		b.Run(string(f)+"/http-external", func(b *testing.B) {
			st0 := s.decisions.Stats()
			cpu := external(b, ts.URL, file, libCPU)
			st := s.decisions.Stats()
			b.ReportMetric(float64(st.Appends-st0.Appends)/float64(st.Writes-st0.Writes), "audit-entries/write")
			if libCPU > 0 && floorCPU > 0 {
				b.ReportMetric(100*(cpu-floorCPU-libCPU)/libCPU, "above-floor-%")
			}
		})
	}
}

// external drives POST url/credentials/verify with `credence bench verify`
// in its own process (32 clients, b.N requests, the credential in file) and
// reports its throughput and latency, and the CPU time this process spent
// per request; with libCPU, also that CPU over the library's, minus one.
func external(b *testing.B, url, file string, libCPU float64) float64 {
	cmd := exec.Command(loadGenerator(b), "bench", "verify", "--server", url, "--credential", file, "--json",
		"--concurrency", "32", "--warmup", "0", "--requests", strconv.Itoa(b.N))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cpu0 := cpuTime()
	out, err := cmd.Output()
	cpu := (cpuTime() - cpu0).Seconds() * 1e6 / float64(b.N)
	var r struct{ Result loadgen.Result }
	if err != nil || json.Unmarshal(out, &r) != nil || r.Result.Errors > 0 {
		b.Fatalf("credence bench verify: %v\n%s%s", err, out, stderr.Bytes())
	}
	b.ReportMetric(r.Result.PerSecond, "verif/s")
	b.ReportMetric(cpu, "cpu-us/op")
	b.ReportMetric(float64(r.Result.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(r.Result.P99.Microseconds())/1000, "p99-ms")
	if libCPU > 0 {
		b.ReportMetric(100*(cpu/libCPU-1), "overhead-%")
	}
	return cpu
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var (
	loadGenOnce sync.Once
	loadGenBin  string
	loadGenErr  error
)

// loadGenerator builds the credence binary once per run, for its bench
// verify command.
func loadGenerator(b *testing.B) string {
	loadGenOnce.Do(func() {
		dir, err := os.MkdirTemp("", "credence-bench-")
		if err != nil {
			loadGenErr = err
			return
		}
		loadGenBin = filepath.Join(dir, "credence")
		out, err := exec.Command("go", "build", "-o", loadGenBin, "github.com/credence/credence/cmd/credence").CombinedOutput()
		if err != nil {
			loadGenErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if loadGenErr != nil {
		b.Fatal(loadGenErr)
	}
	return loadGenBin
}
