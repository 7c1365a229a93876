package main

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/verifier/audit"
	"github.com/spf13/cobra"
)

func auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Export and verify the audit log of verification decisions"}
	cmd.AddCommand(auditVerifyCmd(), auditExportCmd())
	return cmd
}

// auditVerifyOutput is what audit verify reports.
type auditVerifyOutput struct {
	Intact bool `json:"intact"`
	audit.Report
	// KeyChecked is whether the head was checked against --key.
	KeyChecked bool               `json:"keyChecked"`
	Error      *audit.VerifyError `json:"error,omitempty"`
}

func auditVerifyCmd() *cobra.Command {
	var key string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check an audit export offline: every entry's hash and link, and the signed head (exit status 1 when it is not intact)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := auditKey(key)
			if err != nil {
				return err
			}
			r, err := openAuditFile(cmd, args[0])
			if err != nil {
				return err
			}
			defer r.Close()
			out, err := verifyAudit(r, pub)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if err := printJSON(w, out); err != nil {
					return err
				}
			} else {
				printAuditVerify(w, out)
			}
			if !out.Intact {
				return errSilentFailure
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the service's audit key (Multikey): the head must be signed by it")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// auditKey decodes --key (nil when empty).
func auditKey(s string) (crypto.PublicKey, error) {
	if s == "" {
		return nil, nil
	}
	pub, err := did.DecodeMultikey(s)
	if err != nil {
		return nil, fmt.Errorf("--key: %w", err)
	}
	if _, ok := pub.(ed25519.PublicKey); !ok {
		return nil, errors.New("--key: the audit key is an Ed25519 Multikey (z6Mk...)")
	}
	return pub, nil
}

// openAuditFile opens FILE, or standard input for "-".
func openAuditFile(cmd *cobra.Command, name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(cmd.InOrStdin()), nil
	}
	return os.Open(name)
}

// verifyAudit runs audit.Verify; only a read or usage failure is an error.
func verifyAudit(r io.Reader, pub crypto.PublicKey) (auditVerifyOutput, error) {
	rep, err := audit.Verify(r, pub)
	out := auditVerifyOutput{Intact: err == nil, Report: rep, KeyChecked: pub != nil}
	if err != nil && !errors.As(err, &out.Error) {
		return out, err
	}
	return out, nil
}

func printAuditVerify(w io.Writer, out auditVerifyOutput) {
	r := out.Report
	if !out.Intact {
		fmt.Fprintf(w, "NOT intact: %v\n", out.Error)
		fmt.Fprintf(w, "  intact before it: %d entries of chain %q\n", r.Size, r.Chain)
		return
	}
	fmt.Fprintf(w, "intact: chain %s, %d entries\n", r.Chain, r.Size)
	if r.Size > 0 {
		fmt.Fprintf(w, "  head hash  %s\n  entries    %s .. %s\n", r.Hash, r.First.Format(time.RFC3339), r.Last.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "  signed     %s by %s\n", r.Signed.Format(time.RFC3339), r.Key)
	if !out.KeyChecked {
		fmt.Fprintf(w, "  the key was not checked: compare it with the service's audit key, or pass --key\n")
	}
}

func auditExportCmd() *cobra.Command {
	var f clientFlags
	var out, chain string
	cmd := &cobra.Command{
		Use:   "export --server URL --token T [--out FILE]",
		Short: "Download your verifier's audit chain (or, with an admin token, --chain NAME) as a signed export, and check it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.server == "" {
				return errors.New("--server is required: the audit log lives in a running server")
			}
			u := strings.TrimSuffix(f.server, "/") + "/verifier/audit"
			if chain != "" {
				if !audit.ValidChain(chain) {
					return errors.New("--chain: 1 to 128 letters, digits, '.', '_' or '-'")
				}
				u = strings.TrimSuffix(f.server, "/") + "/admin/audit/" + url.PathEscape(chain)
			}
			res, err := downloadAudit(cmd.Context(), u, f.bearer(), out, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			w := cmd.ErrOrStderr()
			if f.json {
				w = cmd.OutOrStdout()
				if out == "" {
					w = cmd.ErrOrStderr()
				}
				if err := printJSON(w, res); err != nil {
					return err
				}
			} else {
				printAuditVerify(w, res)
				if out != "" && res.Intact {
					fmt.Fprintf(w, "written to %s; check the signer with: credence audit verify %s --key %s\n", out, out, res.Key)
				}
			}
			if !res.Intact {
				return errSilentFailure
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&out, "out", "", "write the export to FILE (default: standard output)")
	cmd.Flags().StringVar(&chain, "chain", "", "export this chain instead of your own (admin token required)")
	return cmd
}

// downloadAudit streams the export at u to the file out (or to stdout when
// out is empty) while verifying it, with the key the head names.
func downloadAudit(ctx context.Context, u, token, out string, stdout io.Writer) (auditVerifyOutput, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return auditVerifyOutput{}, err
	}
	req.Header.Set("Accept", "application/x-ndjson")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 30 * time.Second
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return auditVerifyOutput{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return auditVerifyOutput{}, responseError(resp.StatusCode, b)
	}
	if out == "" {
		return teeAuditVerify(resp.Body, stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".audit-*.jsonl")
	if err != nil {
		return auditVerifyOutput{}, err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing left to remove
	res, err := teeAuditVerify(resp.Body, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return auditVerifyOutput{}, err
	}
	return res, os.Rename(tmp.Name(), out)
}

// teeAuditVerify copies r to w and verifies what passes.
func teeAuditVerify(r io.Reader, w io.Writer) (auditVerifyOutput, error) {
	pr, pw := io.Pipe()
	type result struct {
		out auditVerifyOutput
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := verifyAudit(pr, nil)
		_, _ = io.Copy(io.Discard, pr) // keep the download going after a verdict
		done <- result{out, err}
	}()
	_, err := io.Copy(io.MultiWriter(w, pw), r)
	pw.CloseWithError(err)
	res := <-done
	if err != nil {
		return auditVerifyOutput{}, fmt.Errorf("failed to download the export: %w", err)
	}
	return res.out, res.err
}
