package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/credence/credence/wallet-api/wallet"
	"github.com/spf13/cobra"
)

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
				to := d.Verifier
				if d.ClaimedVerifier != "" && d.ClaimedVerifier != d.Verifier {
					to += fmt.Sprintf(" (claims to be %q)", d.ClaimedVerifier)
				}
				fmt.Fprintf(w, "%s  %s  request %s  %s\n", d.Time.UTC().Format(time.RFC3339), to, orDash(d.RequestID), disclosureOutcome(d))
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
