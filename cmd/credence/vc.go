package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/server"
	"github.com/credence/credence/issuer"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier"
	"github.com/spf13/cobra"
)

func vcCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "vc", Short: "Issue and verify verifiable credentials"}
	cmd.AddCommand(vcIssueCmd(), vcVerifyCmd())
	return cmd
}

func vcIssueCmd() *cobra.Command {
	var f clientFlags
	var tenant, typ, subjectFile, format, validUntil string
	cmd := &cobra.Command{
		Use:   "issue --issuer ID --type TYPE --subject FILE",
		Short: "Issue a credential through a running server with the issuer's token; prints the secured credential",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.server == "" || tenant == "" || typ == "" || subjectFile == "" {
				return errors.New("--server, --issuer, --type and --subject are required")
			}
			subject, err := readJSONObject(subjectFile)
			if err != nil {
				return fmt.Errorf("--subject: %w", err)
			}
			req := issuer.IssueRequest{Credential: newCredential(typ, subject), Options: issuer.IssueOptions{Format: format}}
			if validUntil != "" {
				req.Credential["validUntil"] = validUntil
			}
			var out struct {
				VerifiableCredential json.RawMessage `json:"verifiableCredential"`
			}
			u := strings.TrimSuffix(f.server, "/") + "/issuers/" + url.PathEscape(tenant) + "/credentials/issue"
			if err := call(cmd.Context(), http.MethodPost, u, f.bearer(), req, &out); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), out.VerifiableCredential)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&tenant, "issuer", "", "issuer id")
	cmd.Flags().StringVar(&typ, "type", "", "credential type, e.g. MedicalLicenseCredential")
	cmd.Flags().StringVar(&subjectFile, "subject", "", "file with the credentialSubject JSON object (- for stdin)")
	cmd.Flags().StringVar(&format, "format", "", "di (eddsa-rdfc-2022, default), di-jcs, ed25519-2020, jwt or sd-jwt")
	cmd.Flags().StringVar(&validUntil, "valid-until", "", "validUntil (default: the subject's own expiry for healthcare types)")
	return cmd
}

// newCredential is the unsecured credential the CLI asks the server to issue.
func newCredential(typ string, subject map[string]any) map[string]any {
	ctx := []any{vc.ContextV2}
	if _, ok := healthcare.Lookup(typ); ok {
		ctx = append(ctx, healthcare.ContextURL)
	}
	return map[string]any{"@context": ctx, "type": []any{vc.TypeCredential, typ}, "credentialSubject": subject}
}

func readJSONObject(name string) (map[string]any, error) {
	b, err := readInput(name)
	if err != nil {
		return nil, err
	}
	return vc.DecodeObject(b)
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, vc.MaxDocumentBytes+1))
	}
	return os.ReadFile(name)
}

// verifyOutput is what vc verify reports.
type vcVerifyOutput struct {
	Verified           bool     `json:"verified"`
	Format             string   `json:"format,omitempty"`
	Issuer             string   `json:"issuer,omitempty"`
	Subject            string   `json:"subject,omitempty"`
	Types              []string `json:"types,omitempty"`
	VerificationMethod string   `json:"verificationMethod,omitempty"`
	ValidFrom          string   `json:"validFrom,omitempty"`
	ValidUntil         string   `json:"validUntil,omitempty"`
	Disclosed          []string `json:"disclosed,omitempty"`
	Status             []string `json:"status,omitempty"`
	Errors             []string `json:"errors,omitempty"`
	Warnings           []string `json:"warnings,omitempty"`
}

func vcVerifyCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Verify a credential in any format Credence knows (offline for did:key and did:jwk issuers; --server resolves did:credence)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := readInput(args[0])
			if err != nil {
				return err
			}
			out := verifyCredential(cmd.Context(), b, f.server, time.Now())
			w := cmd.OutOrStdout()
			if f.json {
				if err := printJSON(w, out); err != nil {
					return err
				}
			} else {
				printVerify(w, out)
			}
			if !out.Verified {
				return errSilentFailure
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// errSilentFailure makes the command exit 1 after it printed its own report.
var errSilentFailure = errors.New("")

func verifyCredential(ctx context.Context, b []byte, srv string, now time.Time) vcVerifyOutput {
	var out vcVerifyOutput
	input, err := secure.ParseInput(b)
	if err != nil {
		out.Errors = append(out.Errors, err.Error())
		return out
	}
	eng := secure.New(server.NewProcessor())
	v, err := eng.VerifyCredential(ctx, input, vc.DIDKeys{Resolver: cliResolver(srv)}, secure.VerifyOptions{Now: now, Skew: time.Minute})
	if err != nil {
		out.Errors = append(out.Errors, err.Error())
		return out
	}
	c := v.Credential
	out.Format, out.Issuer, out.Types, out.VerificationMethod, out.Disclosed = v.Format, c.Issuer(), c.Types(), v.VerificationMethod, v.Disclosed
	if ids := c.SubjectIDs(); len(ids) > 0 {
		out.Subject = ids[0]
	}
	out.Verified = true
	if t, ok := c.ValidFrom(); ok {
		out.ValidFrom = t.UTC().Format(time.RFC3339)
		if now.Before(t) {
			out.Verified = false
			out.Errors = append(out.Errors, "not yet valid: validFrom is "+out.ValidFrom)
		}
	}
	if t, ok := c.ValidUntil(); ok {
		out.ValidUntil = t.UTC().Format(time.RFC3339)
		if now.After(t) {
			out.Verified = false
			out.Errors = append(out.Errors, "expired: validUntil was "+out.ValidUntil)
		}
	}
	if len(c.Status()) > 0 {
		checkStatus(ctx, &out, eng, srv, c)
	}
	return out
}

// checkStatus fetches the credential's status lists over HTTP(S), verifies
// them and reads the bits. The ledger is not consulted offline: a list's
// history is only checked by a server's verifier (POST /credentials/verify).
func checkStatus(ctx context.Context, out *vcVerifyOutput, eng *secure.Engine, srv string, c vc.Credential) {
	keys := vc.DIDKeys{Resolver: cliResolver(srv)}
	checker := &verifier.StatusChecker{Fetch: verifier.HTTPFetcher{Client: &http.Client{Timeout: 15 * time.Second}},
		Verify: verifier.EngineListVerifier(eng, keys, secure.VerifyOptions{Skew: time.Minute})}
	res, err := checker.Check(ctx, c)
	if err != nil {
		out.Verified = false
		out.Errors = append(out.Errors, "status: "+err.Error())
		return
	}
	for _, r := range res {
		switch {
		case r.Code == "":
			out.Status = append(out.Status, fmt.Sprintf("%s: clear (%s #%d)", r.Purpose, r.List, r.Index))
		case r.Warning:
			out.Warnings = append(out.Warnings, r.Code+": "+r.Detail)
		default:
			out.Verified = false
			out.Errors = append(out.Errors, r.Code+": "+r.Detail)
		}
	}
}

func printVerify(w io.Writer, o vcVerifyOutput) {
	if o.Verified {
		fmt.Fprintf(w, "VERIFIED (%s)\n", o.Format)
	} else {
		fmt.Fprintln(w, "NOT VERIFIED")
	}
	for _, kv := range [][2]string{{"issuer", o.Issuer}, {"subject", o.Subject}, {"types", strings.Join(o.Types, ", ")},
		{"key", o.VerificationMethod}, {"validFrom", o.ValidFrom}, {"validUntil", o.ValidUntil}, {"disclosed", strings.Join(o.Disclosed, ", ")}} {
		if kv[1] != "" {
			fmt.Fprintf(w, "  %-10s %s\n", kv[0], kv[1])
		}
	}
	for _, st := range o.Status {
		fmt.Fprintf(w, "  status     %s\n", st)
	}
	for _, e := range o.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	for _, e := range o.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", e)
	}
}

// cliResolver resolves did:key and did:jwk locally, did:web over HTTPS, and
// did:credence through a server's resolver when one is given.
func cliResolver(srv string) *did.Resolver {
	opts := []did.ResolverOption{did.WithMethod("web", did.NewWebMethod(did.DefaultWebTimeout, false), time.Minute)}
	if srv != "" {
		opts = append(opts, did.WithMethod("credence", remoteMethod{srv}, time.Minute))
	}
	return did.NewResolver(opts...)
}

// remoteMethod resolves through a Credence server's /1.0/identifiers, with
// the versionId and versionTime options (vc.DIDKeys asks for the version in
// effect when a credential was signed, once its issuer rotated the key).
type remoteMethod struct{ server string }

func (m remoteMethod) Resolve(ctx context.Context, d did.DID, o did.Options) (*did.Resolution, error) {
	q := url.Values{}
	if o.VersionID != "" {
		q.Set("versionId", o.VersionID)
	}
	if o.VersionTime != "" {
		q.Set("versionTime", o.VersionTime)
	}
	id := d.String()
	if len(q) > 0 {
		id += "?" + q.Encode()
	}
	return resolve(ctx, m.server, id, "")
}
