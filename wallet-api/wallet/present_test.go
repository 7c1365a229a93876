package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier"
)

// presentEnv is a wallet with a Presenter over one store, and did:key
// issuers: a medical board, the DEA and a clinic that proofs patients.
type presentEnv struct {
	s                  *Service
	clk                *clock
	p                  *Presenter
	board, dea, clinic issuer
}

func newPresentEnv(t testing.TB, store kv.Store) *presentEnv {
	t.Helper()
	s, clk := newService(t, store, newMaster(t))
	return &presentEnv{s: s, clk: clk, board: newIssuer(t), dea: newIssuer(t), clinic: newIssuer(t),
		p: &Presenter{Wallet: s, Engine: engine, HTTP: &http.Client{Timeout: 10 * time.Second}}}
}

// add stores a credential for h, received a minute after the previous one
// (so it lists before the earlier ones).
func (e *presentEnv) add(t testing.TB, h Holder, in json.RawMessage) Stored {
	t.Helper()
	e.clk.Add(time.Minute)
	st, err := e.s.AddCredential(t.Context(), h.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// issueDoc issues to h a credential of typ about sub (whose id becomes h's
// DID); edit, when set, changes the document before it is secured. An
// SD-JWT VC is bound to h's key.
func (iss issuer) issueDoc(t testing.TB, s *Service, h Holder, format secure.Format, typ string, seed uint64, sub map[string]any, edit func(map[string]any)) json.RawMessage {
	t.Helper()
	sub["id"] = h.DID
	doc := map[string]any{
		"@context":          []any{vc.ContextV2, healthcare.ContextURL},
		"id":                fmt.Sprintf("urn:uuid:7c1e4a52-3b9d-4f0e-8a61-%012d", seed),
		"type":              []any{vc.TypeCredential, typ},
		"issuer":            iss.did,
		"validFrom":         "2025-01-01T00:00:00Z",
		"credentialSubject": sub,
	}
	if edit != nil {
		edit(doc)
	}
	o := secure.IssueOptions{Format: format, Now: testNow}
	if format == secure.SDJWT {
		k, err := s.Keys.Key(t.Context(), h.KeyID)
		if err != nil {
			t.Fatal(err)
		}
		o.HolderKey = k.Public
	}
	out, err := engine.Issue(t.Context(), doc, iss.signer, o)
	if err != nil {
		t.Fatalf("issue %s %s: %v", format, typ, err)
	}
	b, err := vc.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// identity is a patient's identity credentialSubject: eight claims
// (name, birthDate, gender, address, telecom, identifier, ageOver,
// identityAssurance) besides the id.
func identitySubject(seed uint64) map[string]any {
	return synth.New(seed, synth.WithNow(testNow)).Patient().IdentitySubject()
}

func mustMarshal(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dcql is a DCQL query of credential queries.
func dcql(t testing.TB, items ...any) verifier.Query {
	return verifier.Query{DCQL: mustMarshal(t, map[string]any{"credentials": items})}
}

// sdjwtItem asks for an SD-JWT VC of typ disclosing claims.
func sdjwtItem(id, typ string, claims ...string) map[string]any {
	item := map[string]any{"id": id, "format": "dc+sd-jwt", "meta": map[string]any{"vct_values": []any{healthcare.Vocab + typ}}}
	if len(claims) > 0 {
		var cl []any
		for _, c := range claims {
			cl = append(cl, map[string]any{"path": []any{c}})
		}
		item["claims"] = cl
	}
	return item
}

// w3cItem asks for a W3C credential of typ in a DCQL format (ldp_vc,
// jwt_vc_json).
func w3cItem(id, format, typ string) map[string]any {
	return map[string]any{"id": id, "format": format, "meta": map[string]any{"type_values": []any{[]any{typ}}}}
}

// request is an inline Credence request for q.
func inlineRequest(id string, q verifier.Query) *Request {
	return &Request{ID: id, Verifier: "Mercy General", Query: q, Challenge: "n-" + id, Domain: "verify.mercy.example"}
}

// parseRequest reads a request as a verifier sends it.
func parseRequest(t testing.TB, s string) *Request {
	t.Helper()
	var r Request
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("request %s: %v", s, err)
	}
	return &r
}

// sameJSON reports whether a and b encode the same JSON value.
func sameJSON(t testing.TB, a, b any) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(mustMarshal(t, a), &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(mustMarshal(t, b), &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

func TestRequestUnmarshal(t *testing.T) {
	const licenseDCQL = `{"credentials":[{"id":"lic","format":"ldp_vc","meta":{"type_values":[["MedicalLicenseCredential"]]}}]}`
	const pd = `{"id":"pd","input_descriptors":[{"id":"lic","constraints":{"fields":[{"path":["$.type"],"filter":{"type":"array","contains":{"const":"MedicalLicenseCredential"}}}]}}]}`
	typeField := func(typ string) string {
		return `{"path":["$.type","$.vc.type"],"filter":{"type":"array","contains":{"const":"` + typ + `"}}}`
	}
	subjectField := func(k, v string) string {
		f := `{"path":["$.credentialSubject['` + strings.ReplaceAll(k, `'`, `\\'`) + `']","$['` + strings.ReplaceAll(k, `'`, `\\'`) + `']"]`
		if v != "" {
			f += `,"filter":{"type":"string","const":"` + v + `"}`
		}
		return f + "}"
	}
	issuerField := `{"path":["$.issuer","$.issuer.id","$.iss"],"filter":{"type":"string","const":"did:key:z6Mkboard"}}`
	descriptor := func(id string, fields ...string) string {
		return `{"id":"` + id + `","constraints":{"fields":[` + strings.Join(fields, ",") + `]}}`
	}
	vprPD := func(descs ...string) string {
		return `{"id":"vpr","input_descriptors":[` + strings.Join(descs, ",") + `]}`
	}
	expires := time.Date(2025, 3, 1, 12, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		in       string
		want     Request
		dcql, pd string // the query wanted
		err      string // a wanted error, "" none
	}{
		{name: "credence request object",
			in: `{"id":"r1","verifier":"Mercy General","query":{"dcql_query":` + licenseDCQL + `},"challenge":"c1","domain":"verify.mercy.example",
				"purpose":"credentialing","expires":"2025-03-01T12:05:00Z","response_uri":"https://verify.mercy.example/r/r1"}`,
			want: Request{ID: "r1", Verifier: "Mercy General", Challenge: "c1", Domain: "verify.mercy.example", Purpose: "credentialing",
				Expires: expires, ResponseURI: "https://verify.mercy.example/r/r1"},
			dcql: licenseDCQL},
		{name: "credence request object with a presentation definition",
			in:   `{"id":"r2","query":{"presentation_definition":` + pd + `},"challenge":"c","domain":"d"}`,
			want: Request{ID: "r2", Challenge: "c", Domain: "d"}, pd: pd},
		{name: "openid4vp dcql_query, nonce and client_id",
			in:   `{"dcql_query":` + licenseDCQL + `,"nonce":"n-1","client_id":"x509_san_dns:verify.mercy.example","response_uri":"https://verify.mercy.example/cb"}`,
			want: Request{Challenge: "n-1", Domain: "x509_san_dns:verify.mercy.example", ResponseURI: "https://verify.mercy.example/cb"},
			dcql: licenseDCQL},
		{name: "openid4vp presentation_definition",
			in:   `{"presentation_definition":` + pd + `,"nonce":"n-2","client_id":"verifier"}`,
			want: Request{Challenge: "n-2", Domain: "verifier"}, pd: pd},
		{name: "challenge and domain win over nonce and client_id",
			in:   `{"dcql_query":` + licenseDCQL + `,"challenge":"c","nonce":"n","domain":"d","client_id":"cid"}`,
			want: Request{Challenge: "c", Domain: "d"}, dcql: licenseDCQL},
		{name: "vpr with one example",
			in: `{"query":[{"type":"QueryByExample","credentialQuery":{"reason":"Credentialing","example":{
				"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential","MedicalLicenseCredential"],
				"credentialSubject":{"npi":"1234567893","license":{}},"issuer":"did:key:z6Mkboard"}}}],"challenge":"c","domain":"d"}`,
			want: Request{Challenge: "c", Domain: "d"},
			pd: vprPD(descriptor("q0-0", typeField("MedicalLicenseCredential"), subjectField("license", ""),
				subjectField("npi", "1234567893"), issuerField))},
		{name: "vpr query object with several examples",
			in: `{"query":{"type":"QueryByExample","credentialQuery":[
				{"example":{"type":"MedicalLicenseCredential"}},
				{"example":{"type":["VerifiableCredential","DEARegistrationCredential"],"issuer":{"id":"did:key:z6Mkboard"}}}]},
				"challenge":"c","domain":"d"}`,
			want: Request{Challenge: "c", Domain: "d"},
			pd: vprPD(descriptor("q0-0", typeField("MedicalLicenseCredential")),
				descriptor("q0-1", typeField("DEARegistrationCredential"), issuerField))},
		{name: "vpr with two queries by example and did authentication",
			in: `{"query":[{"type":"DIDAuthentication","acceptedMethods":[{"method":"key"}]},
				{"type":"QueryByExample","credentialQuery":{"example":{"type":"MedicalLicenseCredential"}}},
				{"type":"QueryByExample","credentialQuery":{"example":{"type":"DEARegistrationCredential"}}}],"challenge":"c","domain":"d"}`,
			want: Request{Challenge: "c", Domain: "d", DIDAuth: true},
			pd:   vprPD(descriptor("q1-0", typeField("MedicalLicenseCredential")), descriptor("q2-0", typeField("DEARegistrationCredential")))},
		{name: "vpr did authentication alone",
			in:   `{"query":{"type":"DIDAuthentication"},"challenge":"c","domain":"d"}`,
			want: Request{Challenge: "c", Domain: "d", DIDAuth: true}},
		{name: "vpr DIDAuth alias in an array",
			in:   `{"query":[{"type":"DIDAuth"}],"challenge":"c","domain":"d"}`,
			want: Request{Challenge: "c", Domain: "d", DIDAuth: true}},
		{name: "vpr example asking for any credential",
			in:   `{"query":{"type":"QueryByExample","credentialQuery":{"example":{"type":"VerifiableCredential"}}},"challenge":"c","domain":"d"}`,
			want: Request{Challenge: "c", Domain: "d"}, pd: vprPD(`{"id":"q0-0","constraints":{"fields":[]}}`)},
		{name: "vpr example with a quote in a claim name",
			in:   `{"query":{"type":"QueryByExample","credentialQuery":{"example":{"credentialSubject":{"o'brien":"x"}}}},"challenge":"c","domain":"d"}`,
			want: Request{Challenge: "c", Domain: "d"}, pd: vprPD(descriptor("q0-0", subjectField("o'brien", "x")))},
		{name: "vpr whose text names a query member",
			in:   `{"query":{"type":"DIDAuthentication","reason":"presentation_definition"},"challenge":"c","domain":"d"}`,
			want: Request{Challenge: "c", Domain: "d", DIDAuth: true}},
		{name: "no query", in: `{"challenge":"c","domain":"d"}`, want: Request{Challenge: "c", Domain: "d"}},
		{name: "null query", in: `{"query":null,"didAuth":true}`, want: Request{DIDAuth: true}},

		{name: "unsupported vpr query type", in: `{"query":[{"type":"QueryByFrame","frame":{}}]}`, err: "QueryByFrame is not supported"},
		{name: "vpr query without a type", in: `{"query":[{"credentialQuery":{"example":{}}}]}`, err: "is not supported"},
		{name: "vpr without credentialQuery", in: `{"query":{"type":"QueryByExample"}}`, err: "credentialQuery must be an object or an array"},
		{name: "vpr example not an object", in: `{"query":{"type":"QueryByExample","credentialQuery":[{"example":"MedicalLicenseCredential"}]}}`, err: "example must be an object"},
		{name: "vpr query array of non-objects", in: `{"query":["QueryByExample"]}`, err: "query"},
		{name: "query a string", in: `{"query":"dcql"}`, err: "query"},
		{name: "challenge a number", in: `{"challenge":5}`, err: "cannot unmarshal"},
		{name: "expires not a time", in: `{"expires":"tomorrow"}`, err: "parsing time"},
		{name: "truncated", in: `{"query":{"dcql_query":`, err: "unexpected end"},
		{name: "an array", in: `[]`, err: "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Request
			err := json.Unmarshal([]byte(tc.in), &got)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q (request %+v)", err, tc.err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			q := got.Query
			got.Query = verifier.Query{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			for _, c := range []struct {
				name      string
				got, want []byte
			}{{"dcql_query", q.DCQL, []byte(tc.dcql)}, {"presentation_definition", q.PresentationDefinition, []byte(tc.pd)}} {
				if (len(c.got) == 0) != (len(c.want) == 0) || len(c.want) > 0 && !sameJSON(t, json.RawMessage(c.got), json.RawMessage(c.want)) {
					t.Errorf("%s = %s\nwant %s", c.name, c.got, c.want)
				}
			}
			if len(q.DCQL) > 0 || len(q.PresentationDefinition) > 0 {
				if err := q.Validate(); err != nil {
					t.Errorf("the query does not validate: %v", err)
				}
			}
		})
	}
}

// checkPresentation verifies a presentation as its verifier would after
// receiving it as JSON, bound to req's challenge and domain at now, checks
// that it is bound to nothing else, and returns the credentials it carries,
// verified (for an SD-JWT+KB, the credential with what it discloses).
func checkPresentation(t *testing.T, h Holder, req *Request, out *Presentation, now time.Time) []*secure.Verified {
	t.Helper()
	ctx := t.Context()
	in, err := secure.ParseInput(mustMarshal(t, out.Presentation))
	if err != nil {
		t.Fatal(err)
	}
	if out.Format == string(secure.SDJWT) {
		o := secure.VerifyOptions{Now: now, KeyBinding: true, Nonce: req.Challenge, Audience: req.Domain}
		v, err := engine.VerifyCredential(ctx, in, resolver, o)
		if err != nil {
			t.Fatalf("the SD-JWT+KB does not verify: %v", err)
		}
		o.Nonce = "another"
		if _, err := engine.VerifyCredential(ctx, in, resolver, o); err == nil {
			t.Error("the SD-JWT+KB verifies with another nonce")
		}
		o.Nonce, o.Audience = req.Challenge, "another.example"
		if _, err := engine.VerifyCredential(ctx, in, resolver, o); err == nil {
			t.Error("the SD-JWT+KB verifies with another audience")
		}
		return []*secure.Verified{v}
	}
	o := secure.PresentationOptions{Now: now, Challenge: req.Challenge, Domain: req.Domain}
	vp, err := engine.VerifyPresentation(ctx, in, resolver, o)
	if err != nil {
		t.Fatalf("the presentation does not verify: %v", err)
	}
	if vp.Holder != h.DID || !vp.HolderProof || !strings.HasPrefix(vp.VerificationMethod, h.DID+"#") {
		t.Errorf("holder %s (proof %v, key %s), want %s", vp.Holder, vp.HolderProof, vp.VerificationMethod, h.DID)
	}
	for _, other := range []secure.PresentationOptions{{Now: now, Challenge: "another", Domain: req.Domain}, {Now: now, Challenge: req.Challenge, Domain: "another.example"}} {
		if _, err := engine.VerifyPresentation(ctx, in, resolver, other); !errors.Is(err, secure.ErrChallenge) {
			t.Errorf("verified with challenge %q and domain %q: %v, want ErrChallenge", other.Challenge, other.Domain, err)
		}
	}
	var out2 []*secure.Verified
	for i, c := range vp.Credentials {
		v, err := engine.VerifyCredential(ctx, c, resolver, secure.VerifyOptions{Now: now})
		if err != nil {
			t.Fatalf("credential %d of the presentation: %v", i, err)
		}
		out2 = append(out2, v)
	}
	return out2
}

// clinicianWallet holds a license and a DEA registration (Data Integrity)
// and a board certification (vc+jwt).
type clinicianWallet struct {
	h                     Holder
	license, dea, boardVC Stored
}

func (e *presentEnv) clinician(t testing.TB, method string) clinicianWallet {
	t.Helper()
	h, _ := mustHolder(t, e.s, HolderInput{DIDMethod: method})
	return clinicianWallet{h: h,
		license: e.add(t, h, e.board.issue(t, e.s, h, cred{format: secure.DataIntegrity, seed: 1})),
		dea:     e.add(t, h, e.dea.issue(t, e.s, h, cred{format: secure.DataIntegrity, typ: healthcare.DEARegistration, seed: 2})),
		boardVC: e.add(t, h, e.board.issue(t, e.s, h, cred{format: secure.JWT, typ: healthcare.BoardCertification, seed: 3})),
	}
}

func TestPresent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		e := newPresentEnv(t, store)
		doc := e.clinician(t, MethodKey)
		patient, _ := mustHolder(t, e.s, HolderInput{})
		pid := e.add(t, patient, e.clinic.issueDoc(t, e.s, patient, secure.SDJWT, healthcare.PatientIdentity, 10, identitySubject(10), nil))
		nurse, _ := mustHolder(t, e.s, HolderInput{DIDMethod: MethodJWK})
		nurseLicense := e.add(t, nurse, e.board.issue(t, e.s, nurse, cred{format: secure.DataIntegrity, seed: 4}))
		two := dcql(t, w3cItem("license", "ldp_vc", healthcare.MedicalLicense), w3cItem("dea", "ldp_vc", healthcare.DEARegistration))
		nameAndBirth := []string{"/credentialSubject/birthDate", "/credentialSubject/name"}

		for _, tc := range []struct {
			name      string
			h         Holder
			req       *Request
			o         PresentOptions
			format    string
			want      []Stored   // the credentials presented, in order
			disclosed [][]string // what of each; nil the whole credential
		}{
			{name: "sd-jwt discloses the two claims asked", h: patient,
				req:    inlineRequest("pid", dcql(t, sdjwtItem("pid", healthcare.PatientIdentity, "name", "birthDate"))),
				format: "sd-jwt", want: []Stored{pid}, disclosed: [][]string{nameAndBirth}},
			{name: "sd-jwt answering two items discloses their union", h: patient,
				req: inlineRequest("pid2", dcql(t, sdjwtItem("a", healthcare.PatientIdentity, "name"),
					sdjwtItem("b", healthcare.PatientIdentity, "birthDate"))),
				format: "sd-jwt", want: []Stored{pid}, disclosed: [][]string{nameAndBirth}},
			{name: "sd-jwt asked for no claim discloses none", h: patient,
				req:    inlineRequest("pid3", dcql(t, sdjwtItem("pid", healthcare.PatientIdentity))),
				format: "sd-jwt", want: []Stored{pid}, disclosed: [][]string{{}}},
			{name: "sd-jwt through presentation exchange", h: patient,
				req: inlineRequest("pid4", verifier.Query{PresentationDefinition: json.RawMessage(`{"id":"pd","input_descriptors":[{"id":"pid",
					"format":{"dc+sd-jwt":{}},"constraints":{"limit_disclosure":"required","fields":[
					{"path":["$.vct"],"filter":{"type":"string","const":"` + healthcare.Vocab + healthcare.PatientIdentity + `"}},
					{"path":["$.gender"]},{"path":["$.telecom"],"optional":true}]}}]}`)}),
				format: "sd-jwt", want: []Stored{pid}, disclosed: [][]string{{"/credentialSubject/gender"}}},
			{name: "di with two credentials", h: doc.h, req: inlineRequest("di", two),
				format: "di", want: []Stored{doc.license, doc.dea}, disclosed: [][]string{nil, nil}},
			{name: "jwt with two credentials", h: doc.h, req: inlineRequest("jwt", two), o: PresentOptions{Format: "jwt"},
				format: "jwt", want: []Stored{doc.license, doc.dea}, disclosed: [][]string{nil, nil}},
			{name: "di-jcs", h: doc.h, req: inlineRequest("jcs", dcql(t, w3cItem("cert", "jwt_vc_json", healthcare.BoardCertification))),
				o: PresentOptions{Format: "di-jcs"}, format: "di-jcs", want: []Stored{doc.boardVC}, disclosed: [][]string{nil}},
			{name: "a did:jwk holder defaults to jwt", h: nurse,
				req:    inlineRequest("jwk", dcql(t, w3cItem("license", "ldp_vc", healthcare.MedicalLicense))),
				format: "jwt", want: []Stored{nurseLicense}, disclosed: [][]string{nil}},
			{name: "vpr query by example picks the DEA registration", h: doc.h,
				req: parseRequest(t, `{"id":"vpr","query":[{"type":"QueryByExample","credentialQuery":{"example":{
					"type":"DEARegistrationCredential","issuer":"`+e.dea.did+`","credentialSubject":{"registration":{}}}}}],
					"challenge":"c-vpr","domain":"hospital.example"}`),
				format: "di", want: []Stored{doc.dea}, disclosed: [][]string{nil}},
			{name: "vpr with two examples", h: doc.h,
				req: parseRequest(t, `{"id":"vpr2","query":[{"type":"QueryByExample","credentialQuery":[
					{"example":{"type":"MedicalLicenseCredential","issuer":"`+e.board.did+`"}},
					{"example":{"type":"BoardCertificationCredential"}}]}],"challenge":"c-vpr2","domain":"hospital.example"}`),
				format: "di", want: []Stored{doc.license, doc.boardVC}, disclosed: [][]string{nil, nil}},
			{name: "did authentication presents no credential", h: doc.h,
				req:    parseRequest(t, `{"id":"auth","query":{"type":"DIDAuthentication"},"challenge":"c-auth","domain":"login.example"}`),
				format: "di", want: nil, disclosed: nil},
			{name: "did authentication by a did:jwk holder", h: nurse,
				req:    parseRequest(t, `{"id":"auth2","query":[{"type":"DIDAuthentication"}],"challenge":"c-auth2","domain":"login.example"}`),
				format: "jwt", want: nil, disclosed: nil},
			{name: "the holder's choice of credentials", h: doc.h,
				req: inlineRequest("choice", dcql(t, w3cItem("any", "ldp_vc", vc.TypeCredential))), o: PresentOptions{Credentials: []string{doc.license.ID}},
				format: "di", want: []Stored{doc.license}, disclosed: [][]string{nil}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out, err := e.p.Present(t.Context(), tc.h.ID, tc.req, tc.o)
				if err != nil {
					t.Fatal(err)
				}
				if out.Format != tc.format || !out.Selection.Satisfied || out.Response != nil {
					t.Errorf("format %q, selection %+v, response %+v; want %q, satisfied, none", out.Format, out.Selection, out.Response, tc.format)
				}
				verified := checkPresentation(t, tc.h, tc.req, out, e.clk.Now())
				if len(verified) != len(tc.want) {
					t.Fatalf("%d credentials presented, want %d", len(verified), len(tc.want))
				}
				for i, v := range verified {
					if v.Credential.ID() != tc.want[i].CredentialID {
						t.Errorf("credential %d is %s, want %s", i, v.Credential.ID(), tc.want[i].CredentialID)
					}
				}
				if tc.format == "sd-jwt" {
					// Exactly the claims asked for are disclosed: the
					// verified subject has them and its id, nothing else.
					v := verified[0]
					if !slices.Equal(v.Disclosed, tc.disclosed[0]) {
						t.Errorf("disclosed %q, want %q", v.Disclosed, tc.disclosed[0])
					}
					var claims []string
					for k := range v.Credential.Subjects()[0] {
						claims = append(claims, "/credentialSubject/"+k)
					}
					slices.Sort(claims)
					want := slices.Sorted(slices.Values(append([]string{"/credentialSubject/id"}, tc.disclosed[0]...)))
					if !slices.Equal(claims, want) {
						t.Errorf("the verifier sees %q, want %q", claims, want)
					}
				}
				d := out.Disclosure
				if !validID(d.ID, 'd') || !d.Time.Equal(e.clk.Now()) || d.RequestID != tc.req.ID || d.Challenge != tc.req.Challenge ||
					d.Audience != tc.req.Domain || d.Format != tc.format || d.Delivered || d.Status != 0 || d.Outcome != "" {
					t.Errorf("disclosure %+v", d)
				}
				if len(d.Credentials) != len(tc.want) {
					t.Fatalf("the disclosure names %d credentials, want %d", len(d.Credentials), len(tc.want))
				}
				for i, c := range d.Credentials {
					w := tc.want[i]
					want := DisclosedCredential{ID: w.ID, Types: w.Types, Issuer: w.Issuer, Format: w.Format, Disclosed: tc.disclosed[i]}
					if !reflect.DeepEqual(c, want) {
						t.Errorf("disclosed credential %d = %+v\nwant %+v", i, c, want)
					}
				}
				log, err := e.s.Disclosures(t.Context(), tc.h.ID)
				if err != nil || len(log) == 0 || !sameJSON(t, log[0], d) {
					t.Errorf("the log's newest entry %+v (%v), want %+v", log, err, d)
				}
			})
		}
	})
}

func TestPresentRanking(t *testing.T) {
	e := newPresentEnv(t, backends[0].open(t))
	h, _ := mustHolder(t, e.s, HolderInput{})
	valid := e.add(t, h, e.board.issue(t, e.s, h, cred{format: secure.DataIntegrity, seed: 1}))
	expired := e.add(t, h, e.board.issueDoc(t, e.s, h, secure.DataIntegrity, healthcare.MedicalLicense, 2, subject(healthcare.MedicalLicense, 2),
		func(doc map[string]any) {
			doc["validFrom"], doc["validUntil"] = "2024-01-01T00:00:00Z", "2025-02-01T00:00:00Z"
		}))
	future := e.add(t, h, e.board.issueDoc(t, e.s, h, secure.DataIntegrity, healthcare.MedicalLicense, 3, subject(healthcare.MedicalLicense, 3),
		func(doc map[string]any) { doc["validFrom"] = "2030-01-01T00:00:00Z" }))
	if list, _ := e.s.Credentials(t.Context(), h.ID, Filter{}); len(list) != 3 || list[0].ID != future.ID || list[2].ID != valid.ID {
		t.Fatal("the newest credentials should list first")
	}
	q := dcql(t, w3cItem("license", "ldp_vc", healthcare.MedicalLicense))
	for _, tc := range []struct {
		name   string
		chosen []string
		want   Stored
	}{
		{"a valid credential before newer expired or not yet valid ones", nil, valid},
		{"the holder may choose an expired one", []string{expired.ID}, expired},
		{"the first the holder chose that satisfies", []string{future.ID, valid.ID}, future},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.p.Present(t.Context(), h.ID, inlineRequest("rank", q), PresentOptions{Credentials: tc.chosen})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Disclosure.Credentials; len(got) != 1 || got[0].ID != tc.want.ID {
				t.Errorf("presented %+v, want %s", got, tc.want.ID)
			}
		})
	}
}

