package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/internal/trustapi"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/boltstore"
	"github.com/credence/credence/registry/merkle"
)

// trustTestServer serves the trust API on an embedded registry governed by
// the server's own steward key, with testAdminToken as the admin token.
func trustTestServer(t *testing.T) string {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := merkle.NewSigner("credence.test/trust-cli", pub, func(msg []byte) ([]byte, error) { return ed25519.Sign(priv, msg), nil })
	if err != nil {
		t.Fatal(err)
	}
	vkey, _ := merkle.VerifierKey("credence.test/trust-cli", pub)
	verifier, err := merkle.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	_, spriv, _ := ed25519.GenerateKey(rand.Reader)
	steward, err := trustapi.NewKeySigner(spriv)
	if err != nil {
		t.Fatal(err)
	}
	log := registry.NewLog(store, signer, verifier, registry.WithStewards(steward.Multikey()))
	idx, err := registry.NewTrustIndex(t.Context(), log, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	tokens := auth.NewStore(memkv.New())
	if _, err := tokens.Bootstrap(t.Context(), testAdminToken); err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	(&trustapi.API{Log: log, Index: idx, Steward: steward}).Routes(r, r.Group("/", httpx.Require(tokens, nil, auth.ScopeAdmin)))
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestTrustCLI(t *testing.T) {
	srv := trustTestServer(t)
	admin := []string{"--server", srv, "--token", testAdminToken}
	args := func(a ...string) []string { return append(a, admin...) }

	r := decode[trustapi.Result](t, mustRun(t, args("trust", "accredit", "--id", "ca-mbc", "--issuer", "did:web:mbc.ca.gov",
		"--type", "MedicalLicenseCredential", "--jurisdiction", "CA", "--valid-from", "2026-01-01T00:00:00Z", "--valid-until", "2028-01-01T00:00:00Z", "--json")...))
	if a := r.Accreditation; a.ID != "ca-mbc" || a.Issuer != "did:web:mbc.ca.gov" || !slices.Equal(a.Jurisdictions, []string{"CA"}) ||
		a.ValidUntil != "2028-01-01T00:00:00Z" || r.Receipt.Seq != 1 {
		t.Fatalf("accredit --json: %+v", r)
	}
	// Readable output, a national body, repeated and comma-separated flags.
	out := mustRun(t, args("trust", "accredit", "--id", "dea", "--issuer", "did:web:dea.gov", "--type", "DEARegistrationCredential")...)
	for _, want := range []string{"accreditation dea granted", "did:web:dea.gov", "jurisdictions  all", "status         active", "until (none)"} {
		if !strings.Contains(out, want) {
			t.Errorf("accredit output lacks %q:\n%s", want, out)
		}
	}
	mustRun(t, args("trust", "accredit", "--id", "tx", "--issuer", "did:web:tmb.texas.gov", "--type", "MedicalLicenseCredential,BoardCertificationCredential", "--jurisdiction", "TX", "--jurisdiction", "OK")...)

	// Amend: only the end changes; then the states.
	r = decode[trustapi.Result](t, mustRun(t, args("trust", "amend", "ca-mbc", "--valid-until", "2030-01-01T00:00:00-05:00", "--json")...))
	if a := r.Accreditation; a.ValidUntil != "2030-01-01T05:00:00Z" || a.ValidFrom != "2026-01-01T00:00:00Z" ||
		!slices.Equal(a.Types, []string{"MedicalLicenseCredential"}) || !slices.Equal(a.Jurisdictions, []string{"CA"}) || r.Receipt.Seq != 2 {
		t.Fatalf("amend --valid-until: %+v", r)
	}
	r = decode[trustapi.Result](t, mustRun(t, args("trust", "amend", "ca-mbc", "--jurisdiction", "CA,NV", "--open-ended", "--json")...))
	if a := r.Accreditation; a.ValidUntil != "" || !slices.Equal(a.Jurisdictions, []string{"CA", "NV"}) {
		t.Fatalf("amend --jurisdiction --open-ended: %+v", r.Accreditation)
	}
	r = decode[trustapi.Result](t, mustRun(t, args("trust", "amend", "ca-mbc", "--national", "--json")...))
	if r.Accreditation.Jurisdictions != nil || r.Receipt.Seq != 4 {
		t.Fatalf("amend --national: %+v", r)
	}

	r = decode[trustapi.Result](t, mustRun(t, args("trust", "withdraw", "tx", "--reason", "license board reorganized", "--json")...))
	if a := r.Accreditation; a.Withdrawn == "" || a.Reason != "license board reorganized" || a.Active {
		t.Fatalf("withdraw: %+v", a)
	}

	type listOutput struct {
		Accreditations []trustapi.Accreditation `json:"accreditations"`
	}
	ids := func(l listOutput) []string {
		var out []string
		for _, a := range l.Accreditations {
			out = append(out, a.ID)
		}
		return out
	}
	// Reads need no token.
	for flags, want := range map[string][]string{
		"":                                    {"ca-mbc", "dea", "tx"},
		"--issuer did:web:dea.gov":            {"dea"},
		"--type MedicalLicenseCredential":     {"ca-mbc", "tx"},
		"--jurisdiction OK":                   {"ca-mbc", "dea", "tx"},
		"--type BoardCertificationCredential": {"tx"},
	} {
		a := append([]string{"trust", "list", "--server", srv, "--json"}, strings.Fields(flags)...)
		if got := ids(decode[listOutput](t, mustRun(t, a...))); !slices.Equal(got, want) {
			t.Errorf("trust list %s = %q, want %q", flags, got, want)
		}
	}
	out = mustRun(t, "trust", "list", "--server", srv)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.Contains(lines[2], "withdrawn") || !strings.Contains(lines[1], "active") {
		t.Errorf("trust list:\n%s", out)
	}
	out = mustRun(t, "trust", "show", "tx", "--server", srv)
	if !strings.Contains(out, "withdrawn      ") || !strings.Contains(out, "license board reorganized") || !strings.Contains(out, "TX,OK") {
		t.Errorf("trust show tx:\n%s", out)
	}
	if a := decode[trustapi.Accreditation](t, mustRun(t, "trust", "show", "dea", "--server", srv, "--json")); a.Subject != registry.AccreditationPrefix+"dea" {
		t.Errorf("trust show --json: %+v", a)
	}
}

func TestTrustCLIErrors(t *testing.T) {
	srv := trustTestServer(t)
	runErr(t, []string{"trust", "accredit", "--issuer", "did:web:x", "--type", "T"}, "--server is required")
	runErr(t, []string{"trust", "accredit", "--server", srv, "--issuer", "did:web:x", "--type", "T"}, "401", "bearer token")
	runErr(t, []string{"trust", "accredit", "--server", srv, "--token", "not-the-admin", "--issuer", "did:web:x", "--type", "T"}, "401")
	runErr(t, []string{"trust", "accredit", "--server", srv, "--token", testAdminToken, "--type", "T"}, "400", "issuer is missing")
	runErr(t, []string{"trust", "accredit", "--server", srv, "--token", testAdminToken, "--issuer", "did:web:x", "--type", "T", "--jurisdiction", "ZZ"}, "400", "not a USPS state")
	runErr(t, []string{"trust", "accredit", "--server", srv, "--token", testAdminToken, "--issuer", "did:web:x", "--type", "T", "--valid-from", "tomorrow"}, "400", "RFC 3339")
	mustRun(t, "trust", "accredit", "--server", srv, "--token", testAdminToken, "--id", "x", "--issuer", "did:web:x", "--type", "T")
	runErr(t, []string{"trust", "accredit", "--server", srv, "--token", testAdminToken, "--id", "x", "--issuer", "did:web:x", "--type", "T"}, "409")
	runErr(t, []string{"trust", "amend", "x", "--server", srv, "--token", testAdminToken, "--national", "--jurisdiction", "CA"}, "exclude each other")
	runErr(t, []string{"trust", "amend", "nope", "--server", srv, "--token", testAdminToken, "--type", "T"}, "404")
	runErr(t, []string{"trust", "withdraw", "nope", "--server", srv, "--token", testAdminToken}, "404")
	runErr(t, []string{"trust", "withdraw", "--server", srv, "--token", testAdminToken}, "accepts 1 arg")
	runErr(t, []string{"trust", "list", "--server", srv, "--jurisdiction", "Texas"}, "400")
	mustRun(t, "trust", "withdraw", "x", "--server", srv, "--token", testAdminToken)
	runErr(t, []string{"trust", "withdraw", "x", "--server", srv, "--token", testAdminToken}, "409", "withdrawn")
}
