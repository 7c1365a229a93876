package status

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

// TestAllocatorTakesAll: every index of a full-size list, each exactly once,
// then ErrListFull.
func TestAllocatorTakesAll(t *testing.T) {
	a, err := NewAllocator(MinBits, nil) // crypto/rand
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, MinBits)
	var first []int
	for a.Free() > 0 {
		k := min(1000, a.Free())
		got, err := a.Take(k)
		if err != nil || len(got) != k {
			t.Fatalf("Take(%d) = %d indexes, %v", k, len(got), err)
		}
		for _, i := range got {
			if i < 0 || i >= MinBits || seen[i] {
				t.Fatalf("index %d out of range or handed out twice", i)
			}
			seen[i] = true
		}
		if first == nil {
			first = got
		}
	}
	for i, s := range seen {
		if !s {
			t.Fatalf("index %d never handed out", i)
		}
	}
	if _, err := a.Next(); !errors.Is(err, ErrListFull) {
		t.Fatalf("Next on a full list: %v", err)
	}
	if _, err := a.Take(1); !errors.Is(err, ErrListFull) {
		t.Fatalf("Take on a full list: %v", err)
	}
	if got, err := a.Take(0); err != nil || len(got) != 0 {
		t.Fatalf("Take(0) = %v, %v", got, err)
	}

	// The first 1000 picks look random: not sequential, spread over the list.
	ascending, small := 0, 0
	var sum float64
	for j, i := range first {
		if j > 0 && i == first[j-1]+1 {
			ascending++
		}
		if i < 1000 {
			small++
		}
		sum += float64(i)
	}
	if ascending > 5 || small > 30 {
		t.Fatalf("first picks look sequential: %d consecutive, %d below 1000: %v", ascending, small, first[:20])
	}
	// Mean of 1000 uniform picks: MinBits/2 with a standard error of ~1200.
	if mean := sum / 1000; math.Abs(mean-MinBits/2) > 8000 {
		t.Fatalf("mean of the first picks %.0f, expected about %d", mean, MinBits/2)
	}
}

// TestAllocatorUniform: with some indexes used, every free index is drawn
// equally often (chi-squared), including when the list is nearly full.
func TestAllocatorUniform(t *testing.T) {
	const n, draws = 200, 200000
	base, _ := NewAllocator(n, seeded(1))
	// Use all but 20 indexes, leaving a scattered free set.
	if _, err := base.Take(n - 20); err != nil {
		t.Fatal(err)
	}
	state, _ := base.MarshalBinary()
	counts := map[int]int{}
	src := seeded(7)
	for range draws {
		var a Allocator
		if err := a.UnmarshalBinary(state); err != nil {
			t.Fatal(err)
		}
		a.SetRand(src)
		i, err := a.Next()
		if err != nil {
			t.Fatal(err)
		}
		if base.Used(i) {
			t.Fatalf("drew used index %d", i)
		}
		counts[i]++
	}
	if len(counts) != 20 {
		t.Fatalf("drew %d distinct indexes, want 20", len(counts))
	}
	var chi2 float64
	exp := float64(draws) / 20
	for _, c := range counts {
		chi2 += (float64(c) - exp) * (float64(c) - exp) / exp
	}
	// 19 degrees of freedom: P(chi2 > 50) < 1e-4.
	if chi2 > 50 {
		t.Fatalf("chi-squared %.1f over %v", chi2, counts)
	}
}

