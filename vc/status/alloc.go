package status

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// Allocator hands out the indexes of a status list, [0, n), uniformly at
// random among those not yet handed out, never one twice (the specification
// asks for random assignment, so that an index reveals neither the order of
// issuance nor the size of the population).
//
// Its state is the bitmap of used indexes (MarshalBinary), which the issuer
// stores with the list; a Fenwick tree of free counts per 64 indexes, rebuilt
// on load, makes each pick O(log n) however full the list is, with one
// uniform draw (no rejection sampling that slows down near the end).
//
// An Allocator is not safe for concurrent use: the caller serializes Next,
// Take and the storing of the new state.
type Allocator struct {
	n    int
	used []uint64 // bit i: word i/64, mask 1<<(63-i%64); bits past n set
	tree []int32  // Fenwick tree (1-based) of free counts per word
	free int
	rand io.Reader
}

// allocatorVersion prefixes the marshaled state.
const allocatorVersion = 1

// NewAllocator returns an allocator of [0, n) with nothing used; n is from 1
// to MaxBits. rand is the randomness source; nil means crypto/rand.
func NewAllocator(n int, rand io.Reader) (*Allocator, error) {
	if n < 1 || n > MaxBits {
		return nil, fmt.Errorf("status: an allocator of %d indexes is not from 1 to %d", n, MaxBits)
	}
	a := &Allocator{n: n, used: make([]uint64, (n+63)/64)}
	a.setRand(rand)
	a.init()
	return a, nil
}

func (a *Allocator) setRand(r io.Reader) {
	if r == nil {
		r = rand.Reader
	}
	// Draws read 8 bytes each; buffering saves a system call per draw.
	a.rand = bufio.NewReaderSize(r, 512)
}

// SetRand replaces the randomness source (nil: crypto/rand), e.g. after
// UnmarshalBinary.
func (a *Allocator) SetRand(r io.Reader) { a.setRand(r) }

// init marks the bits past n used and builds the tree.
func (a *Allocator) init() {
	if r := a.n % 64; r != 0 {
		a.used[len(a.used)-1] |= ^uint64(0) >> r
	}
	a.tree = make([]int32, len(a.used)+1)
	a.free = 0
	for w, u := range a.used {
		f := int32(64 - bits.OnesCount64(u))
		a.free += int(f)
		a.tree[w+1] += f
		if parent := (w + 1) + (w+1)&-(w+1); parent < len(a.tree) {
			a.tree[parent] += a.tree[w+1]
		}
	}
}

// Len is n, the number of indexes.
func (a *Allocator) Len() int { return a.n }

// Free is the number of indexes not yet handed out.
func (a *Allocator) Free() int { return a.free }

// Used reports whether index i has been handed out (or reserved).
func (a *Allocator) Used(i int) bool {
	if i < 0 || i >= a.n {
		return false
	}
	return a.used[i/64]&(1<<(63-i%64)) != 0
}

// Next hands out one unused index, chosen uniformly at random; ErrListFull
// when none is left. A failure of the randomness source changes nothing.
func (a *Allocator) Next() (int, error) {
	if a.free == 0 {
		return 0, ErrListFull
	}
	r, err := a.uniform(uint64(a.free))
	if err != nil {
		return 0, err
	}
	i := a.selectFree(int(r))
	a.mark(i)
	return i, nil
}

// Take hands out k indexes as k calls of Next would, all or none: ErrListFull
// (and nothing taken) when fewer than k are left.
func (a *Allocator) Take(k int) ([]int, error) {
	if k < 0 {
		return nil, fmt.Errorf("status: cannot take %d indexes", k)
	}
	if k > a.free {
		return nil, fmt.Errorf("%w: %d asked, %d left", ErrListFull, k, a.free)
	}
	out := make([]int, 0, k)
	for range k {
		i, err := a.Next()
		if err != nil {
			for _, j := range out { // undo: all or none
				a.unmark(j)
			}
			return nil, err
		}
		out = append(out, i)
	}
	return out, nil
}

