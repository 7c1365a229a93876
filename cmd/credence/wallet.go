package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	walletapi "github.com/credence/credence/wallet-api"
	"github.com/credence/credence/wallet-api/wallet"
	"github.com/spf13/cobra"
)

// The wallet verbs are a client of a running server's wallet API (package
// walletapi): every verb but create-holder acts as one holder, named by
// --holder and authenticated by that holder's token.

func walletCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "wallet", Short: "A holder's wallet on a running server: keep credentials, answer verifiers' requests, read the disclosure log"}
	cmd.AddCommand(walletCreateHolderCmd(), walletAddCmd(), walletListCmd(), walletShowCmd(), walletDeleteCmd(),
		walletPresentCmd(), walletDisclosuresCmd())
	return cmd
}

// walletFlags are clientFlags and the holder the command acts as.
type walletFlags struct {
	clientFlags
	holder string
}

func (f *walletFlags) register(cmd *cobra.Command) {
	f.clientFlags.register(cmd)
	cmd.Flags().Lookup("token").Usage = "the holder's token, printed once by wallet create-holder (env CREDENCE_TOKEN)"
	cmd.Flags().StringVar(&f.holder, "holder", os.Getenv("CREDENCE_HOLDER"), "the holder id printed by wallet create-holder (env CREDENCE_HOLDER)")
}

// url is the URL of path under the holder's routes; it fails when the
// holder context is incomplete.
func (f *walletFlags) url(path string) (string, error) {
	switch {
	case f.server == "":
		return "", errors.New("--server is required: the wallet lives in a running server")
	case f.holder == "":
		return "", errors.New("--holder is required: the holder id printed by wallet create-holder (env CREDENCE_HOLDER)")
	case f.bearer() == "":
		return "", errors.New("--token is required: the holder's token printed by wallet create-holder (env CREDENCE_TOKEN)")
	}
	return strings.TrimSuffix(f.server, "/") + "/wallet/holders/" + url.PathEscape(f.holder) + path, nil
}

// walletCall sends a request and decodes the answer into out. With --json
// it prints the answer as the server sent it instead, and done is true.
func walletCall(cmd *cobra.Command, f *clientFlags, method, u string, body, out any) (done bool, err error) {
	var raw json.RawMessage
	if err := call(cmd.Context(), method, u, f.bearer(), body, &raw); err != nil {
		return true, err
	}
	if f.json {
		return true, printJSON(cmd.OutOrStdout(), raw)
	}
	return false, json.Unmarshal(raw, out)
}

func walletCreateHolderCmd() *cobra.Command {
	var f clientFlags
	var in wallet.HolderInput
	cmd := &cobra.Command{
		Use:   "create-holder [--label TEXT] [--did-method key|jwk]",
		Short: "Create a holder: a key, a DID and the holder's token, shown once (admin token, or a token with scope wallet)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.server == "" {
				return errors.New("--server is required: the wallet lives in a running server")
			}
			var out struct {
				Holder wallet.Holder `json:"holder"`
				Token  string        `json:"token"`
			}
			u := strings.TrimSuffix(f.server, "/") + "/wallet/holders"
			if done, err := walletCall(cmd, &f, http.MethodPost, u, in, &out); done || err != nil {
				return err
			}
			h, w := out.Holder, cmd.OutOrStdout()
			fmt.Fprintf(w, "holder %s created\n  DID                  %s\n  verification method  %s\n", h.ID, h.DID, h.VerificationMethod)
			if h.Label != "" {
				fmt.Fprintf(w, "  label                %s\n", h.Label)
			}
			fmt.Fprintf(w, "  token                %s\n", out.Token)
			fmt.Fprintf(w, "(the token is shown only now: keep it; the wallet verbs take --holder %s --token TOKEN, or CREDENCE_HOLDER and CREDENCE_TOKEN)\n", h.ID)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&in.Label, "label", "", "a label for the holder, such as a name (stored encrypted)")
	cmd.Flags().StringVar(&in.DIDMethod, "did-method", "", "key (Ed25519 did:key, the default) or jwk (P-256 did:jwk)")
	return cmd
}