func TestPresentRefuses(t *testing.T) {
	e := newPresentEnv(t, backends[0].open(t))
	doc := e.clinician(t, MethodKey)
	patient, _ := mustHolder(t, e.s, HolderInput{})
	e.add(t, patient, e.clinic.issueDoc(t, e.s, patient, secure.SDJWT, healthcare.PatientIdentity, 10, identitySubject(10), nil))
	e.add(t, patient, e.board.issue(t, e.s, patient, cred{format: secure.DataIntegrity, seed: 11}))
	nurse := e.clinician(t, MethodJWK)
	license := dcql(t, w3cItem("license", "ldp_vc", healthcare.MedicalLicense))
	with := func(r *Request, f func(*Request)) *Request { f(r); return r }
	for _, tc := range []struct {
		name string
		h    Holder
		req  *Request
		o    PresentOptions
		want error
		msg  string
	}{
		{"no request", doc.h, nil, PresentOptions{}, ErrRequest, "no request"},
		{"no challenge", doc.h, with(inlineRequest("r", license), func(r *Request) { r.Challenge = "" }), PresentOptions{}, ErrRequest, "challenge"},
		{"no domain", doc.h, with(inlineRequest("r", license), func(r *Request) { r.Domain = "" }), PresentOptions{}, ErrRequest, "domain"},
		{"challenge too long", doc.h, with(inlineRequest("r", license), func(r *Request) { r.Challenge = strings.Repeat("c", 257) }), PresentOptions{}, ErrRequest, "too long"},
		{"expired", doc.h, with(inlineRequest("r", license), func(r *Request) { r.Expires = e.clk.Now() }), PresentOptions{}, ErrRequest, "expired"},
		{"asks for nothing", doc.h, inlineRequest("r", verifier.Query{}), PresentOptions{}, ErrRequest, "asks for nothing"},
		{"both query kinds", doc.h, inlineRequest("r", verifier.Query{DCQL: license.DCQL, PresentationDefinition: json.RawMessage(`{"id":"x","input_descriptors":[]}`)}),
			PresentOptions{}, ErrRequest, "exactly one"},
		{"invalid dcql", doc.h, inlineRequest("r", verifier.Query{DCQL: json.RawMessage(`{"credentials":[]}`)}), PresentOptions{}, ErrRequest, "credentials"},
		{"send without response_uri", doc.h, inlineRequest("r", license), PresentOptions{Send: true}, ErrRequest, "response_uri"},
		{"response_uri not http", doc.h, with(inlineRequest("r", license), func(r *Request) { r.ResponseURI = "file:///etc/passwd" }), PresentOptions{}, ErrRequest, "response_uri"},
		{"unknown format", doc.h, inlineRequest("r", license), PresentOptions{Format: "cose"}, ErrRequest, "cose"},
		{"sd-jwt as a w3c format", doc.h, inlineRequest("r", license), PresentOptions{Format: "sd-jwt"}, ErrRequest, "sd-jwt"},
		{"sd-jwt vc as jwt", patient, inlineRequest("r", dcql(t, sdjwtItem("pid", healthcare.PatientIdentity, "name"))), PresentOptions{Format: "jwt"}, ErrRequest, "SD-JWT+KB"},
		{"a did:jwk key cannot sign eddsa", nurse.h, inlineRequest("r", license), PresentOptions{Format: "di"}, ErrRequest, "Ed25519"},
		{"unsatisfiable", doc.h, inlineRequest("r", dcql(t, w3cItem("pid", "ldp_vc", healthcare.PatientIdentity))), PresentOptions{}, ErrUnsatisfied, "pid"},
		{"vpr example of another issuer", doc.h, parseRequest(t, `{"query":{"type":"QueryByExample","credentialQuery":{"example":{
			"type":"MedicalLicenseCredential","issuer":"`+e.dea.did+`"}}},"challenge":"c","domain":"d"}`), PresentOptions{}, ErrUnsatisfied, "q0-0"},
		{"vpr example of another subject", doc.h, parseRequest(t, `{"query":[{"type":"QueryByExample","credentialQuery":{"example":{
			"type":"DEARegistrationCredential","credentialSubject":{"npi":"0000000000"}}}}],"challenge":"c","domain":"d"}`), PresentOptions{}, ErrUnsatisfied, "q0-0"},
		{"unsatisfiable by the holder's choice", doc.h, inlineRequest("r", license), PresentOptions{Credentials: []string{doc.dea.ID}}, ErrUnsatisfied, "license"},
		{"sd-jwt together with another credential", patient, inlineRequest("r", dcql(t, sdjwtItem("pid", healthcare.PatientIdentity, "name"), w3cItem("license", "ldp_vc", healthcare.MedicalLicense))),
			PresentOptions{}, ErrUnsatisfied, "an SD-JWT VC is presented alone"},
		{"a chosen credential not in the wallet", doc.h, inlineRequest("r", license), PresentOptions{Credentials: []string{newID('c')}}, ErrCredentialNotFound, ""},
		{"another holder's credential", patient, inlineRequest("r", license), PresentOptions{Credentials: []string{doc.license.ID}}, ErrCredentialNotFound, ""},
		{"unknown holder", Holder{ID: newID('h')}, inlineRequest("r", license), PresentOptions{}, ErrHolderNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.p.Present(t.Context(), tc.h.ID, tc.req, tc.o)
			if !errors.Is(err, tc.want) || !strings.Contains(fmt.Sprint(err), tc.msg) || out != nil {
				t.Errorf("Present = %v, %v; want %v mentioning %q", out, err, tc.want, tc.msg)
			}
		})
	}
	for _, h := range []Holder{doc.h, patient, nurse.h} {
		if log, err := e.s.Disclosures(t.Context(), h.ID); err != nil || len(log) != 0 {
			t.Errorf("holder %s logged %+v (%v) for refused requests", h.ID, log, err)
		}
	}
}

func TestPresentDisclosureLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		e := newPresentEnv(t, store)
		ctx := t.Context()
		doc := e.clinician(t, MethodKey)
		pid := e.add(t, doc.h, e.clinic.issueDoc(t, e.s, doc.h, secure.SDJWT, healthcare.PatientIdentity, 10, identitySubject(10), nil))
		reqs := []*Request{
			{ID: "r-1", Verifier: "Mercy General", Challenge: "c-1", Domain: "verify.mercy.example",
				Query: dcql(t, sdjwtItem("pid", healthcare.PatientIdentity, "name", "gender", "ageOver"))},
			{Verifier: "Mercy Front Desk", Challenge: "c-2", Domain: "https://intake.hospital.example", ResponseURI: "https://intake.hospital.example/responses/2",
				Query: dcql(t, w3cItem("license", "jwt_vc_json", healthcare.BoardCertification), w3cItem("dea", "ldp_vc", healthcare.DEARegistration))},
			{ID: "r-3", Challenge: "c-3", Domain: "login.example", DIDAuth: true},
		}
		want := []Disclosure{
			{RequestID: "r-1", Verifier: "verify.mercy.example", ClaimedVerifier: "Mercy General", Audience: "verify.mercy.example", Challenge: "c-1", Format: "sd-jwt",
				Credentials: []DisclosedCredential{{ID: pid.ID, Types: []string{vc.TypeCredential, healthcare.PatientIdentity}, Issuer: e.clinic.did,
					Format: "dc+sd-jwt", Disclosed: []string{"/credentialSubject/ageOver", "/credentialSubject/gender", "/credentialSubject/name"}}}},
			{Verifier: "https://intake.hospital.example", ClaimedVerifier: "Mercy Front Desk", Audience: "https://intake.hospital.example", Challenge: "c-2", Format: "di",
				Credentials: []DisclosedCredential{
					{ID: doc.boardVC.ID, Types: []string{vc.TypeCredential, healthcare.BoardCertification}, Issuer: e.board.did, Format: "vc+jwt"},
					{ID: doc.dea.ID, Types: []string{vc.TypeCredential, healthcare.DEARegistration}, Issuer: e.dea.did, Format: "eddsa-rdfc-2022"}}},
			{RequestID: "r-3", Verifier: "login.example", Audience: "login.example", Challenge: "c-3", Format: "di", Credentials: []DisclosedCredential{}},
		}
		var ids []string
		for i, r := range reqs {
			e.clk.Add(time.Second)
			out, err := e.p.Present(ctx, doc.h.ID, r, PresentOptions{})
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			ids = append(ids, out.Disclosure.ID)
			want[i].ID, want[i].Time = out.Disclosure.ID, e.clk.Now()
		}
		log, err := e.s.Disclosures(ctx, doc.h.ID)
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(want) // newest first
		if !sameJSON(t, log, want) {
			t.Errorf("log\n%s\nwant\n%s", mustMarshal(t, log), mustMarshal(t, want))
		}
		if uniq := slices.Compact(slices.Sorted(slices.Values(ids))); len(uniq) != 3 {
			t.Errorf("disclosure ids %v", ids)
		}
	})
}

