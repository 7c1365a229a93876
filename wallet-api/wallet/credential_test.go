package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/secure"
)

func TestAddCredential(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		s, _ := newService(t, store, newMaster(t))
		iss := newIssuer(t)
		for _, method := range []string{MethodKey, MethodJWK} {
			h, _ := mustHolder(t, s, HolderInput{DIDMethod: method})
			for i, tc := range []struct {
				name   string
				format secure.Format
				token  bool // send the compact token as a JSON string
				want   string
				vct    string
			}{
				{"di", secure.DataIntegrity, false, "eddsa-rdfc-2022", ""},
				{"di-jcs", secure.DataIntegrityJCS, false, "eddsa-jcs-2022", ""},
				{"jwt-enveloped", secure.JWT, false, "vc+jwt", ""},
				{"jwt-string", secure.JWT, true, "vc+jwt", ""},
				{"sd-jwt-enveloped", secure.SDJWT, false, "dc+sd-jwt", healthcare.Vocab + healthcare.MedicalLicense},
				{"sd-jwt-string", secure.SDJWT, true, "dc+sd-jwt", healthcare.Vocab + healthcare.MedicalLicense},
			} {
				t.Run(method+"/"+tc.name, func(t *testing.T) {
					ctx := t.Context()
					in := iss.issue(t, s, h, cred{format: tc.format, seed: uint64(i + 1)})
					if tc.token {
						in = token(t, in)
					}
					st, err := s.AddCredential(ctx, h.ID, in)
					if err != nil {
						t.Fatal(err)
					}
					sub := subject(healthcare.MedicalLicense, uint64(i+1))
					name, _ := st.Claims.Subjects()[0]["name"].(map[string]any)
					wantID := fmt.Sprintf("urn:uuid:0b5d4e2c-8f6a-4d51-9b39-%012d", i+1)
					if !validID(st.ID, 'c') || st.Format != tc.want || st.Issuer != iss.did || st.CredentialID != wantID ||
						!slices.Contains(st.Types, healthcare.MedicalLicense) || st.VCT != tc.vct ||
						st.ValidFrom == nil || !st.Received.Equal(testNow) || !bytes.Equal(st.Credential, in) ||
						name["family"] != sub["name"].(map[string]any)["family"] || st.Claims.SubjectIDs()[0] != h.DID {
						t.Errorf("stored %s %v %s %s %v %s from %s received %s, claims %v", st.ID, st.Format, st.Issuer, st.CredentialID, st.Types, st.VCT, st.ValidFrom, st.Received, st.Claims)
					}
					got, err := s.Credential(ctx, h.ID, st.ID)
					if err != nil {
						t.Fatal(err)
					}
					if !sameStored(got, st) {
						t.Errorf("Credential = %+v\nwant %+v", got, st)
					}
					again, err := s.AddCredential(ctx, h.ID, in)
					if err != nil || !sameStored(again, st) {
						t.Errorf("adding again = %s, %v; want the stored %s", again.ID, err, st.ID)
					}
					if !tc.token && tc.format != secure.DataIntegrity && tc.format != secure.DataIntegrityJCS {
						// An enveloped credential is the same as its token.
						if again, err := s.AddCredential(ctx, h.ID, token(t, in)); err != nil || again.ID != st.ID || !bytes.Equal(again.Credential, in) {
							t.Errorf("adding its token = %s, %v; want the stored %s", again.ID, err, st.ID)
						}
					}
					// The same JSON with other white space is the same credential.
					var spaced bytes.Buffer
					_ = json.Indent(&spaced, in, " ", "  ")
					if again, err := s.AddCredential(ctx, h.ID, spaced.Bytes()); err != nil || again.ID != st.ID {
						t.Errorf("adding it indented = %s, %v; want %s", again.ID, err, st.ID)
					}
				})
			}
			list, err := s.Credentials(t.Context(), h.ID, Filter{})
			if err != nil || len(list) != 6 {
				t.Errorf("%d credentials, %v; want 6 (no duplicates)", len(list), err)
			}
			if r, _ := s.record(t.Context(), h.ID); r.Credentials != 6 {
				t.Errorf("count %d, want 6", r.Credentials)
			}
		}
	})
}