// Reserve marks index i used without handing it out (an index assigned
// before this allocator kept the state, or one kept back as a decoy); an
// error if it is out of range or already used.
func (a *Allocator) Reserve(i int) error {
	if i < 0 || i >= a.n {
		return fmt.Errorf("%w: index %d of %d", ErrIndexRange, i, a.n)
	}
	if a.Used(i) {
		return fmt.Errorf("status: index %d is already used", i)
	}
	a.mark(i)
	return nil
}

func (a *Allocator) mark(i int) {
	a.used[i/64] |= 1 << (63 - i%64)
	a.add(i/64, -1)
}

func (a *Allocator) unmark(i int) {
	a.used[i/64] &^= 1 << (63 - i%64)
	a.add(i/64, 1)
}

func (a *Allocator) add(w int, d int32) {
	a.free += int(d)
	for j := w + 1; j < len(a.tree); j += j & -j {
		a.tree[j] += d
	}
}

// selectFree returns the r-th (from 0) unused index in increasing order.
func (a *Allocator) selectFree(r int) int {
	// Find the word: the smallest w whose prefix of free counts exceeds r.
	pos, rem := 0, int32(r)
	for step := 1 << (bits.Len(uint(len(a.tree)-1)) - 1); step > 0; step >>= 1 {
		if next := pos + step; next < len(a.tree) && a.tree[next] <= rem {
			pos = next
			rem -= a.tree[next]
		}
	}
	w := pos // 0-based word index
	free := ^a.used[w]
	for ; rem > 0; rem-- {
		free &^= 1 << (63 - bits.LeadingZeros64(free))
	}
	return w*64 + bits.LeadingZeros64(free)
}

// uniform draws from [0, m) without modulo bias.
func (a *Allocator) uniform(m uint64) (uint64, error) {
	limit := ^uint64(0) - (^uint64(0)%m+1)%m // largest multiple of m, minus 1
	var b [8]byte
	for {
		if _, err := io.ReadFull(a.rand, b[:]); err != nil {
			return 0, fmt.Errorf("status: reading randomness: %w", err)
		}
		if v := binary.BigEndian.Uint64(b[:]); v <= limit {
			return v % m, nil
		}
	}
}

// MarshalBinary encodes the state: a version byte, n (uvarint) and the
// bitmap of used indexes, ceil(n/8) bytes in the bit order of List (index 0
// is the most significant bit of the first byte).
func (a *Allocator) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, 1+binary.MaxVarintLen64+(a.n+7)/8)
	out = append(out, allocatorVersion)
	out = binary.AppendUvarint(out, uint64(a.n))
	start := len(out)
	for _, u := range a.used {
		out = binary.BigEndian.AppendUint64(out, u)
	}
	out = out[:start+(a.n+7)/8]
	if r := a.n % 8; r != 0 { // clear the padding bits of the last byte
		out[len(out)-1] &^= 0xff >> r
	}
	return out, nil
}

// UnmarshalBinary restores a state MarshalBinary encoded. The randomness
// source is kept, or crypto/rand for a new Allocator.
func (a *Allocator) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || b[0] != allocatorVersion {
		return errors.New("status: not an allocator state of a known version")
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n < 1 || n > MaxBits {
		return errors.New("status: allocator state has a bad length")
	}
	bitmap := b[1+k:]
	if len(bitmap) != (int(n)+7)/8 {
		return fmt.Errorf("status: allocator state of %d indexes has %d bytes of bitmap", n, len(bitmap))
	}
	if r := n % 8; r != 0 && bitmap[len(bitmap)-1]&(0xff>>r) != 0 {
		return errors.New("status: allocator state has bits set past its length")
	}
	used := make([]uint64, (n+63)/64)
	var word [8]byte
	for w := range used {
		clear(word[:])
		copy(word[:], bitmap[min(w*8, len(bitmap)):])
		used[w] = binary.BigEndian.Uint64(word[:])
	}
	a.n, a.used = int(n), used
	if a.rand == nil {
		a.setRand(nil)
	}
	a.init()
	return nil
}