func walletAddCmd() *cobra.Command {
	var f walletFlags
	cmd := &cobra.Command{
		Use:   "add FILE|-",
		Short: `Add a credential from FILE or standard input: a JSON credential, an issuer's answer {"verifiableCredential": ...}, or a compact JWT or SD-JWT`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := f.url("/credentials")
			if err != nil {
				return err
			}
			b, err := readWalletInput(cmd, args[0], walletapi.MaxCredentialBytes)
			if err != nil {
				return err
			}
			cred, err := credentialInput(b)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			var st wallet.Stored
			body := map[string]json.RawMessage{"verifiableCredential": cred}
			if done, err := walletCall(cmd, &f.clientFlags, http.MethodPost, u, body, &st); done || err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "credential %s is in the wallet\n", st.ID)
			printStored(cmd.OutOrStdout(), st)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// readWalletInput reads the file name, or standard input for "-", of at
// most limit bytes.
func readWalletInput(cmd *cobra.Command, name string, limit int) ([]byte, error) {
	r := cmd.InOrStdin()
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", name, err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%s is larger than the limit of %d KiB", name, limit>>10)
	}
	return b, nil
}

// credentialInput is the credential in b, as the wallet API takes it: a
// JSON object, or a JSON string holding a compact token. An issuer's
// answer {"verifiableCredential": ...} is unwrapped; a token may be raw
// text or a JSON string.
func credentialInput(b []byte) (json.RawMessage, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("not a JSON object: %w", err)
		}
		inner, ok := m["verifiableCredential"]
		if !ok || m["@context"] != nil { // a credential has a @context, an issuer's answer none
			return b, nil
		}
		if b = bytes.TrimSpace(inner); len(b) > 0 && b[0] == '{' {
			return b, nil
		}
	}
	tok := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &tok); err != nil {
			return nil, fmt.Errorf("not a JSON string: %w", err)
		}
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || strings.ContainsAny(tok, " \t\r\n{}[]\"") || !strings.Contains(tok, ".") {
		return nil, errors.New("not a credential: neither a JSON object nor a compact JWT or SD-JWT")
	}
	return json.Marshal(tok)
}

func walletListCmd() *cobra.Command {
	var f walletFlags
	var filter wallet.Filter
	cmd := &cobra.Command{
		Use:   "list [--type T] [--issuer DID] [--format F]",
		Short: "List the holder's credentials, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"type": filter.Type, "issuer": filter.Issuer, "format": filter.Format} {
				if v != "" {
					q.Set(k, v)
				}
			}
			path := "/credentials"
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			u, err := f.url(path)
			if err != nil {
				return err
			}
			var out struct {
				Credentials []wallet.Stored `json:"credentials"`
			}
			if done, err := walletCall(cmd, &f.clientFlags, http.MethodGet, u, nil, &out); done || err != nil {
				return err
			}
			printCredentialTable(cmd.OutOrStdout(), out.Credentials, time.Now())
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&filter.Type, "type", "", "only credentials of this type (or SD-JWT vct)")
	cmd.Flags().StringVar(&filter.Issuer, "issuer", "", "only credentials of this issuer DID")
	cmd.Flags().StringVar(&filter.Format, "format", "", "only credentials in this format (dc+sd-jwt, vc+jwt, eddsa-rdfc-2022, ...)")
	return cmd
}

