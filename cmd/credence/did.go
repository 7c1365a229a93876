package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/server"
	"github.com/credence/credence/registry"
	"github.com/spf13/cobra"
)

func didCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "did", Short: "Create, resolve and maintain DIDs"}
	cmd.AddCommand(didCreateCmd(), didResolveCmd(), didRotateCmd(), didUpdateCmd(), didDeactivateCmd())
	return cmd
}

type clientFlags struct {
	server, token string
	json          bool
}

func (f *clientFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.server, "server", os.Getenv("CREDENCE_SERVER"), "Credence server URL (env CREDENCE_SERVER)")
	cmd.Flags().StringVar(&f.token, "token", "", "bearer token for the server (env CREDENCE_TOKEN)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON")
}

func (f *clientFlags) bearer() string {
	if f.token != "" {
		return f.token
	}
	return os.Getenv("CREDENCE_TOKEN")
}

func didCreateCmd() *cobra.Command {
	var cf clientFlags
	var method, keyType, path, label, data string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a DID whose key is kept in the key manager (on --server, or in the local --data dir)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req := map[string]string{"method": method, "keyType": keyType, "path": path, "label": label}
			var out struct {
				DID         string        `json:"did"`
				DIDDocument *did.Document `json:"didDocument"`
				KeyIDs      []string      `json:"keyIds"`
				// did:credence only: the ledger version and receipt of the create.
				VersionID string            `json:"versionId,omitempty"`
				Receipt   *registry.Receipt `json:"receipt,omitempty"`
			}
			var err error
			if cf.server != "" {
				err = call(cmd.Context(), http.MethodPost, strings.TrimSuffix(cf.server, "/")+"/admin/dids", cf.bearer(), req, &out)
			} else {
				out.DID, out.DIDDocument, out.KeyIDs, err = createLocal(cmd.Context(), data, method, keyType, path, label)
			}
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created %s\n  key ids: %s\n", out.DID, strings.Join(out.KeyIDs, ", "))
			if out.Receipt != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "  (update, recovery and pre-rotated next update key)\n")
				printDIDLedgerReceipt(cmd.OutOrStdout(), out.VersionID, *out.Receipt)
			}
			printDocument(cmd.OutOrStdout(), out.DIDDocument)
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&method, "method", "key", "DID method: key, jwk, web or credence (web needs --server and --path; credence needs --server)")
	cmd.Flags().StringVar(&keyType, "key-type", "Ed25519", "key type: Ed25519 or P-256")
	cmd.Flags().StringVar(&path, "path", "", "did:web path on the server, e.g. issuers/tx-board")
	cmd.Flags().StringVar(&label, "label", "", "a note kept with the key")
	cmd.Flags().StringVar(&data, "data", config.Defaults().DataDir, "local data dir (without --server)")
	return cmd
}

func createLocal(ctx context.Context, data, method, keyType, path, label string) (string, *did.Document, []string, error) {
	if method == "credence" {
		return "", nil, nil, fmt.Errorf("--method credence needs --server (did:credence DIDs are recorded on the server's ledger)")
	}
	if method != "key" && method != "jwk" {
		return "", nil, nil, fmt.Errorf("--method %s needs --server (did:web is hosted by a running server)", method)
	}
	if path != "" {
		return "", nil, nil, fmt.Errorf("--path is only for did:web, which needs --server")
	}
	alg, err := keys.ParseAlgorithm(keyType)
	if err != nil {
		return "", nil, nil, err
	}
	cfg := config.Defaults()
	cfg.DataDir = data
	cfg.MasterKey = os.Getenv("CREDENCE_MASTER_KEY")
	cfg.MasterKeyFile = os.Getenv("CREDENCE_MASTER_KEY_FILE")
	if err := cfg.Validate(); err != nil {
		return "", nil, nil, err
	}
	hosted, closeFn, err := server.OpenHosted(ctx, cfg)
	if err != nil {
		return "", nil, nil, err
	}
	defer closeFn()
	rec, doc, err := hosted.Create(ctx, method, alg, nil, label)
	if err != nil {
		return "", nil, nil, err
	}
	return doc.ID, doc, rec.KeyIDs, nil
}

