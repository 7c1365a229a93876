//go:build ignore

// Command shim answers the implementation contract of
// w3c/vc-jose-cose-test-suite with Credence's own packages, for
// scripts/w3c-jose-suite (see scripts/w3c/README.md). The build tag keeps it
// out of ./...: the script builds it by file name.
//
//	shim issue|verify --input FILE --key FILE --feature F [--sd PATHS] --output FILE
//
// The suite hands the implementation its key, a verification method with
// publicKeyJwk and secretKeyJwk. The credence binary cannot take one: a
// server signs with its tenants' keys only, as their DIDs, and verifiers
// find keys by DID resolution. So the shim runs what they run with the
// suite's key instead:
//
//   - issue credential_jose: the issuer's tenant-independent checks
//     (vc.Credential.Validate, the JSON-LD terms), then secure.Engine.Issue
//     with format jwt, signed by secretKeyJwk as the method's id;
//   - issue presentation_jose: vc.Presentation.Validate, then
//     jose.SignPresentation of the presentation as given (the wallet's
//     secure.Engine.Present builds its own, for DID holders only);
//   - verify: verifier.Verifier, the pipeline of POST /credentials/verify
//     and /presentations/verify, with the checks proof, validity and
//     schema (status needs the network; VC 2.0 binds no holder to a
//     subject), resolving the method's id to publicKeyJwk only.
//
// The output file is {"result": "success" | "failure" | "indeterminate",
// "data": the token issued, or why}. "indeterminate" means not supported:
// COSE and SD-JWT features, and keys of an algorithm Credence does not
// implement (vc.KeyAlgorithm: EdDSA and ES256). Credence's verdict is never
// changed otherwise.
package main

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/server"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

type result struct {
	Result string `json:"result"`
	Data   string `json:"data"`
}

func failure(err error) result       { return result{"failure", err.Error()} }
func notSupported(why string) result { return result{"indeterminate", "not supported: " + why} }

// key is the suite's verification method.
type key struct {
	ID     string          `json:"id"`
	Public json.RawMessage `json:"publicKeyJwk"`
	Secret json.RawMessage `json:"secretKeyJwk"`
	pub    crypto.PublicKey
	crv    string
}

func main() {
	if len(os.Args) < 2 {
		fatal("usage: shim issue|verify --input FILE --key FILE --feature F [--sd PATHS] --output FILE")
	}
	fn := os.Args[1]
	fs := flag.NewFlagSet(fn, flag.ExitOnError)
	input, keyFile := fs.String("input", "", "input file"), fs.String("key", "", "key file")
	feature, output := fs.String("feature", "", "feature"), fs.String("output", "", "output file")
	fs.String("sd", "", "SD-JWT disclosure paths (SD-JWT features only, which are not supported)")
	_ = fs.Parse(os.Args[2:])
	if *input == "" || *keyFile == "" || *feature == "" || *output == "" || (fn != "issue" && fn != "verify") {
		fatal("issue or verify, with --input, --key, --feature and --output, is required")
	}
	res := run(fn, *input, *keyFile, *feature)
	b, err := json.Marshal(res)
	if err != nil {
		fatal(err.Error())
	}
	if err := os.WriteFile(*output, b, 0o644); err != nil {
		fatal(err.Error())
	}
}

func fatal(msg string) {
	fmt.Fprintln(os.Stderr, "shim:", msg)
	os.Exit(2)
}

