package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/credence/credence/internal/trustapi"
	"github.com/spf13/cobra"
)

func trustCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "trust", Short: "Accredit issuers on the ledger's trust registry, and read it"}
	cmd.AddCommand(trustAccreditCmd(), trustAmendCmd(), trustWithdrawCmd(), trustListCmd(), trustShowCmd())
	return cmd
}

// trustURL is a trust API URL on the server of f.
func trustURL(f *clientFlags, path string) (string, error) {
	if f.server == "" {
		return "", fmt.Errorf("--server is required: the trust registry lives in a running server")
	}
	return strings.TrimSuffix(f.server, "/") + path, nil
}

func trustAccreditCmd() *cobra.Command {
	var f clientFlags
	var in trustapi.AccreditRequest
	cmd := &cobra.Command{
		Use:   "accredit --issuer DID --type TYPE [--jurisdiction ST]...",
		Short: "Accredit an issuer for credential types in jurisdictions (admin token required; signed by the server's steward key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := trustURL(&f, trustapi.AdminRoute)
			if err != nil {
				return err
			}
			var out trustapi.Result
			if err := call(cmd.Context(), http.MethodPost, u, f.bearer(), in, &out); err != nil {
				return err
			}
			return printTrustResult(cmd.OutOrStdout(), f.json, "granted", out)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&in.ID, "id", "", "the accreditation id, [a-z0-9-]{1,64} (default: random)")
	cmd.Flags().StringVar(&in.Issuer, "issuer", "", "the accredited issuer's DID")
	cmd.Flags().StringSliceVar(&in.Types, "type", nil, "credential type the issuer is accredited for (repeatable)")
	cmd.Flags().StringSliceVar(&in.Jurisdictions, "jurisdiction", nil, "USPS state or territory code (repeatable; none: every jurisdiction, for a national body)")
	cmd.Flags().StringVar(&in.ValidFrom, "valid-from", "", "start of the accreditation, RFC 3339 (default: now)")
	cmd.Flags().StringVar(&in.ValidUntil, "valid-until", "", "end of the accreditation, RFC 3339 (default: none)")
	return cmd
}

func trustAmendCmd() *cobra.Command {
	var f clientFlags
	var in trustapi.AccreditRequest
	var national, openEnded bool
	cmd := &cobra.Command{
		Use:   "amend ID [--type TYPE]... [--jurisdiction ST]... [--valid-from T] [--valid-until T]",
		Short: "Replace an accreditation's grant; what is not given stays as it is (admin token required)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := trustapi.PublicRoute + "/" + url.PathEscape(args[0])
			u, err := trustURL(&f, path)
			if err != nil {
				return err
			}
			var cur trustapi.Accreditation
			if err := call(cmd.Context(), http.MethodGet, u, f.bearer(), nil, &cur); err != nil {
				return err
			}
			fl := cmd.Flags()
			req := trustapi.AccreditRequest{Types: cur.Types, Jurisdictions: cur.Jurisdictions, ValidFrom: cur.ValidFrom, ValidUntil: cur.ValidUntil}
			if fl.Changed("type") {
				req.Types = in.Types
			}
			switch {
			case national && fl.Changed("jurisdiction"):
				return fmt.Errorf("--national and --jurisdiction exclude each other")
			case national:
				req.Jurisdictions = nil
			case fl.Changed("jurisdiction"):
				req.Jurisdictions = in.Jurisdictions
			}
			if fl.Changed("valid-from") {
				req.ValidFrom = in.ValidFrom
			}
			switch {
			case openEnded && fl.Changed("valid-until"):
				return fmt.Errorf("--open-ended and --valid-until exclude each other")
			case openEnded:
				req.ValidUntil = ""
			case fl.Changed("valid-until"):
				req.ValidUntil = in.ValidUntil
			}
			if u, err = trustURL(&f, trustapi.AdminRoute+"/"+url.PathEscape(args[0])); err != nil {
				return err
			}
			var out trustapi.Result
			if err := call(cmd.Context(), http.MethodPut, u, f.bearer(), req, &out); err != nil {
				return err
			}
			return printTrustResult(cmd.OutOrStdout(), f.json, "amended", out)
		},
	}
	f.register(cmd)
	cmd.Flags().StringSliceVar(&in.Types, "type", nil, "credential type (repeatable; replaces the types)")
	cmd.Flags().StringSliceVar(&in.Jurisdictions, "jurisdiction", nil, "USPS state or territory code (repeatable; replaces the jurisdictions)")
	cmd.Flags().BoolVar(&national, "national", false, "accredit for every jurisdiction (clears the jurisdictions)")
	cmd.Flags().StringVar(&in.ValidFrom, "valid-from", "", "new start, RFC 3339")
	cmd.Flags().StringVar(&in.ValidUntil, "valid-until", "", "new end, RFC 3339")
	cmd.Flags().BoolVar(&openEnded, "open-ended", false, "remove the end of the accreditation")
	return cmd
}

