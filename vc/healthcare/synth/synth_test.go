package synth_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
)

var refDate = time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)

// TestSubjectsValidate generates 1,000 subjects of every type and checks
// each passes the schema and the domain rules.
func TestSubjectsValidate(t *testing.T) {
	g := synth.New(1, synth.WithNow(refDate))
	n := map[string]int{}
	for i := range 1000 {
		p := g.Provider()
		if i%10 == 0 {
			p = g.ProviderOf("RN")
		}
		for _, st := range p.States {
			check(t, healthcare.MedicalLicense, p.LicenseSubject(st))
			n[healthcare.MedicalLicense]++
			if s := p.DEASubject(st); s != nil {
				check(t, healthcare.DEARegistration, s)
				n[healthcare.DEARegistration]++
			}
		}
		check(t, healthcare.BoardCertification, p.BoardCertificationSubject())
		check(t, healthcare.HospitalPrivilege, p.PrivilegeSubject(g.Facility(p.States[0])))
		check(t, healthcare.PatientIdentity, g.Patient().IdentitySubject())
	}
	if n[healthcare.MedicalLicense] < 1000 || n[healthcare.DEARegistration] < 1000 {
		t.Errorf("generated %v", n)
	}
}

func check(t *testing.T, typ string, s map[string]any) {
	t.Helper()
	if err := healthcare.ValidateSubject(typ, s); err != nil {
		b, _ := json.MarshalIndent(s, "", "  ")
		t.Fatalf("%s: %v\n%s", typ, err, b)
	}
}

func TestDeterministic(t *testing.T) {
	gen := func(seed uint64) []any {
		g := synth.New(seed, synth.WithNow(refDate))
		var out []any
		for range 20 {
			p := g.Provider()
			out = append(out, p.LicenseSubject(p.States[0]), p.DEASubject("TX"), p.BoardCertificationSubject(),
				p.PrivilegeSubject(g.Facility("NY")), g.Patient().IdentitySubject())
		}
		return out
	}
	a, b, c := gen(42), gen(42), gen(43)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed gave different subjects")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds gave the same subjects")
	}
	// A facet does not depend on what was generated before it.
	p := synth.New(5, synth.WithNow(refDate)).Provider()
	first := p.LicenseSubject("CA")
	p.DEASubject("CA")
	p.LicenseSubject("NV")
	if !reflect.DeepEqual(first, p.LicenseSubject("CA")) {
		t.Error("LicenseSubject(CA) changed between calls")
	}
}

// TestVariety checks the population has what tests need: lapsed, suspended
// and probationary licenses, every degree, varied assurance levels, unique
// NPIs with valid check digits.
func TestVariety(t *testing.T) {
	g := synth.New(3, synth.WithNow(refDate))
	status, lapsed, types, levels, letters := map[string]int{}, 0, map[string]int{}, map[string]int{}, map[byte]int{}
	npis := map[string]bool{}
	multiState := 0
	for range 2000 {
		p := g.Provider()
		types[p.LicenseType]++
		if npis[p.NPI] || !healthcare.ValidNPI(p.NPI) {
			t.Fatalf("NPI %s repeated or invalid", p.NPI)
		}
		npis[p.NPI] = true
		if len(p.States) > 1 {
			multiState++
		}
		l := p.License(p.States[0])
		status[l.Status]++
		if l.Expired(refDate) {
			lapsed++
		}
		d, ok := p.DEA(p.States[0])
		if !ok || !healthcare.ValidDEA(d.Number) {
			t.Fatalf("DEA %+v, %v", d, ok)
		}
		letters[d.Number[0]]++
		levels[g.Patient().Proofing.Level]++
	}
	for _, s := range []string{"active", "probation", "restricted", "suspended", "revoked", "expired", "inactive"} {
		if status[s] == 0 {
			t.Errorf("no %s license in %v", s, status)
		}
	}
	if status["active"] < 1500 || lapsed < 50 || multiState < 300 {
		t.Errorf("status %v, %d lapsed, %d in several states", status, lapsed, multiState)
	}
	for _, typ := range []string{"MD", "DO", "NP", "PA"} {
		if types[typ] == 0 {
			t.Errorf("no %s in %v", typ, types)
		}
	}
	for _, l := range []string{"IAL1", "IAL1.2", "IAL1.4", "IAL2", "IAL3"} {
		if levels[l] == 0 {
			t.Errorf("no %s in %v", l, levels)
		}
	}
	if levels["IAL2"] < 1200 || letters['M'] == 0 || letters['F'] == 0 {
		t.Errorf("levels %v, DEA letters %v", levels, letters)
	}
}

func TestLicenseFacts(t *testing.T) {
	g := synth.New(11, synth.WithNow(refDate))
	for range 500 {
		p := g.Provider()
		l := p.License(p.States[0])
		s := p.LicenseSubject(p.States[0])
		if j, ok := healthcare.Jurisdiction(healthcare.MedicalLicense, s); !ok || j != p.States[0] {
			t.Fatalf("Jurisdiction = %s, %v, want %s", j, ok, p.States[0])
		}
		exp, ok := healthcare.ExpiresAt(healthcare.MedicalLicense, s)
		if !ok || !exp.Truncate(24*time.Hour).Equal(l.Expiration) {
			t.Fatalf("ExpiresAt = %v, want the end of %v", exp, l.Expiration)
		}
		if l.Board != synth.Board(p.States[0], p.LicenseType) {
			t.Fatalf("board %+v", l.Board)
		}
		// Current licenses are unexpired on the reference date, lapsed
		// ones expired before it.
		if current := l.Status != "expired" && !l.Expired(refDate); current != exp.After(refDate) {
			t.Fatalf("license %+v: current %v, expires %v", l, current, exp)
		}
	}
}

func TestWithKeys(t *testing.T) {
	g := synth.New(9, synth.WithKeys())
	p, pt := g.Provider(), g.Patient()
	for _, h := range []struct {
		id  string
		key ed25519.PrivateKey
	}{{p.DID, p.Key}, {pt.DID, pt.Key}} {
		want, err := did.KeyDID(h.key.Public())
		if err != nil || h.id != want.String() {
			t.Fatalf("DID %s, want %s (%v)", h.id, want, err)
		}
		d, err := did.Parse(h.id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (did.KeyMethod{}).Resolve(context.Background(), d, did.Options{}); err != nil {
			t.Fatalf("resolve %s: %v", h.id, err)
		}
	}
	if q := synth.New(9).Provider(); q.Key != nil || q.DID[:12] != "did:example:" {
		t.Errorf("without WithKeys: DID %s, key %v", q.DID, q.Key != nil)
	}
}

func TestRNHasNoDEA(t *testing.T) {
	p := synth.New(1).ProviderOf("RN")
	if p.DEASubject(p.States[0]) != nil || p.Prescriber() {
		t.Error("a registered nurse got a DEA registration")
	}
}

func BenchmarkLicenseSubject(b *testing.B) {
	g := synth.New(1)
	b.ReportAllocs()
	for b.Loop() {
		p := g.Provider()
		_ = p.LicenseSubject(p.States[0])
	}
}

func BenchmarkPatient(b *testing.B) {
	g := synth.New(1)
	b.ReportAllocs()
	for b.Loop() {
		_ = g.Patient().IdentitySubject()
	}
}

func BenchmarkProvider(b *testing.B) {
	g := synth.New(1)
	b.ReportAllocs()
	for b.Loop() {
		_ = g.Provider()
	}
}
