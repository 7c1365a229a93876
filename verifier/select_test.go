package verifier

import (
	"reflect"
	"testing"
)

func mustSelect(t *testing.T, q Query, cands ...Candidate) Selection {
	t.Helper()
	s, err := q.Select(cands)
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	return s
}

// TestSelectFrontDesk is the patient's case: a front desk asks for name and
// birth date of an identity SD-JWT VC; nothing else is disclosed.
func TestSelectFrontDesk(t *testing.T) {
	id := candidate(t, 7, "dc+sd-jwt", identityExample)
	cases := []struct {
		name string
		q    Query
		want []string
	}{
		{"dcql", dcql(`{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["` + identityVCT + `"]},
			"claims":[{"path":["given_name"]},{"path":["family_name"]},{"path":["birthdate"]}]}]}`),
			[]string{"/credentialSubject/birthdate", "/credentialSubject/family_name", "/credentialSubject/given_name"}},
		{"dcql nested path discloses its top member", dcql(`{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["` + identityVCT + `"]},
			"claims":[{"path":["address","street_address"]}]}]}`),
			[]string{"/credentialSubject/address/street_address"}},
		{"dcql registered claims need no disclosure", dcql(`{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["` + identityVCT + `"]},
			"claims":[{"path":["iss"]},{"path":["birthdate"]}]}]}`),
			[]string{"/credentialSubject/birthdate"}},
		{"dcql without claims discloses none", dcql(`{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["` + identityVCT + `"]}}]}`),
			[]string{}},
		{"dcql claim_sets: the first set the credential satisfies", dcql(`{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["` + identityVCT + `"]},
			"claims":[{"id":"a","path":["nickname"]},{"id":"b","path":["given_name"]},{"id":"c","path":["postal_code"]}],
			"claim_sets":[["a","c"],["b","c"],["b"]]}]}`),
			[]string{"/credentialSubject/given_name", "/credentialSubject/postal_code"}},
		{"pe limit_disclosure", pexQuery(`{"id":"front-desk","input_descriptors":[{"id":"pid","format":{"dc+sd-jwt":{}},
			"constraints":{"limit_disclosure":"required","fields":[
				{"path":["$.vct"],"filter":{"type":"string","const":"` + identityVCT + `"}},
				{"path":["$.given_name"]},{"path":["$.birthdate"]},{"path":["$.nickname","$.family_name"]},
				{"path":["$.address"],"optional":true}]}}]}`),
			[]string{"/credentialSubject/birthdate", "/credentialSubject/family_name", "/credentialSubject/given_name"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustSelect(t, c.q, id)
			if !s.Satisfied || len(s.Picks) != 1 || s.Picks[0].Candidate != 7 || s.Picks[0].Item != "pid" {
				t.Fatalf("selection = %+v", s)
			}
			if !reflect.DeepEqual(s.Picks[0].Disclose, c.want) {
				t.Errorf("disclose = %q, want %q", s.Picks[0].Disclose, c.want)
			}
		})
	}
}

// TestSelectWildcard: a JSONPath that starts with a
// wildcard asks for every claim.
func TestSelectWildcard(t *testing.T) {
	id := candidate(t, 0, "dc+sd-jwt", identityExample)
	s := mustSelect(t, pexQuery(`{"id":"all","input_descriptors":[{"id":"pid","constraints":{"fields":[{"path":["$.*"]}]}}]}`), id)
	if !s.Satisfied || len(s.Picks) != 1 {
		t.Fatalf("selection = %+v", s)
	}
	want := []string{"/credentialSubject/address", "/credentialSubject/birthdate", "/credentialSubject/family_name",
		"/credentialSubject/given_name", "/credentialSubject/postal_code"}
	if !reflect.DeepEqual(s.Picks[0].Disclose, want) {
		t.Errorf("disclose = %q, want %q", s.Picks[0].Disclose, want)
	}
}

// TestSelectHospital: a hospital asks for a license and a DEA registration;
// the wallet picks one credential of each, preferring earlier candidates,
// and leaves out the ones nobody asked for. W3C credentials are presented
// whole (Disclose nil).
func TestSelectHospital(t *testing.T) {
	license := candidate(t, 0, "vc+jwt", licenseExample)
	older := candidate(t, 1, "vc+jwt", licenseExample)
	dea := candidate(t, 2, "eddsa-rdfc-2022", edit(t, licenseExample, func(m map[string]any) {
		m["type"] = []any{"VerifiableCredential", "DEARegistrationCredential"}
	}))
	id := candidate(t, 3, "dc+sd-jwt", identityExample)
	q := dcql(`{"credentials":[
		{"id":"license","format":"jwt_vc_json","meta":{"type_values":[["MedicalLicenseCredential"]]}},
		{"id":"dea","format":"ldp_vc","meta":{"type_values":[["DEARegistrationCredential"]]}}]}`)
	s := mustSelect(t, q, license, older, dea, id)
	want := []Pick{{Item: "license", Candidate: 0}, {Item: "dea", Candidate: 2}}
	if !s.Satisfied || !reflect.DeepEqual(s.Picks, want) {
		t.Errorf("selection = %+v, want picks %+v", s, want)
	}

	s = mustSelect(t, q, license, id)
	if s.Satisfied || len(s.Picks) != 0 || !reflect.DeepEqual(s.Missing, []string{"dea"}) {
		t.Errorf("without a DEA: %+v", s)
	}
}

