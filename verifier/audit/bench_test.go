package audit_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/verifier/audit"
)

// BenchmarkAppend appends decisions one after another to one chain, as one
// process does; it reports appends/s per driver (bbolt commits with fsync).
func BenchmarkAppend(b *testing.B) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			l := audit.New(d.open(b), newSigner("bench"))
			e := decision("bench", 1)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Append(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
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
