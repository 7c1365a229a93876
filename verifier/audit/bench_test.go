package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/verifier/audit"
)

// BenchmarkAppend appends decisions to one chain from g goroutines at once,
// as concurrent verification requests of one process do, with the commit
// delay off and at its default, and reports appends/s and entries per store
// write per driver (bbolt commits with fsync). g=1 is one append after
// another. Every run checks that the chain ended with exactly b.N entries.
//
//	go test -run '^$' -bench Append -benchtime 5000x ./verifier/audit
func BenchmarkAppend(b *testing.B) {
	for _, d := range drivers {
		for _, g := range []int{1, 64} {
			for _, delay := range []time.Duration{0, audit.DefaultCommitDelay} {
				b.Run(fmt.Sprintf("%s/g=%d/delay=%v", d.name, g, delay), func(b *testing.B) {
					store := &countingStore{Store: d.open(b)}
					l := audit.New(store, newSigner("bench"), audit.WithCommitDelay(delay))
					e := decision("bench", 1)
					ctx := context.Background()
					b.ReportAllocs()
					b.ResetTimer()
					var next atomic.Int64
					var wg sync.WaitGroup
					for range g {
						wg.Go(func() {
							for next.Add(1) <= int64(b.N) {
								if _, err := l.Append(ctx, e); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
					b.StopTimer()
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
					b.ReportMetric(float64(b.N)/float64(store.writes.Load()), "entries/write")
					if h, err := l.Head(ctx, "bench"); err != nil || h.Size != uint64(b.N) {
						b.Fatalf("Head = %+v, %v; want size %d", h, err, b.N)
					}
				})
			}
		}
	}
}

// BenchmarkVerify reports how fast an export is verified, in entries/s.
func BenchmarkVerify(b *testing.B) {
	signer := newSigner("bench")
	l := audit.New(memkv.New(), signer)
	appendN(b, l, "bench", 1000)
	var buf bytes.Buffer
	if err := l.Export(context.Background(), "bench", &buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := audit.Verify(bytes.NewReader(buf.Bytes()), signer.Public()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkExport reports how fast a chain is exported from memory, in
// entries/s.
func BenchmarkExport(b *testing.B) {
	l := audit.New(memkv.New(), newSigner("bench"))
	appendN(b, l, "bench", 1000)
	for b.Loop() {
		if err := l.Export(context.Background(), "bench", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "entries/s")
}
