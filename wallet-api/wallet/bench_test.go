package wallet

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/vc/secure"
)

// BenchmarkWalletStore10k stores 10,000 license credentials (vc+jwt, as
// issued: enveloped, about 2 KB each) for one holder in a fresh bbolt file,
// then lists them. It reports AddCredential throughput (verification and
// two committed bbolt writes each), the bbolt file size and the sealed
// bytes per 10,000 credentials, and the heap the listing of 10,000 retains.
func BenchmarkWalletStore10k(b *testing.B) {
	const n = 10000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "wallet.db")
		store, err := boltkv.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		s, _ := newService(b, store, newMaster(b))
		h, _ := mustHolder(b, s, HolderInput{Label: "Ana Bailey"})
		iss := newIssuer(b)
		ins := make([]json.RawMessage, n)
		size := 0
		for j := range ins {
			ins[j] = iss.issue(b, s, h, cred{format: secure.JWT, seed: uint64(j)})
			size += len(ins[j])
		}
		ctx := b.Context()
		b.StartTimer()

		start := time.Now()
		for _, in := range ins {
			if _, err := s.AddCredential(ctx, h.ID, in); err != nil {
				b.Fatal(err)
			}
		}
		adds := time.Since(start)
		list, retained, allocated, listing := measureList(b, s, h.ID)
		if len(list) != n {
			b.Fatalf("listed %d, want %d", len(list), n)
		}

		b.StopTimer()
		sealed := valueBytes(b, store, bucketCredentials+h.ID)
		if err := store.Close(); err != nil {
			b.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/adds.Seconds(), "adds/s")
		b.ReportMetric(float64(st.Size()), "bolt-file-bytes/10k")
		b.ReportMetric(float64(sealed), "sealed-bytes/10k")
		b.ReportMetric(float64(retained), "list-retained-heap-bytes/10k")
		b.ReportMetric(float64(allocated), "list-alloc-bytes/10k")
		b.ReportMetric(float64(listing.Milliseconds()), "list-ms/10k")
		b.Logf("%d credentials received (%d bytes, %d per credential): %.0f adds/s; bolt file %d bytes, sealed values %d bytes (%d per credential); listing %d took %s, retained %d heap bytes (%d per credential), allocated %d",
			n, size, size/n, float64(n)/adds.Seconds(), st.Size(), sealed, sealed/n, len(list), listing, retained, retained/uint64(n), allocated)
		b.StartTimer()
	}
}

// measureList lists a holder's credentials and measures the heap the result
// retains (live heap after a GC, before and after) and allocates.
func measureList(b *testing.B, s *Service, holder string) ([]Stored, uint64, uint64, time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	list, err := s.Credentials(b.Context(), holder, Filter{})
	took := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(list)
	return list, after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc), after.TotalAlloc - before.TotalAlloc, took
}

// valueBytes sums the sizes of a bucket's values.
func valueBytes(b *testing.B, store kv.Store, bucket string) int {
	total := 0
	err := store.List(b.Context(), bucket, "", func(_ string, v []byte) error { total += len(v); return nil })
	if err != nil {
		b.Fatal(err)
	}
	return total
}
