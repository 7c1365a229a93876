package verifier

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mr-tron/base58"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/ld"
	"github.com/credence/credence/vc/secure"
)

// The npm interop drivers (testdata/interop, pinned by package-lock.json):
// issue.mjs issues with jose and @digitalbazaar/vc, verify.mjs verifies with
// @digitalbazaar/vc. Both load the healthcare context from the file Credence
// embeds, never a copy.
const (
	npmDir        = "testdata/interop"
	npmContextRel = "../vc/healthcare/contexts/healthcare-v1.jsonld"
	npmChallenge  = "7c1e0f5a-2b64-4d0e-9a51-c3e8b1d2f4a6"
	npmDomain     = "credentialing.hospital.example"
	npmPractice   = "TX"
	npmOtherBoard = "did:web:tmb.texas.gov.example"
)

// npmNow is when the hospital verifies: the drivers issue on 2026-01-05,
// valid until 2028-01-31.
var npmNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// npmIssued is what issue.mjs prints.
type npmIssued struct {
	Issuer        string          `json:"issuer"`
	IssuerMethod  string          `json:"issuerMethod"`
	Subject       string          `json:"subject"`
	SubjectMethod string          `json:"subjectMethod"`
	DataIntegrity json.RawMessage `json:"dataIntegrity"`
	VCJWT         string          `json:"vcJwt"`
	VC11JWT       string          `json:"vc11Jwt"`
	Presentation  json.RawMessage `json:"presentation"`
}

// npmNode returns node, after making sure the drivers' npm dependencies are
// installed (npm ci, from package-lock.json). It fails when node or npm is
// missing: the test is part of the suite and is never skipped.
func npmNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("TestInteropNPM needs Node.js (node >= 20) on PATH to run the independent implementations jose and @digitalbazaar/vc: %v", err)
	}
	installed := true
	for _, m := range []string{"@digitalbazaar/vc", "@digitalbazaar/eddsa-rdfc-2022-cryptosuite", "jose"} {
		if _, err := os.Stat(filepath.Join(npmDir, "node_modules", m, "package.json")); err != nil {
			installed = false
		}
	}
	if installed {
		return node
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("%s/node_modules is missing and npm is not on PATH: install npm, or run `npm ci --prefix verifier/testdata/interop` (scripts/test does): %v", npmDir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = npmDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", npmDir, err, out)
	}
	return node
}

// npmRun runs a driver with the healthcare context options and returns its
// standard output.
func npmRun(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	node := npmNode(t)
	ctxFile, err := filepath.Abs(npmContextRel)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(ctxFile); err != nil || !bytes.Equal(b, healthcare.Context) {
		t.Fatalf("%s is not the embedded healthcare context (%v)", ctxFile, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{script, "--context-url", healthcare.ContextURL, "--context-file", ctxFile}, args...)
	cmd := exec.CommandContext(ctx, node, all...)
	cmd.Dir = npmDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.Bytes())
	}
	t.Logf("node %s ran in %v", script, time.Since(start).Round(time.Millisecond))
	return out
}

var npmIssue = struct {
	sync.Mutex
	out *npmIssued
}{}

// npmIssuedCredentials runs issue.mjs once per test binary.
func npmIssuedCredentials(t *testing.T) *npmIssued {
	t.Helper()
	npmIssue.Lock()
	defer npmIssue.Unlock()
	if npmIssue.out != nil {
		return npmIssue.out
	}
	b := npmRun(t, "issue.mjs", "--challenge", npmChallenge, "--domain", npmDomain)
	var out npmIssued
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("issue.mjs output: %v\n%.500s", err, b)
	}
	if !strings.HasPrefix(out.Issuer, "did:key:z6Mk") || !strings.HasPrefix(out.Subject, "did:key:z6Mk") || out.Issuer == out.Subject {
		t.Fatalf("issue.mjs: issuer %q, subject %q: want two Ed25519 did:keys", out.Issuer, out.Subject)
	}
	npmIssue.out = &out
	return &out
}

// npmEngine is the server's stack (internal/server: NewProcessor,
// newVerifier) without status lists: the credentials carry none.
func npmEngine() *secure.Engine {
	return secure.New(ld.New(ld.WithContext(healthcare.ContextURL, healthcare.Context)))
}

func npmKeys() vc.KeyResolver { return vc.DIDKeys{Resolver: did.NewResolver()} }

