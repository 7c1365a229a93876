package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/credence/credence/did"
	"github.com/credence/credence/registry"
)

// credCreateOutput is `did create --method credence --json`.
type credCreateOutput struct {
	DID         string           `json:"did"`
	DIDDocument *did.Document    `json:"didDocument"`
	KeyIDs      []string         `json:"keyIds"`
	VersionID   string           `json:"versionId"`
	Receipt     registry.Receipt `json:"receipt"`
}

// credOpOutput is `did rotate|update|deactivate --json`.
type credOpOutput struct {
	DID         string           `json:"did"`
	DIDDocument *did.Document    `json:"didDocument"`
	VersionID   string           `json:"versionId"`
	Receipt     registry.Receipt `json:"receipt"`
}

// credOnlyKey returns the document's one verification method, failing unless
// it is #key-n.
func credOnlyKey(t *testing.T, doc *did.Document, n string) did.VerificationMethod {
	t.Helper()
	if doc == nil || len(doc.VerificationMethod) != 1 || doc.VerificationMethod[0].ID != doc.ID+"#key-"+n {
		t.Fatalf("document %+v, want the one verification method #key-%s", doc, n)
	}
	return doc.VerificationMethod[0]
}

func TestDIDCredenceLifecycleCLI(t *testing.T) {
	_, ts, _ := testServer(t)
	srv := []string{"--server", ts.URL, "--token", testAdminToken}
	with := func(args ...string) []string { return append(args, srv...) }

	c := decode[credCreateOutput](t, mustRun(t, with("did", "create", "--method", "credence", "--key-type", "P-256", "--label", "board", "--json")...))
	if !strings.HasPrefix(c.DID, "did:credence:") || c.DIDDocument == nil || c.DIDDocument.ID != c.DID {
		t.Fatalf("created %+v", c)
	}
	if len(c.KeyIDs) != 3 || c.VersionID != "1" || c.Receipt.Seq != 1 || c.Receipt.Subject != c.DID {
		t.Errorf("keyIds %v, version %s, receipt %+v", c.KeyIDs, c.VersionID, c.Receipt)
	}
	if vm := credOnlyKey(t, c.DIDDocument, "1"); !strings.HasPrefix(vm.PublicKeyMultibase, "zDn") {
		t.Errorf("update key %s, want P-256", vm.PublicKeyMultibase)
	}

	// Readable create output.
	out := mustRun(t, with("did", "create", "--method", "credence")...)
	for _, want := range []string{"Created did:credence:", "key ids: ", "version 1 (ledger entry", "verification method did:credence:", "#key-1", "assertionMethod: did:credence:"} {
		if !strings.Contains(out, want) {
			t.Errorf("create output lacks %q:\n%s", want, out)
		}
	}

	// The server resolves it.
	res := decode[did.Resolution](t, mustRun(t, "did", "resolve", c.DID, "--server", ts.URL, "--json"))
	if res.Document == nil || res.Document.ID != c.DID || res.DocumentMetadata.VersionID != "1" {
		t.Errorf("resolved %+v", res)
	}

	// Rotate.
	r := decode[credOpOutput](t, mustRun(t, with("did", "rotate", c.DID, "--json")...))
	if r.DID != c.DID || r.VersionID != "2" || r.Receipt.Seq != 2 {
		t.Errorf("rotate %+v", r)
	}
	if vm := credOnlyKey(t, r.DIDDocument, "2"); vm.PublicKeyMultibase == c.DIDDocument.VerificationMethod[0].PublicKeyMultibase {
		t.Error("rotate kept the old key")
	}
	out = mustRun(t, with("did", "rotate", c.DID)...)
	for _, want := range []string{"Rotated " + c.DID, "version 3 (ledger entry", "#key-3"} {
		if !strings.Contains(out, want) {
			t.Errorf("rotate output lacks %q:\n%s", want, out)
		}
	}

	// Update services; the key stays.
	u := decode[credOpOutput](t, mustRun(t, with("did", "update", c.DID, "--service", "#hub,CredentialRegistry,https://hub.example/a,b",
		"--service", "site,LinkedDomains,https://example.org/", "--json")...))
	if u.VersionID != "4" || len(u.DIDDocument.Service) != 2 {
		t.Fatalf("update %+v", u)
	}
	credOnlyKey(t, u.DIDDocument, "3")
	if sv := u.DIDDocument.Service[0]; sv.ID != c.DID+"#hub" || sv.Type[0] != "CredentialRegistry" || string(sv.ServiceEndpoint) != `"https://hub.example/a,b"` {
		t.Errorf("service %+v", sv)
	}
	if sv := u.DIDDocument.Service[1]; sv.ID != c.DID+"#site" {
		t.Errorf("service %+v", sv)
	}
	out = mustRun(t, with("did", "update", c.DID, "--service", "#hub,CredentialRegistry,https://hub.example/")...)
	for _, want := range []string{"Updated " + c.DID, "version 5", "service " + c.DID + "#hub", "endpoint https://hub.example/"} {
		if !strings.Contains(out, want) {
			t.Errorf("update output lacks %q:\n%s", want, out)
		}
	}
	runErr(t, with("did", "update", c.DID), "--service", "--no-services")
	runErr(t, with("did", "update", c.DID, "--service", "#hub,X"), "id,type,endpoint")
	runErr(t, with("did", "update", c.DID, "--service", "#hub,X,https://a.example", "--no-services"), "exclude")
	runErr(t, with("did", "update", c.DID, "--service", "#hub,X,http://a.example"), "422", "https")
	if u := decode[credOpOutput](t, mustRun(t, with("did", "update", c.DID, "--no-services", "--json")...)); len(u.DIDDocument.Service) != 0 || u.VersionID != "6" {
		t.Errorf("--no-services: %+v", u)
	}

	// Errors: no server, no token, not did:credence, not hosted here.
	runErr(t, []string{"did", "rotate", c.DID}, "--server")
	runErr(t, []string{"did", "rotate", c.DID, "--server", ts.URL}, "401")
	runErr(t, with("did", "rotate", vectorDIDKey), "did:credence")
	runErr(t, with("did", "rotate", "did:credence:QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"), "404")
	runErr(t, with("did", "deactivate"))
	runErr(t, []string{"did", "create", "--method", "credence", "--data", t.TempDir()}, "--server")

	// Deactivate: terminal.
	dz := decode[credOpOutput](t, mustRun(t, with("did", "deactivate", c.DID, "--json")...))
	if dz.VersionID != "7" || dz.DIDDocument == nil || dz.DIDDocument.ID != c.DID {
		t.Errorf("deactivate %+v", dz)
	}
	out = mustRun(t, "did", "resolve", c.DID, "--server", ts.URL)
	if !strings.Contains(out, "DEACTIVATED") {
		t.Errorf("resolve after deactivation:\n%s", out)
	}
	code, body := httpDo(t, http.MethodGet, ts.URL+"/1.0/identifiers/"+c.DID, "", "")
	if code != http.StatusGone {
		t.Errorf("resolution status %d %s, want 410", code, body)
	}
	for _, args := range [][]string{{"did", "rotate", c.DID}, {"did", "deactivate", c.DID}, {"did", "update", c.DID, "--no-services"}} {
		runErr(t, with(args...), "422", "deactivated")
	}

	// The admin list shows the did:credence DIDs with their three keys.
	code, body = httpDo(t, http.MethodGet, ts.URL+"/admin/dids", testAdminToken, "")
	var list struct {
		DIDs []struct {
			DID    string   `json:"did"`
			Method string   `json:"method"`
			KeyIDs []string `json:"keyIds"`
		} `json:"dids"`
	}
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil {
		t.Fatalf("list %d %s", code, body)
	}
	found := false
	for _, d := range list.DIDs {
		if d.DID == c.DID {
			found = d.Method == "credence" && len(d.KeyIDs) == 3
		}
	}
	if !found {
		t.Errorf("list %s lacks %s", body, c.DID)
	}
}