// fakeVerifier is a verifier's HTTP side: it serves request objects and
// records what is verifierPost to it.
type fakeVerifier struct {
	*httptest.Server
	mu       sync.Mutex
	requests map[string]string         // path → request object served
	answers  map[string]verifierAnswer // path → answer to a POST
	received []verifierPost            // POSTs, in order
}

type verifierAnswer struct {
	status      int
	contentType string
	body        string
}

type verifierPost struct {
	path, contentType, accept string
	body                      []byte
}

func newFakeVerifier(t *testing.T) *fakeVerifier {
	v := &fakeVerifier{requests: map[string]string{}, answers: map[string]verifierAnswer{}}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		defer v.mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			obj, ok := v.requests[r.URL.Path]
			if !ok || r.Header.Get("Accept") != "application/json" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, obj)
		case http.MethodPost:
			b, _ := io.ReadAll(r.Body)
			v.received = append(v.received, verifierPost{r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Accept"), b})
			a := v.answers[r.URL.Path]
			w.Header().Set("Content-Type", a.contentType)
			w.WriteHeader(a.status)
			_, _ = io.WriteString(w, a.body)
		}
	}))
	t.Cleanup(v.Close)
	return v
}

func TestFetchRequest(t *testing.T) {
	e := newPresentEnv(t, backends[0].open(t))
	e.p.AllowHTTP = true // the fake verifier is on http
	v := newFakeVerifier(t)
	const obj = `{"id":"r1","verifier":"Mercy General","query":{"dcql_query":{"credentials":[{"id":"lic","format":"ldp_vc","meta":{"type_values":[["MedicalLicenseCredential"]]}}]}},` +
		`"challenge":"c1","domain":"verify.mercy.example","expires":"2025-03-01T12:05:00Z","response_uri":"https://verify.mercy.example/r/r1"}`
	pad := func(n int) string { // a request object of exactly n bytes
		head := `{"challenge":"c","domain":"d","purpose":"`
		return head + strings.Repeat("p", n-len(head)-2) + `"}`
	}
	v.requests["/ok"] = obj
	v.requests["/largest"] = pad(MaxRequestBytes)
	v.requests["/too-large"] = pad(MaxRequestBytes + 1)
	v.requests["/text"] = "hello"
	v.requests["/empty"] = ""
	mux := http.NewServeMux()
	mux.HandleFunc("/gone", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "closed", http.StatusGone) })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "oops", http.StatusInternalServerError) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, v.URL+"/ok", http.StatusFound) })
	statuses := httptest.NewServer(mux)
	defer statuses.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()

	for _, tc := range []struct {
		name string
		uri  string
		want error
		msg  string
	}{
		{"a request object", v.URL + "/ok", nil, ""},
		{"a redirect to it", statuses.URL + "/redirect", nil, ""},
		{"the largest request", v.URL + "/largest", nil, ""},
		{"too large", v.URL + "/too-large", ErrRequest, "larger than"},
		{"not json", v.URL + "/text", ErrRequest, "invalid"},
		{"empty", v.URL + "/empty", ErrRequest, "unexpected end"},
		{"not found", v.URL + "/missing", ErrDelivery, "HTTP 404"},
		{"gone", statuses.URL + "/gone", ErrRequest, "closed"},
		{"server error", statuses.URL + "/fail", ErrDelivery, "HTTP 500"},
		{"verifier down", down.URL + "/ok", ErrDelivery, "fetching"},
		{"not http", "ftp://verify.mercy.example/r1", ErrRequest, "http(s)"},
		{"no host", "https:///r1", ErrRequest, "http(s)"},
		{"not a url", "://", ErrRequest, "http(s)"},
		{"empty uri", "", ErrRequest, "http(s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := e.p.FetchRequest(t.Context(), tc.uri)
			if tc.want != nil {
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) || r != nil {
					t.Errorf("FetchRequest = %+v, %v; want %v mentioning %q", r, err, tc.want, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch tc.name {
			case "the largest request":
				if r.Challenge != "c" || len(r.Purpose) != MaxRequestBytes-len(`{"challenge":"c","domain":"d","purpose":""}`) {
					t.Errorf("request %s…", r.Challenge)
				}
			default:
				want := parseRequest(t, obj)
				if !reflect.DeepEqual(r, want) {
					t.Errorf("request %+v\nwant %+v", r, want)
				}
			}
		})
	}
}

