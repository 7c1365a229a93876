package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	walletapi "github.com/credence/credence/wallet-api"
	"github.com/credence/credence/wallet-api/wallet"
	"github.com/spf13/cobra"
)

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