// sameStored compares two Stored by their JSON.
func sameStored(a, b Stored) bool {
	x, err1 := vc.Marshal(a)
	y, err2 := vc.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func TestAddCredentialRefuses(t *testing.T) {
	s, _ := newService(t, backends[0].open(t), newMaster(t))
	iss := newIssuer(t)
	h, _ := mustHolder(t, s, HolderInput{})
	other, _ := mustHolder(t, s, HolderInput{DIDMethod: MethodJWK})
	good := iss.issue(t, s, h, cred{format: secure.JWT, seed: 1})
	tampered := bytes.Replace(iss.issue(t, s, h, cred{format: secure.DataIntegrity, seed: 2}), []byte(`"TX"`), []byte(`"CA"`), 1)
	for _, tc := range []struct {
		name   string
		holder string
		in     json.RawMessage
		want   []error
	}{
		{"other subject (di)", h.ID, iss.issue(t, s, h, cred{format: secure.DataIntegrity, subject: other.DID, seed: 3}), []error{ErrNotBound}},
		{"other subject (jwt)", h.ID, iss.issue(t, s, h, cred{format: secure.JWT, subject: "did:example:someone", seed: 4}), []error{ErrNotBound}},
		{"another holder's", other.ID, good, []error{ErrNotBound}},
		{"sd-jwt bound to another key", h.ID, iss.issue(t, s, h, cred{format: secure.SDJWT, cnfOf: &other, seed: 5}), []error{ErrNotBound}},
		{"sd-jwt without cnf", h.ID, iss.issue(t, s, h, cred{format: secure.SDJWT, noCnf: true, seed: 6}), []error{ErrNotBound}},
		{"tampered", h.ID, tampered, []error{ErrInvalid, vc.ErrSignature}},
		{"not json", h.ID, json.RawMessage(`{"@context":`), []error{ErrInvalid, vc.ErrMalformed}},
		{"not a credential", h.ID, json.RawMessage(`{"hello":"world"}`), []error{ErrInvalid}},
		{"a number", h.ID, json.RawMessage(`42`), []error{ErrInvalid}},
		{"not a token", h.ID, json.RawMessage(`"eyJ.not.a-token"`), []error{ErrInvalid, vc.ErrMalformed}},
		{"empty", h.ID, nil, []error{ErrInvalid}},
		{"empty string", h.ID, json.RawMessage(`""`), []error{ErrInvalid}},
		{"too large", h.ID, json.RawMessage(`"` + strings.Repeat("a", MaxCredentialBytes) + `"`), []error{ErrTooLarge}},
		{"unknown holder", newID('h'), good, []error{ErrHolderNotFound}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.AddCredential(t.Context(), tc.holder, tc.in)
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Errorf("got %v, want %v", err, want)
				}
			}
		})
	}
	for _, id := range []string{h.ID, other.ID} {
		if list, err := s.Credentials(t.Context(), id, Filter{}); err != nil || len(list) != 0 {
			t.Errorf("%d credentials, %v: a refused credential was kept", len(list), err)
		}
		if r, _ := s.record(t.Context(), id); r.Credentials != 0 {
			t.Errorf("count %d after refusals", r.Credentials)
		}
	}
}

func TestCredentialsFilterOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		ctx := t.Context()
		s, clk := newService(t, store, newMaster(t))
		board, dea := newIssuer(t), newIssuer(t)
		h, _ := mustHolder(t, s, HolderInput{})
		var ids []string // in order of receipt
		for i, c := range []struct {
			iss issuer
			cred
		}{
			{board, cred{format: secure.DataIntegrity, typ: healthcare.MedicalLicense}},
			{board, cred{format: secure.JWT, typ: healthcare.BoardCertification}},
			{dea, cred{format: secure.SDJWT, typ: healthcare.DEARegistration}},
			{board, cred{format: secure.SDJWT, typ: healthcare.MedicalLicense}},
			{dea, cred{format: secure.JWT, typ: healthcare.DEARegistration}},
		} {
			c.seed = uint64(i + 10)
			if i != 2 { // two credentials received in the same second
				clk.Add(time.Minute)
			}
			st, err := s.AddCredential(ctx, h.ID, c.iss.issue(t, s, h, c.cred))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, st.ID)
		}
		for _, tc := range []struct {
			f    Filter
			want []int
		}{
			{Filter{}, []int{4, 3, 2, 1, 0}},
			{Filter{Type: healthcare.MedicalLicense}, []int{3, 0}},
			{Filter{Type: healthcare.Vocab + healthcare.DEARegistration}, []int{2}},
			{Filter{Type: vc.TypeCredential}, []int{4, 3, 2, 1, 0}},
			{Filter{Issuer: dea.did}, []int{4, 2}},
			{Filter{Format: "dc+sd-jwt"}, []int{3, 2}},
			{Filter{Format: "vc+jwt", Issuer: board.did}, []int{1}},
			{Filter{Type: healthcare.BoardCertification, Issuer: dea.did}, nil},
			{Filter{Type: "Unknown"}, nil},
		} {
			list, err := s.Credentials(ctx, h.ID, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, st := range list {
				got = append(got, st.ID)
			}
			for _, i := range tc.want {
				want = append(want, ids[i])
			}
			if !slices.Equal(got, want) {
				t.Errorf("Credentials(%+v) = %v, want %v", tc.f, got, want)
			}
		}
	})
}

func TestDeleteCredentialAndLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		ctx := t.Context()
		s, _ := newService(t, store, newMaster(t))
		s.maxCredentials = 2
		iss := newIssuer(t)
		h, _ := mustHolder(t, s, HolderInput{})
		in := func(seed uint64) json.RawMessage { return iss.issue(t, s, h, cred{format: secure.JWT, seed: seed}) }
		a, err := s.AddCredential(ctx, h.ID, in(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddCredential(ctx, h.ID, in(2)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddCredential(ctx, h.ID, in(3)); !errors.Is(err, ErrLimit) {
			t.Fatalf("third credential: %v, want ErrLimit", err)
		}
		if again, err := s.AddCredential(ctx, h.ID, in(1)); err != nil || again.ID != a.ID {
			t.Errorf("adding a stored credential at the limit: %v", err)
		}
		if err := s.DeleteCredential(ctx, h.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Credential(ctx, h.ID, a.ID); !errors.Is(err, ErrCredentialNotFound) {
			t.Errorf("deleted credential: %v", err)
		}
		for _, id := range []string{a.ID, "c", "../x", newID('c'), newID('d')} {
			if err := s.DeleteCredential(ctx, h.ID, id); !errors.Is(err, ErrCredentialNotFound) {
				t.Errorf("DeleteCredential(%q) = %v", id, err)
			}
			if _, err := s.Credential(ctx, h.ID, id); !errors.Is(err, ErrCredentialNotFound) {
				t.Errorf("Credential(%q) = %v", id, err)
			}
		}
		if _, err := s.AddCredential(ctx, h.ID, in(3)); err != nil {
			t.Errorf("after a deletion: %v", err)
		}
	})
}

// TestConcurrentAdds: two services (processes) on one store add at once;
// the limit holds exactly, and one credential added many times is kept once.
func TestConcurrentAdds(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store, master := b.open(t), newMaster(t)
			s1, _ := newService(t, store, master)
			s2, _ := newService(t, store, master)
			services := []*Service{s1, s2}
			iss := newIssuer(t)
			limited, dup := mustHolder2(t, s1)
			var ins []json.RawMessage
			for i := range 12 {
				ins = append(ins, iss.issue(t, s1, limited, cred{format: secure.JWT, seed: uint64(i)}))
			}
			same := iss.issue(t, s1, dup, cred{format: secure.SDJWT, seed: 99})

			s1.maxCredentials, s2.maxCredentials = 5, 5
			added, refused := addConcurrently(t, services, limited.ID, ins)
			if added != 5 || refused != 7 {
				t.Errorf("%d added, %d refused; want 5 and 7", added, refused)
			}

			s1.maxCredentials, s2.maxCredentials = 0, 0
			var mu sync.Mutex
			var wg sync.WaitGroup
			ids := map[string]bool{}
			for i := range 12 {
				wg.Go(func() {
					st, err := services[i%2].AddCredential(t.Context(), dup.ID, same)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						t.Error(err)
					}
					ids[st.ID] = true
				})
			}
			wg.Wait()
			if len(ids) != 1 {
				t.Errorf("one credential added 12 times has the ids %v", ids)
			}
			for _, tc := range []struct {
				h    Holder
				want int
			}{{limited, 5}, {dup, 1}} {
				list, err := s2.Credentials(t.Context(), tc.h.ID, Filter{})
				if err != nil {
					t.Fatal(err)
				}
				r, _ := s1.record(t.Context(), tc.h.ID)
				if len(list) != tc.want || r.Credentials != tc.want {
					t.Errorf("holder %s: %d stored, %d counted; want %d", tc.h.ID, len(list), r.Credentials, tc.want)
				}
			}
		})
	}
}

func mustHolder2(t *testing.T, s *Service) (Holder, Holder) {
	a, _ := mustHolder(t, s, HolderInput{})
	b, _ := mustHolder(t, s, HolderInput{DIDMethod: MethodJWK})
	return a, b
}

// addConcurrently adds every credential of ins to holder at once, the
// services taking turns, and counts those added and those refused with
// ErrLimit; any other error fails the test.
func addConcurrently(t *testing.T, services []*Service, holder string, ins []json.RawMessage) (added, refused int) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Go(func() {
			_, err := services[i%len(services)].AddCredential(t.Context(), holder, in)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				added++
			case errors.Is(err, ErrLimit):
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	return added, refused
}