func run(fn, inputFile, keyFile, feature string) result {
	if feature != "credential_jose" && feature != "presentation_jose" {
		return notSupported(feature + ": Credence implements neither COSE nor the VC-JOSE-COSE SD-JWT " +
			"media types (its SD-JWT is the IETF SD-JWT VC, dc+sd-jwt)")
	}
	k, err := readKey(keyFile)
	if err != nil {
		return result{"error", err.Error()}
	}
	if _, err := vc.KeyAlgorithm(k.pub); err != nil {
		return notSupported(fmt.Sprintf("the %s key %s: %v (Credence signs and verifies EdDSA and ES256 only)", k.crv, k.ID, err))
	}
	in, err := os.ReadFile(inputFile)
	if err != nil {
		return result{"error", err.Error()}
	}
	ctx := context.Background()
	eng := secure.New(server.NewProcessor())
	switch {
	case fn == "verify":
		return verify(ctx, eng, in, k, feature == "presentation_jose")
	case feature == "presentation_jose":
		return issuePresentation(ctx, in, k)
	}
	return issueCredential(ctx, eng, in, k)
}

func readKey(name string) (*key, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var k key
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("key file %s: %w", name, err)
	}
	j, pub, err := did.ParseJWK(k.Public)
	if err != nil {
		return nil, fmt.Errorf("key file %s: publicKeyJwk: %w", name, err)
	}
	k.pub, k.crv = pub, j.Crv
	return &k, nil
}

// signer is the secretKeyJwk under the verification method's id.
func (k *key) signer() (vc.Signer, error) {
	sk, err := jwk.ParseKey(k.Secret)
	if err != nil {
		return vc.Signer{}, fmt.Errorf("secretKeyJwk: %w", err)
	}
	var raw any
	if err := jwk.Export(sk, &raw); err != nil {
		return vc.Signer{}, fmt.Errorf("secretKeyJwk: %w", err)
	}
	s, ok := raw.(crypto.Signer)
	if !ok {
		return vc.Signer{}, fmt.Errorf("secretKeyJwk is a %T, not a signing key", raw)
	}
	return vc.Signer{Key: s, VerificationMethod: k.ID}, nil
}

func issueCredential(ctx context.Context, eng *secure.Engine, in []byte, k *key) result {
	cred, err := vc.DecodeObject(in)
	if err == nil {
		err = vc.Credential(cred).Validate()
	}
	if err == nil {
		err = eng.CheckTerms(cred)
	}
	s, serr := k.signer()
	if err = errors.Join(err, serr); err != nil {
		return failure(err)
	}
	secured, err := eng.Issue(ctx, cred, s, secure.IssueOptions{Format: secure.JWT})
	if err != nil {
		return failure(err)
	}
	env, _ := secured.(map[string]any)
	token, _, err := jose.Unenvelope(env)
	if err != nil {
		return failure(err)
	}
	return result{"success", token}
}

func issuePresentation(ctx context.Context, in []byte, k *key) result {
	vp, err := vc.DecodeObject(in)
	if err == nil {
		err = vc.Presentation(vp).Validate()
	}
	s, serr := k.signer()
	if err = errors.Join(err, serr); err != nil {
		return failure(err)
	}
	token, err := jose.SignPresentation(ctx, vp, s, "", "")
	if err != nil {
		return failure(err)
	}
	return result{"success", token}
}

func verify(ctx context.Context, eng *secure.Engine, in []byte, k *key, presentation bool) result {
	input, err := secure.ParseInput(in)
	if err != nil {
		return failure(err)
	}
	v := verifier.Verifier{Engine: eng, Keys: vc.StaticKeys{k.ID: k.pub}, Skew: time.Minute}
	o := verifier.Options{Checks: []string{verifier.CheckProof, verifier.CheckValidity, verifier.CheckSchema}}
	var r *verifier.Result
	if presentation {
		r = v.VerifyPresentation(ctx, input, verifier.PresentationOptions{Options: o}).Result
	} else {
		r = v.VerifyCredential(ctx, input, o)
	}
	if !r.Verified {
		return result{"failure", problems(r.Errors)}
	}
	return result{"success", fmt.Sprintf("verified %s with %s", r.Format, r.VerificationMethod)}
}

func problems(ps []verifier.Problem) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%s (%s", p.Code, p.Check)
		if p.Credential != "" {
			out[i] += ", " + p.Credential
		}
		out[i] += "): " + p.Message
	}
	return strings.Join(out, "; ")
}
