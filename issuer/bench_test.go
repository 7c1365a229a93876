package issuer

import (
	"context"
	"crypto/ed25519"
	"io"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/vc/healthcare/synth"
)

// BenchmarkBulkIssuance issues 100,000 license credentials per op through
// IssueBatch on the embedded store (bbolt on disk, one fsync per chunk),
// reporting credentials per second and the peak heap.
//
//	go test -run '^$' -bench BulkIssuance -benchtime 1x ./issuer
func BenchmarkBulkIssuance(b *testing.B) {
	const n = 100_000
	for _, format := range []string{"jwt", "di"} {
		b.Run(format, func(b *testing.B) {
			store, err := boltkv.Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			dids := &fakeDIDs{keys: map[string]ed25519.PrivateKey{}}
			e := newEnv(b)
			svc := New(store, dids, dids, &fakeTokens{}, e.eng, nil, WithClock(func() time.Time { return e.now }))
			tn, _, err := svc.CreateTenant(context.Background(), TenantInput{Name: "Texas Medical Board", Jurisdictions: []string{"TX"}, Types: []string{"MedicalLicenseCredential"}})
			if err != nil {
				b.Fatal(err)
			}
			g := synth.New(9, synth.WithNow(e.now))
			peak := trackPeakHeap()
			b.ResetTimer()
			for range b.N {
				i := 0
				next := func() (IssueRequest, int, error) {
					if i == n {
						return IssueRequest{}, 0, io.EOF
					}
					i++
					p := g.Provider()
					for p.License("TX").Expired(e.now) {
						p = g.Provider()
					}
					return IssueRequest{Credential: credential("MedicalLicenseCredential", p.LicenseSubject("TX")), Options: IssueOptions{Format: format}}, 0, nil
				}
				sum, err := svc.IssueBatch(context.Background(), tn.ID, next, func(BatchResult) error { return nil })
				if err != nil || sum.Issued != n {
					b.Fatalf("%+v %v", sum, err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "creds/s")
			b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
		})
	}
}

// trackPeakHeap samples the live heap every 10 ms until the returned
// function is called, which reports the largest sample.
func trackPeakHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	return func() uint64 { close(done); return peak.Load() }
}