func npmVerifier() *Verifier {
	return &Verifier{Engine: npmEngine(), Keys: npmKeys(), Skew: time.Minute, Now: func() time.Time { return npmNow }}
}

// npmInput is what the server reads from a request body.
func npmInput(t *testing.T, b []byte) any {
	t.Helper()
	in, err := secure.ParseInput(b)
	if err != nil {
		t.Fatalf("ParseInput: %v", err)
	}
	return in
}

// npmPolicy is a TX hospital's policy; the trust registry accredits issuer
// for medical licenses in jurisdictions.
func npmPolicy(issuer string, jurisdictions ...string) Policy {
	return Policy{
		PracticeState:  npmPractice,
		Accreditations: StaticAccreditations{{Issuer: issuer, Type: healthcare.MedicalLicense, Jurisdictions: jurisdictions}},
	}
}

// TestInteropNPM: credentials issued by independent implementations (jose,
// @digitalbazaar/vc) with a did:key issuer verify in Credence and are
// accepted when the hospital trusts that issuer, and only then; tampered
// ones fail with the expected reason codes. The other way round, a credential
// Credence issues verifies in @digitalbazaar/vc.
func TestInteropNPM(t *testing.T) {
	out := npmIssuedCredentials(t)
	formats := []struct {
		name, format string
		input        []byte
	}{
		{"eddsa-rdfc-2022", "eddsa-rdfc-2022", out.DataIntegrity},
		{"vc+jwt", "vc+jwt", []byte(out.VCJWT)},
		{"vc-1.1-jwt", "jwt-vc-1.1", []byte(out.VC11JWT)},
	}
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			r := npmVerifier().VerifyCredential(context.Background(), npmInput(t, f.input), Options{})
			if !r.Verified || r.Decision != Accept {
				t.Fatalf("verified=%v decision=%s errors=%v", r.Verified, r.Decision, r.Errors)
			}
			if r.Format != f.format || r.VerificationMethod != out.IssuerMethod {
				t.Errorf("format %q method %q, want %q %q", r.Format, r.VerificationMethod, f.format, out.IssuerMethod)
			}
			c := r.Credential
			lic, _ := c.Subjects()[0]["license"].(map[string]any)
			if c.Issuer() != out.Issuer || c.SubjectIDs()[0] != out.Subject || lic["jurisdiction"] != npmPractice || !c.HasType(healthcare.MedicalLicense) {
				t.Errorf("verified credential differs from what was issued: %v", c)
			}
			npmRules(t, out, CredentialFromVC(c, r.Verified, nil))
		})
	}
	t.Run("tampered", func(t *testing.T) { npmTampered(t, out) })
	t.Run("credence-to-digitalbazaar", npmReverse)
}

// npmRules: trusted for TX, the license is accepted without findings; an
// issuer the registry does not list, or lists only for another state, is
// not recognised and the license is rejected.
func npmRules(t *testing.T, out *npmIssued, c Credential) {
	t.Helper()
	ev := Evidence{Credentials: []Credential{c}, Now: npmNow}
	if fs := EvaluateRules(ev, npmPolicy(out.Issuer, npmPractice)); len(fs) != 0 || Decide(fs) != Accept {
		t.Errorf("trusted issuer: decision %s, findings %v; want accept without findings", Decide(fs), fs)
	}
	for name, p := range map[string]Policy{
		"issuer not listed":    npmPolicy(npmOtherBoard, npmPractice),
		"issuer listed for CA": npmPolicy(out.Issuer, "CA"),
		"no trust registry":    {PracticeState: npmPractice},
		"only subject listed":  npmPolicy(out.Subject, npmPractice),
	} {
		fs := EvaluateRules(ev, p)
		if !hasCode(fs, CodeIssuerNotRecognized) || Decide(fs) != Reject {
			t.Errorf("%s: decision %s, findings %v; want reject with %s", name, Decide(fs), fs, CodeIssuerNotRecognized)
		}
	}
}