func TestPresentSend(t *testing.T) {
	e := newPresentEnv(t, backends[0].open(t))
	e.p.AllowHTTP = true // the fake verifier is on http
	doc := e.clinician(t, MethodKey)
	pid := e.add(t, doc.h, e.clinic.issueDoc(t, e.s, doc.h, secure.SDJWT, healthcare.PatientIdentity, 10, identitySubject(10), nil))
	v := newFakeVerifier(t)
	const licenseQuery = `{"dcql_query":{"credentials":[{"id":"lic","format":"ldp_vc","meta":{"type_values":[["MedicalLicenseCredential"]]}}]}}`
	pidQuery := `{"dcql_query":{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["` + healthcare.Vocab + healthcare.PatientIdentity + `"]},"claims":[{"path":["name"]}]}]}}`
	for i, tc := range []struct {
		name    string
		query   string
		answer  verifierAnswer
		outcome string
		want    Stored
	}{
		{"accepted", licenseQuery, verifierAnswer{200, "application/json", `{"decision":"accept","verified":true}`}, "accept", doc.license},
		{"verified", licenseQuery, verifierAnswer{200, "application/json", `{"verified":true}`}, "verified", doc.license},
		{"not verified", licenseQuery, verifierAnswer{200, "application/json", `{"verified":false,"errors":[]}`}, "not verified", doc.license},
		{"refused with a problem", licenseQuery, verifierAnswer{400, "application/problem+json",
			`{"type":"https://credence.dev/problems/presentation-invalid","title":"Presentation invalid","status":400}`}, "https://credence.dev/problems/presentation-invalid", doc.license},
		{"refused with a code", licenseQuery, verifierAnswer{403, "application/json", `{"code":"policy-denied"}`}, "policy-denied", doc.license},
		{"an answer that is not json", licenseQuery, verifierAnswer{502, "text/html", "<h1>Bad gateway</h1>"}, "", doc.license},
		{"an empty answer", licenseQuery, verifierAnswer{204, "", ""}, "", doc.license},
		{"sd-jwt accepted", pidQuery, verifierAnswer{200, "application/json", `{"decision":"review"}`}, "review", pid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			path := fmt.Sprintf("/requests/r%d", i)
			v.mu.Lock()
			v.requests[path+"/object"] = `{"id":"r` + fmt.Sprint(i) + `","verifier":"Mercy General","query":` + tc.query + `,"challenge":"c-` + fmt.Sprint(i) +
				`","domain":"` + strings.TrimPrefix(v.URL, "http://") + `","response_uri":"` + v.URL + path + `/response"}`
			v.answers[path+"/response"] = tc.answer
			v.mu.Unlock()

			req, err := e.p.FetchRequest(ctx, v.URL+path+"/object")
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.p.Present(ctx, doc.h.ID, req, PresentOptions{Send: true})
			if err != nil {
				t.Fatal(err)
			}
			v.mu.Lock()
			got := v.received[len(v.received)-1]
			v.mu.Unlock()
			if got.path != path+"/response" || got.contentType != "application/json" || got.accept != "application/json" {
				t.Errorf("the verifier received a POST to %s of %s accepting %s", got.path, got.contentType, got.accept)
			}
			var body map[string]json.RawMessage
			if err := json.Unmarshal(got.body, &body); err != nil || len(body) != 1 || body["verifiablePresentation"] == nil {
				t.Fatalf("the verifier received %s (%v), want {\"verifiablePresentation\": …}", got.body, err)
			}
			if !sameJSON(t, body["verifiablePresentation"], out.Presentation) {
				t.Errorf("the verifier received %s\nthe wallet returned %s", body["verifiablePresentation"], mustMarshal(t, out.Presentation))
			}
			sent := &Presentation{Format: out.Format}
			if err := json.Unmarshal(body["verifiablePresentation"], &sent.Presentation); err != nil {
				t.Fatal(err)
			}
			if vs := checkPresentation(t, doc.h, req, sent, e.clk.Now()); len(vs) != 1 || vs[0].Credential.ID() != tc.want.CredentialID {
				t.Errorf("the verifier received %d credentials, want %s", len(vs), tc.want.CredentialID)
			}

			wantBody := json.RawMessage(nil)
			if json.Valid([]byte(tc.answer.body)) {
				wantBody = json.RawMessage(tc.answer.body)
			}
			if out.Response == nil || out.Response.Status != tc.answer.status || !bytes.Equal(out.Response.Body, wantBody) {
				t.Errorf("response %+v, want %d %s", out.Response, tc.answer.status, wantBody)
			}
			d := out.Disclosure
			if !d.Delivered || d.Status != tc.answer.status || d.Outcome != tc.outcome || d.RequestID != req.ID ||
				d.Verifier != strings.TrimPrefix(v.URL, "http://") || d.ClaimedVerifier != "Mercy General" ||
				len(d.Credentials) != 1 || d.Credentials[0].ID != tc.want.ID {
				t.Errorf("disclosure %+v, want delivered, status %d, outcome %q", d, tc.answer.status, tc.outcome)
			}
			log, err := e.s.Disclosures(ctx, doc.h.ID)
			if err != nil || len(log) != i+1 || !sameJSON(t, log[0], d) {
				t.Errorf("the log's newest entry %+v (%v), want %+v", log, err, d)
			}
		})
	}
}