func trustWithdrawCmd() *cobra.Command {
	var f clientFlags
	var in trustapi.WithdrawRequest
	cmd := &cobra.Command{
		Use:   "withdraw ID [--reason TEXT]",
		Short: "Withdraw an accreditation for good (admin token required)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := trustURL(&f, trustapi.AdminRoute+"/"+url.PathEscape(args[0])+"/withdraw")
			if err != nil {
				return err
			}
			var out trustapi.Result
			if err := call(cmd.Context(), http.MethodPost, u, f.bearer(), in, &out); err != nil {
				return err
			}
			return printTrustResult(cmd.OutOrStdout(), f.json, "withdrawn", out)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&in.Reason, "reason", "", "short reason, recorded on the public ledger (never personal data)")
	return cmd
}

func trustListCmd() *cobra.Command {
	var f clientFlags
	var issuer, typ, juris string
	cmd := &cobra.Command{
		Use:   "list [--issuer DID] [--type TYPE] [--jurisdiction ST]",
		Short: "List accreditations (withdrawn ones included)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"issuer": issuer, "type": typ, "jurisdiction": juris} {
				if v != "" {
					q.Set(k, v)
				}
			}
			path := trustapi.PublicRoute
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			u, err := trustURL(&f, path)
			if err != nil {
				return err
			}
			var out struct {
				Accreditations []trustapi.Accreditation `json:"accreditations"`
			}
			if err := call(cmd.Context(), http.MethodGet, u, f.bearer(), nil, &out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if f.json {
				return printJSON(w, out)
			}
			for _, a := range out.Accreditations {
				fmt.Fprintf(w, "%-20s %-9s %-40s %-10s %s\n", a.ID, trustStatus(a), a.Issuer, trustJurisdictions(a), strings.Join(a.Types, ","))
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&issuer, "issuer", "", "only accreditations of this issuer DID")
	cmd.Flags().StringVar(&typ, "type", "", "only accreditations for this credential type")
	cmd.Flags().StringVar(&juris, "jurisdiction", "", "only accreditations covering this jurisdiction (national ones cover every one)")
	return cmd
}

func trustShowCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one accreditation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := trustURL(&f, trustapi.PublicRoute+"/"+url.PathEscape(args[0]))
			if err != nil {
				return err
			}
			var a trustapi.Accreditation
			if err := call(cmd.Context(), http.MethodGet, u, f.bearer(), nil, &a); err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), a)
			}
			printAccreditation(cmd.OutOrStdout(), a)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func printTrustResult(w io.Writer, asJSON bool, what string, r trustapi.Result) error {
	if asJSON {
		return printJSON(w, r)
	}
	fmt.Fprintf(w, "accreditation %s %s (ledger index %d, seq %d)\n", r.Accreditation.ID, what, r.Receipt.Index, r.Receipt.Seq)
	printAccreditation(w, r.Accreditation)
	return nil
}

func printAccreditation(w io.Writer, a trustapi.Accreditation) {
	fmt.Fprintf(w, "  id             %s\n  status         %s\n  issuer         %s\n  types          %s\n  jurisdictions  %s\n  valid          from %s until %s\n",
		a.ID, trustStatus(a), a.Issuer, strings.Join(a.Types, ", "), trustJurisdictions(a), a.ValidFrom, trustOrNone(a.ValidUntil))
	if a.Withdrawn != "" {
		fmt.Fprintf(w, "  withdrawn      %s %s\n", a.Withdrawn, a.Reason)
	}
}

func trustStatus(a trustapi.Accreditation) string {
	switch {
	case a.Withdrawn != "":
		return "withdrawn"
	case a.Active:
		return "active"
	}
	return "inactive"
}

func trustJurisdictions(a trustapi.Accreditation) string {
	if len(a.Jurisdictions) == 0 {
		return "all"
	}
	return strings.Join(a.Jurisdictions, ",")
}

func trustOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