// npmTampered: every change to what the independent issuer signed fails
// the proof check, with the reason code of what went wrong.
func npmTampered(t *testing.T, out *npmIssued) {
	di := func(mutate func(m, proof map[string]any)) []byte {
		m, err := vc.DecodeObject(out.DataIntegrity)
		if err != nil {
			t.Fatal(err)
		}
		proof, _ := m["proof"].(map[string]any)
		mutate(m, proof)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	subject := func(m map[string]any) map[string]any { return vc.Objects(m["credentialSubject"])[0] }
	license := func(m map[string]any) map[string]any { l, _ := subject(m)["license"].(map[string]any); return l }
	cases := []struct {
		name  string
		input []byte
		want  string
	}{
		{"di/license jurisdiction", di(func(m, _ map[string]any) { license(m)["jurisdiction"] = "CA" }), CodeProofInvalid},
		{"di/subject npi", di(func(m, _ map[string]any) { subject(m)["npi"] = "1234567893" }), CodeProofInvalid},
		{"di/subject id", di(func(m, _ map[string]any) { subject(m)["id"] = out.Issuer }), CodeProofInvalid},
		{"di/issuer", di(func(m, _ map[string]any) { m["issuer"] = out.Subject }), CodeProofInvalid},
		{"di/validUntil", di(func(m, _ map[string]any) { m["validUntil"] = "2030-01-31T23:59:59Z" }), CodeProofInvalid},
		{"di/signature byte", di(func(_, p map[string]any) { p["proofValue"] = npmFlipMultibase(t, p["proofValue"]) }), CodeProofInvalid},
		{"di/proof re-pointed at the subject's key", di(func(_, p map[string]any) { p["verificationMethod"] = out.SubjectMethod }), CodeProofInvalid},
		{"di/issuer and proof re-pointed at the subject", di(func(m, p map[string]any) {
			m["issuer"], p["verificationMethod"] = out.Subject, out.SubjectMethod
		}), CodeProofInvalid},
		{"di/proof re-pointed at a key the issuer lacks", di(func(_, p map[string]any) { p["verificationMethod"] = out.Issuer + "#key-2" }), CodeIssuerNotResolved},
		{"di/proof removed", di(func(m, _ map[string]any) { delete(m, "proof") }), CodeMalformed},
		{"vc+jwt/payload npi", npmJWTClaims(t, out.VCJWT, func(c map[string]any) { subject(c)["npi"] = "1234567893" }), CodeProofInvalid},
		{"vc+jwt/payload jurisdiction", npmJWTClaims(t, out.VCJWT, func(c map[string]any) { license(c)["jurisdiction"] = "CA" }), CodeProofInvalid},
		{"vc+jwt/signature byte", npmJWTFlipSignature(t, out.VCJWT), CodeProofInvalid},
		{"vc+jwt/issuer", npmJWTClaims(t, out.VCJWT, func(c map[string]any) { c["issuer"] = out.Subject }), CodeIssuerNotResolved},
		{"vc+jwt/kid re-pointed at the subject's key", []byte(npmJWTHeader(t, out.VCJWT, func(h map[string]any) { h["kid"] = out.SubjectMethod })), CodeIssuerNotResolved},
		{"vc+jwt/issuer and kid re-pointed at the subject", npmJWTClaims(t, npmJWTHeader(t, out.VCJWT, func(h map[string]any) { h["kid"] = out.SubjectMethod }),
			func(c map[string]any) { c["issuer"] = out.Subject }), CodeProofInvalid},
		{"vc-1.1-jwt/sub", npmJWTClaims(t, out.VC11JWT, func(c map[string]any) { c["sub"] = out.Issuer }), CodeProofInvalid},
		{"vc-1.1-jwt/vc claim npi", npmJWTClaims(t, out.VC11JWT, func(c map[string]any) { subject(c["vc"].(map[string]any))["npi"] = "1234567893" }), CodeProofInvalid},
		{"vc-1.1-jwt/exp", npmJWTClaims(t, out.VC11JWT, func(c map[string]any) { c["exp"] = float64(1900000000) }), CodeProofInvalid},
		{"vc-1.1-jwt/signature byte", npmJWTFlipSignature(t, out.VC11JWT), CodeProofInvalid},
	}
	for _, c := range cases {
		r := npmVerifier().VerifyCredential(context.Background(), npmInput(t, c.input), Options{})
		if r.Verified || r.Decision != Reject || !r.Has(c.want) {
			t.Errorf("%s: verified=%v decision=%s errors=%v; want reject with %s", c.name, r.Verified, r.Decision, r.Errors, c.want)
			continue
		}
		t.Logf("%s: %s (%s)", c.name, c.want, r.Errors[0].Message)
	}
}

// npmFlipMultibase flips one bit of a base58btc multibase value.
func npmFlipMultibase(t *testing.T, v any) string {
	s, _ := v.(string)
	b, err := base58.Decode(strings.TrimPrefix(s, "z"))
	if err != nil || !strings.HasPrefix(s, "z") {
		t.Fatalf("proofValue %q is not base58btc multibase: %v", s, err)
	}
	b[len(b)/2] ^= 0x01
	return "z" + base58.Encode(b)
}

// npmJWTPart decodes part i (0 header, 1 payload) of a compact JWS, lets
// mutate change it and re-encodes it, keeping the other parts.
func npmJWTPart(t *testing.T, token string, i int, mutate func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	m, err := vc.DecodeObject(raw)
	if err != nil {
		t.Fatal(err)
	}
	mutate(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	parts[i] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func npmJWTClaims(t *testing.T, token string, mutate func(map[string]any)) []byte {
	return []byte(npmJWTPart(t, token, 1, mutate))
}

func npmJWTHeader(t *testing.T, token string, mutate func(map[string]any)) string {
	return npmJWTPart(t, token, 0, mutate)
}

// npmJWTFlipSignature flips one bit of the signature of a compact JWS.
func npmJWTFlipSignature(t *testing.T, token string) []byte {
	parts := strings.Split(token, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)/2] ^= 0x01
	parts[2] = base64.RawURLEncoding.EncodeToString(sig)
	return []byte(strings.Join(parts, "."))
}

// npmReverse: a license Credence issues (eddsa-rdfc-2022, did:key issuer, a
// synthetic subject using most of the healthcare context) verifies in
// @digitalbazaar/vc; a changed subject claim or issuer does not.
func npmReverse(t *testing.T) {
	seed := sha256.Sum256([]byte("credence interop: Credence-issued license"))
	key := ed25519.NewKeyFromSeed(seed[:])
	id, err := did.KeyDID(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := did.KeyDocument(id, "", false)
	if err != nil {
		t.Fatal(err)
	}
	signer := vc.Signer{Key: key, VerificationMethod: doc.VerificationMethod[0].ID}
	out := npmIssuedCredentials(t)
	s := synth.New(11, synth.WithNow(npmNow)).Provider().LicenseSubject(npmPractice)
	s["id"] = out.Subject
	cred := map[string]any{
		"@context":          []any{vc.ContextV2, healthcare.ContextURL},
		"id":                "urn:uuid:5b8c7d6e-1f2a-4b3c-9d4e-6f7a8b9c0d1e",
		"type":              []any{vc.TypeCredential, healthcare.MedicalLicense},
		"issuer":            id.String(),
		"validFrom":         "2026-01-05T00:00:00Z",
		"credentialSubject": s,
	}
	issued, err := npmEngine().Issue(context.Background(), cred, signer, secure.IssueOptions{Format: secure.DataIntegrity, Now: npmNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	good := issued.(map[string]any)
	changed := func(mutate func(map[string]any)) any {
		m := vc.Clone(good).(map[string]any)
		mutate(m)
		return m
	}
	batch := []struct {
		name       string
		credential any
		verified   bool
	}{
		{"as issued", good, true},
		{"subject npi changed", changed(func(m map[string]any) { vc.Objects(m["credentialSubject"])[0]["npi"] = "1234567893" }), false},
		{"issuer changed", changed(func(m map[string]any) { m["issuer"] = out.Issuer }), false},
	}
	list := make([]any, len(batch))
	for i, b := range batch {
		list[i] = b.credential
	}
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var res []struct {
		Verified bool   `json:"verified"`
		Error    string `json:"error"`
	}
	if raw := npmRun(t, "verify.mjs", "--now", npmNow.Format(time.RFC3339), file); json.Unmarshal(raw, &res) != nil || len(res) != len(batch) {
		t.Fatalf("verify.mjs printed %.500s; want %d results", raw, len(batch))
	}
	for i, b := range batch {
		if res[i].Verified != b.verified {
			t.Errorf("%s: @digitalbazaar/vc verified=%v (%s), want %v", b.name, res[i].Verified, res[i].Error, b.verified)
			continue
		}
		t.Logf("%s: @digitalbazaar/vc verified=%v %s", b.name, res[i].Verified, res[i].Error)
	}
}
