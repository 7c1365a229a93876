package wallet

import (
	"testing"

	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/secure"
)

// BenchmarkPresent measures Presenter.Present end to end on bbolt (reading
// and decrypting the holder's credentials, selecting, securing, and the
// committed write of the disclosure log entry) for an SD-JWT+KB disclosing
// 2 of 8 claims, a Data Integrity VP of 2 credentials and a vp+jwt of 2
// credentials; and, on the same inputs, secure.Engine.Present alone
// ("engine-only", which runs first). Each reports presentations/s; the
// wallet's x-engine is its time per presentation over the engine's.
func BenchmarkPresent(b *testing.B) {
	e := newPresentEnv(b, backends[0].open(b)) // bbolt
	h, _ := mustHolder(b, e.s, HolderInput{Label: "Ana Bailey"})
	pid := e.add(b, h, e.clinic.issueDoc(b, e.s, h, secure.SDJWT, healthcare.PatientIdentity, 10, identitySubject(10), nil))
	license := e.add(b, h, e.board.issue(b, e.s, h, cred{format: secure.DataIntegrity, seed: 1}))
	dea := e.add(b, h, e.dea.issue(b, e.s, h, cred{format: secure.DataIntegrity, typ: healthcare.DEARegistration, seed: 2}))
	licenseJWT := e.add(b, h, e.board.issue(b, e.s, h, cred{format: secure.JWT, seed: 3}))
	deaJWT := e.add(b, h, e.dea.issue(b, e.s, h, cred{format: secure.JWT, typ: healthcare.DEARegistration, seed: 4}))
	signer, err := e.s.Signer(b.Context(), h.ID)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		req      *Request
		format   secure.Format
		creds    []Stored
		disclose []string
	}{
		{"sd-jwt", inlineRequest("sd", dcql(b, sdjwtItem("pid", healthcare.PatientIdentity, "name", "birthDate"))),
			secure.SDJWT, []Stored{pid}, []string{"/credentialSubject/birthDate", "/credentialSubject/name"}},
		{"di", inlineRequest("di", dcql(b, w3cItem("license", "ldp_vc", healthcare.MedicalLicense), w3cItem("dea", "ldp_vc", healthcare.DEARegistration))),
			secure.DataIntegrity, []Stored{license, dea}, nil},
		{"jwt", inlineRequest("jwt", dcql(b, w3cItem("license", "jwt_vc_json", healthcare.MedicalLicense), w3cItem("dea", "jwt_vc_json", healthcare.DEARegistration))),
			secure.JWT, []Stored{licenseJWT, deaJWT}, nil},
	} {
		o := PresentOptions{Format: string(c.format)}
		if c.format == secure.SDJWT {
			o.Format = ""
		}
		checkPresented(b, e, h, c.req, o, c.creds)
		var engineNs float64
		b.Run(c.name+"/engine-only", func(b *testing.B) {
			inputs := make([]any, len(c.creds))
			for i, st := range c.creds {
				if inputs[i], err = secure.ParseInput(st.Credential); err != nil {
					b.Fatal(err)
				}
			}
			so := secure.PresentOptions{Format: c.format, Challenge: c.req.Challenge, Domain: c.req.Domain, Now: e.clk.Now(), Disclose: c.disclose}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := engine.Present(b.Context(), h.DID, inputs, signer, so); err != nil {
					b.Fatal(err)
				}
			}
			engineNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "presentations/s")
		})
		b.Run(c.name+"/wallet", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.p.Present(b.Context(), h.ID, c.req, o); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "presentations/s")
			if engineNs > 0 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/engineNs, "x-engine")
			}
		})
	}
}

// checkPresented fails unless Present answers req with creds.
func checkPresented(b *testing.B, e *presentEnv, h Holder, req *Request, o PresentOptions, creds []Stored) {
	b.Helper()
	out, err := e.p.Present(b.Context(), h.ID, req, o)
	if err != nil {
		b.Fatal(err)
	}
	if len(out.Disclosure.Credentials) != len(creds) {
		b.Fatalf("presented %+v", out.Disclosure.Credentials)
	}
	for i, c := range out.Disclosure.Credentials {
		if c.ID != creds[i].ID {
			b.Fatalf("presented %+v, want %s", out.Disclosure.Credentials, creds[i].ID)
		}
	}
}