func didResolveCmd() *cobra.Command {
	var cf clientFlags
	var format string
	cmd := &cobra.Command{
		Use:   "resolve DID",
		Short: "Resolve a DID (locally for did:key, did:jwk and did:web, or through --server)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := resolve(cmd.Context(), cf.server, args[0], format)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			printDocument(cmd.OutOrStdout(), res.Document)
			if res.DocumentMetadata.Deactivated {
				fmt.Fprintln(cmd.OutOrStdout(), "  DEACTIVATED")
			}
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&format, "public-key-format", "", "did:key representation (Multikey, JsonWebKey2020, Ed25519VerificationKey2018, ...)")
	return cmd
}

func resolve(ctx context.Context, srv, id, format string) (*did.Resolution, error) {
	if srv == "" {
		r := did.NewResolver(did.WithMethod("web", did.NewWebMethod(did.DefaultWebTimeout, false), 0))
		res, err := r.Resolve(ctx, id, did.Options{PublicKeyFormat: format})
		if err != nil {
			e, _ := did.Classify(err)
			return nil, fmt.Errorf("%s: %s", e.Type, e.Detail)
		}
		return res, nil
	}
	q := url.Values{}
	if parsed, err := did.ParseURL(id); err == nil { // a DID URL: its query holds resolution options
		id = parsed.DID.String()
		q, _ = parsed.Query()
	}
	if format != "" {
		q.Set("publicKeyFormat", format)
	}
	u := strings.TrimSuffix(srv, "/") + "/1.0/identifiers/" + id
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var res did.Resolution
	err := call(ctx, http.MethodGet, u, "", nil, &res)
	var re *resolutionError
	if asResolutionError(err, &re) {
		return nil, fmt.Errorf("%s: %s", re.Type, re.Detail)
	}
	return &res, err
}

func printDocument(w io.Writer, doc *did.Document) {
	if doc == nil {
		return
	}
	fmt.Fprintf(w, "%s\n", doc.ID)
	for _, vm := range doc.VerificationMethod {
		fmt.Fprintf(w, "  verification method %s\n    type %s\n", vm.ID, vm.Type)
	}
	rels := map[string][]did.Relationship{"assertionMethod": doc.AssertionMethod, "authentication": doc.Authentication,
		"capabilityInvocation": doc.CapabilityInvocation, "capabilityDelegation": doc.CapabilityDelegation, "keyAgreement": doc.KeyAgreement}
	for _, name := range []string{"assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation", "keyAgreement"} {
		for _, r := range rels[name] {
			fmt.Fprintf(w, "  %s: %s\n", name, r.ID())
		}
	}
	for _, sv := range doc.Service {
		var ep any
		_ = json.Unmarshal(sv.ServiceEndpoint, &ep)
		fmt.Fprintf(w, "  service %s\n    type %s\n    endpoint %v\n", sv.ID, strings.Join(sv.Type, ", "), ep)
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type resolutionError struct{ Type, Detail string }

func (e *resolutionError) Error() string { return e.Type + ": " + e.Detail }

func asResolutionError(err error, out **resolutionError) bool {
	re, ok := err.(*resolutionError)
	if ok {
		*out = re
	}
	return ok
}

// call sends a JSON request and decodes a JSON answer; problem+json and DID
// resolution errors become readable errors.
func call(ctx context.Context, method, u, token string, body, out any) error {
	status, b, err := rawCall(ctx, method, u, token, body)
	if err != nil {
		return err
	}
	if status >= 300 && !(status == http.StatusGone && deactivated(b)) {
		return responseError(status, b)
	}
	return json.Unmarshal(b, out)
}

// rawCall sends a JSON request and returns the answer's status and body,
// whatever the status (for answers call does not take: a 204, or a 502 that
// carries a presentation).
func rawCall(ctx context.Context, method, u, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second) // a presentation may wait for its verifier
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, err
}

// deactivated reports whether b is a DID resolution result for a deactivated
// DID, which the resolution binding answers with 410 Gone: a result, not an error.
func deactivated(b []byte) bool {
	var r struct {
		Meta struct {
			Deactivated bool `json:"deactivated"`
		} `json:"didDocumentMetadata"`
	}
	return json.Unmarshal(b, &r) == nil && r.Meta.Deactivated
}

func responseError(status int, b []byte) error {
	var p struct {
		Title, Detail string
		Errors        []struct{ Field, Detail string }
		Meta          *struct {
			Error *did.ResolutionError `json:"error"`
		} `json:"didResolutionMetadata"`
	}
	if json.Unmarshal(b, &p) == nil {
		if p.Meta != nil && p.Meta.Error != nil {
			return &resolutionError{Type: p.Meta.Error.Type, Detail: p.Meta.Error.Detail}
		}
		if p.Title != "" && len(p.Errors) > 0 {
			var b strings.Builder
			fmt.Fprintf(&b, "server answered %d %s:", status, p.Title)
			for _, e := range p.Errors {
				fmt.Fprintf(&b, "\n  %s: %s", e.Field, e.Detail)
			}
			return errors.New(b.String())
		}
		if p.Title != "" {
			return fmt.Errorf("server answered %d %s: %s", status, p.Title, p.Detail)
		}
	}
	return fmt.Errorf("server answered HTTP %d", status)
}

// didLedgerOutput is the server's answer to rotate, update and deactivate.
type didLedgerOutput struct {
	DID         string           `json:"did"`
	DIDDocument *did.Document    `json:"didDocument"`
	VersionID   string           `json:"versionId"`
	Receipt     registry.Receipt `json:"receipt"`
}

func printDIDLedgerReceipt(w io.Writer, version string, r registry.Receipt) {
	fmt.Fprintf(w, "  version %s (ledger entry %d, op hash %s)\n", version, r.Index, r.Hash)
}

// didLedgerCmd is a did:credence operation the server performs with the keys it
// holds: POST /admin/dids/{did}/{action}, with the body body returns (nil for none).
func didLedgerCmd(use, short, action, done string, body func() (any, error)) (*cobra.Command, *clientFlags) {
	cf := &clientFlags{}
	cmd := &cobra.Command{
		Use:   use + " DID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cf.server == "" {
				return fmt.Errorf("did %s needs --server: did:credence DIDs are kept on a server's ledger, with their keys in its key manager", use)
			}
			if !strings.HasPrefix(args[0], "did:credence:") {
				return fmt.Errorf("%q is not a did:credence DID; only those are %s", args[0], done)
			}
			req, err := body()
			if err != nil {
				return err
			}
			var out didLedgerOutput
			u := strings.TrimSuffix(cf.server, "/") + "/admin/dids/" + url.PathEscape(args[0]) + "/" + action
			if err := call(cmd.Context(), http.MethodPost, u, cf.bearer(), req, &out); err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s %s\n", strings.ToUpper(done[:1])+done[1:], out.DID)
			printDIDLedgerReceipt(w, out.VersionID, out.Receipt)
			printDocument(w, out.DIDDocument)
			if action == "deactivate" {
				fmt.Fprintln(w, "  DEACTIVATED")
			}
			return nil
		},
	}
	cf.register(cmd)
	return cmd, cf
}

