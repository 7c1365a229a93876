package sdjwt

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
)

// rfcDisclosures are Disclosures published in RFC 9901 (§4.2.1, §4.2.2
// and the §5 example) and in draft -05 (the family_name one with salt
// 6qMQvRL5haj), with their SHA-256 digests.
var rfcDisclosures = []struct {
	salt, name string
	element    bool
	value      any
	raw        string
	digest     string
}{
	{"_26bc4LT-ac6q2KI6cBW5es", "family_name", false, "Möbius", "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0", "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"},
	{"6qMQvRL5haj", "family_name", false, "Möbius", "WyI2cU1RdlJMNWhhaiIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0", "uutlBuYeMDyjLLTpf6Jxi7yNkEF35jdyWMn9U7b_RYY"},
	{"lklxF5jMYlGTPUovMNIvCA", "", true, "FR", "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0", "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs"},
	{"2GLC42sKQveCfGfryNRN9w", "given_name", false, "John", "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd", "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"},
	{"eluV5Og3gSNII8EYnsxA_A", "family_name", false, "Doe", "WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImZhbWlseV9uYW1lIiwgIkRvZSJd", "TGf4oLbgwd5JQaHyKVQZU9UdGE0w5rtDsrZzfUaomLo"},
	{"6Ij7tM-a5iVPGboS5tmvVA", "email", false, "johndoe@example.com", "WyI2SWo3dE0tYTVpVlBHYm9TNXRtdlZBIiwgImVtYWlsIiwgImpvaG5kb2VAZXhhbXBsZS5jb20iXQ", "JzYjH4svliH0R3PyEMfeZu6Jt69u5qehZo7F7EPYlSE"},
	{"eI8ZWm9QnKPpNPeNenHdhQ", "phone_number", false, "+1-202-555-0101", "WyJlSThaV205UW5LUHBOUGVOZW5IZGhRIiwgInBob25lX251bWJlciIsICIrMS0yMDItNTU1LTAxMDEiXQ", "PorFbpKuVu6xymJagvkFsFXAbRoc2JGlAUA2BA4o7cI"},
	{"Qg_O64zqAxe412a108iroA", "phone_number_verified", false, true, "WyJRZ19PNjR6cUF4ZTQxMmExMDhpcm9BIiwgInBob25lX251bWJlcl92ZXJpZmllZCIsIHRydWVd", "XQ_3kPKt1XyX7KANkqVR6yZ2Va5NrPIvPYbyMvRKBMM"},
	{"Pc33JM2LchcU_lHggv_ufQ", "birthdate", false, "1940-01-01", "WyJQYzMzSk0yTGNoY1VfbEhnZ3ZfdWZRIiwgImJpcnRoZGF0ZSIsICIxOTQwLTAxLTAxIl0", "gbOsI4Edq2x2Kw-w5wPEzakob9hV1cRD0ATN3oQL9JM"},
	{"G02NSrQfjFXQ7Io09syajA", "updated_at", false, json.Number("1570000000"), "WyJHMDJOU3JRZmpGWFE3SW8wOXN5YWpBIiwgInVwZGF0ZWRfYXQiLCAxNTcwMDAwMDAwXQ", "CrQe7S5kqBAHt-nMYXgc6bdt2SH5aTY1sU_M-PgkjPI"},
	{"lklxF5jMYlGTPUovMNIvCA", "", true, "US", "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0", "pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo"},
	{"nPuoQnkRFq3BIeAm7AnXFA", "", true, "DE", "WyJuUHVvUW5rUkZxM0JJZUFtN0FuWEZBIiwgIkRFIl0", "7Cf6JkPudry3lcbwHgeZ8khAv1U1OSlerP0VkBJrWZ0"},
}

func TestRFCDisclosures(t *testing.T) {
	for _, v := range rfcDisclosures {
		d, err := newDisclosure(v.salt, v.name, v.element, v.value)
		if err != nil {
			t.Fatal(err)
		}
		if d.raw != v.raw || d.digest != v.digest {
			t.Errorf("%s %v:\n got %s %s\nwant %s %s", v.name, v.value, d.raw, d.digest, v.raw, v.digest)
		}
		p, err := parseDisclosure(v.raw)
		if err != nil || p.name != v.name || p.element != v.element || !reflect.DeepEqual(p.value, v.value) {
			t.Errorf("parse %s: %+v %v", v.raw, p, err)
		}
	}
}

