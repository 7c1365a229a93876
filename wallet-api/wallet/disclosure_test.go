package wallet

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv"
)

func TestDisclosureLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		ctx := t.Context()
		s, clk := newService(t, store, newMaster(t))
		h, _ := mustHolder(t, s, HolderInput{})
		other, _ := mustHolder(t, s, HolderInput{})
		chosen := NewDisclosureID()
		entries := []Disclosure{
			{RequestID: "req-1", Verifier: "mercy-general", Audience: "verify.mercy.example", Challenge: "n-1", Format: "ldp_vp",
				Credentials: []DisclosedCredential{{ID: newID('c'), Types: []string{"VerifiableCredential", "MedicalLicenseCredential"},
					Issuer: "did:key:z6Mkboard", Format: "eddsa-rdfc-2022"}},
				Delivered: true, Status: 200, Outcome: "verified"},
			{Verifier: "telehealth.example", Audience: "telehealth.example", Challenge: "n-2", Format: "dc+sd-jwt",
				Credentials: []DisclosedCredential{{ID: newID('c'), Format: "dc+sd-jwt",
					Disclosed: []string{"/credentialSubject/name", "/credentialSubject/license/licenseNumber"}}},
				Status: 502},
			{ID: chosen, Verifier: "same-second.example", Credentials: []DisclosedCredential{}},
			{Verifier: "back-dated.example", Time: testNow.Add(-time.Hour), Credentials: []DisclosedCredential{}},
		}
		var recorded []Disclosure
		for i, d := range entries {
			if i != 2 { // the third is recorded in the same second as the second
				clk.Add(time.Second)
			}
			got, err := s.RecordDisclosure(ctx, h.ID, d)
			if err != nil {
				t.Fatal(err)
			}
			want := d
			if want.ID == "" {
				want.ID = got.ID
			}
			if want.Time.IsZero() {
				want.Time = clk.Now()
			}
			if !validID(got.ID, 'd') || !reflect.DeepEqual(got, want) {
				t.Errorf("recorded %+v\nwant %+v", got, want)
			}
			recorded = append(recorded, got)
		}
		list, err := s.Disclosures(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []Disclosure{recorded[2], recorded[1], recorded[0], recorded[3]}
		if !reflect.DeepEqual(list, want) {
			t.Errorf("Disclosures =\n%+v\nwant\n%+v", list, want)
		}
		if list, err := s.Disclosures(ctx, other.ID); err != nil || len(list) != 0 {
			t.Errorf("another holder's log: %v, %v", list, err)
		}
		if _, err := s.RecordDisclosure(ctx, h.ID, Disclosure{ID: chosen}); !errors.Is(err, ErrInvalid) {
			t.Errorf("recording an id twice: %v", err)
		}
		if _, err := s.RecordDisclosure(ctx, h.ID, Disclosure{ID: "d-mine"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("a malformed id: %v", err)
		}
		if _, err := s.RecordDisclosure(ctx, newID('h'), Disclosure{}); !errors.Is(err, ErrHolderNotFound) {
			t.Errorf("unknown holder: %v", err)
		}
		updated, err := s.UpdateDisclosure(ctx, h.ID, recorded[1].ID, func(d *Disclosure) error {
			d.Delivered, d.Status, d.Outcome, d.Time = true, 200, "rejected", time.Time{}
			return nil
		})
		if err != nil || !updated.Delivered || updated.Outcome != "rejected" || !updated.Time.Equal(recorded[1].Time) {
			t.Errorf("UpdateDisclosure = %+v, %v", updated, err)
		}
		if list, _ := s.Disclosures(ctx, h.ID); len(list) != 4 || !reflect.DeepEqual(list[1], updated) {
			t.Errorf("after the update: %+v", list)
		}
		if _, err := s.UpdateDisclosure(ctx, other.ID, recorded[1].ID, func(*Disclosure) error { return nil }); !errors.Is(err, ErrDisclosureNotFound) {
			t.Errorf("updating another holder's entry: %v", err)
		}
		if r, _ := s.record(ctx, h.ID); r.Disclosures != 4 {
			t.Errorf("count %d, want 4", r.Disclosures)
		}
	})
}

// TestDisclosureLogBounded: the log keeps the newest entries.
func TestDisclosureLogBounded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		ctx := t.Context()
		s, clk := newService(t, store, newMaster(t))
		s.maxDisclosures = 5
		h, _ := mustHolder(t, s, HolderInput{})
		var ids []string
		for range 20 {
			clk.Add(time.Second)
			d, err := s.RecordDisclosure(ctx, h.ID, Disclosure{Verifier: "v"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, d.ID)
		}
		list, err := s.Disclosures(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range list {
			got = append(got, d.ID)
		}
		newest := slices.Clone(ids[15:])
		slices.Reverse(newest)
		if !slices.Equal(got, newest) {
			t.Errorf("Disclosures = %v, want the newest five %v", got, newest)
		}
		stored, err := s.keysOf(ctx, bucketDisclosures+h.ID)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := s.record(ctx, h.ID)
		if len(stored) > 6 || r.Disclosures != len(stored) {
			t.Errorf("%d entries stored, %d counted; want at most 6 (the limit and a hundredth, at least one)", len(stored), r.Disclosures)
		}
	})
}