func didRotateCmd() *cobra.Command {
	cmd, _ := didLedgerCmd("rotate", "Rotate a did:credence DID's key to its pre-committed next key (on --server)", "rotate", "rotated",
		func() (any, error) { return nil, nil })
	return cmd
}

func didDeactivateCmd() *cobra.Command {
	cmd, _ := didLedgerCmd("deactivate", "Deactivate a did:credence DID for good, signed by its recovery key (on --server)", "deactivate", "deactivated",
		func() (any, error) { return nil, nil })
	return cmd
}

func didUpdateCmd() *cobra.Command {
	var services []string
	var none bool
	cmd, _ := didLedgerCmd("update", "Replace a did:credence DID's services (on --server); its verification key stays", "update", "updated",
		func() (any, error) {
			switch {
			case len(services) == 0 && !none:
				return nil, fmt.Errorf("give the new services with --service id,type,endpoint (repeatable), or --no-services to remove them all")
			case len(services) > 0 && none:
				return nil, fmt.Errorf("--service and --no-services exclude each other")
			}
			list := []map[string]string{}
			for _, sv := range services {
				parts := strings.SplitN(sv, ",", 3)
				if len(parts) != 3 || slices.Contains(parts, "") {
					return nil, fmt.Errorf("--service %q: want id,type,endpoint (e.g. #hub,LinkedDomains,https://example.com/)", sv)
				}
				id := strings.TrimSpace(parts[0])
				if !strings.HasPrefix(id, "#") && !strings.HasPrefix(id, "did:") {
					id = "#" + id
				}
				list = append(list, map[string]string{"id": id, "type": strings.TrimSpace(parts[1]), "serviceEndpoint": strings.TrimSpace(parts[2])})
			}
			return map[string]any{"services": list}, nil
		})
	cmd.Flags().StringArrayVar(&services, "service", nil, "a service as id,type,endpoint, e.g. #hub,LinkedDomains,https://example.com/ (repeatable; replaces all services)")
	cmd.Flags().BoolVar(&none, "no-services", false, "remove every service")
	return cmd
}