func TestAllocatorMarshal(t *testing.T) {
	for _, n := range []int{1, 7, 64, 65, 1000, MinBits} {
		a, err := NewAllocator(n, seeded(uint64(n)))
		if err != nil {
			t.Fatal(err)
		}
		taken, _ := a.Take(n / 2)
		state, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(state) > 4+(n+7)/8 {
			t.Fatalf("n=%d: state of %d bytes", n, len(state))
		}
		var b Allocator
		if err := b.UnmarshalBinary(state); err != nil {
			t.Fatal(err)
		}
		if b.Len() != n || b.Free() != n-n/2 {
			t.Fatalf("n=%d: restored Len %d Free %d", n, b.Len(), b.Free())
		}
		for _, i := range taken {
			if !b.Used(i) {
				t.Fatalf("n=%d: index %d lost", n, i)
			}
		}
		// Same state and randomness: the same next picks.
		a.SetRand(seeded(99))
		b.SetRand(seeded(99))
		x, _ := a.Take(n - n/2)
		y, _ := b.Take(n - n/2)
		for j := range x {
			if x[j] != y[j] || !b.Used(y[j]) {
				t.Fatalf("n=%d: diverged after restore", n)
			}
		}
		again, _ := b.MarshalBinary()
		full, _ := a.MarshalBinary()
		if !bytes.Equal(again, full) {
			t.Fatalf("n=%d: states differ", n)
		}
	}
	// The bitmap is the used set in List bit order.
	a, _ := NewAllocator(16, nil)
	a.Reserve(0)
	a.Reserve(9)
	state, _ := a.MarshalBinary()
	if !bytes.Equal(state, []byte{allocatorVersion, 16, 0x80, 0x40}) {
		t.Fatalf("state % x", state)
	}
	for _, bad := range [][]byte{
		nil,
		{9, 16, 0, 0},                   // version
		{allocatorVersion},              // no length
		{allocatorVersion, 0},           // zero length
		{allocatorVersion, 16, 0},       // short bitmap
		{allocatorVersion, 16, 0, 0, 0}, // long bitmap
		{allocatorVersion, 12, 0, 0x01}, // bits past n
	} {
		var x Allocator
		if err := x.UnmarshalBinary(bad); err == nil {
			t.Errorf("UnmarshalBinary(% x) accepted", bad)
		}
	}
}

func TestAllocatorReserveAndErrors(t *testing.T) {
	for _, n := range []int{0, -1, MaxBits + 1} {
		if _, err := NewAllocator(n, nil); err == nil {
			t.Errorf("NewAllocator(%d)", n)
		}
	}
	a, _ := NewAllocator(3, seeded(5))
	if err := a.Reserve(1); err != nil {
		t.Fatal(err)
	}
	if err := a.Reserve(1); err == nil {
		t.Error("Reserve twice")
	}
	if err := a.Reserve(3); !errors.Is(err, ErrIndexRange) {
		t.Errorf("Reserve(3): %v", err)
	}
	if _, err := a.Take(3); !errors.Is(err, ErrListFull) || a.Free() != 2 {
		t.Errorf("Take(3) of 2 free: %v, Free %d", err, a.Free())
	}
	if _, err := a.Take(-1); err == nil {
		t.Error("Take(-1)")
	}
	got, err := a.Take(2)
	if err != nil || got[0]+got[1] != 2 {
		t.Fatalf("Take(2) = %v, %v", got, err)
	}
}

type failingReader struct{ after int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.after <= 0 {
		return 0, errors.New("entropy exhausted")
	}
	n := min(len(p), r.after)
	clear(p[:n])
	r.after -= n
	return n, nil
}

// TestAllocatorRandFailure: a failed draw changes nothing, and a batch is
// all or none.
func TestAllocatorRandFailure(t *testing.T) {
	a, _ := NewAllocator(MinBits, &failingReader{after: 8 * 3})
	if _, err := a.Take(5); err == nil {
		t.Fatal("Take succeeded without randomness")
	}
	if a.Free() != MinBits {
		t.Fatalf("Free = %d after a failed Take", a.Free())
	}
	state, _ := a.MarshalBinary()
	if !bytes.Equal(state[4:], make([]byte, MinBits/8)) {
		t.Fatal("a failed Take left indexes used")
	}
}

func BenchmarkAllocatorNearlyFull(b *testing.B) {
	a, _ := NewAllocator(MaxBits, seeded(3))
	if _, err := a.Take(MaxBits - 1000); err != nil {
		b.Fatal(err)
	}
	state, _ := a.MarshalBinary()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if a.Free() == 0 {
			b.StopTimer()
			a.UnmarshalBinary(state)
			b.StartTimer()
		}
		if _, err := a.Next(); err != nil {
			b.Fatal(err)
		}
	}
}