func TestPresentVerifierDown(t *testing.T) {
	e := newPresentEnv(t, backends[0].open(t))
	doc := e.clinician(t, MethodKey)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	e.p.AllowHTTP = true
	req := inlineRequest("down", dcql(t, w3cItem("lic", "ldp_vc", healthcare.MedicalLicense)))
	req.ResponseURI, req.Domain = down.URL+"/response", down.URL
	out, err := e.p.Present(t.Context(), doc.h.ID, req, PresentOptions{Send: true})
	if !errors.Is(err, ErrDelivery) || out == nil {
		t.Fatalf("Present = %v, %v; want the presentation and ErrDelivery", out, err)
	}
	checkPresentation(t, doc.h, req, out, e.clk.Now())
	if out.Response != nil || out.Disclosure.Delivered || out.Disclosure.Status != 0 || out.Disclosure.Outcome != "" {
		t.Errorf("response %+v, disclosure %+v; want none, not delivered", out.Response, out.Disclosure)
	}
	// The presentation may have reached the verifier: it is logged.
	log, err := e.s.Disclosures(t.Context(), doc.h.ID)
	if err != nil || len(log) != 1 || !sameJSON(t, log[0], out.Disclosure) || log[0].Delivered {
		t.Errorf("log %+v (%v), want the undelivered presentation", log, err)
	}
	if len(log) == 1 && (len(log[0].Credentials) != 1 || log[0].Credentials[0].ID != doc.license.ID) {
		t.Errorf("logged credentials %+v, want the license %s", log[0].Credentials, doc.license.ID)
	}
}