func printCredentialTable(w io.Writer, list []wallet.Stored, now time.Time) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no credentials")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFORMAT\tTYPES\tISSUER\tVALID UNTIL")
	for _, st := range list {
		until := "-"
		if st.ValidUntil != nil {
			until = st.ValidUntil.UTC().Format(time.DateOnly)
			if !now.Before(*st.ValidUntil) {
				until += " (expired)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st.ID, st.Format, walletTypes(st.Types), st.Issuer, until)
	}
	tw.Flush()
}

func walletShowCmd() *cobra.Command {
	var f walletFlags
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a credential of the wallet and its claims",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := f.url("/credentials/" + url.PathEscape(args[0]))
			if err != nil {
				return err
			}
			var st wallet.Stored
			if done, err := walletCall(cmd, &f.clientFlags, http.MethodGet, u, nil, &st); done || err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			printStored(w, st)
			claims := any(st.Claims)
			if s, ok := st.Claims["credentialSubject"]; ok {
				claims = s
			}
			b, err := json.MarshalIndent(claims, "  ", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "  claims               %s\n", b)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func printStored(w io.Writer, st wallet.Stored) {
	fmt.Fprintf(w, "  id                   %s\n  format               %s\n  types                %s\n", st.ID, st.Format, strings.Join(st.Types, ", "))
	if st.VCT != "" {
		fmt.Fprintf(w, "  vct                  %s\n", st.VCT)
	}
	fmt.Fprintf(w, "  issuer               %s\n", st.Issuer)
	if st.CredentialID != "" {
		fmt.Fprintf(w, "  credential id        %s\n", st.CredentialID)
	}
	fmt.Fprintf(w, "  valid                from %s until %s\n  received             %s\n", walletTime(st.ValidFrom), walletTime(st.ValidUntil),
		st.Received.UTC().Format(time.RFC3339))
}

func walletTime(t *time.Time) string {
	if t == nil {
		return "(none)"
	}
	return t.UTC().Format(time.RFC3339)
}

// walletTypes are a credential's types without VerifiableCredential.
func walletTypes(types []string) string {
	if len(types) > 1 {
		types = slices.DeleteFunc(slices.Clone(types), func(t string) bool { return t == "VerifiableCredential" })
	}
	return strings.Join(types, ",")
}

func walletDeleteCmd() *cobra.Command {
	var f walletFlags
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a credential from the wallet",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := f.url("/credentials/" + url.PathEscape(args[0]))
			if err != nil {
				return err
			}
			status, b, err := rawCall(cmd.Context(), http.MethodDelete, u, f.bearer(), nil)
			if err != nil {
				return err
			}
			if status != http.StatusNoContent {
				return responseError(status, b)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), map[string]string{"deleted": args[0]})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "credential %s deleted\n", args[0])
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// walletPresented is the wallet's answer to a presentation; the
// presentation is kept as the server sent it, for --out.
type walletPresented struct {
	Presentation json.RawMessage   `json:"presentation"`
	Format       string            `json:"format"`
	Disclosure   wallet.Disclosure `json:"disclosure"`
	Response     *wallet.Response  `json:"response,omitempty"`
}

// presentBody is the body of POST .../presentations.
type presentBody struct {
	Request     json.RawMessage `json:"request,omitempty"`
	RequestURI  string          `json:"requestUri,omitempty"`
	Credentials []string        `json:"credentials,omitempty"`
	Format      string          `json:"format,omitempty"`
	Send        *bool           `json:"send,omitempty"`
}

func walletPresentCmd() *cobra.Command {
	var f walletFlags
	var request, out string
	var noSend bool
	var in presentBody
	cmd := &cobra.Command{
		Use:   "present --request URL|FILE [--credential ID]... [--format F] [--no-send] [--out FILE]",
		Short: "Answer a verifier's presentation request: pick credentials, sign a presentation, send it, record the disclosure (exit status 1 when it was not delivered or the verifier refused it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := f.url("/presentations")
			if err != nil {
				return err
			}
			if err := in.setRequest(cmd, request); err != nil {
				return err
			}
			if noSend {
				in.Send = new(false)
			}
			status, b, err := rawCall(cmd.Context(), http.MethodPost, u, f.bearer(), in)
			if err != nil {
				return err
			}
			p, undelivered, err := presentAnswer(status, b)
			if err != nil {
				return err
			}
			if out != "" {
				if err := writePresentation(out, p.Presentation); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			if f.json {
				err = printJSON(w, json.RawMessage(b))
			} else {
				printPresented(w, p, undelivered != nil, out)
			}
			switch {
			case err != nil:
				return err
			case undelivered != nil:
				return undelivered
			case p.Response != nil && p.Response.Status >= 300:
				return errSilentFailure
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&request, "request", "", "the verifier's request: its URL (http or https), or a FILE (- for standard input) holding the request object")
	cmd.Flags().StringSliceVar(&in.Credentials, "credential", nil, "present only from these wallet credential ids (repeatable)")
	cmd.Flags().StringVar(&in.Format, "format", "", "how to secure a W3C presentation: di, di-jcs, ed25519-2020 or jwt (default: di for did:key holders, jwt for did:jwk); SD-JWT VCs are always SD-JWT+KB")
	cmd.Flags().BoolVar(&noSend, "no-send", false, "make and record the presentation, but do not send it to the verifier")
	cmd.Flags().StringVar(&out, "out", "", "write the presentation to FILE")
	return cmd
}

// setRequest sets the request of b from --request: a URL is fetched by the
// server, a file is read here and sent inline.
func (b *presentBody) setRequest(cmd *cobra.Command, request string) error {
	if request == "" {
		return errors.New("--request is required: the verifier's request URL, or a file holding the request")
	}
	if lower := strings.ToLower(request); strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		b.RequestURI = request
		return nil
	}
	raw, err := readWalletInput(cmd, request, wallet.MaxRequestBytes)
	if err != nil {
		return fmt.Errorf("--request: %w", err)
	}
	raw = bytes.TrimSpace(raw)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("--request %s: a presentation request is a JSON object: %w", request, err)
	}
	b.Request = raw
	return nil
}

// presentAnswer decodes the wallet's answer to a presentation: 201, or 502
// for a presentation made and recorded but not delivered (undelivered is
// then the error to exit with).
func presentAnswer(status int, b []byte) (p walletPresented, undelivered error, err error) {
	switch status {
	case http.StatusCreated:
		err = json.Unmarshal(b, &p)
	case http.StatusBadGateway:
		var r struct {
			Presentation *walletPresented `json:"presentation"`
			Error        json.RawMessage  `json:"error"`
		}
		if json.Unmarshal(b, &r) != nil || r.Presentation == nil {
			return p, nil, responseError(status, b)
		}
		p, undelivered = *r.Presentation, fmt.Errorf("the presentation was made and recorded, but not delivered: %w", responseError(status, r.Error))
	default:
		err = responseError(status, b)
	}
	return p, undelivered, err
}

// writePresentation writes a presentation to name: a compact one (JWT,
// SD-JWT+KB) as a line, a JSON one indented. It holds personal data: the
// file is readable by its owner only.
func writePresentation(name string, raw json.RawMessage) error {
	var tok string
	var buf bytes.Buffer
	if json.Unmarshal(raw, &tok) == nil {
		buf.WriteString(tok)
	} else if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("the presentation is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	if err := os.WriteFile(name, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

func printPresented(w io.Writer, p walletPresented, undelivered bool, out string) {
	d := p.Disclosure
	fmt.Fprintf(w, "presentation (%s) for %s, request %s\n", p.Format, d.Verifier, orDash(d.RequestID))
	switch r := p.Response; {
	case r != nil:
		fmt.Fprintf(w, "  verifier answered    %d %s: %s\n", r.Status, http.StatusText(r.Status), orDash(d.Outcome))
	case undelivered:
		fmt.Fprintf(w, "  not delivered to the verifier\n")
	default:
		fmt.Fprintf(w, "  not sent to the verifier\n")
	}
	printDisclosed(w, d.Credentials)
	if out != "" {
		fmt.Fprintf(w, "  written to           %s\n", out)
	}
}

// printDisclosed says what each credential of a disclosure revealed.
func printDisclosed(w io.Writer, creds []wallet.DisclosedCredential) {
	if len(creds) == 0 {
		fmt.Fprintf(w, "  disclosed            no credential, only the holder's DID\n")
	}
	for _, c := range creds {
		what := "the whole credential"
		if len(c.Disclosed) > 0 {
			what = strings.Join(c.Disclosed, ", ")
		}
		fmt.Fprintf(w, "  disclosed            %s from %s: %s\n", walletTypes(c.Types), c.Issuer, what)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func walletDisclosuresCmd() *cobra.Command {
	var f walletFlags
	cmd := &cobra.Command{
		Use:   "disclosures",
		Short: "The holder's disclosure log, newest first: who received what, and what they decided",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := f.url("/disclosures")
			if err != nil {
				return err
			}
			var out struct {
				Disclosures []wallet.Disclosure `json:"disclosures"`
			}
			if done, err := walletCall(cmd, &f.clientFlags, http.MethodGet, u, nil, &out); done || err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(out.Disclosures) == 0 {
				fmt.Fprintln(w, "no disclosures")
			}
			for _, d := range out.Disclosures {
				fmt.Fprintf(w, "%s  %s  request %s  %s\n", d.Time.UTC().Format(time.RFC3339), d.Verifier, orDash(d.RequestID), disclosureOutcome(d))
				printDisclosed(w, d.Credentials)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func disclosureOutcome(d wallet.Disclosure) string {
	switch {
	case d.Delivered && d.Outcome != "":
		return fmt.Sprintf("%s (HTTP %d)", d.Outcome, d.Status)
	case d.Delivered:
		return fmt.Sprintf("delivered (HTTP %d)", d.Status)
	}
	return "not delivered"
}