// TestRFCIssuance issues the claims of RFC 9901 §5.1 with the RFC's salts
// and gets its Disclosures and digests byte for byte (all but address,
// whose members Go encodes in sorted order, unlike the RFC's Python).
func TestRFCIssuance(t *testing.T) {
	keys := rfcKeys(t)
	claims := map[string]any{
		"sub": "user_42", "given_name": "John", "family_name": "Doe",
		"email": "johndoe@example.com", "phone_number": "+1-202-555-0101",
		"phone_number_verified": true,
		"address":               map[string]any{"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"},
		"birthdate":             "1940-01-01", "updated_at": 1570000000, "nationalities": []any{"US", "DE"},
	}
	paths := []string{"/given_name", "/family_name", "/email", "/phone_number", "/phone_number_verified", "/address", "/birthdate", "/updated_at", "/nationalities/0", "/nationalities/1"}
	// Salts in the order Issue draws them: deepest paths first.
	salts := []string{"lklxF5jMYlGTPUovMNIvCA", "nPuoQnkRFq3BIeAm7AnXFA", "2GLC42sKQveCfGfryNRN9w", "eluV5Og3gSNII8EYnsxA_A", "6Ij7tM-a5iVPGboS5tmvVA", "eI8ZWm9QnKPpNPeNenHdhQ", "Qg_O64zqAxe412a108iroA", "AJx-095VPrpTtN4QMOqROA", "Pc33JM2LchcU_lHggv_ufQ", "G02NSrQfjFXQ7Io09syajA"}
	var r bytes.Buffer
	for _, s := range salts {
		b, err := b64.DecodeString(s)
		if err != nil || len(b) != 16 {
			t.Fatalf("salt %s: %v", s, err)
		}
		r.Write(b)
	}
	c := Credential{VCT: "https://credentials.example.com/identity_credential", Claims: claims, Disclose: paths, Holder: keys["holder"].Public(), IssuedAt: time.Unix(1683000000, 0), Expires: time.Unix(1883000000, 0)}
	issuer := vc.Signer{Key: keys["issuer"], VerificationMethod: "did:example:issuer#key-1"}
	issued, err := Issue(context.Background(), c, issuer, WithRand(&r))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(issued, "~")
	published := strings.Split(readTrim(t, "testdata/rfc9901/issuance.txt"), "~")
	for _, d := range published[1 : len(published)-1] {
		if strings.HasPrefix(d, "WyJBSngtMDk1VlBycFR0TjRRTU9xUk9BIiwgImFkZHJlc3MiLC") { // address
			continue
		}
		if !slices.Contains(got, d) {
			t.Errorf("published disclosure %s not issued", d)
		}
	}
	var rfcPayload map[string]any
	_ = json.Unmarshal(mustB64(t, strings.Split(published[0], ".")[1]), &rfcPayload)
	ours := jwtPayloadOf(t, issued)
	for _, want := range rfcPayload["_sd"].([]any) {
		if want != "XzFrzwscM6Gn6CJDc6vVK8BkMnfG8vOSKfpPIZdAfdE" && !slices.Contains(ours["_sd"].([]any), want) { // address
			t.Errorf("digest %s missing from _sd", want)
		}
	}
	if !reflect.DeepEqual(ours["nationalities"], rfcPayload["nationalities"]) || !reflect.DeepEqual(ours["cnf"], rfcPayload["cnf"]) {
		t.Errorf("nationalities %v cnf %v", ours["nationalities"], ours["cnf"])
	}
}

// TestRFCPresentation verifies the SD-JWT+KB of RFC 9901 §5.2, signed by
// its reference implementation, with the issuer key of the examples, and
// gets the Processed SD-JWT Payload the RFC shows. (The example has typ
// example+sd-jwt, no kid and no vct, so it goes through the steps after
// key discovery.)
func TestRFCPresentation(t *testing.T) {
	keys := rfcKeys(t)
	o := VerifyOptions{Now: time.Unix(1748536865, 0), KeyBinding: true, Audience: "https://verifier.example.org", Nonce: "1234567890"}
	pres := readTrim(t, "testdata/rfc9901/presentation.txt")
	tok, claims, err := decode(pres, o)
	if err != nil {
		t.Fatal(err)
	}
	claims["vct"] = "absent from the example" // the RFC is not an SD-JWT VC
	v, err := verifyWithKey(tok, claims, keys["issuer"].Public(), o)
	if err != nil {
		t.Fatal(err)
	}
	delete(v.Claims, "vct")
	want, err := vc.DecodeObject(mustRead(t, "testdata/rfc9901/verified.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v.Claims, want) {
		t.Errorf("processed payload\n got %v\nwant %v", v.Claims, want)
	}
	if d := []string{"/address", "/family_name", "/given_name", "/nationalities/0"}; !v.KeyBound || !slices.Equal(v.Disclosed, d) {
		t.Errorf("key bound %v, disclosed %v", v.KeyBound, v.Disclosed)
	}
	// Another nonce, or the KB-JWT moved onto fewer disclosures, fails.
	o.Nonce = "0987654321"
	tok, claims, _ = decode(pres, o)
	claims["vct"] = "x"
	if _, err := verifyWithKey(tok, claims, keys["issuer"].Public(), o); err == nil {
		t.Error("wrong nonce accepted")
	}
}

func rfcKeys(t *testing.T) map[string]*ecdsa.PrivateKey {
	var jwks map[string]struct {
		did.JWK
		D string `json:"d"`
	}
	if err := json.Unmarshal(mustRead(t, "testdata/rfc9901/keys.json"), &jwks); err != nil {
		t.Fatal(err)
	}
	out := map[string]*ecdsa.PrivateKey{}
	for name, k := range jwks {
		pub, err := k.JWK.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		priv, err := ecdsa.ParseRawPrivateKey(pub.(*ecdsa.PublicKey).Curve, mustB64(t, k.D))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = priv
	}
	return out
}

func jwtPayloadOf(t *testing.T, s string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(mustB64(t, strings.Split(s, ".")[1]), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustB64(t *testing.T, s string) []byte {
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readTrim(t *testing.T, path string) string { return strings.TrimSpace(string(mustRead(t, path))) }
