package verifier

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateFHIR = flag.Bool("update", false, "rewrite the golden files of testdata/fhir")

// TestFHIRGolden compares the projections with testdata/fhir (go test
// -run TestFHIRGolden -update rewrites them) and validates each against
// R4's structure.
func TestFHIRGolden(t *testing.T) {
	rs := fhirResults()
	o := FHIROptions{At: fhirAt, Validator: "hosp-tx", Watchable: true}
	cases := map[string]any{
		"credential-accept.json":     FHIRCredential(rs["accept"], o),
		"credential-review.json":     FHIRCredential(rs["review"], o),
		"credential-reject.json":     FHIRCredential(rs["reject"], o),
		"credential-anonymous.json":  FHIRCredential(rs["anonymous"], FHIROptions{At: fhirAt}),
		"presentation-bundle.json":   FHIRPresentation(fhirPresentationResult(), o),
		"presentation-replayed.json": FHIRPresentation(&PresentationResult{Result: fhirResult(nil, []string{CheckProof}, []Problem{{Code: CodeReplayed, Check: CheckProof}}, nil, nil)}, FHIROptions{At: fhirAt}),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer // as the server writes it (httpx.JSON), indented
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", "fhir", name)
			if *updateFHIR {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the projection (run with -update if the change is intended):\n%s", path, got)
			}
			for _, p := range checkR4(want) {
				t.Errorf("%s: %s", path, p)
			}
		})
	}
}