// TestPresentSendNoRedirect: a presentation goes to the response URI and
// nowhere else; a redirect is recorded as the verifier's answer.
func TestPresentSendNoRedirect(t *testing.T) {
	e := newPresentEnv(t, backends[0].open(t))
	doc := e.clinician(t, MethodKey)
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/response", http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	e.p.AllowHTTP = true
	req := inlineRequest("redirect", dcql(t, w3cItem("lic", "ldp_vc", healthcare.MedicalLicense)))
	req.ResponseURI, req.Domain = redirect.URL+"/response", redirect.URL
	out, err := e.p.Present(t.Context(), doc.h.ID, req, PresentOptions{Send: true})
	if err != nil || out.Response == nil || out.Response.Status != http.StatusTemporaryRedirect {
		t.Fatalf("Present = %+v, %v; want the 307 recorded", out, err)
	}
	if elsewhere.Load() != 0 {
		t.Error("the presentation followed the redirect")
	}
}

// TestDisclosedNoneIsNotWhole: an SD-JWT presented without any claim is
// logged as [] (nothing), which stays distinct from null (the whole
// credential) once stored.
func TestDisclosedNoneIsNotWhole(t *testing.T) {
	e := newPresentEnv(t, backends[0].open(t))
	h, _, err := e.s.CreateHolder(t.Context(), HolderInput{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.s.RecordDisclosure(t.Context(), h.ID, Disclosure{Verifier: "v", Credentials: []DisclosedCredential{
		{ID: "a", Disclosed: []string{}}, {ID: "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	log, err := e.s.Disclosures(t.Context(), h.ID)
	if err != nil || len(log) != 1 || log[0].ID != d.ID {
		t.Fatalf("log %+v, %v", log, err)
	}
	if c := log[0].Credentials; c[0].Disclosed == nil || len(c[0].Disclosed) != 0 || c[1].Disclosed != nil {
		t.Errorf("stored disclosed %#v and %#v, want [] and nil", c[0].Disclosed, c[1].Disclosed)
	}
}