// TestSelectCredentialSets answers each required set with its first
// satisfiable option and skips optional sets.
func TestSelectCredentialSets(t *testing.T) {
	license := candidate(t, 0, "vc+jwt", licenseExample)
	id := candidate(t, 1, "dc+sd-jwt", identityExample)
	q := dcql(`{"credentials":[
		{"id":"dea","format":"ldp_vc","meta":{"type_values":[["DEARegistrationCredential"]]}},
		{"id":"license","format":"jwt_vc_json","meta":{"type_values":[["MedicalLicenseCredential"]]}},
		{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["` + identityVCT + `"]},"claims":[{"path":["given_name"]}]}],
		"credential_sets":[{"options":[["dea"],["license"]]},{"options":[["pid"]],"required":false}]}`)
	s := mustSelect(t, q, license, id)
	want := []Pick{{Item: "license", Candidate: 0}}
	if !s.Satisfied || !reflect.DeepEqual(s.Picks, want) {
		t.Errorf("selection = %+v, want picks %+v", s, want)
	}
}

// TestSelectSubmissionRequirements: a pick rule takes the fewest
// descriptors it allows, an all rule its whole group.
func TestSelectSubmissionRequirements(t *testing.T) {
	license := candidate(t, 0, "vc+jwt", licenseExample)
	dea := candidate(t, 1, "vc+jwt", edit(t, licenseExample, func(m map[string]any) {
		m["type"] = []any{"VerifiableCredential", "DEARegistrationCredential"}
	}))
	desc := func(id, group, typ string) string {
		return `{"id":"` + id + `","group":["` + group + `"],"constraints":{"fields":[{"path":["$.type"],"filter":{"type":"array","contains":{"const":"` + typ + `"}}}]}}`
	}
	defs := `"input_descriptors":[` + desc("lic", "A", "MedicalLicenseCredential") + `,` + desc("dea", "A", "DEARegistrationCredential") + `,` +
		desc("board", "B", "BoardCertificationCredential") + `]`
	cases := []struct {
		name string
		reqs string
		want []Pick
	}{
		{"pick 1 of A", `[{"rule":"pick","count":1,"from":"A"}]`, []Pick{{Item: "lic", Candidate: 0}}},
		{"pick min 2 of A", `[{"rule":"pick","min":2,"from":"A"}]`, []Pick{{Item: "lic", Candidate: 0}, {Item: "dea", Candidate: 1}}},
		{"all of A", `[{"rule":"all","from":"A"}]`, []Pick{{Item: "lic", Candidate: 0}, {Item: "dea", Candidate: 1}}},
		{"nested pick", `[{"rule":"pick","count":1,"from_nested":[{"rule":"all","from":"B"},{"rule":"all","from":"A"}]}]`,
			[]Pick{{Item: "lic", Candidate: 0}, {Item: "dea", Candidate: 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := pexQuery(`{"id":"h",` + defs + `,"submission_requirements":` + c.reqs + `}`)
			s := mustSelect(t, q, license, dea)
			if !s.Satisfied || !reflect.DeepEqual(s.Picks, c.want) {
				t.Errorf("selection = %+v, want picks %+v", s, c.want)
			}
		})
	}
}

func TestSelectPickUnsatisfiable(t *testing.T) {
	license := candidate(t, 0, "vc+jwt", licenseExample)
	q := pexQuery(`{"id":"h","input_descriptors":[
		{"id":"lic","group":["A"],"constraints":{"fields":[{"path":["$.type"],"filter":{"type":"array","contains":{"const":"MedicalLicenseCredential"}}}]}},
		{"id":"dea","group":["A"],"constraints":{"fields":[{"path":["$.type"],"filter":{"type":"array","contains":{"const":"DEARegistrationCredential"}}}]}}],
		"submission_requirements":[{"rule":"pick","min":2,"from":"A"}]}`)
	if s := mustSelect(t, q, license); s.Satisfied || len(s.Picks) != 0 {
		t.Errorf("min 2 of A with one license: %+v", s)
	}
}

func TestSelectInvalidQuery(t *testing.T) {
	if _, err := dcql(`{"credentials":[]}`).Select(nil); err == nil {
		t.Error("an invalid query selected")
	}
}
