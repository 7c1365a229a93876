package synth

import (
	"crypto/ed25519"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc/healthcare"
)

// Generator makes synthetic providers, patients and facilities.
type Generator struct {
	r    *rand.Rand
	seed uint64
	now  time.Time
	keys bool
	n    uint64 // people and facilities made, for unique identifiers
}

// Option configures a Generator.
type Option func(*Generator)

// WithNow sets the reference date statuses and validity periods are drawn
// around (default: today, UTC). Only its UTC date counts.
func WithNow(t time.Time) Option {
	return func(g *Generator) { g.now = day(t) }
}

// WithKeys gives every provider and patient an Ed25519 key and the did:key
// of it, so tests can sign presentations as the holder.
func WithKeys() Option {
	return func(g *Generator) { g.keys = true }
}

// New returns a Generator seeded with seed.
func New(seed uint64, opts ...Option) *Generator {
	g := &Generator{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), seed: seed, now: day(time.Now())}
	for _, o := range opts {
		o(g)
	}
	return g
}

// Now returns the generator's reference date.
func (g *Generator) Now() time.Time { return g.now }

// Ref names an organisation a subject refers to: a licensing board, a
// facility, an identity provider.
type Ref struct {
	ID, Name, Jurisdiction string
}

func (r Ref) subject() map[string]any {
	m := map[string]any{"id": r.ID, "name": r.Name}
	if r.Jurisdiction != "" {
		m["jurisdiction"] = r.Jurisdiction
	}
	return m
}

// Board returns the state board that licenses a degree (MD, DO, NP, PA or
// RN) in a state: the medical board for MD, DO and PA, the board of nursing
// for NP and RN. Its ID is a did:web under gov.example.
func Board(stateCode, licenseType string) Ref {
	b := boards[stateIndex[stateCode]]
	if licenseType == "NP" || licenseType == "RN" {
		return b[1]
	}
	return b[0]
}

// boards holds each state's medical board and board of nursing.
var boards = func() [][2]Ref {
	out := make([][2]Ref, len(states))
	for i, s := range states {
		host := "." + lower(s.code) + ".gov.example"
		out[i] = [2]Ref{
			{ID: "did:web:medicalboard" + host, Name: s.name + " Medical Board (synthetic)", Jurisdiction: s.code},
			{ID: "did:web:nursing" + host, Name: s.name + " Board of Nursing (synthetic)", Jurisdiction: s.code},
		}
	}
	return out
}()

// identity returns a DID, and its key with WithKeys.
func (g *Generator) identity(kind string) (string, ed25519.PrivateKey) {
	if !g.keys {
		return "did:example:" + kind + "-" + strconv.FormatUint(g.seed, 36) + "-" + strconv.FormatUint(g.n, 36), nil
	}
	var seed [ed25519.SeedSize]byte
	for i := 0; i < len(seed); i += 8 {
		v := g.r.Uint64()
		for j := range 8 {
			seed[i+j] = byte(v >> (8 * j))
		}
	}
	k := ed25519.NewKeyFromSeed(seed[:])
	d, err := did.KeyDID(k.Public())
	if err != nil {
		panic("synth: did:key of an Ed25519 key: " + err.Error()) // cannot happen
	}
	return d.String(), k
}

// npi returns the n-th NPI of this generator: distinct for every n below
// 2·10^8, scattered over the NPI range.
func (g *Generator) npi(n uint64) string {
	const span = 200_000_000
	body := 100_000_000 + (n*73_176_001+g.seed)%span
	nine := strconv.FormatUint(body, 10)
	c, _ := healthcare.NPICheckDigit(nine)
	return nine + string(c)
}

// pickState draws a state, mostly a populous one.
func pickState(r *rand.Rand) string {
	if r.IntN(10) < 7 {
		return populous[r.IntN(len(populous))]
	}
	return states[r.IntN(len(states))].code
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// weighted draws an index below n with probability weight(i)/sum.
func weighted(r *rand.Rand, n int, weight func(int) int) int {
	total := 0
	for i := range n {
		total += weight(i)
	}
	x := r.IntN(total)
	for i := range n {
		if x < weight(i) {
			return i
		}
		x -= weight(i)
	}
	return n - 1
}

// chance is true with probability pct/100.
func chance(r *rand.Rand, pct int) bool { return r.IntN(100) < pct }

// day is the UTC midnight starting t's UTC date.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func date(t time.Time) string { return t.Format(time.DateOnly) }

// digits formats v with exactly n digits, zero padded (v < 10^n).
func digits(v uint64, n int) string {
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// subRand is a source for one facet of one entity (a provider's license
// in a state, say), so that asking twice gives the same answer whatever
// was generated in between.
func subRand(seed uint64, facet string) *rand.Rand {
	h := uint64(14695981039346656037)
	for i := 0; i < len(facet); i++ {
		h = (h ^ uint64(facet[i])) * 1099511628211
	}
	return rand.New(rand.NewPCG(seed, h))
}
